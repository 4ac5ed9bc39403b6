package desk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"yici/assets"
	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/drivers/serialport"
	"yici/drivers/sim"
	"yici/sync/catalog"
	"yici/sync/platform"
	"yici/sync/uploader"
	"yici/sync/visit"
	"yici/sync/wire"
)

// zhangSan is an invented person with an ID number of a valid check digit.
const zhangSan = "21020219880504123X"

// hall is a platform on httptest with a kiosk that puts cases and the desk
// W01 with clerk 0001 signed in.
type hall struct {
	t       testing.TB
	srv     *platform.Server
	pst     *platform.BoltStorage
	kiosk   *uploader.Client
	cl      *uploader.Client
	d       *Desk
	printer *fakePrinter
	docs    string
}

func newHall(t testing.TB, p func(*uploader.Client) Platform, opts ...func(*Options)) *hall {
	t.Helper()
	st, err := platform.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := platform.New(st, platform.Options{Clerks: platform.ClerkOptions{PIN: platform.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}})
	small, err := os.ReadFile("testdata/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][]byte{assets.SampleCatalog, small} {
		if _, _, err := srv.PublishCatalog(doc); err != nil {
			t.Fatal(err)
		}
	}
	kioskTok, _ := srv.Enrol(platform.RoleKiosk, "DL01", "K01")
	deskTok, _ := srv.Enrol(platform.RoleDesk, "DL01", "W01")
	if err := srv.AddClerk("DL01", "0001", "王小明", "730461"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	h := &hall{t: t, srv: srv, pst: st, printer: &fakePrinter{}, docs: t.TempDir(),
		kiosk: &uploader.Client{BaseURL: hs.URL, Token: kioskTok}, cl: &uploader.Client{BaseURL: hs.URL, Token: deskTok}}
	cat, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	var plat Platform = h.cl
	if p != nil {
		plat = p(h.cl)
	}
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1280, 800))
	opt := Options{Hall: "大连市示例区政务服务中心", Printer: h.printer, Documents: h.docs}
	for _, o := range opts {
		o(&opt)
	}
	h.d = New(plat, cat, w, opt)
	return h
}

func (h *hall) signIn() {
	h.t.Helper()
	if err := h.d.SignIn(context.Background(), "0001", "730461", "3"); err != nil {
		h.t.Fatal(err)
	}
}

// reviewing is a hall with 张三's case from the kiosk open at the desk:
// GA-0101 with the old card and the photo receipt handed in, the 户口簿 on
// file, clerk 0001 signed in.
func reviewing(t *testing.T, id string, p func(*uploader.Client) Platform, opts ...func(*Options)) (*hall, wire.Manifest) {
	t.Helper()
	h := newHall(t, p, opts...)
	m := h.putCase(id, 2, []string{"GA-0101"},
		map[string][]byte{"M-ID-OLD": page(200), "M-PHOTO": page(120)}, "M-HUKOU")
	h.signIn()
	if err := h.d.OpenLatest(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h, m
}

// page is a small scanned page: a PNG the desk can show.
func page(shade uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 60, 80))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	img.Set(5, 5, color.Black)
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// putCase puts a case of the kiosk K01 for 张三: the materials of pages
// handed in, the exempt ones on file.
func (h *hall) putCase(id string, rev int, items []string, pages map[string][]byte, exempt ...string) wire.Manifest {
	h.t.Helper()
	return h.putCaseOf(wire.Applicant{Name: "张三", IDNumber: zhangSan}, id, rev, items, pages, exempt...)
}

func (h *hall) putCaseOf(a wire.Applicant, id string, rev int, items []string, pages map[string][]byte, exempt ...string) wire.Manifest {
	h.t.Helper()
	ctx := context.Background()
	m := wire.Manifest{ID: "K01-" + id, CatalogRevision: rev, Items: items, Applicant: a, CreatedAt: time.Now().UTC()}
	codes := make([]string, 0, len(pages))
	for code := range pages {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		sum := sha256.Sum256(pages[code])
		sha := hex.EncodeToString(sum[:])
		if err := h.kiosk.PutBlob(ctx, sha, pages[code]); err != nil {
			h.t.Fatal(err)
		}
		m.Materials = append(m.Materials, wire.MaterialRef{Code: code, Name: code, SHA256: sha, Size: int64(len(pages[code])), ContentType: "image/png"})
	}
	for _, code := range exempt {
		m.Materials = append(m.Materials, wire.MaterialRef{Code: code, Name: code, Exempt: true})
	}
	if err := h.kiosk.PutCase(ctx, m); err != nil {
		h.t.Fatal(err)
	}
	return m
}

