package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"

	"yici/desk/display"
	"yici/sync/appliance"
)

// displayTitle starts with ASCII so screenshot tools can find the window.
const displayTitle = "Yici display 叫号屏"

func displayMain(args []string) error {
	fs := flag.NewFlagSet("display", flag.ExitOnError)
	plat := fs.String("platform", "https://127.0.0.1:8443", "platform base URL")
	tokenFile := fs.String("token-file", "display.token", "file holding this display's enrolment token (role display)")
	pin := fs.String("pin", "platform-cert.pem", "the platform's certificate to trust; empty: system roots")
	hall := fs.String("hall", "", "hall name in the title line")
	full := fs.Bool("fullscreen", false, "fill the screen (the hall's screen)")
	chime := fs.String("chime", "auto", `announce each new call: "auto" (espeak-ng if installed, else silent), "none", or a command to which the announcement is appended`)
	fs.Parse(args)
	token, err := appliance.ReadToken(*tokenFile)
	if err != nil {
		return err
	}
	c, err := appliance.Client(*plat, token, *pin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp()
	d, w := displayWindow(a, c, display.Options{Hall: *hall, Chime: chimeOf(*chime)}, *full)
	runBackground(ctx, d.Run, func(ctx context.Context) { appliance.KeepClientToken(ctx, c, *tokenFile) })
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
	return nil
}

// chimeOf reads the --chime setting.
func chimeOf(s string) func(number, window string) {
	switch s {
	case "none", "":
		return nil
	case "auto":
		return display.AutoChime()
	}
	f := strings.Fields(s)
	return display.Command(f[0], f[1:]...)
}

func displayWindow(a fyne.App, b display.Board, opt display.Options, fullscreen bool) (*display.Display, fyne.Window) {
	w := a.NewWindow(displayTitle)
	d := display.New(b, w, opt)
	w.Resize(fyne.NewSize(900, 620))
	w.SetFullScreen(fullscreen)
	return d, w
}
