// Package codescan reads codes from a serial barcode/QR scanner (a real
// RS-232 one or a USB-CDC virtual COM port) that sends each code as one
// line: an optional prefix, the code, a suffix.
//
// Vendors differ in terminators (Honeywell and Intermec default to CR LF,
// others to CR alone), so prefix and suffix are configurable. A line that
// is too long, holds a non-printable byte, lacks its prefix or never gets
// its suffix is discarded with an error saying so, never passed on cut or
// merged with the next one.
package codescan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"yici/drivers/serialport"
)

// Errors for a discarded line. Next wraps one of them with the details;
// the scanner is still usable, so call Next again.
var (
	ErrTooLong  = errors.New("codescan: line too long")
	ErrBadByte  = errors.New("codescan: non-printable byte")
	ErrNoPrefix = errors.New("codescan: prefix missing")
	ErrNoSuffix = errors.New("codescan: line not terminated")
)

// pollSlice is how long one port read may block, so that a cancelled
// context and an unterminated line are noticed promptly.
const pollSlice = 50 * time.Millisecond

// Options configures a Scanner. The zero value, or nil, gives the defaults.
type Options struct {
	// Prefix, if set, must begin every line; it is stripped. A line
	// without it is discarded with ErrNoPrefix.
	Prefix []byte
	// Suffix ends a line and is stripped. Default CR LF. A suffix made of
	// CR and LF only (CR, LF or CR LF) ends a line at either byte, so a
	// scanner set to CR or LF alone works unchanged; empty lines are
	// skipped.
	Suffix []byte
	// MaxLen is the longest code in bytes, prefix and suffix excluded.
	// Default 1024, enough for any code a hall scans (QR version 40
	// holds 2953 bytes, but licence and health codes are a few hundred).
	MaxLen int
	// DupWindow suppresses a code equal to the previous one seen less
	// than this long ago. The window slides: a code held under a scanner
	// in continuous mode is read once, however long it stays. Default
	// 1.5 s; negative turns suppression off.
	DupWindow time.Duration
	// Gap is how long an unterminated line may wait for more bytes before
	// it is discarded with ErrNoSuffix. A scanner sends a code in one
	// burst; without this a line whose suffix was lost would be glued to
	// the next code. Default 300 ms.
	Gap time.Duration
}

// Scanner reads codes from one scanner. Next is for one goroutine.
type Scanner struct {
	port    serialport.Port
	opts    Options
	p       parser
	buf     []byte    // read, not yet parsed
	last    time.Time // when the last bytes arrived
	prev    string    // last code seen, for duplicate suppression
	prevAt  time.Time
	scratch [512]byte
}

// New reads codes from an open port (a scanner's own rate, often 9600 or
// 115200 8N1).
func New(p serialport.Port, opts *Options) *Scanner {
	s := &Scanner{port: p}
	if opts != nil {
		s.opts = *opts
	}
	s.opts.Prefix, s.opts.Suffix = bytes.Clone(s.opts.Prefix), bytes.Clone(s.opts.Suffix)
	if len(s.opts.Suffix) == 0 {
		s.opts.Suffix = []byte("\r\n")
	}
	if s.opts.MaxLen <= 0 {
		s.opts.MaxLen = 1024
	}
	if s.opts.DupWindow == 0 {
		s.opts.DupWindow = 1500 * time.Millisecond
	}
	if s.opts.Gap <= 0 {
		s.opts.Gap = 300 * time.Millisecond
	}
	s.p = newParser(s.opts.Prefix, s.opts.Suffix, s.opts.MaxLen)
	return s
}

// Next waits for the next code and returns it without prefix or suffix.
// Errors wrapping ErrTooLong, ErrBadByte, ErrNoPrefix or ErrNoSuffix are
// about one discarded line; other errors come from the port or ctx.
func (s *Scanner) Next(ctx context.Context) (string, error) {
	for {
		for len(s.buf) > 0 {
			n, code, ended, err := s.p.feed(s.buf)
			s.buf = s.buf[n:]
			if !ended {
				continue
			}
			if err != nil {
				return "", err
			}
			if s.dup(code) {
				continue
			}
			return code, nil
		}
		if s.p.pending() && time.Since(s.last) > s.opts.Gap {
			return "", s.p.abandon(s.opts.Gap)
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("codescan: %w", err)
		}
		err := s.port.SetReadTimeout(pollSlice)
		var n int
		if err == nil {
			n, err = s.port.Read(s.scratch[:])
		}
		if err != nil {
			// A line cut by the failure (say, the scanner unplugged) must
			// not be glued to what comes once the port works again.
			s.buf = s.buf[:0]
			s.p.reset()
			return "", fmt.Errorf("codescan: read: %w", err)
		}
		if n > 0 {
			s.buf = append(s.buf, s.scratch[:n]...)
			s.last = time.Now()
		}
	}
}