// verdict chooses option i of material code's verdict, as the clerk does:
// 0 passes, i > 0 fails citing the material's i-th criterion.
func (h *hall) verdict(code string, i int) {
	h.t.Helper()
	var ok bool
	fyne.DoAndWait(func() {
		var s interface{ SetSelectedIndex(int) }
		s, ok = h.d.rv.verdicts[code]
		if ok {
			s.SetSelectedIndex(i)
		}
	})
	if !ok {
		h.t.Fatalf("no verdict for %s", code)
	}
}

// events are the platform's events of case id.
func (h *hall) events(id string) []wire.Event {
	h.t.Helper()
	evs, err := h.pst.CaseEvents(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func kinds(evs []wire.Event) string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, e.Kind+":"+e.Outcome+e.Criterion)
	}
	return strings.Join(ks, " ")
}

// fakePrinter records what it is sent, as lp would queue it.
type fakePrinter struct {
	mu   sync.Mutex
	docs []printed
	fail error
}

type printed struct {
	title string
	pdf   []byte
}

func (p *fakePrinter) Print(_ context.Context, title string, pdf []byte) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return "", p.fail
	}
	p.docs = append(p.docs, printed{title, pdf})
	return "A4-" + string(rune('0'+len(p.docs))), nil
}

func (p *fakePrinter) titles() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, d := range p.docs {
		out = append(out, d.title)
	}
	return out
}

// text is the text of the i-th printed PDF, by pdftotext.
func (p *fakePrinter) text(t *testing.T, i int) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (poppler-utils; make deps installs it)")
	}
	p.mu.Lock()
	pdf := p.docs[i].pdf
	p.mu.Unlock()
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func (h *hall) status() string {
	var s string
	fyne.DoAndWait(func() { s = h.d.status.Text })
	return s
}

// A case from a kiosk is accepted: the clerk sees each page, passes both
// materials; the platform gets the handling events in the clerk's name,
// the vault the materials, and the printer the acceptance notice.
func TestAccept(t *testing.T) {
	h := newHall(t, nil)
	ctx := context.Background()
	h.d.Refresh(ctx) // nobody signed in: nothing is read
	if len(h.d.cases) != 0 {
		t.Fatal("the desk listed cases before a clerk signed in")
	}
	m := h.putCase("20261127-090000-0001", 2, []string{"GA-0101"},
		map[string][]byte{"M-ID-OLD": page(200), "M-PHOTO": page(120)}, "M-HUKOU")
	h.signIn()
	if err := h.d.OpenLatest(ctx); err != nil {
		t.Fatal(err)
	}
	fyne.DoAndWait(func() {
		if h.d.rv.page.page == nil || !strings.Contains(h.d.rv.criteria.Text, "M-ID-OLD-1") {
			t.Errorf("the first material's page or criteria are not on show: %q / %q", h.d.rv.page.note.Text, h.d.rv.criteria.Text)
		}
	})
	if err := h.d.Decide(ctx, visit.Accept); err == nil {
		t.Error("accepted before any material was reviewed")
	}
	h.verdict("M-ID-OLD", 0)
	h.verdict("M-PHOTO", 0)
	if err := h.d.Decide(ctx, visit.Accept); err != nil {
		t.Fatalf("accept: %v (%s)", err, h.status())
	}
	evs := h.events(m.ID)
	if got := kinds(evs); got != "handling_started: handling_finished:approved" {
		t.Errorf("events %s", got)
	}
	for _, e := range evs {
		if e.Clerk != "0001" || e.Terminal != "W01" {
			t.Errorf("event %s by %q at %q, want clerk 0001 at W01", e.ID, e.Clerk, e.Terminal)
		}
	}
	ans, err := h.cl.Vault(ctx, zhangSan)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"M-ID-OLD", "M-PHOTO"} {
		if e, ok := ans.OnFile(code, time.Now().Add(time.Minute)); !ok || e.ConfirmedBy != "0001" {
			t.Errorf("%s on file %v, confirmed by %q", code, ok, e.ConfirmedBy)
		}
	}
	if got := h.printer.titles(); len(got) != 1 || got[0] != m.ID+" 受理通知书" {
		t.Fatalf("printed %v", got)
	}
	if txt := h.printer.text(t, 0); !strings.Contains(txt, "受理通知书") || !strings.Contains(txt, "张*") || strings.Contains(txt, "张三") {
		t.Errorf("acceptance notice text:\n%s", txt)
	}
	if _, err := os.Stat(filepath.Join(h.docs, m.ID+"-1-受理通知书.pdf")); err != nil {
		t.Errorf("acceptance notice not saved: %v", err)
	}
	var line string
	fyne.DoAndWait(func() { line, _ = h.d.caseLines(h.d.cases[0]) })
	if !strings.HasPrefix(line, "【已受理】") {
		t.Errorf("case line %q", line)
	}
}

