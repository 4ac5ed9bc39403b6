// Package simtest starts the simulated devices for a test and closes them
// when it ends.
package simtest

import (
	"testing"

	"yici/drivers/sim"
)

// Devices starts a simulated ID-card reader, receipt printer and
// evaluation pad, each on its own pseudo-terminal, closed at the end of t.
func Devices(t testing.TB) (*sim.IDCard, *sim.Printer, *sim.Pad) {
	t.Helper()
	card, err := sim.NewIDCard()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { card.Close() })
	prn, err := sim.NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prn.Close() })
	pad, err := sim.NewPad()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pad.Close() })
	return card, prn, pad
}
