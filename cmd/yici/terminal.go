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

	"yici/drivers/serialport"
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
		func(ctx context.Context) { ap.syncCatalog(ctx, 5*time.Minute) })
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
	clerk := fs.String("clerk", "", "the clerk's name and staff number, recorded with each review")
	fs.Parse(args)
	if *clerk == "" {
		return fmt.Errorf("--clerk is required: every review records who made it")
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
	d, w := deskWindow(a, ap.client, ap.cat, *clerk)
	runBackground(ctx, func(ctx context.Context) { d.Run(ctx, 3*time.Second) },
		func(ctx context.Context) { ap.syncCatalog(ctx, 5*time.Minute) })
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
	fmt.Fprintln(os.Stderr, "desk closed")
	return nil
}