// A failing material is returned citing its criterion: the rejection is on
// the platform with the criterion (否定备案), the one-time notice lists it
// with the criterion's text, and what passed is confirmed all the same.
// Then the clerk corrects the decision: the photo passes after all, and the
// case is accepted under new event ids.
func TestReturnThenCorrect(t *testing.T) {
	h, m := reviewing(t, "20261127-090000-0002", nil)
	ctx := context.Background()
	h.verdict("M-ID-OLD", 0)
	h.verdict("M-PHOTO", 1)
	if err := h.d.Decide(ctx, visit.Accept); err == nil {
		t.Error("accepted with a required material failing")
	}
	if err := h.d.Decide(ctx, visit.Return); err != nil {
		t.Fatalf("return: %v (%s)", err, h.status())
	}
	if got := kinds(h.events(m.ID)); got != "handling_started: rejection:M-PHOTO-1 handling_finished:refused" {
		t.Errorf("events %s", got)
	}
	txt := h.printer.text(t, 0)
	if !strings.Contains(txt, "一次性告知书") || !strings.Contains(txt, "数码相片回执") {
		t.Errorf("one-time notice text:\n%s", txt)
	}

	fyne.DoAndWait(h.d.rv.correct)
	h.verdict("M-PHOTO", 0)
	if err := h.d.Decide(ctx, visit.Accept); err != nil {
		t.Fatalf("accept after the correction: %v (%s)", err, h.status())
	}
	evs := h.events(m.ID)
	if got := kinds(evs); got != "handling_started: rejection:M-PHOTO-1 handling_finished:refused handling_finished:approved" {
		t.Errorf("events after the correction %s", got)
	}
	if evs[2].ID == evs[3].ID {
		t.Error("the correction reused the event id of the decision it supersedes")
	}
}

// Only deferrable materials missing: the case is accepted with gaps, and
// the commitment letter is printed with the acceptance notice.
func TestAcceptWithGaps(t *testing.T) {
	h := newHall(t, nil)
	ctx := context.Background()
	m := h.putCase("20261127-090000-0003", 3, []string{"B"},
		map[string][]byte{"M-ID": page(200), "M-CERT": page(90)})
	h.signIn()
	if err := h.d.OpenLatest(ctx); err != nil {
		t.Fatal(err)
	}
	h.verdict("M-ID", 0)
	h.verdict("M-CERT", 0)
	if err := h.d.Decide(ctx, visit.Accept); err == nil {
		t.Error("accepted with a required material missing")
	}
	if err := h.d.Decide(ctx, visit.AcceptWithGaps); err != nil {
		t.Fatalf("accept with gaps: %v (%s)", err, h.status())
	}
	if got := h.printer.titles(); !slices.Equal(got, []string{m.ID + " 受理通知书", m.ID + " 容缺承诺书"}) {
		t.Fatalf("printed %v", got)
	}
	if txt := h.printer.text(t, 1); !strings.Contains(txt, "承诺书") || !strings.Contains(txt, "租赁合同") {
		t.Errorf("commitment letter text:\n%s", txt)
	}
	if !strings.Contains(h.status(), "1 件容缺待补") {
		t.Errorf("status %q", h.status())
	}
}

