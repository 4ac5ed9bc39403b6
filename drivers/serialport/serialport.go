// Package serialport opens the serial ports that the hall's devices hang on.
//
// It wraps go.bug.st/serial so that drivers see a small Port interface and a
// clear error naming the port when it cannot be opened. It also lists the
// ports with their USB identity (List), keeps a port open across unplugging
// (Reconnecting), and reads the hall's device configuration file, which
// says which device hangs on which port (LoadConfig).
package serialport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.bug.st/serial"
)

// Port is an open serial port. Read returns 0, nil when the read timeout
// passes with no byte received.
type Port interface {
	io.ReadWriteCloser
	SetReadTimeout(t time.Duration) error
}

// Parity is the parity bit of a character frame. The zero value is none.
type Parity int

// The parities a UART can send, as the letter in "8N1" names them.
const (
	ParityNone  Parity = iota // N
	ParityOdd                 // O
	ParityEven                // E
	ParityMark                // M
	ParitySpace               // S
)

// parityLetters are indexed by Parity.
const parityLetters = "NOEMS"

// StopBits is the number of stop bits. The zero value is one.
type StopBits int

// The stop-bit settings a UART supports.
const (
	StopBits1   StopBits = iota // 1
	StopBits1_5                 // 1.5
	StopBits2                   // 2
)

var stopBitNames = []string{"1", "1.5", "2"}

// Config is how a device's port is set up. The zero value is 115200 8N1
// with reads that wait for a byte as long as it takes: the default of
// GA 467 ID-card readers and most receipt printers, and what drivers that
// set their own timeouts per command expect.
type Config struct {
	Baud     int
	DataBits int // 5–8; 0 means 8
	Parity   Parity
	StopBits StopBits
	// ReadTimeout, when positive, is set on the port at open: Read then
	// returns 0, nil after that long without a byte. Drivers may change it.
	ReadTimeout time.Duration
}

// Framing gives the character frame as hall staff and device manuals write
// it, such as "8N1" or "7E2".
func (c Config) Framing() string {
	db := c.DataBits
	if db == 0 {
		db = 8
	}
	p, s := "?", "?"
	if c.Parity >= 0 && int(c.Parity) < len(parityLetters) {
		p = parityLetters[c.Parity : c.Parity+1]
	}
	if c.StopBits >= 0 && int(c.StopBits) < len(stopBitNames) {
		s = stopBitNames[c.StopBits]
	}
	return strconv.Itoa(db) + p + s
}

// ParseFraming reads a frame written as in device manuals: data bits 5–8,
// parity N, O, E, M or S, stop bits 1, 1.5 or 2, such as "8N1" or
// "7e1.5". It fills the framing fields of a Config.
func ParseFraming(s string) (dataBits int, parity Parity, stop StopBits, err error) {
	bad := func(why string) (int, Parity, StopBits, error) {
		return 0, 0, 0, fmt.Errorf("serialport: framing %q: %s; want data bits, parity and stop bits like 8N1", s, why)
	}
	if len(s) < 3 {
		return bad("too short")
	}
	if s[0] < '5' || s[0] > '8' {
		return bad("data bits must be 5 to 8")
	}
	i := strings.IndexByte(parityLetters, strings.ToUpper(s[1:2])[0])
	if i < 0 {
		return bad("parity must be N, O, E, M or S")
	}
	for j, name := range stopBitNames {
		if s[2:] == name {
			return int(s[0] - '0'), Parity(i), StopBits(j), nil
		}
	}
	return bad("stop bits must be 1, 1.5 or 2")
}

// mode checks cfg and turns it into go.bug.st/serial's terms.
func (c Config) mode() (*serial.Mode, error) {
	m := &serial.Mode{BaudRate: c.Baud, DataBits: c.DataBits}
	if m.BaudRate == 0 {
		m.BaudRate = 115200
	}
	if m.DataBits == 0 {
		m.DataBits = 8
	}
	if m.BaudRate < 0 || m.DataBits < 5 || m.DataBits > 8 {
		return nil, fmt.Errorf("baud %d, %d data bits: want a positive baud rate and 5–8 data bits", c.Baud, c.DataBits)
	}
	switch c.Parity {
	case ParityNone:
		m.Parity = serial.NoParity
	case ParityOdd:
		m.Parity = serial.OddParity
	case ParityEven:
		m.Parity = serial.EvenParity
	case ParityMark:
		m.Parity = serial.MarkParity
	case ParitySpace:
		m.Parity = serial.SpaceParity
	default:
		return nil, fmt.Errorf("parity %d is not one of N, O, E, M, S", c.Parity)
	}
	switch c.StopBits {
	case StopBits1:
		m.StopBits = serial.OneStopBit
	case StopBits1_5:
		m.StopBits = serial.OnePointFiveStopBits
	case StopBits2:
		m.StopBits = serial.TwoStopBits
	default:
		return nil, fmt.Errorf("stop bits setting %d is not 1, 1.5 or 2", c.StopBits)
	}
	if c.ReadTimeout < 0 {
		return nil, fmt.Errorf("read timeout %v is negative", c.ReadTimeout)
	}
	return m, nil
}

// Open opens the port at path (such as /dev/ttyUSB0, or a pseudo-terminal
// made by a simulator) in raw mode with cfg's baud rate and framing.
func Open(path string, cfg Config) (Port, error) {
	m, err := cfg.mode()
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s: %w", path, err)
	}
	p, err := serial.Open(path, m)
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s at %d %s: %w", path, m.BaudRate, cfg.Framing(), err)
	}
	if cfg.ReadTimeout > 0 {
		if err := p.SetReadTimeout(cfg.ReadTimeout); err != nil {
			p.Close()
			return nil, fmt.Errorf("serialport: %s: set read timeout %v: %w", path, cfg.ReadTimeout, err)
		}
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
