package devices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"yici/drivers/docscan"
	"yici/drivers/serialport"
	"yici/drivers/sim"
	"yici/drivers/sim/simtest"
)

// readCard places the sample card on card and reads it through r.
func readCard(t *testing.T, card *sim.IDCard, read func(context.Context) (string, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	card.Place(sim.SampleCard)
	for {
		id, err := read(ctx)
		if err == nil {
			if id != sim.SampleCard.IDNumber {
				t.Fatalf("read %s", id)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("no card read: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDevicesFromConfig: with a device configuration file the kiosk's
// reader, printer and pad come from it, through reconnecting ports, and
// the paths given are ignored.
func TestDevicesFromConfig(t *testing.T) {
	card, prn, pad := simtest.Devices(t)
	path := filepath.Join(t.TempDir(), "devices.json")
	doc := fmt.Sprintf(`{"idcard": {"port": %q}, "printer": {"port": %q, "read_timeout": "1s"}, "evalpad": {"port": %q}, "docscan": {"sane": "test"}}`,
		card.Path(), prn.Path(), pad.Path())
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := serialport.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &Ports{Config: cfg}
	defer p.Close()
	reader, printer, padDrv, err := p.Kiosk("/dev/null-ignored", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if padDrv == nil {
		t.Fatal("configured pad not opened")
	}
	readCard(t, card, func(ctx context.Context) (string, error) {
		c, err := reader.ReadCard(ctx)
		return c.IDNumber, err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, err := printer.Status(ctx); err != nil || !st.Ready() {
		t.Errorf("printer through the configured port: %v, %v", st, err)
	}
	if sc, ok := Scanner(cfg, "sim").(docscan.SANE); !ok || sc.Device != "test" {
		t.Errorf("configured SANE scanner not used: %#v", Scanner(cfg, "sim"))
	}
}

// TestDevicesByPath: without a configuration file the devices come from
// the paths; the reader and printer are required, the pad is not, and an
// empty path is a device not fitted.
func TestDevicesByPath(t *testing.T) {
	card, prn, _ := simtest.Devices(t)
	p := &Ports{}
	defer p.Close()
	if _, _, _, err := p.Kiosk(card.Path(), "", ""); err == nil {
		t.Error("opened the kiosk's devices without a printer")
	}
	reader, printer, pad, err := p.Kiosk(card.Path(), prn.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	if pad != nil || printer == nil {
		t.Fatalf("pad %v, printer %v", pad, printer)
	}
	readCard(t, card, func(ctx context.Context) (string, error) {
		c, err := reader.ReadCard(ctx)
		return c.IDNumber, err
	})
	code, err := sim.NewCodeScanner()
	if err != nil {
		t.Fatal(err)
	}
	defer code.Close()
	cs, err := p.CodeScanner(code.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := code.Scan("YC1.test"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if got, err := cs.Next(ctx); err != nil || got != "YC1.test" {
		t.Errorf("code scanner read %q, %v", got, err)
	}
	if cs, err := p.CodeScanner(""); cs != nil || err != nil {
		t.Errorf("no path: code scanner %v, %v; want none", cs, err)
	}
	if r, err := p.Reader(""); r != nil || err != nil {
		t.Errorf("no path: reader %v, %v; want none", r, err)
	}
	if _, err := p.Reader(filepath.Join(t.TempDir(), "no-such-port")); err == nil {
		t.Error("opened a port that does not exist")
	}
	if err := p.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	for name, want := range map[string]docscan.Scanner{
		"":             docscan.Simulated{},
		"sim":          docscan.Simulated{},
		"folder:/scan": docscan.Folder{Dir: "/scan"},
		"epson:001":    docscan.SANE{Device: "epson:001"},
	} {
		if got := Scanner(nil, name); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Errorf("Scanner(%q) = %#v, want %#v", name, got, want)
		}
	}
}
