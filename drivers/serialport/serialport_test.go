package serialport_test

import (
	"strings"
	"testing"
	"time"

	"yici/drivers/serialport"
	"yici/drivers/sim"
)

func TestParseFraming(t *testing.T) {
	tests := []struct {
		in      string
		want    serialport.Config
		framing string // Config.Framing of the result
		err     string
	}{
		{in: "8N1", want: serialport.Config{DataBits: 8}, framing: "8N1"},
		{in: "7e1", want: serialport.Config{DataBits: 7, Parity: serialport.ParityEven}, framing: "7E1"},
		{in: "8O2", want: serialport.Config{DataBits: 8, Parity: serialport.ParityOdd, StopBits: serialport.StopBits2}, framing: "8O2"},
		{in: "5S1.5", want: serialport.Config{DataBits: 5, Parity: serialport.ParitySpace, StopBits: serialport.StopBits1_5}, framing: "5S1.5"},
		{in: "8M1", want: serialport.Config{DataBits: 8, Parity: serialport.ParityMark}, framing: "8M1"},
		{in: "", err: "too short"},
		{in: "9N1", err: "data bits must be 5 to 8"},
		{in: "8X1", err: "parity must be"},
		{in: "8N3", err: "stop bits must be"},
		{in: "8N1 ", err: "stop bits must be"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			db, p, s, err := serialport.ParseFraming(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFraming(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := serialport.Config{DataBits: db, Parity: p, StopBits: s}
			if got != tt.want {
				t.Fatalf("ParseFraming(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if f := got.Framing(); f != tt.framing {
				t.Fatalf("Framing() = %q, want %q", f, tt.framing)
			}
		})
	}
	if f := (serialport.Config{}).Framing(); f != "8N1" {
		t.Fatalf("zero Config frames as %q, want 8N1", f)
	}
}

// Open applies framing and the read timeout on a real (pseudo-)terminal,
// and refuses settings a UART cannot have, naming the port.
func TestOpenConfig(t *testing.T) {
	pt, err := sim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	tests := []struct {
		name string
		cfg  serialport.Config
		err  string
	}{
		{name: "default", cfg: serialport.Config{}},
		{name: "7E2 at 9600", cfg: serialport.Config{Baud: 9600, DataBits: 7, Parity: serialport.ParityEven, StopBits: serialport.StopBits2}},
		{name: "read timeout", cfg: serialport.Config{ReadTimeout: 30 * time.Millisecond}},
		{name: "data bits", cfg: serialport.Config{DataBits: 9}, err: "5–8 data bits"},
		{name: "parity", cfg: serialport.Config{Parity: 9}, err: "parity 9"},
		{name: "stop bits", cfg: serialport.Config{StopBits: 7}, err: "stop bits setting 7"},
		{name: "negative timeout", cfg: serialport.Config{ReadTimeout: -1}, err: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := serialport.Open(pt.Path, tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), pt.Path) {
					t.Fatalf("Open error = %v, want one naming %s and saying %q", err, pt.Path, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if tt.cfg.ReadTimeout > 0 {
				start := time.Now()
				n, err := p.Read(make([]byte, 1))
				if n != 0 || err != nil {
					t.Fatalf("idle Read = %d, %v; want 0, nil after the timeout", n, err)
				}
				if d := time.Since(start); d < 20*time.Millisecond || d > time.Second {
					t.Fatalf("idle Read took %v with a 30ms read timeout", d)
				}
			}
		})
	}
	if _, err := serialport.Open("/dev/yici-no-such-port", serialport.Config{}); err == nil || !strings.Contains(err.Error(), "/dev/yici-no-such-port") {
		t.Fatalf("opening a missing port: %v", err)
	}
}
