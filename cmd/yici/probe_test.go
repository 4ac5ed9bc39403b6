package main

import (
	"bytes"
	"strings"
	"testing"

	"yici/drivers/probe"
	"yici/drivers/sim/simtest"
)

// TestProbeFindsEveryDevice: yici probe, given the ports of a simulated
// reader, printer and pad, says which device answers on which.
func TestProbeFindsEveryDevice(t *testing.T) {
	card, prn, pad := simtest.Devices(t)

	var out, errb bytes.Buffer
	code := probe.MainWith(probeHooks(), []string{"--port", card.Path(), "--port", prn.Path(), "--port", pad.Path()}, &out, &errb)
	if code != 0 {
		t.Fatalf("probe exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, c := range []struct{ port, kind string }{{card.Path(), "ID-card"}, {prn.Path(), "printer"}, {pad.Path(), "evaluation pad"}} {
		found := false
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, c.port) && strings.Contains(l, c.kind) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s not identified as %s:\n%s", c.port, c.kind, out.String())
		}
	}
	if len(prn.Receipts()) != 0 {
		t.Error("probing printed something")
	}
}
