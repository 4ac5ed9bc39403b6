package main

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
)

// TestDevicesFromConfig: with a device configuration file the kiosk's
// reader, printer and pad come from it, through reconnecting ports.
func TestDevicesFromConfig(t *testing.T) {
	card, prn, pad := startSims(t)
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
	ap := &appliance{}
	defer ap.Close()
	reader, printer, padDrv, err := ports{cfg: cfg, ap: ap}.devices("/dev/null-ignored", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if padDrv == nil {
		t.Fatal("configured pad not opened")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	card.Place(sim.SampleCard)
	for {
		c, err := reader.ReadCard(ctx)
		if err == nil {
			if c.IDNumber != sim.SampleCard.IDNumber {
				t.Fatalf("read %v", c)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no card read through the configured port: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, err := printer.Status(ctx); err != nil || !st.Ready() {
		t.Errorf("printer through the configured port: %v, %v", st, err)
	}
	if sc, ok := scanner(cfg, "sim").(docscan.SANE); !ok || sc.Device != "test" {
		t.Errorf("configured SANE scanner not used: %#v", scanner(cfg, "sim"))
	}
}
