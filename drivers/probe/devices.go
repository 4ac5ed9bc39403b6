package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"yici/drivers/docscan"
	"yici/drivers/idcard"
	"yici/drivers/printer"
	"yici/drivers/serialport"
)

// cardJSON is a card as the probe prints it. The photo and fingerprints
// are never printed, only their sizes: staff need to see that they came,
// not the biometrics themselves.
type cardJSON struct {
	Masked           bool   `json:"masked"`
	Type             string `json:"type"`
	Name             string `json:"name,omitempty"`
	EnglishName      string `json:"english_name,omitempty"`
	Gender           string `json:"gender,omitempty"`
	Nation           string `json:"nation,omitempty"`
	Birth            string `json:"birth,omitempty"`
	Address          string `json:"address,omitempty"`
	IDNumber         string `json:"id_number,omitempty"`
	Authority        string `json:"authority,omitempty"`
	ValidFrom        string `json:"valid_from,omitempty"`
	ValidTo          string `json:"valid_to,omitempty"`
	Country          string `json:"country,omitempty"`
	PassNumber       string `json:"pass_number,omitempty"`
	IssueCount       string `json:"issue_count,omitempty"`
	Renewals         string `json:"renewals,omitempty"`
	Version          string `json:"version,omitempty"`
	PrevLink         string `json:"prev_link,omitempty"`
	PhotoBytes       int    `json:"photo_bytes"`
	FingerprintBytes int    `json:"fingerprint_bytes,omitempty"`
}

func toJSON(c *idcard.Card, unmasked bool) cardJSON {
	photo, finger := len(c.Photo), len(c.Fingerprint)
	v := *c
	if !unmasked {
		v = c.Masked()
		// Output like this gets pasted into tickets: beyond what Masked
		// hides, keep only the birth year and the address's first six
		// characters (province and city), enough to see the decoding works.
		v.Birth = keep(v.Birth, 4)
		v.Address = keep(v.Address, 6)
	}
	return cardJSON{
		Masked: !unmasked, Type: v.Type.String(), Name: v.Name, EnglishName: v.EnglishName,
		Gender: v.Gender, Nation: v.Nation, Birth: v.Birth, Address: v.Address, IDNumber: v.IDNumber,
		Authority: v.Authority, ValidFrom: v.ValidFrom, ValidTo: v.ValidTo, Country: v.Country,
		PassNumber: v.PassNumber, IssueCount: v.IssueCount, Renewals: v.Renewals, Version: v.Version,
		PrevLink: v.PrevLink, PhotoBytes: photo, FingerprintBytes: finger,
	}
}

// keep masks all but the first n characters of s.
func keep(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + strings.Repeat("*", len(r)-n)
}

// pollEvery is how often the probe asks the reader for a card.
const pollEvery = 200 * time.Millisecond

