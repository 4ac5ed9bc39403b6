package main

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"yici/assets/theme"
	"yici/desk"
	"yici/sync/appliance"
	"yici/sync/catalog"
	"yici/sync/uploader"
	"yici/terminal"
)

// kioskTitle and deskTitle start with ASCII so screenshot tools can find
// the windows by name.
const (
	kioskTitle = "Yici kiosk 自助终端"
	deskTitle  = "Yici desk 综合窗口"
)

func newApp() fyne.App {
	a := app.NewWithID("cn.yici.hall")
	a.Settings().SetTheme(theme.Theme{Scale: 1})
	return a
}

// kioskWindow makes the kiosk's window with the kiosk's large type.
func kioskWindow(a fyne.App, ap *appliance.Appliance, cfg terminal.Config, fullscreen bool) (*terminal.Kiosk, fyne.Window) {
	w := a.NewWindow(kioskTitle)
	cfg.Catalog, cfg.Store, cfg.Vault, cfg.Kick = ap.Catalog.Current(), ap.Store, ap.Vault, ap.Uploader.Kick
	cfg.AppCodes = ap.AppCodes
	k := terminal.New(cfg, w)
	ap.Catalog.OnUpdate(func(c *catalog.Catalog) { fyne.Do(func() { k.SetCatalog(c) }) })
	w.Resize(fyne.NewSize(1024, 768))
	w.SetFullScreen(fullscreen)
	return k, w
}

func deskWindow(a fyne.App, c *uploader.Client, cat *catalog.Live, opt desk.Options) (*desk.Desk, fyne.Window) {
	w := a.NewWindow(deskTitle)
	d := desk.New(c, cat.Current(), w, opt)
	cat.OnUpdate(func(c *catalog.Catalog) { fyne.Do(func() { d.SetCatalog(c) }) })
	w.Resize(fyne.NewSize(1400, 640))
	return d, w
}

func runBackground(ctx context.Context, fs ...func(context.Context)) {
	for _, f := range fs {
		go f(ctx)
	}
}
