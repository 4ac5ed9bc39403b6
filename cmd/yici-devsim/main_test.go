package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"yici/drivers/codescan"
	"yici/drivers/idcard"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

// TestCommands drives the simulators by their command lines and reads what
// they did through real serial ports, as a terminal would.
func TestCommands(t *testing.T) {
	h, err := start()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cp, err := serialport.Open(h.card.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	reader := idcard.New(cp, nil)
	if _, err := reader.ReadCard(ctx); err == nil {
		t.Fatal("a card was read before place")
	}
	run := func(line, want string) {
		t.Helper()
		got, err := h.do(line)
		if err != nil {
			got = "? " + err.Error()
		}
		if !strings.Contains(got, want) {
			t.Errorf("%q → %q, want %q", line, got, want)
		}
	}
	run("place", "ok")
	c, err := reader.ReadCard(ctx)
	if err != nil || c.IDNumber != sim.SampleCard.IDNumber {
		t.Fatalf("after place: %v, %v", c, err)
	}
	run(`place {"Name":"李四","IDNumber":"123"}`, "?")
	run("reader silent", "ok")
	if _, err := reader.ReadCard(ctx); err == nil {
		t.Error("a silent reader answered")
	}
	run("reader ok", "ok")

	sp, err := serialport.Open(h.code.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	run("scan 91210200MA0XXXXX1K", "ok")
	if code, err := codescan.New(sp, nil).Next(ctx); err != nil || code != "91210200MA0XXXXX1K" {
		t.Errorf("scanned %q, %v", code, err)
	}

	run("rate 1", "not asking") // the pad has not been asked
	run("shown", "nothing shown")
	run("paper out", "ok")
	run("frobnicate", "commands:")
	if _, err := h.do("quit"); err != errQuit {
		t.Errorf("quit: %v", err)
	}
}