// dup reports whether code repeats the previous code within the window,
// and slides the window.
func (s *Scanner) dup(code string) bool {
	d := s.opts.DupWindow > 0 && code == s.prev && s.last.Sub(s.prevAt) < s.opts.DupWindow
	s.prev, s.prevAt = code, s.last
	return d
}

// parser splits a byte stream into lines and checks each.
type parser struct {
	prefix, suffix []byte
	anyEOL         bool // CR or LF ends a line
	max            int  // longest code
	line           []byte
	over           int // length of an over-long line so far; 0 while it fits
}

func newParser(prefix, suffix []byte, max int) parser {
	return parser{
		prefix: prefix, suffix: suffix, max: max,
		anyEOL: len(bytes.Trim(suffix, "\r\n")) == 0,
	}
}

// keep is how many bytes of a line the parser holds: the prefix, a whole
// code and, unless CR and LF end lines by themselves, the suffix.
func (p *parser) keep() int {
	if p.anyEOL {
		return len(p.prefix) + p.max
	}
	return len(p.prefix) + p.max + len(p.suffix)
}

// feed consumes in up to the end of the first non-empty line and says how
// many bytes it took. ended is false when in ran out first.
func (p *parser) feed(in []byte) (n int, code string, ended bool, err error) {
	for i, c := range in {
		if p.anyEOL && (c == '\r' || c == '\n') {
			code, err = p.end(0)
		} else {
			p.add(c)
			if p.anyEOL || !bytes.HasSuffix(p.line, p.suffix) {
				continue
			}
			code, err = p.end(len(p.suffix))
		}
		if code != "" || err != nil {
			return i + 1, code, true, err
		}
		// An empty line, such as the LF of CR LF: nothing to report.
	}
	return len(in), "", false, nil
}

// add appends a byte. Past keep bytes the line is over-long: it is only
// counted from then on, with just enough tail kept to spot the suffix.
func (p *parser) add(c byte) {
	p.line = append(p.line, c)
	if p.over > 0 {
		p.over++
	} else if len(p.line) > p.keep() {
		p.over = len(p.line)
	} else {
		return
	}
	tail := 0
	if !p.anyEOL {
		tail = len(p.suffix)
	}
	p.line = append(p.line[:0], p.line[len(p.line)-tail:]...)
}

// pending reports whether part of a line is waiting for its suffix.
func (p *parser) pending() bool { return len(p.line) > 0 || p.over > 0 }

// abandon discards an unterminated line.
func (p *parser) abandon(gap time.Duration) error {
	n, what := len(p.line), fmt.Sprintf(" (%s)", clip(p.line))
	if p.over > 0 {
		n, what = p.over, ""
	}
	p.reset()
	return fmt.Errorf("%w: %d bytes%s, then %v without a suffix; discarded", ErrNoSuffix, n, what, gap)
}

// reset forgets the line in progress.
func (p *parser) reset() { p.line, p.over = p.line[:0], 0 }

// end finishes the line, whose last cut bytes are its suffix, and checks
// it. An empty line, or a prefix alone, gives "" and no error.
func (p *parser) end(cut int) (string, error) {
	line, over := p.line[:len(p.line)-cut], p.over-cut
	p.reset()
	if over > 0 {
		return "", fmt.Errorf("%w: %d bytes before the suffix, over %d; discarded", ErrTooLong, over, len(p.prefix)+p.max)
	}
	if len(line) == 0 {
		return "", nil
	}
	if !bytes.HasPrefix(line, p.prefix) {
		return "", fmt.Errorf("%w: %s does not start with %q; discarded", ErrNoPrefix, clip(line), p.prefix)
	}
	code := line[len(p.prefix):]
	for i := 0; i < len(code); {
		r, size := utf8.DecodeRune(code[i:])
		if r == utf8.RuneError && size == 1 {
			return "", fmt.Errorf("%w: 0x%02X at offset %d of %s is not UTF-8; discarded", ErrBadByte, code[i], i, clip(code))
		}
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("%w: %U at offset %d of %s; discarded", ErrBadByte, r, i, clip(code))
		}
		i += size
	}
	return string(code), nil
}

// clip quotes a line for an error message, cut to a readable length.
func clip(b []byte) string {
	const n = 40
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