func (c *cli) idcard(args []string) int {
	fs := c.flags("idcard")
	var pf portFlags
	pf.register(fs)
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for a card to be placed")
	unmasked := fs.Bool("unmasked", false, "print the name and ID number in full (personal data: do not paste it into tickets)")
	finger := fs.Bool("fingerprint", false, "read the fingerprints too (command 30 10)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := pf.open(serialport.RoleIDCard)
	if err != nil {
		return c.fail("idcard", err)
	}
	defer p.Close()
	label := p.label()
	r := idcard.New(p, &idcard.Options{CommandTimeout: pf.timeout, ReadTimeout: 3 * pf.timeout})
	ctx := context.Background()
	sam, err := ga467{}.Identify(ctx, p, pf.timeout)
	if err != nil {
		if silence(err) {
			return c.fail("idcard", nothing(p.path, "GA 467 SAM status at "+p.settings))
		}
		return c.fail("idcard", fmt.Errorf("something answered on %s, but not as a GA 467 reader should (check the baud rate): %w", label, err))
	}
	fmt.Fprintf(c.err, "ID-card reader on %s: %s; place a card (waiting %v)\n", label, sam, *wait)

	deadline := time.Now().Add(*wait)
	for {
		card, err := readOnce(ctx, r, *finger)
		if err == nil {
			if *unmasked {
				fmt.Fprintln(c.err, "yici probe idcard: printing unmasked personal data; do not paste it into tickets or chats")
			}
			enc := json.NewEncoder(c.out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(toJSON(card, *unmasked)); err != nil {
				return c.fail("idcard", err)
			}
			return 0
		}
		if !errors.Is(err, idcard.ErrNoCard) {
			return c.fail("idcard", fmt.Errorf("reading the card on %s: %w", label, err))
		}
		if time.Now().After(deadline) {
			return c.fail("idcard", fmt.Errorf("no card on the reader at %s within %v: place the card flat on the reader (lift and place it again if it was just read) and run again", label, *wait))
		}
		time.Sleep(pollEvery)
	}
}

func readOnce(ctx context.Context, r *idcard.Reader, finger bool) (*idcard.Card, error) {
	if err := r.Find(ctx); err != nil {
		return nil, err
	}
	if err := r.Select(ctx); err != nil {
		return nil, err
	}
	return r.Read(ctx, finger)
}

// TestPageQR is the payload of the test page's QR code. It has Chinese in
// it so that a phone reading it shows the printer sends UTF-8 QR data
// intact.
const TestPageQR = "yici 打印机测试页 OK"

// testPage lays out the test page: every kind of thing a receipt uses.
func testPage(label string, rasterQR bool, now time.Time) ([]byte, error) {
	d := &printer.Doc{}
	var err error
	line := func(s string) {
		if err == nil {
			err = d.Line(s)
		}
	}
	d.Init()
	d.Align(printer.AlignCenter)
	d.Bold(true)
	d.Size(true, true)
	line("打印机测试页")
	d.Size(false, false)
	d.Bold(false)
	line("Yici printer test page")
	d.Align(printer.AlignLeft)
	line("中文：政务服务 一次办好 身份证 营业执照")
	line("GB18030：〇一二三 ¥100.00 （全角）")
	line("ASCII: 0123456789 ABCDEFGHIJ abcdefghij")
	line("端口 port: " + label)
	line("时间 time: " + now.Format("2006-01-02 15:04:05"))
	d.Align(printer.AlignCenter)
	if err == nil {
		if rasterQR {
			err = d.QRRaster(TestPageQR, 6)
		} else {
			err = d.QR(TestPageQR, 6)
		}
	}
	line("扫码应显示 / scan shows: " + TestPageQR)
	d.Feed(2)
	d.Cut()
	if err != nil {
		return nil, err
	}
	return d.Bytes(), nil
}

func (c *cli) printer(args []string) int {
	fs := c.flags("printer")
	var pf portFlags
	pf.register(fs)
	test := fs.Bool("test-page", false, "print a test page with Chinese text and a QR code")
	raster := fs.Bool("raster-qr", false, "send the QR code as an image, for printers without the GS ( k QR command")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := pf.open(serialport.RolePrinter)
	if err != nil {
		return c.fail("printer", err)
	}
	defer p.Close()
	label := p.label()
	prn := printer.New(p, printer.Options{ReplyTimeout: pf.timeout, Baud: p.baud})
	ctx := context.Background()
	st, err := prn.Status(ctx)
	if errors.Is(err, printer.ErrNoAnswer) {
		return c.fail("printer", nothing(p.path, "ESC/POS DLE EOT status at "+p.settings))
	}
	if err != nil {
		return c.fail("printer", fmt.Errorf("%s: %w", label, err))
	}
	fmt.Fprintf(c.out, "receipt printer on %s: %v (status % x)\n", label, st, st.Raw)
	if !*test {
		if !st.Ready() {
			return 1
		}
		return 0
	}
	job, err := testPage(label, *raster, time.Now())
	if err != nil {
		return c.fail("printer", err)
	}
	if err := prn.Print(ctx, job); err != nil {
		return c.fail("printer", err)
	}
	fmt.Fprintf(c.out, "test page printed: check that the Chinese lines are legible and that the QR code scans as %q\n", TestPageQR)
	return 0
}

func (c *cli) scanner(args []string) int {
	fs := c.flags("scanner")
	device := fs.String("device", "", "SANE device `name` as scanimage -L lists it (default: SANE's default, or the configuration's)")
	config := fs.String("config", "", "device configuration `file` giving the SANE device")
	pages := fs.Int("pages", 1, "pages to take from the feeder")
	out := fs.String("out", "", "save the first page to this PNG `file`")
	wait := fs.Duration("wait", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config != "" {
		dc, err := serialport.LoadConfig(*config)
		if err != nil {
			return c.fail("scanner", err)
		}
		d, err := dc.Device(serialport.RoleDocScan)
		if err != nil {
			return c.fail("scanner", err)
		}
		if *device == "" {
			*device = d.SANE
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	s := docscan.SANE{Device: *device}
	got, err := s.Scan(ctx, docscan.Options{MaxPages: *pages, Progress: func(page, total int) {
		fmt.Fprintf(c.err, "page %d scanned\n", page)
	}})
	if err != nil {
		return c.fail("scanner", err)
	}
	name := *device
	if name == "" {
		name = "SANE's default device"
	}
	for i, pg := range got {
		data, ct := pg.Stored()
		fmt.Fprintf(c.out, "page %d from %s: %d×%d px, %d bytes of PNG, stored as %d bytes of %s\n", i+1, name, pg.Width, pg.Height, len(pg.PNG), len(data), ct)
	}
	if *out != "" && len(got) > 0 {
		if err := os.WriteFile(*out, got[0].PNG, 0o644); err != nil {
			return c.fail("scanner", err)
		}
		fmt.Fprintf(c.out, "saved page 1 to %s\n", *out)
	}
	return 0
}

// hooked runs the subcommand of a device whose driver is plugged in
// through Hooks.
func (c *cli) hooked(args []string, name string, role serialport.Role, what string,
	run func(ctx context.Context, p serialport.Port, out io.Writer) error) int {
	fs := c.flags(name)
	var pf portFlags
	pf.register(fs)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the device")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if run == nil {
		return c.fail(name, fmt.Errorf("this build has no %s driver wired into the probe yet", what))
	}
	p, err := pf.open(role)
	if err != nil {
		return c.fail(name, err)
	}
	defer p.Close()
	label := p.label()
	fmt.Fprintf(c.err, "%s on %s: waiting up to %v\n", what, label, *wait)
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	if err := run(ctx, p, c.out); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, serialport.ErrTimeout) {
			return c.fail(name, fmt.Errorf("%w (%v)", nothing(p.path, what+" exchange at "+p.settings), err))
		}
		return c.fail(name, fmt.Errorf("%s on %s: %w", what, label, err))
	}
	return 0
}
