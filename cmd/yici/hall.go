package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"yici/assets"
	"yici/assets/theme"
	"yici/desk"
	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/drivers/printer"
	"yici/drivers/serialport"
	"yici/sync/catalog"
	"yici/sync/store"
	"yici/sync/uploader"
	"yici/sync/wire"
	"yici/terminal"
)

// kioskTitle and deskTitle start with ASCII so screenshot tools can find
// the windows by name.
const (
	kioskTitle = "Yici kiosk 自助终端"
	deskTitle  = "Yici desk 综合窗口"
)

// appliance is what a kiosk runs on: its store, uploader and devices.
type appliance struct {
	store  *store.Store
	up     *uploader.Uploader
	client *uploader.Client
	cat    *catalog.Live
	closer []func() error
}

func (a *appliance) Close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
}

// openAppliance opens the encrypted store in dir (key in dir/kiosk.key,
// readable only by this user) and an uploader to the platform, trusting
// exactly the certificate in pin (the platform's self-signed one).
func openAppliance(dir, platformURL, token, pin string) (*appliance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := store.OpenWithKeyFile(filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key"))
	if err != nil {
		return nil, err
	}
	cat, err := startCatalog(st)
	if err != nil {
		st.Close()
		return nil, err
	}
	c, err := newClient(platformURL, token, pin)
	if err != nil {
		st.Close()
		return nil, err
	}
	up := uploader.New(st, c, uploader.Options{
		MinBackoff:   500 * time.Millisecond,
		MaxBackoff:   30 * time.Second,
		PollInterval: 10 * time.Second,
		OnEvent: func(e uploader.Event) {
			// Case ids carry no personal data, so the event can be logged.
			log.Printf("upload: %s %s %d%% %s", e.Kind, e.Case, e.Percent, e.Reason)
		},
	})
	return &appliance{store: st, up: up, client: c, cat: catalog.NewLive(cat), closer: []func() error{st.Close}}, nil
}

// startCatalog is the catalogue an appliance starts with: the newest of the
// one it last fetched from the platform and the one built in, so a
// terminal works offline from its first start (D5).
func startCatalog(st *store.Store) (*catalog.Catalog, error) {
	cat, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		return nil, err
	}
	doc, _, _, err := st.Catalog()
	if errors.Is(err, store.ErrNotFound) {
		return cat, nil
	}
	if err != nil {
		return nil, err
	}
	cached, err := catalog.Parse(doc)
	if err != nil {
		log.Printf("catalogue: the cached revision is unusable, using the built-in one: %v", err)
		return cat, nil
	}
	if cached.Revision > cat.Revision {
		return cached, nil
	}
	return cat, nil
}

