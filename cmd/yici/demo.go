package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"yici/assets"
	"yici/desk"
	"yici/desk/display"
	"yici/drivers/devices"
	"yici/drivers/sim"
	"yici/sync/appliance"
	"yici/sync/platform"
	"yici/terminal"
)

func demoMain(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	data := fs.String("data", filepath.Join(os.Getenv("HOME"), ".local/share/yici-demo"), "directory of the demo hall's data (delete it to start afresh)")
	addr := fs.String("addr", "127.0.0.1:0", "address of the embedded platform")
	autoplay := fs.Bool("autoplay", false, "play one visit by itself (for a machine without a display)")
	shots := fs.String("shots", "", "save screenshots of each step here (needs X: xwininfo, xdotool, import)")
	exit := fs.Bool("exit", false, "quit when the autoplay is done")
	idle := fs.Duration("idle", 2*time.Minute, "wipe a kiosk visit after this long without a touch")
	offline := fs.Bool("offline", false, "keep the uploader stopped, as if the network were down")
	exitSent := fs.Bool("exit-when-sent", false, "quit once nothing waits in the outbox")
	fs.Parse(args)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}

	// The platform, embedded, on loopback.
	pst, err := platform.OpenBolt(filepath.Join(*data, "platform"))
	if err != nil {
		return fmt.Errorf("%w\n(the demo's data is disposable: delete %s to start afresh)", err, *data)
	}
	defer pst.Close()
	srv := platform.New(pst, platform.Options{})
	lic := filepath.Join(*data, "licences.json")
	if err := os.WriteFile(lic, assets.DemoLicences, 0o600); err != nil {
		return err
	}
	if _, err := srv.LoadLicences(lic); err != nil {
		return err
	}
	if _, _, err := srv.PublishCatalog(assets.SampleCatalog); err != nil {
		return err
	}
	tlsCfg, tlsInfo, err := platform.LoadTLS(platform.TLSOptions{Dir: filepath.Join(*data, "platform")})
	if err != nil {
		return err
	}
	kioskToken, err := demoToken(srv, *data, platform.RoleKiosk, "DL01", "K01")
	if err != nil {
		return err
	}
	deskToken, err := demoToken(srv, *data, platform.RoleDesk, "DL01", "W01")
	if err != nil {
		return err
	}
	displayToken, err := demoToken(srv, *data, platform.RoleDisplay, "DL01", "D01")
	if err != nil {
		return err
	}
	if err := srv.AddClerk("DL01", demoClerk, "王小明", demoPIN); err != nil && !errors.Is(err, platform.ErrExists) {
		return err
	}
	log.Printf("demo: the desk's clerk signs in as %s with PIN %s", demoClerk, demoPIN)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	base := "https://" + ln.Addr().String()
	go platform.Serve(ctx, ln, srv, tlsCfg)
	log.Printf("demo: platform at %s, data in %s", base, *data)

	// Simulated devices on pseudo-terminals, driven through real serial ports.
	card, err := sim.NewIDCard()
	if err != nil {
		return err
	}
	defer card.Close()
	prn, err := sim.NewPrinter()
	if err != nil {
		return err
	}
	defer prn.Close()
	pad, err := sim.NewPad()
	if err != nil {
		return err
	}
	defer pad.Close()
	windowCard, err := sim.NewIDCard()
	if err != nil {
		return err
	}
	defer windowCard.Close()
	codeSim, err := sim.NewCodeScanner()
	if err != nil {
		return err
	}
	defer codeSim.Close()
	log.Printf("demo: ID-card reader on %s, receipt printer on %s, evaluation pad on %s, the window's reader on %s, code scanner on %s",
		card.Path(), prn.Path(), pad.Path(), windowCard.Path(), codeSim.Path())

	ap, err := appliance.Open(filepath.Join(*data, "kiosk"), base, kioskToken, tlsInfo.CertFile)
	if err != nil {
		return err
	}
	defer ap.Close()
	ports := &devices.Ports{}
	defer ports.Close()
	reader, printer, padDrv, err := ports.Kiosk(card.Path(), prn.Path(), pad.Path())
	if err != nil {
		return err
	}
	codes, err := ports.CodeScanner(codeSim.Path())
	if err != nil {
		return err
	}
	// The platform's app code key, fetched while online as a kiosk does
	// at start; kept in the kiosk's data directory for offline use.
	if err := ap.SyncAppCodeKeys(ctx); err != nil {
		log.Printf("demo: %v (app codes are refused until the key is fetched)", err)
	}
	if n, oldest, err := ap.Store.Pending(); err == nil && n > 0 {
		log.Printf("demo: %d case(s) left from an earlier run, waiting since %s, will be sent", n, oldest.Format(time.RFC3339))
	}

	a := newApp()
	k, kw := kioskWindow(a, ap, terminal.Config{
		Hall: "大连市示例区政务服务中心", Terminal: "K01",
		Reader: reader, Scanner: devices.Scanner(nil, "sim"), Printer: printer, Pad: padDrv, CodeScanner: codes,
		QueryURL: base + "/q/", IdleTimeout: *idle, Scale: 1.4,
		Documents: filepath.Join(*data, "documents"),
		Queue:     ap.Client, TicketBand: 1,
	}, false)
	// The desk is an appliance of its own: its store holds the
	// applications taken at the window, which its uploader sends under the
	// desk's name.
	dap, err := appliance.Open(filepath.Join(*data, "desk"), base, deskToken, tlsInfo.CertFile)
	if err != nil {
		return err
	}
	defer dap.Close()
	windowPorts := &devices.Ports{}
	defer windowPorts.Close()
	windowReader, err := windowPorts.Reader(windowCard.Path())
	if err != nil {
		return err
	}
	// The demo has no print queue: the desk's A4 documents are saved.
	d, dw := deskWindow(a, dap.Client, ap.Catalog, desk.Options{Hall: "大连市示例区政务服务中心",
		Documents: filepath.Join(*data, "desk-documents"),
		Store:     dap.Store, Scanner: devices.Scanner(nil, "sim"), Kick: dap.Uploader.Kick, Reader: windowReader})
	// The phone of the panel's 掌上办 button: a code for 张三 from the
	// embedded platform, as the citizen's app would get one after its own
	// sign-in.
	phone := func() (string, error) {
		return srv.IssueAppCode(sim.SampleCard.Name, sim.SampleCard.IDNumber, 0)
	}
	// The hall's call display: numbers and windows of the desk's calls.
	dcl, err := appliance.Client(base, displayToken, tlsInfo.CertFile)
	if err != nil {
		return err
	}
	disp, dispw := displayWindow(a, dcl, display.Options{Hall: "大连市示例区政务服务中心", Chime: display.AutoChime()}, false)
	pan := newPanel(a, card, windowCard, prn, pad, codeSim, phone, filepath.Join(*data, "receipts"))

	runBackground(ctx, k.Run, func(ctx context.Context) { flushTickets(ctx, k) },
		func(ctx context.Context) { d.Run(ctx, 2*time.Second) },
		disp.Run,
		func(ctx context.Context) { ap.SyncCatalog(ctx, time.Minute) },
		pan.collectReceipts)
	if !*offline {
		go ap.Uploader.Run(ctx)
		go dap.Uploader.Run(ctx)
	}
	if *exitSent {
		go func() {
			for {
				n, _, err := ap.Store.Pending()
				if err == nil && n == 0 {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			log.Printf("demo: outbox empty, quitting")
			fyne.Do(a.Quit)
		}()
	}
	if *autoplay {
		go func() {
			err := play(ctx, k, d, disp, pan, ap, *shots, !*offline, map[string]fyne.Window{kioskTitle: kw, deskTitle: dw, panelTitle: pan.win, displayTitle: dispw})
			if err != nil {
				log.Printf("demo: autoplay: %v", err)
			} else if *shots != "" {
				log.Printf("demo: autoplay done; screenshots in %s", *shots)
			}
			if *exit {
				if err != nil {
					os.Exit(1)
				}
				fyne.Do(a.Quit)
			}
		}()
	}
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	kw.SetMaster()
	dw.Show()
	dispw.Show()
	pan.win.Show()
	kw.ShowAndRun()
	return nil
}

// The demo desk's clerk: invented, like every person in the demo.
const demoClerk, demoPIN = "0001", "730461"

// demoToken enrols a demo terminal once and keeps its token in the data
// directory, so a restarted demo is the same terminal.
func demoToken(srv *platform.Server, dir string, role platform.Role, hall, name string) (string, error) {
	path := filepath.Join(dir, name+".token")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	tok, err := srv.Enrol(role, hall, name)
	if err != nil {
		// The token file was lost: revoke the old credential, issue a new one.
		if rerr := srv.Revoke(name); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		if tok, err = srv.Enrol(role, hall, name); err != nil {
			return "", err
		}
	}
	return tok, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}
