package sim

import (
	"bytes"
	"testing"
	"time"

	"yici/drivers/serialport"
)

// Binary bytes, including CR, LF and control characters, pass both ways
// through a real serial port opened on the pty.
func TestPTYPassesBinary(t *testing.T) {
	p, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	port, err := serialport.Open(p.Path, serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if _, err := port.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(all))
	if _, err := readFull(p.Master, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("driver→sim: got % x", got)
	}
	if _, err := p.Master.Write(all); err != nil {
		t.Fatal(err)
	}
	if err := serialport.ReadFull(port, got, time.Second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("sim→driver: got % x", got)
	}
	// Nothing more arrives: a short read times out with a counted error.
	if err := serialport.ReadFull(port, got[:1], 50*time.Millisecond); err == nil {
		t.Fatal("read of a silent port succeeded")
	}
}

func readFull(f interface{ Read([]byte) (int, error) }, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Every simulator's Close returns promptly even while a driver still
// holds its port open: OpenPTY's master is pollable, so Close ends a
// blocked Read.
func TestCloseWhileHeld(t *testing.T) {
	type simulator interface {
		Path() string
		Close() error
	}
	for _, c := range []struct {
		name  string
		start func() (simulator, error)
	}{
		{"idcard", func() (simulator, error) { return NewIDCard() }},
		{"printer", func() (simulator, error) { return NewPrinter() }},
		{"pad", func() (simulator, error) { return NewPad() }},
		{"codescan", func() (simulator, error) { return NewCodeScanner() }},
	} {
		s, err := c.start()
		if err != nil {
			t.Fatal(err)
		}
		p, err := serialport.Open(s.Path(), serialport.Config{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Close: %v", c.name, err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s: Close hangs while the port is held", c.name)
		}
		p.Close()
	}
}