// syncCatalog fetches newer catalogue revisions from the platform every
// interval; a valid newer one reaches the screens through a.cat's watchers
// without a restart (S3).
func (a *appliance) syncCatalog(ctx context.Context, every time.Duration) {
	for {
		if _, err := uploader.SyncCatalog(ctx, a.client, a.store); err != nil {
			log.Printf("catalogue: %v (working from revision %d)", err, a.cat.Current().Revision)
		} else if doc, _, _, err := a.store.Catalog(); err == nil {
			if swapped, err := a.cat.Update(doc); err != nil {
				log.Printf("catalogue: the platform's revision is refused: %v", err)
			} else if swapped {
				log.Printf("catalogue: now revision %d", a.cat.Current().Revision)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// newClient is a platform client; pin, when set, is the certificate file
// to trust instead of the system's roots.
func newClient(platformURL, token, pin string) (*uploader.Client, error) {
	c := &uploader.Client{BaseURL: platformURL, Token: token}
	if pin != "" {
		t, err := uploader.PinnedTransport(pin)
		if err != nil {
			return nil, err
		}
		c.HTTP = &http.Client{Transport: t}
	}
	return c, nil
}

// vault looks up what an applicant has on file, falling back to the
// store's cached answer offline.
func (a *appliance) vault(ctx context.Context, id string) (wire.VaultAnswer, time.Time, bool, error) {
	return uploader.LookupVault(ctx, a.client, a.store, id)
}

// ports opens the serial ports of the hall's devices: from a device
// configuration file when there is one (ports found by path or USB id,
// reopened after an unplug without a restart), else from the flags' paths.
type ports struct {
	cfg *serialport.DeviceConfig // nil: the paths below
	ap  *appliance
}

// open opens the port of role; path is the flag's value, used without a
// configuration file. An empty path means the device is not fitted.
func (p ports) open(role serialport.Role, path string) (serialport.Port, error) {
	if p.cfg != nil {
		d, err := p.cfg.Device(role)
		if err != nil {
			return nil, nil // not configured: not fitted
		}
		port, err := d.Open(serialport.ReconnectOptions{Notify: func(e serialport.Event) {
			if e.Up {
				log.Printf("devices: %s on %s", e.Port, e.Path)
			} else {
				log.Printf("devices: %s gone: %v; waiting for it to come back", e.Port, e.Err)
			}
		}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		p.ap.closer = append(p.ap.closer, port.Close)
		return port, nil
	}
	if path == "" {
		return nil, nil
	}
	port, err := serialport.Open(path, serialport.Config{Baud: 115200})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	p.ap.closer = append(p.ap.closer, port.Close)
	return port, nil
}

// devices opens the kiosk's devices. The reader and printer are required;
// the pad is optional (rating by QR code only).
func (p ports) devices(cardPath, prnPath, padPath string) (*idcard.Reader, *printer.Printer, terminal.Pad, error) {
	cp, err := p.open(serialport.RoleIDCard, cardPath)
	if err == nil && cp == nil {
		err = errors.New("idcard: no ID-card reader configured")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	pp, err := p.open(serialport.RolePrinter, prnPath)
	if err == nil && pp == nil {
		err = errors.New("printer: no receipt printer configured")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	padPort, err := p.open(serialport.RoleEvalPad, padPath)
	if err != nil {
		return nil, nil, nil, err
	}
	var pad terminal.Pad
	if padPort != nil {
		d := evalpad.New(padPort, nil)
		p.ap.closer = append(p.ap.closer, d.Close)
		pad = d
	}
	return idcard.New(cp, nil), printer.New(pp, printer.Options{}), pad, nil
}

// pad opens the window's evaluation pad, if one is configured (nil
// otherwise: the receipt's QR code remains).
func (p ports) pad(path string) (*evalpad.Pad, error) {
	port, err := p.open(serialport.RoleEvalPad, path)
	if err != nil || port == nil {
		return nil, err
	}
	d := evalpad.New(port, nil)
	p.ap.closer = append(p.ap.closer, d.Close)
	return d, nil
}

// scanner picks the document scanner: the configured SANE device, or the
// flag's: "sim" for the simulated one, "folder:DIR" for a scanner that
// drops its pages into DIR, otherwise a name for scanimage -d.
func scanner(cfg *serialport.DeviceConfig, name string) docscan.Scanner {
	if cfg != nil {
		if d, err := cfg.Device(serialport.RoleDocScan); err == nil {
			return docscan.SANE{Device: d.SANE}
		}
	}
	if dir, ok := strings.CutPrefix(name, "folder:"); ok {
		return docscan.Folder{Dir: dir}
	}
	if name == "sim" || name == "" {
		return docscan.Simulated{}
	}
	return docscan.SANE{Device: name}
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("terminal token: %w (enrol with: yici-platform enrol --role kiosk|desk --hall H --name N > %s)", err, path)
	}
	return strings.TrimSpace(string(b)), nil
}

func newApp() fyne.App {
	a := app.NewWithID("cn.yici.hall")
	a.Settings().SetTheme(theme.Theme{Scale: 1})
	return a
}

// kioskWindow makes the kiosk's window with the kiosk's large type.
func kioskWindow(a fyne.App, ap *appliance, cfg terminal.Config, fullscreen bool) (*terminal.Kiosk, fyne.Window) {
	w := a.NewWindow(kioskTitle)
	cfg.Catalog, cfg.Store, cfg.Vault, cfg.Kick = ap.cat.Current(), ap.store, ap.vault, ap.up.Kick
	k := terminal.New(cfg, w)
	ap.cat.OnUpdate(func(c *catalog.Catalog) { fyne.Do(func() { k.SetCatalog(c) }) })
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
