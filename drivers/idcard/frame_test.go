package idcard

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"yici/drivers/serialport"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Host frames match the reference's command table, CHK included.
func TestCommand(t *testing.T) {
	for _, c := range []struct {
		cmd, para byte
		want      string
	}{
		{0x10, 0xFF, "AAAAAA9669 0003 10FF EC"},
		{0x11, 0xFF, "AAAAAA9669 0003 11FF ED"},
		{0x12, 0xFF, "AAAAAA9669 0003 12FF EE"},
		{0x20, 0x01, "AAAAAA9669 0003 2001 22"},
		{0x20, 0x02, "AAAAAA9669 0003 2002 21"},
		{0x30, 0x01, "AAAAAA9669 0003 3001 32"},
		{0x30, 0x10, "AAAAAA9669 0003 3010 23"},
		{0x60, 0x00, "AAAAAA9669 0003 6000 63"},
	} {
		if got := command(c.cmd, c.para); !bytes.Equal(got, unhex(c.want)) {
			t.Errorf("command(%02X %02X) = % X, want %s", c.cmd, c.para, got, c.want)
		}
	}
}

// fakePort replays bytes in chunks of at most chunk bytes. When empty it
// waits out the read timeout and returns 0, nil like a serial port, or,
// with eof set, returns io.EOF at once (for fuzzing).
type fakePort struct {
	data    []byte
	chunk   int
	eof     bool
	timeout time.Duration
}

func (p *fakePort) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		if p.eof {
			return 0, io.EOF
		}
		time.Sleep(p.timeout)
		return 0, nil
	}
	n := copy(b[:min(len(b), p.chunk)], p.data)
	p.data = p.data[n:]
	return n, nil
}
func (p *fakePort) Write(b []byte) (int, error)          { return len(b), nil }
func (p *fakePort) Close() error                         { return nil }
func (p *fakePort) SetReadTimeout(t time.Duration) error { p.timeout = t; return nil }

// Captured frames from the reference (heavyii/cardreader).
const (
	findOK     = "AAAAAA9669 0008 00009F 00000000 97"
	findFail   = "AAAAAA9669 0004 000080 84"
	selectOK   = "AAAAAA9669 000C 000090 0000000000000000 9C"
	selectFail = "AAAAAA9669 0004 000081 85"
	readFail   = "AAAAAA9669 0004 000041 45"
)

func TestReadFrame(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    string
		chunk int
		sw3   Status
		data  string
		err   string
	}{
		{"find ok", findOK, 64, StatusFound, "00000000", ""},
		{"find failed", findFail, 64, StatusFindFailed, "", ""},
		{"select ok byte by byte", selectOK, 1, StatusOK, "0000000000000000", ""},
		{"select failed", selectFail, 3, StatusSelectFailed, "", ""},
		{"read failed", readFail, 64, StatusReadFailed, "", ""},
		{"garbage first", "0102AAAA96 AAAA 69 " + findOK, 5, StatusFound, "00000000", ""},
		{"preamble inside garbage, bad length", "AAAAAA9669 FFFF 00 " + findFail, 4, StatusFindFailed, "", ""},
		{"preamble split over reads", findFail, 2, StatusFindFailed, "", ""},
		{"checksum", "AAAAAA9669 0004 000080 3A", 64, 0, "", "read: checksum 0x3A, want 0x84"},
		{"truncated", "AAAAAA9669 0008 00009F 0000", 64, 0, "", "got 12 of 15 bytes"},
		{"garbage only", "0102030405", 64, 0, "", "no frame, skipped 1 bytes of garbage"},
		{"bad length only", "AAAAAA9669 0002 0000", 64, 0, "", "rejected length 0x0002"},
		{"nothing", "", 64, 0, "", "timeout after 30ms: no frame"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := link{port: &fakePort{data: unhex(c.in), chunk: c.chunk}}
			rep, err := l.readFrame(context.Background(), 30*time.Millisecond)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want it to contain %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.SW3 != c.sw3 || !bytes.Equal(rep.Data, unhex(c.data)) {
				t.Errorf("got SW3 %v data % X, want %v %s", rep.SW3, rep.Data, c.sw3, c.data)
			}
		})
	}
}

// Timeouts wrap serialport.ErrTimeout; a cancelled context ends the wait
// long before the timeout.
func TestReadFrameGivesUp(t *testing.T) {
	l := link{port: &fakePort{}}
	if _, err := l.readFrame(context.Background(), 20*time.Millisecond); !errors.Is(err, serialport.ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.readFrame(ctx, 10*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 500*time.Millisecond {
		t.Errorf("err = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
	}
}

// Two frames in one read: the second is kept for the next call.
func TestReadFrameKeepsRest(t *testing.T) {
	l := link{port: &fakePort{data: unhex(findOK + selectFail), chunk: 100}}
	for _, want := range []Status{StatusFound, StatusSelectFailed} {
		rep, err := l.readFrame(context.Background(), 30*time.Millisecond)
		if err != nil || rep.SW3 != want {
			t.Fatalf("got %v, %v; want %v", rep, err, want)
		}
	}
}

// FuzzReadFrame: any byte stream, in any chunking, gives frames whose bytes
// were in the input, checksum errors, and at its end EOF; never a panic or
// a hang.
func FuzzReadFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		chunk := 1
		if len(in) > 0 {
			chunk += int(in[0] % 64)
		}
		l := link{port: &fakePort{data: in, chunk: chunk, eof: true}}
		for range len(in) + 1 {
			rep, err := l.readFrame(context.Background(), time.Second)
			if errors.Is(err, errChecksum) {
				continue
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("error other than EOF: %v", err)
				}
				return
			}
			// Rebuild the frame from the reply; it must be in the input.
			fr := binary.BigEndian.AppendUint16(nil, uint16(3+len(rep.Data)+1))
			fr = append(fr, rep.SW1, rep.SW2, byte(rep.SW3))
			fr = append(fr, rep.Data...)
			fr = append(fr, Checksum(fr))
			if !bytes.Contains(in, append(Preamble[:], fr...)) {
				t.Fatalf("frame % X is not in the input", fr)
			}
		}
		t.Fatal("more frames than input bytes")
	})
}
