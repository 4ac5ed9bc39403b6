package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"yici/desk"
	"yici/drivers/idcard"
	"yici/drivers/printer/lp"
	"yici/drivers/serialport"
	"yici/sync/uploader"
	"yici/terminal"
)

func terminalMain(args []string) error {
	fs := flag.NewFlagSet("terminal", flag.ExitOnError)
	data := fs.String("data", "/var/lib/yici", "directory of the encrypted local store and its key")
	cardPort := fs.String("idcard", "/dev/ttyUSB0", "serial port of the GA 467 ID-card reader")
	prnPort := fs.String("printer", "/dev/ttyUSB1", "serial port of the ESC/POS receipt printer")
	padPort := fs.String("evalpad", "", "serial port of the evaluation pad (评价器); empty: rating by QR code only")
	devices := fs.String("devices", "", "device configuration file (JSON: each device by port or USB id, see docs/architecture.md); replaces the port flags")
	scan := fs.String("scanner", "sim", `SANE device for scanimage -d, "folder:DIR" for a scanner that drops pages in DIR, or "sim"`)
	plat := fs.String("platform", "https://127.0.0.1:8443", "platform base URL")
	tokenFile := fs.String("token-file", "terminal.token", "file holding this terminal's enrolment token")
	pin := fs.String("pin", "platform-cert.pem", "the platform's certificate to trust (its DIR/tls/cert.pem); empty: system roots")
	hall := fs.String("hall", "示例政务服务中心", "hall name shown on screen and receipts")
	name := fs.String("name", "K01", "terminal name as enrolled")
	full := fs.Bool("fullscreen", false, "fill the screen (kiosk mode)")
	elder := fs.Bool("elder", false, "elder mode: larger type")
	idle := fs.Duration("idle", 2*time.Minute, "wipe a visit after this long without a touch")
	docs := fs.String("documents", "", "directory for A4 one-time notices (PDF) the hall prints; default DATA/documents")
	fs.Parse(args)

	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	ap, err := openAppliance(*data, *plat, token, *pin)
	if err != nil {
		return err
	}
	defer ap.Close()
	if *docs == "" {
		*docs = filepath.Join(*data, "documents")
	}
	var dc *serialport.DeviceConfig
	if *devices != "" {
		if dc, err = serialport.LoadConfig(*devices); err != nil {
			return err
		}
	}
	reader, prn, pad, err := ports{cfg: dc, ap: ap}.devices(*cardPort, *prnPort, *padPort)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a := newApp()
	scale := float32(1.5)
	if *elder {
		scale = 2
	}
	k, w := kioskWindow(a, ap, terminal.Config{
		Hall: *hall, Terminal: *name,
		Reader: reader, Scanner: scanner(dc, *scan), Printer: prn, Pad: pad,
		QueryURL: *plat + "/q/", IdleTimeout: *idle, Scale: scale, Documents: *docs,
	}, *full)
	runBackground(ctx, k.Run, func(ctx context.Context) { ap.up.Run(ctx) },
		func(ctx context.Context) { ap.syncCatalog(ctx, 5*time.Minute) },
		keepToken(ap.client, *tokenFile))
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
	return nil
}

func deskMain(args []string) error {
	fs := flag.NewFlagSet("desk", flag.ExitOnError)
	data := fs.String("data", "/var/lib/yici-desk", "directory of the desk's local store and its key")
	plat := fs.String("platform", "https://127.0.0.1:8443", "platform base URL")
	tokenFile := fs.String("token-file", "desk.token", "file holding this desk's enrolment token")
	pin := fs.String("pin", "platform-cert.pem", "the platform's certificate to trust; empty: system roots")
	hall := fs.String("hall", "示例政务服务中心", "hall name on the documents")
	phone := fs.String("phone", "", "the hall's enquiry phone, on the documents")
	a4printer := fs.String("a4-printer", "", "CUPS destination for A4 documents (lp -d); empty: the default destination; \"none\": save only")
	docs := fs.String("documents", "", "directory the A4 documents are saved in; default DATA/documents")
	padPath := fs.String("evalpad", "", "serial port of the window's evaluation pad (评价器); empty: rating by QR code only")
	cardPath := fs.String("idcard", "", "serial port of the window's GA 467 ID-card reader; empty: none")
	scan := fs.String("scanner", "sim", `the window's document scanner for new applications (F6): SANE device for scanimage -d, "folder:DIR", or "sim"`)
	fs.Parse(args)
	if *docs == "" {
		*docs = filepath.Join(*data, "documents")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	ap, err := openAppliance(*data, *plat, token, *pin)
	if err != nil {
		return err
	}
	defer ap.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp()
	opt := desk.Options{Hall: *hall, Phone: *phone, Documents: *docs,
		Store: ap.store, Scanner: scanner(nil, *scan), Kick: ap.up.Kick}
	pad, err := ports{ap: ap}.pad(*padPath)
	if err != nil {
		return err
	}
	if pad != nil {
		opt.Pad = pad
	}
	if *cardPath != "" {
		cp, err := (ports{ap: ap}).open(serialport.RoleIDCard, *cardPath)
		if err != nil {
			return err
		}
		opt.Reader = idcard.New(cp, nil)
	}
	if *a4printer != "none" {
		opt.Printer = lp.Queue{Printer: *a4printer}
	}
	d, w := deskWindow(a, ap.client, ap.cat, opt)
	runBackground(ctx, func(ctx context.Context) { d.Run(ctx, 3*time.Second) },
		func(ctx context.Context) { ap.up.Run(ctx) },
		func(ctx context.Context) { ap.syncCatalog(ctx, 5*time.Minute) },
		keepToken(ap.client, *tokenFile))
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
	fmt.Fprintln(os.Stderr, "desk closed")
	return nil
}

// keepToken renews the terminal's token before it expires (a 90-day token
// is renewed with 30 days left, checked every 6 hours), writing the new one
// to path before it is used.
func keepToken(c *uploader.Client, path string) func(context.Context) {
	return func(ctx context.Context) {
		uploader.KeepToken(ctx, c, func(tok string) error { return writeFileAtomic(path, []byte(tok+"\n")) },
			30*24*time.Hour, 6*time.Hour, log.Printf)
	}
}

// writeFileAtomic replaces path with data whole: a crash leaves the old
// file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
