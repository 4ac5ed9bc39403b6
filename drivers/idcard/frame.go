package idcard

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"yici/drivers/serialport"
)

// Preamble starts every frame in both directions: three sync bytes, then
// 96 69 marking the frame start.
var Preamble = [5]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

const (
	// A reply's length field counts SW1 SW2 SW3 CHK at the least.
	minReplyLen = 4
	// maxReplyLen bounds the length field so that a corrupt header cannot
	// make us wait for 64 KiB. The largest known reply is 0x090A (30 10
	// with a 1024-byte fingerprint); this leaves room for a bigger one.
	maxReplyLen = 4096
	// pollSlice is how long one port read may block, so that a cancelled
	// context is noticed promptly even while the reader is silent.
	pollSlice = 50 * time.Millisecond
)

// Checksum is the frame's CHK: the XOR of every byte from the length field
// up to, not including, CHK. b is that span.
func Checksum(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// command encodes a host frame: preamble, length (counting CMD, Para, data
// and CHK), CMD, Para, data, CHK.
func command(cmd, para byte, data ...byte) []byte {
	n := 2 + len(data) + 1
	f := make([]byte, 0, len(Preamble)+2+n)
	f = append(f, Preamble[:]...)
	f = binary.BigEndian.AppendUint16(f, uint16(n))
	f = append(f, cmd, para)
	f = append(f, data...)
	return append(f, Checksum(f[len(Preamble):]))
}

// errChecksum is wrapped by the error for a frame whose CHK is wrong. The
// frame is consumed: the next read starts after it.
var errChecksum = errors.New("checksum")

// reply is a decoded reader frame. Data aliases the link's buffer until the
// next read.
type reply struct {
	SW1, SW2 byte
	SW3      Status
	Data     []byte
}

// link reads frames from a port, keeping bytes that arrived beyond the
// frame for the next read.
type link struct {
	port    serialport.Port
	buf     []byte
	scratch [1024]byte
}

// drain throws away whatever is pending, so that a late reply to an earlier,
// timed-out command is not taken for the answer to the next one. A read
// timeout of 0 makes the port poll without waiting.
func (l *link) drain() error {
	l.buf = l.buf[:0]
	if err := l.port.SetReadTimeout(0); err != nil {
		return err
	}
	for {
		n, err := l.port.Read(l.scratch[:])
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// readFrame hunts for the preamble, skipping garbage, and returns the first
// frame whose length is plausible and whose checksum holds. It gives up at
// timeout or when ctx ends, saying how far it got.
func (l *link) readFrame(ctx context.Context, timeout time.Duration) (*reply, error) {
	deadline := time.Now().Add(timeout)
	skipped, rejected := 0, -1
	for {
		want := 0 // bytes of the frame being read, once its header is in
		i := bytes.Index(l.buf, Preamble[:])
		if i < 0 {
			// Keep a tail that may be the start of a preamble.
			keep := min(len(l.buf), len(Preamble)-1)
			skipped += len(l.buf) - keep
			l.buf = append(l.buf[:0], l.buf[len(l.buf)-keep:]...)
		} else {
			skipped += i
			l.buf = l.buf[i:]
			if len(l.buf) >= 7 {
				n := int(binary.BigEndian.Uint16(l.buf[5:7]))
				if n < minReplyLen || n > maxReplyLen {
					// A preamble inside noise, or a corrupt header: hunt on
					// from the next byte.
					rejected = n
					skipped++
					l.buf = l.buf[1:]
					continue
				}
				want = 7 + n
				if len(l.buf) >= want {
					return l.take(want)
				}
			}
		}
		if err := l.fill(ctx, deadline); err != nil {
			if !errors.Is(err, serialport.ErrTimeout) {
				return nil, fmt.Errorf("read: %w", err)
			}
			msg := "no frame"
			if want > 0 {
				msg = fmt.Sprintf("got %d of %d bytes", len(l.buf), want)
			}
			if skipped > 0 {
				msg += fmt.Sprintf(", skipped %d bytes of garbage", skipped)
			}
			if rejected >= 0 {
				msg += fmt.Sprintf(", rejected length 0x%04X", rejected)
			}
			return nil, fmt.Errorf("read: %w after %v: %s", err, timeout, msg)
		}
	}
}

// take consumes the n-byte frame at the start of the buffer.
func (l *link) take(n int) (*reply, error) {
	f := l.buf[:n]
	l.buf = l.buf[n:]
	if got, want := f[n-1], Checksum(f[5:n-1]); got != want {
		return nil, fmt.Errorf("read: %w 0x%02X, want 0x%02X", errChecksum, got, want)
	}
	return &reply{SW1: f[7], SW2: f[8], SW3: Status(f[9]), Data: f[10 : n-1]}, nil
}

// fill reads at least one more byte into the buffer, in slices of at most
// pollSlice so that ctx is checked between them.
func (l *link) fill(ctx context.Context, deadline time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return serialport.ErrTimeout
		}
		if err := l.port.SetReadTimeout(min(left, pollSlice)); err != nil {
			return err
		}
		n, err := l.port.Read(l.scratch[:])
		l.buf = append(l.buf, l.scratch[:n]...)
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}