// flaky fails its first PutEvent, as a platform that stops answering.
type flaky struct {
	Platform
	mu     sync.Mutex
	failed bool
}

func (f *flaky) PutEvent(ctx context.Context, e wire.Event) error {
	f.mu.Lock()
	first := !f.failed
	f.failed = true
	f.mu.Unlock()
	if first {
		return errors.New("dial tcp: connection refused")
	}
	return f.Platform.PutEvent(ctx, e)
}

// A decision whose send fails is kept and sent again with the same key;
// the platform takes each event once, and a printer fault leaves the
// decision recorded and the document saved.
func TestResendAndPrinterFault(t *testing.T) {
	h, m := reviewing(t, "20261127-090000-0004", func(c *uploader.Client) Platform { return &flaky{Platform: c} })
	ctx := context.Background()
	h.verdict("M-ID-OLD", 0)
	h.verdict("M-PHOTO", 0)
	h.printer.fail = errors.New("lp: the CUPS scheduler is not running")
	if err := h.d.Decide(ctx, visit.Accept); err == nil || !strings.Contains(h.status(), "F9 重发") {
		t.Fatalf("a failed send: %v, status %q", err, h.status())
	}
	if err := h.d.Decide(ctx, visit.Accept); err != nil {
		t.Fatalf("resend: %v (%s)", err, h.status())
	}
	if got := kinds(h.events(m.ID)); got != "handling_started: handling_finished:approved" {
		t.Errorf("events %s", got)
	}
	if st := h.status(); !strings.Contains(st, "受理通知书未打印") || !strings.Contains(st, "已保存") {
		t.Errorf("status after a printer fault %q", st)
	}
}

// Sign-in: a wrong PIN says so on the form; signing out forgets the case
// on show and the platform no longer answers the desk's reads.
func TestSignInOut(t *testing.T) {
	h := newHall(t, nil)
	ctx := context.Background()
	h.putCase("20261127-090000-0005", 2, []string{"GA-0101"}, map[string][]byte{"M-ID-OLD": page(200)}, "M-HUKOU")
	if err := h.d.SignIn(ctx, "0001", "111111", "3"); err == nil || !strings.Contains(h.d.signin.message.Text, "工号或密码不对") {
		t.Fatalf("wrong PIN: %v, form says %q", err, h.d.signin.message.Text)
	}
	h.signIn()
	if err := h.d.OpenLatest(ctx); err != nil {
		t.Fatal(err)
	}
	h.d.SignOut(ctx)
	if h.d.SignedIn() || h.d.rv.v != nil || len(h.d.cases) != 0 {
		t.Error("signing out left the clerk's case on screen")
	}
	if _, err := h.cl.Cases(ctx); err == nil {
		t.Error("the desk reads cases after signing out")
	}
}

