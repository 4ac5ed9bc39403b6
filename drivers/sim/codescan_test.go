package sim

import (
	"bytes"
	"testing"
	"time"

	"yici/drivers/serialport"
)

// Each scan puts prefix, code and suffix on the line, bent by the faults.
func TestCodeScannerBytes(t *testing.T) {
	s, err := NewCodeScanner()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, c := range []struct {
		name           string
		prefix, suffix []byte
		faults         CodeFaults
		want           string
	}{
		{name: "default CR LF", want: "ABCD\r\n"},
		{name: "prefix and CR", prefix: []byte{0x01}, suffix: []byte{0x0D}, want: "\x01ABCD\r"},
		{name: "noise", faults: CodeFaults{Noise: true}, want: "AB\a\x00CD\r\n"},
		{name: "no suffix", faults: CodeFaults{NoSuffix: true}, want: "ABCD"},
		{name: "over-long", faults: CodeFaults{OverLong: 10}, want: "ABCD000000\r\n"},
		{name: "paced", faults: CodeFaults{Baud: 1200}, want: "ABCD\r\n"},
	} {
		if c.prefix != nil || c.suffix != nil {
			s.SetFraming(c.prefix, c.suffix)
		} else {
			s.SetFraming(nil, []byte("\r\n"))
		}
		s.SetFaults(c.faults)
		start := time.Now()
		if err := s.Scan("ABCD"); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(c.want))
		if err := serialport.ReadFull(p, got, time.Second); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, []byte(c.want)) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		// 6 bytes at 1200 baud take 50 ms.
		if el := time.Since(start); c.faults.Baud > 0 && el < 50*time.Millisecond {
			t.Errorf("%s: took %v, less than the wire time", c.name, el)
		}
	}
}
