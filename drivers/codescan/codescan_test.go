package codescan_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"yici/drivers/codescan"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

// rig starts a simulated scanner and a driver on its pty.
func rig(t *testing.T, opts *codescan.Options) (*sim.CodeScanner, *codescan.Scanner) {
	t.Helper()
	s, err := sim.NewCodeScanner()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := serialport.Open(s.Path(), serialport.Config{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s, codescan.New(p, opts)
}

// next reads one code, failing the test if none comes within a second.
func next(t *testing.T, sc *codescan.Scanner) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return sc.Next(ctx)
}

// Codes come through whole, in order, with the framing stripped, under
// each fault knob the caller sees the error it names, and the scanner
// goes on working after it.
func TestScanner(t *testing.T) {
	const licence = "91210200MA0XXXXX1K" // an invented licence number
	for _, c := range []struct {
		name           string
		prefix, suffix []byte
		faults         sim.CodeFaults
		opts           *codescan.Options
		code           string
		want           error // nil: code comes through
		msg            string
	}{
		{name: "CR LF", code: licence},
		{name: "CR alone", suffix: []byte("\r"), code: licence},
		{name: "LF alone", suffix: []byte("\n"), code: licence},
		{name: "Chinese QR text", code: "大连市市场监督管理局|营业执照|" + licence},
		{name: "prefix and suffix", prefix: []byte{0x01}, suffix: []byte{0x0D}, opts: &codescan.Options{Prefix: []byte{0x01}, Suffix: []byte{0x0D}}, code: licence},
		{name: "paced at 9600", faults: sim.CodeFaults{Baud: 9600}, code: strings.Repeat("Q", 300)},
		{name: "noise", faults: sim.CodeFaults{Noise: true}, code: licence, want: codescan.ErrBadByte,
			msg: `codescan: non-printable byte: U+0007 at offset 9 of "91210200M\a\x00A0XXXXX1K"; discarded`},
		{name: "no suffix", faults: sim.CodeFaults{NoSuffix: true}, code: licence, want: codescan.ErrNoSuffix,
			msg: `codescan: line not terminated: 18 bytes ("91210200MA0XXXXX1K"), then 300ms without a suffix; discarded`},
		{name: "over-long", faults: sim.CodeFaults{OverLong: 2000}, code: licence, want: codescan.ErrTooLong,
			msg: "codescan: line too long: 2000 bytes before the suffix, over 1024; discarded"},
		{name: "over-long and no suffix", faults: sim.CodeFaults{OverLong: 2000, NoSuffix: true}, code: licence, want: codescan.ErrNoSuffix,
			msg: "codescan: line not terminated: 2000 bytes, then 300ms without a suffix; discarded"},
		{name: "prefix missing", opts: &codescan.Options{Prefix: []byte("]Q1")}, code: licence, want: codescan.ErrNoPrefix,
			msg: `codescan: prefix missing: "91210200MA0XXXXX1K" does not start with "]Q1"; discarded`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, sc := rig(t, c.opts)
			if c.suffix != nil || c.prefix != nil {
				s.SetFraming(c.prefix, c.suffix)
			}
			s.SetFaults(c.faults)
			if err := s.Scan(c.code); err != nil {
				t.Fatal(err)
			}
			got, err := next(t, sc)
			if c.want == nil && (err != nil || got != c.code) {
				t.Fatalf("Next = %q, %v; want %q", got, err, c.code)
			}
			if c.want != nil && (!errors.Is(err, c.want) || err.Error() != c.msg) {
				t.Fatalf("Next = %q, %v; want %q", got, err, c.msg)
			}
			// A good scan after the fault comes through on its own.
			s.SetFaults(sim.CodeFaults{})
			if c.want == codescan.ErrNoPrefix {
				s.SetFraming(c.opts.Prefix, []byte("\r\n"))
			}
			if err := s.Scan("AFTER"); err != nil {
				t.Fatal(err)
			}
			if got, err := next(t, sc); err != nil || got != "AFTER" {
				t.Errorf("after the fault: Next = %q, %v", got, err)
			}
		})
	}
}

// A code read again within the window is suppressed; after the window, or
// after another code, it counts again; a negative window turns it off.
func TestDuplicates(t *testing.T) {
	s, sc := rig(t, &codescan.Options{DupWindow: 300 * time.Millisecond})
	for _, step := range []struct {
		scan  []string
		sleep time.Duration
		want  []string
	}{
		{[]string{"A", "A", "A"}, 0, []string{"A"}},
		{[]string{"A"}, 400 * time.Millisecond, []string{"A"}},
		{[]string{"B", "A"}, 0, []string{"B", "A"}},
	} {
		time.Sleep(step.sleep)
		for _, code := range step.scan {
			if err := s.Scan(code); err != nil {
				t.Fatal(err)
			}
		}
		s.Scan("END") // marks the end of the step
		for _, w := range append(step.want, "END") {
			if got, err := next(t, sc); err != nil || got != w {
				t.Fatalf("step %v: Next = %q, %v; want %q", step.scan, got, err, w)
			}
		}
	}

	s, sc = rig(t, &codescan.Options{DupWindow: -1})
	s.Scan("A")
	s.Scan("A")
	for range 2 {
		if got, err := next(t, sc); err != nil || got != "A" {
			t.Fatalf("no suppression: Next = %q, %v", got, err)
		}
	}
}

// The default window is 1.5 s.
func TestDefaultWindow(t *testing.T) {
	s, sc := rig(t, nil)
	s.Scan("A")
	if got, err := next(t, sc); err != nil || got != "A" {
		t.Fatal(got, err)
	}
	s.Scan("A")
	if got, err := next(t, sc); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("repeat within 1 s: Next = %q, %v; want nothing", got, err)
	}
	time.Sleep(600 * time.Millisecond) // 1.6 s since the last A
	s.Scan("A")
	if got, err := next(t, sc); err != nil || got != "A" {
		t.Errorf("after 1.6 s: Next = %q, %v", got, err)
	}
}

// Next returns when its context ends, and reports a closed port.
func TestNextEnds(t *testing.T) {
	s, err := sim.NewCodeScanner()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sc := codescan.New(p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := sc.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next = %v, want Canceled", err)
	}
	p.Close()
	if _, err := sc.Next(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "codescan: read: ") {
		t.Errorf("Next on a closed port = %v", err)
	}
}

// failOnce fails one read, as a reconnecting port does when its device is
// unplugged.
type failOnce struct {
	serialport.Port
	failed bool
}

func (f *failOnce) Read(b []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("device unplugged")
	}
	return f.Port.Read(b)
}

// A line cut by a port failure is dropped, not glued to the next one.
func TestReadFailureDropsLine(t *testing.T) {
	s, err := sim.NewCodeScanner()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := &failOnce{Port: p, failed: true}
	sc := codescan.New(f, nil)
	s.SetFaults(sim.CodeFaults{NoSuffix: true})
	s.Scan("HALF")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := sc.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want it to wait for the suffix", err)
	}
	f.failed = false
	if _, err := sc.Next(context.Background()); err == nil || err.Error() != "codescan: read: device unplugged" {
		t.Fatalf("Next = %v, want the read error", err)
	}
	s.SetFaults(sim.CodeFaults{})
	s.Scan("WHOLE")
	if got, err := next(t, sc); err != nil || got != "WHOLE" {
		t.Errorf("Next = %q, %v; want WHOLE alone", got, err)
	}
}
