package sim

import (
	"bytes"
	"fmt"
	"sync"
)

// CodeFaults make the simulated code scanner misbehave. Set them at any
// time with SetFaults.
type CodeFaults struct {
	Noise    bool // a BEL and a NUL land in the middle of each code, as line noise would put them
	NoSuffix bool // the suffix is left off
	OverLong int  // if longer than the code, the code is padded with '0' to this many bytes
	Baud     int  // if set, bytes go out no faster than this line rate
}

// CodeScanner simulates a serial barcode/QR scanner on a pseudo-terminal:
// each Scan sends prefix, code, suffix, as a scanner does on a good read.
type CodeScanner struct {
	pty *PTY

	mu             sync.Mutex
	faults         CodeFaults
	prefix, suffix []byte
}

// NewCodeScanner opens a pty for a scanner sending codes with no prefix
// and a CR LF suffix, the common factory setting.
func NewCodeScanner() (*CodeScanner, error) {
	p, err := OpenPTY()
	if err != nil {
		return nil, err
	}
	return &CodeScanner{pty: p, suffix: []byte("\r\n")}, nil
}

// Path is the serial device the driver opens.
func (s *CodeScanner) Path() string { return s.pty.Path }

// Close closes the pty.
func (s *CodeScanner) Close() error { return s.pty.Close() }

// SetFraming sets the prefix and suffix sent around each code, as a
// scanner's configuration barcodes would.
func (s *CodeScanner) SetFraming(prefix, suffix []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefix, s.suffix = bytes.Clone(prefix), bytes.Clone(suffix)
}

// SetFaults replaces the fault knobs.
func (s *CodeScanner) SetFaults(f CodeFaults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Scan sends one read of code, under the faults set.
func (s *CodeScanner) Scan(code string) error {
	s.mu.Lock()
	f, prefix, suffix := s.faults, s.prefix, s.suffix
	s.mu.Unlock()
	body := []byte(code)
	if n := f.OverLong - len(body); n > 0 {
		body = append(body, bytes.Repeat([]byte("0"), n)...)
	}
	if f.Noise {
		mid := len(body) / 2
		body = append(body[:mid:mid], append([]byte{0x07, 0x00}, body[mid:]...)...)
	}
	out := append(bytes.Clone(prefix), body...)
	if !f.NoSuffix {
		out = append(out, suffix...)
	}
	if err := padWrite(s.pty.Master, out, f.Baud); err != nil {
		return fmt.Errorf("sim: code scanner: scan %q: %w", code, err)
	}
	return nil
}
