// Package serialport opens the serial ports that the hall's devices hang on.
//
// It wraps go.bug.st/serial so that drivers see a small Port interface and a
// clear error naming the port when it cannot be opened.
package serialport

import (
	"fmt"
	"io"
	"time"

	"go.bug.st/serial"
)

// Port is an open serial port. Read returns 0, nil when the read timeout
// passes with no byte received.
type Port interface {
	io.ReadWriteCloser
	SetReadTimeout(t time.Duration) error
}

// Config is how a device's port is set up. The zero value is 115200 8N1,
// the default of GA 467 ID-card readers and most receipt printers.
type Config struct {
	Baud int
}

// Open opens the port at path (such as /dev/ttyUSB0, or a pseudo-terminal
// made by a simulator) in raw mode, 8N1 at cfg.Baud.
func Open(path string, cfg Config) (Port, error) {
	baud := cfg.Baud
	if baud == 0 {
		baud = 115200
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s: %w", path, err)
	}
	return p, nil
}

// ReadFull reads exactly len(buf) bytes from p, giving up after timeout
// with an error that says how many bytes did arrive.
func ReadFull(p Port, buf []byte, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	n := 0
	for n < len(buf) {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%w: got %d of %d bytes in %v", ErrTimeout, n, len(buf), timeout)
		}
		if err := p.SetReadTimeout(left); err != nil {
			return err
		}
		m, err := p.Read(buf[n:])
		n += m
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrTimeout is returned when a device does not answer in time.
var ErrTimeout = fmt.Errorf("serialport: timeout")