// After the decision the window's pad asks the applicant to rate the
// service (S17): the rating reaches the platform in the clerk's name, once
// per case.
func TestPadRating(t *testing.T) {
	simPad, err := sim.NewPad()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simPad.Close() })
	port, err := serialport.Open(simPad.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pad := evalpad.New(port, nil)
	t.Cleanup(func() { pad.Close() })
	h, m := reviewing(t, "20261127-090000-0006", nil, func(o *Options) { o.Pad, o.RateWait = pad, 10*time.Second })
	ctx := context.Background()
	h.verdict("M-ID-OLD", 0)
	h.verdict("M-PHOTO", 0)
	// The applicant presses 非常满意 once the pad asks.
	pressed := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := simPad.Press(evalpad.VerySatisfied)
			if err == nil || time.Now().After(deadline) {
				pressed <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if err := h.d.Decide(ctx, visit.Accept); err != nil {
		t.Fatalf("accept: %v (%s)", err, h.status())
	}
	if err := <-pressed; err != nil {
		t.Fatalf("the pad never asked: %v (%s)", err, h.status())
	}
	var rating []wire.Event
	for _, e := range h.events(m.ID) {
		if e.Kind == wire.EventRating {
			rating = append(rating, e)
		}
	}
	if len(rating) != 1 || rating[0].Level != 5 || rating[0].Clerk != "0001" || rating[0].Channel != "pad" {
		t.Fatalf("ratings %+v, want one of 5 stars for clerk 0001", rating)
	}
	if !strings.Contains(h.status(), "申请人评价") {
		t.Errorf("status %q", h.status())
	}
}

// The clerk reads the applicant's card at the window: the list shows this
// person's cases in the hall only, the one there is opened, and the first
// inquiry is recorded in the clerk's name, once.
func TestMeetByCard(t *testing.T) {
	card, err := sim.NewIDCard()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { card.Close() })
	port, err := serialport.Open(card.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	h := newHall(t, nil, func(o *Options) { o.Reader = idcard.New(port, nil) })
	ctx := context.Background()
	mine := h.putCase("20261127-090000-0007", 2, []string{"GA-0101"}, map[string][]byte{"M-ID-OLD": page(200)}, "M-HUKOU")
	// Another person's case in the same hall is not listed.
	h.putCaseOf(wire.Applicant{Name: "李梅", IDNumber: "210204199208170022"}, "20261127-090000-0008", 2, []string{"GA-0101"},
		map[string][]byte{"M-ID-OLD": page(100)}, "M-HUKOU")
	h.signIn()
	if err := h.d.ReadCard(ctx); err == nil {
		t.Fatal("read a card with none on the reader")
	}
	card.Place(sim.SampleCard)
	if err := h.d.ReadCard(ctx); err != nil {
		t.Fatalf("read card: %v (%s)", err, h.status())
	}
	var ids []string
	var opened string
	fyne.DoAndWait(func() {
		for _, c := range h.d.cases {
			ids = append(ids, c.ID)
		}
		if h.d.rv.m != nil {
			opened = h.d.rv.m.ID
		}
	})
	if !slices.Equal(ids, []string{mine.ID}) || opened != mine.ID {
		t.Fatalf("listed %v, opened %q; want only and open %s", ids, opened, mine.ID)
	}
	if err := h.d.Open(ctx, mine.ID); err != nil { // opened again: the inquiry is not recorded twice
		t.Fatal(err)
	}
	if got := kinds(h.events(mine.ID)); got != "first_inquiry:" {
		t.Fatalf("events %s", got)
	}
	if e := h.events(mine.ID)[0]; e.Clerk != "0001" || e.Item != "GA-0101" {
		t.Errorf("first inquiry %+v", e)
	}

	// F1: an agent's card. The applicant's own is refused as the agent's.
	if err := h.d.ReadAgentCard(ctx); err == nil {
		t.Error("the applicant's card was taken as the agent's")
	}
	li := sim.SampleCard
	li.Name, li.IDNumber, li.Gender, li.Birth = "李梅", "210204199208170022", "女", "19920817"
	card.Place(li)
	if err := h.d.ReadAgentCard(ctx); err != nil {
		t.Fatalf("agent's card: %v (%s)", err, h.status())
	}
	var who string
	fyne.DoAndWait(func() { who = h.d.personLabel.Text })
	if !strings.Contains(who, "代办人 李*（2102**********0022）") {
		t.Errorf("person line %q", who)
	}
}

// Verdicts from the keyboard, nothing else: space passes the material on
// show, a number fails it citing that criterion; each moves to the next,
// and F11 returns the case.
func TestVerdictsByKeyboard(t *testing.T) {
	h, m := reviewing(t, "20261127-090000-0010", nil)
	ctx := context.Background()
	fyne.DoAndWait(func() {
		h.d.rune(' ') // 原居民身份证 passes
		h.d.rune('2') // 数码相片回执 fails on its 2nd criterion
	})
	if err := h.d.Decide(ctx, visit.Return); err != nil {
		t.Fatalf("return: %v (%s)", err, h.status())
	}
	if got := kinds(h.events(m.ID)); got != "handling_started: rejection:M-PHOTO-2 handling_finished:refused" {
		t.Errorf("events %s", got)
	}
}
