package printer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"yici/drivers/serialport"
)

// ErrNoAnswer means the printer sent no status reply: it is switched off,
// unplugged, or on another baud rate.
var ErrNoAnswer = errors.New("printer not answering: check power and cable")

// ErrNotReady is wrapped by a *NotReadyError.
var ErrNotReady = errors.New("printer not ready")

// NotReadyError is returned when the printer reports a fault before or
// after printing. Its message says what the clerk should do.
type NotReadyError struct {
	Status Status
	After  bool // the fault was seen after the job was sent: the receipt is incomplete or missing
}

func (e *NotReadyError) Error() string {
	if e.After {
		return fmt.Sprintf("printer: receipt not printed in full, reprint it after fixing: %v (status % x)", e.Status, e.Status.Raw)
	}
	return fmt.Sprintf("printer: not printing: %v (status % x)", e.Status, e.Status.Raw)
}

func (e *NotReadyError) Unwrap() error { return ErrNotReady }

// Options tune a Printer. The zero value suits a printer at 115200 baud.
type Options struct {
	// ReplyTimeout is how long to wait for each status byte once the query
	// has left the port. Default 1 s.
	ReplyTimeout time.Duration
	// Baud is the port's speed. It is used only to allow for the time the
	// job takes on the wire: the status query after a job queues behind it.
	// Default 115200.
	Baud int
	// Settle is how long to wait after sending a job before reading the
	// status back. DLE EOT is answered as soon as it arrives, while the
	// paper is still moving; the pause lets a paper end or jam during the
	// job show. Default 800 ms, about one receipt at 150 mm/s; negative
	// means no pause.
	Settle time.Duration
}

// Printer is an ESC/POS printer on a serial port. Its methods may be called
// from several goroutines; they take turns on the port.
type Printer struct {
	mu   sync.Mutex
	port serialport.Port
	opts Options
}

// New wraps an open port. The caller keeps ownership of p and closes it.
func New(p serialport.Port, opts Options) *Printer {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = time.Second
	}
	if opts.Baud <= 0 {
		opts.Baud = 115200
	}
	if opts.Settle == 0 {
		opts.Settle = 800 * time.Millisecond
	}
	return &Printer{port: p, opts: opts}
}

// Status queries the printer with DLE EOT 1, 2 and 4.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx, 0)
}

// status runs the three queries; backlog is how many bytes of a job may
// still be on the wire ahead of the first one.
func (p *Printer) status(ctx context.Context, backlog int) (Status, error) {
	if err := p.drain(); err != nil {
		return Status{}, err
	}
	var reply [3]byte
	for i, n := range [3]byte{1, 2, 4} {
		if err := ctx.Err(); err != nil {
			return Status{}, fmt.Errorf("printer: status: %w", err)
		}
		if _, err := p.port.Write([]byte{dle, eot, n}); err != nil {
			return Status{}, fmt.Errorf("printer: send DLE EOT %d: %w", n, err)
		}
		// 10 bits a byte on the wire (8N1).
		wait := p.opts.ReplyTimeout + time.Duration(backlog)*10*time.Second/time.Duration(p.opts.Baud)
		backlog = 0
		clamped := false
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			wait, clamped = max(time.Until(dl), time.Millisecond), true
		}
		err := serialport.ReadFull(p.port, reply[i:i+1], wait)
		if errors.Is(err, serialport.ErrTimeout) {
			if clamped {
				// The caller's deadline ran out first: the printer may
				// still be fine, so do not blame power or cable.
				return Status{}, fmt.Errorf("printer: no reply to DLE EOT %d before the deadline: %w", n, context.DeadlineExceeded)
			}
			return Status{}, fmt.Errorf("%w (no reply to DLE EOT %d within %v)", ErrNoAnswer, n, wait)
		}
		if err != nil {
			return Status{}, fmt.Errorf("printer: read reply to DLE EOT %d: %w", n, err)
		}
	}
	return ParseStatus(reply[0], reply[1], reply[2])
}

// drain throws away bytes already waiting, such as a reply that came too
// late for an earlier query, so that they are not taken for this one.
func (p *Printer) drain() error {
	if err := p.port.SetReadTimeout(0); err != nil {
		return fmt.Errorf("printer: set read timeout: %w", err)
	}
	var junk [64]byte
	for {
		n, err := p.port.Read(junk[:])
		if err != nil {
			return fmt.Errorf("printer: read: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// Print sends a job built with Doc. It refuses to start when the printer
// reports a fault, and returns an error when a fault shows after the job:
// only a nil error means the receipt is in the clerk's hand.
func (p *Printer) Print(ctx context.Context, doc []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.status(ctx, 0)
	if err != nil {
		return err
	}
	if !st.Ready() {
		return &NotReadyError{Status: st}
	}
	// Write in slices so that a cancelled context stops a long raster job
	// part way instead of after the whole image.
	const chunk = 4096
	for off := 0; off < len(doc); off += chunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("printer: job cancelled after %d of %d bytes: %w", off, len(doc), err)
		}
		end := min(off+chunk, len(doc))
		if _, err := p.port.Write(doc[off:end]); err != nil {
			return fmt.Errorf("printer: write job at byte %d of %d: %w", off, len(doc), err)
		}
	}
	if p.opts.Settle > 0 {
		t := time.NewTimer(p.opts.Settle)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("printer: job sent, but cancelled before its status was read: %w", ctx.Err())
		}
	}
	st, err = p.status(ctx, len(doc))
	if err != nil {
		return fmt.Errorf("printer: job sent, but its result is unknown: %w", err)
	}
	if !st.Ready() {
		return &NotReadyError{Status: st, After: true}
	}
	return nil
}
