package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"yici/desk"
	"yici/drivers/devices"
	"yici/drivers/printer/lp"
	"yici/drivers/serialport"
	"yici/sync/appliance"
	"yici/terminal"
)

func terminalMain(args []string) error {
	fs := flag.NewFlagSet("terminal", flag.ExitOnError)
	data := fs.String("data", "/var/lib/yici", "directory of the encrypted local store and its key")
	cardPort := fs.String("idcard", "/dev/ttyUSB0", "serial port of the GA 467 ID-card reader")
	prnPort := fs.String("printer", "/dev/ttyUSB1", "serial port of the ESC/POS receipt printer")
	padPort := fs.String("evalpad", "", "serial port of the evaluation pad (评价器); empty: rating by QR code only")
	codePort := fs.String("codescan", "", "serial port of the QR code scanner for app codes (掌上办); empty: identification by card only")
	devs := fs.String("devices", "", "device configuration file (JSON: each device by port or USB id, see docs/architecture.md); replaces the port flags")
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
	band := fs.Int("ticket-band", 0, "this kiosk's band (1–9, unique in the hall) of queue numbers issued while the platform is unreachable (A1001… for band 1); 0: no tickets offline")
	perPerson := fs.Int("minutes-per-person", 5, "a queue ticket's estimated wait per person ahead, in minutes")
	fs.Parse(args)
	if *band < 0 || *band > 9 {
		return fmt.Errorf("--ticket-band %d: want 1–9, or 0 for none", *band)
	}

	token, err := appliance.ReadToken(*tokenFile)
	if err != nil {
		return err
	}
	ap, err := appliance.Open(*data, *plat, token, *pin)
	if err != nil {
		return err
	}
	defer ap.Close()
	if *docs == "" {
		*docs = filepath.Join(*data, "documents")
	}
	var dc *serialport.DeviceConfig
	if *devs != "" {
		if dc, err = serialport.LoadConfig(*devs); err != nil {
			return err
		}
	}
	ports := &devices.Ports{Config: dc}
	defer ports.Close()
	reader, prn, padDrv, err := ports.Kiosk(*cardPort, *prnPort, *padPort)
	if err != nil {
		return err
	}
	var pad terminal.Pad // a nil *evalpad.Pad is no pad
	if padDrv != nil {
		pad = padDrv
	}
	codes, err := ports.CodeScanner(*codePort)
	if err != nil {
		return err
	}
	var codeScanner terminal.CodeScanner // likewise
	if codes != nil {
		codeScanner = codes
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
		Reader: reader, Scanner: devices.Scanner(dc, *scan), Printer: prn, Pad: pad, CodeScanner: codeScanner,
		QueryURL: *plat + "/q/", IdleTimeout: *idle, Scale: scale, Documents: *docs,
		Queue: ap.Client, TicketBand: *band, MinutesPerPerson: *perPerson,
	}, *full)
	runBackground(ctx, k.Run, func(ctx context.Context) { ap.Uploader.Run(ctx) },
		func(ctx context.Context) { flushTickets(ctx, k) },
		func(ctx context.Context) { ap.SyncCatalog(ctx, 5*time.Minute) },
		func(ctx context.Context) { ap.KeepAppCodeKeys(ctx, time.Hour) },
		func(ctx context.Context) { ap.KeepToken(ctx, *tokenFile) })
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
	token, err := appliance.ReadToken(*tokenFile)
	if err != nil {
		return err
	}
	ap, err := appliance.Open(*data, *plat, token, *pin)
	if err != nil {
		return err
	}
	defer ap.Close()
	ports := &devices.Ports{}
	defer ports.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp()
	opt := desk.Options{Hall: *hall, Phone: *phone, Documents: *docs,
		Store: ap.Store, Scanner: devices.Scanner(nil, *scan), Kick: ap.Uploader.Kick}
	pad, err := ports.Pad(*padPath)
	if err != nil {
		return err
	}
	if pad != nil {
		opt.Pad = pad
	}
	reader, err := ports.Reader(*cardPath)
	if err != nil {
		return err
	}
	if reader != nil {
		opt.Reader = reader
	}
	if *a4printer != "none" {
		opt.Printer = lp.Queue{Printer: *a4printer}
	}
	d, w := deskWindow(a, ap.Client, ap.Catalog, opt)
	runBackground(ctx, func(ctx context.Context) { d.Run(ctx, 3*time.Second) },
		func(ctx context.Context) { ap.Uploader.Run(ctx) },
		func(ctx context.Context) { ap.SyncCatalog(ctx, 5*time.Minute) },
		func(ctx context.Context) { ap.KeepToken(ctx, *tokenFile) })
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
	fmt.Fprintln(os.Stderr, "desk closed")
	return nil
}

// flushTickets sends the tickets a kiosk issued offline once the platform
// answers again, checking every minute.
func flushTickets(ctx context.Context, k *terminal.Kiosk) {
	for {
		k.FlushTickets(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}
