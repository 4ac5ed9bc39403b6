package serialport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// ErrUnplugged is wrapped by every *UnpluggedError.
var ErrUnplugged = errors.New("serialport: device unplugged")

// ErrClosed is returned by a Reconnecting port after Close.
var ErrClosed = errors.New("serialport: port closed")

// UnpluggedError is what a Reconnecting port returns while its device is
// away. The port keeps trying to reopen it in the background; the caller
// shows the message and tries again later.
type UnpluggedError struct {
	Port  string // the port's label: its path, or how it is matched
	Cause error  // what showed the device was gone, or why the last reopen failed
}

func (e *UnpluggedError) Error() string {
	return fmt.Sprintf("serialport: %s unplugged; waiting for it to come back (%v)", e.Port, e.Cause)
}

func (e *UnpluggedError) Unwrap() []error { return []error{ErrUnplugged, e.Cause} }

// Resolver finds the path a device is on now. It is asked again at every
// reconnection attempt, because a USB adapter plugged back in may come
// back as /dev/ttyUSB1 instead of /dev/ttyUSB0.
type Resolver func() (string, error)

// PathResolver always gives path: for a device on a fixed port, such as a
// motherboard's /dev/ttyS0 or a /dev/serial/by-id link.
func PathResolver(path string) Resolver {
	return func() (string, error) { return path, nil }
}

// USBResolver finds the adapter m describes among the ports listed now.
func USBResolver(m USBMatch) Resolver {
	return func() (string, error) {
		ports, err := List()
		if err != nil {
			return "", err
		}
		return m.Find(ports)
	}
}

// Event is a change of a Reconnecting port's state.
type Event struct {
	Port string // the port's label
	Up   bool   // true: (re)opened on Path; false: gone, see Err
	Path string // the path opened, when Up
	Err  error  // why it is down, when !Up
}

// ReconnectOptions tune a Reconnecting port. The zero value is fine.
type ReconnectOptions struct {
	// MinBackoff is the wait before the first reopen attempt; it doubles
	// after each failure up to MaxBackoff. Defaults 100 ms and 5 s: quick
	// enough that a clerk who replugs a cable sees the device back at once,
	// slow enough not to spin on a device that is gone for the day.
	MinBackoff, MaxBackoff time.Duration
	// Notify, if set, is called on each change of state, from the
	// goroutine that saw it; it must not block.
	Notify func(Event)
}

// Reconnecting is a Port that survives its device being unplugged. When a
// read or write fails in a way that means the device went away (EIO,
// ENXIO, ENODEV, the device file gone, the port closed under it) it
// returns an *UnpluggedError, closes the dead port and reopens the device
// in the background, by asking its Resolver, with backoff. Until then reads
// and writes fail at once with the same error; afterwards they go to the
// new port. A command in flight when the device went away is lost: the
// driver above sees the error and repeats it as it would after a timeout.
//
// Its methods may be called from several goroutines, as a Port's may.
type Reconnecting struct {
	label   string
	resolve Resolver
	cfg     Config
	opts    ReconnectOptions
	stop    chan struct{}
	done    chan struct{}
	down    chan struct{} // wakes the reconnect loop; buffered, one pending wake is enough

	mu         sync.Mutex
	port       Port // nil while the device is away
	timeout    time.Duration
	timeoutSet bool
	lastErr    error
	up         chan struct{} // closed while port != nil
	closed     bool
}

// OpenReconnecting opens the device that resolve finds, with cfg. label
// names it in errors and events: its path, or for a USB match something
// like "USB 1a86:7523". If the device is not there yet, the port starts
// out unplugged and comes up when it appears, so a kiosk switched on before
// its printer still finds the printer; Wait blocks until it is up.
func OpenReconnecting(label string, resolve Resolver, cfg Config, opts ReconnectOptions) *Reconnecting {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Second, opts.MinBackoff)
	}
	r := &Reconnecting{
		label: label, resolve: resolve, cfg: cfg, opts: opts,
		stop: make(chan struct{}), done: make(chan struct{}), down: make(chan struct{}, 1),
		up: make(chan struct{}),
	}
	if !r.tryOpen() {
		r.down <- struct{}{}
	}
	go r.loop()
	return r
}

// tryOpen resolves and opens the device once, and reports whether it is up.
func (r *Reconnecting) tryOpen() bool {
	path, err := r.resolve()
	var p Port
	if err == nil {
		p, err = Open(path, r.cfg)
	}
	r.mu.Lock()
	if err == nil && r.timeoutSet {
		if err = p.SetReadTimeout(r.timeout); err != nil {
			err = fmt.Errorf("serialport: %s: set read timeout %v: %w", path, r.timeout, err)
			p.Close()
		}
	}
	if err != nil || r.closed {
		if err != nil {
			r.lastErr = err
		}
		r.mu.Unlock()
		if err == nil {
			p.Close()
		}
		return false
	}
	r.port, r.lastErr = p, nil
	close(r.up)
	r.mu.Unlock()
	r.notify(Event{Port: r.label, Up: true, Path: path})
	return true
}

// loop reopens the device each time it goes away, until Close.
func (r *Reconnecting) loop() {
	defer close(r.done)
	for {
		select {
		case <-r.stop:
			return
		case <-r.down:
		}
		wait := r.opts.MinBackoff
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(wait):
			}
			if r.tryOpen() {
				break
			}
			wait = min(2*wait, r.opts.MaxBackoff)
		}
	}
}

func (r *Reconnecting) notify(e Event) {
	if r.opts.Notify != nil {
		r.opts.Notify(e)
	}
}

// current gives the open port, or the error to return while there is none.
func (r *Reconnecting) current() (Port, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("%w: %s", ErrClosed, r.label)
	}
	if r.port == nil {
		return nil, &UnpluggedError{Port: r.label, Cause: r.lastErr}
	}
	return r.port, nil
}

// failed handles an error from p. If it means the device is gone, p is
// closed and the reconnect loop woken; the caller gets an *UnpluggedError.
// Other errors pass through unchanged.
func (r *Reconnecting) failed(p Port, op string, err error) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrClosed, r.label)
	}
	if !gone(err) {
		r.mu.Unlock()
		return err
	}
	cause := fmt.Errorf("%s: %w", op, err)
	first := r.port == p // another goroutine may have seen it first
	if first {
		r.port, r.lastErr = nil, cause
		r.up = make(chan struct{})
	}
	r.mu.Unlock()
	if first {
		p.Close()
		select {
		case r.down <- struct{}{}:
		default:
		}
		r.notify(Event{Port: r.label, Err: cause})
	}
	return &UnpluggedError{Port: r.label, Cause: cause}
}

// gone reports whether err from a port means the device went away rather
// than, say, a bad argument: the errors Linux gives for a USB adapter
// pulled out or a pty whose other side closed.
func gone(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		// Linux reports a vanished USB device as readable with no data,
		// which go.bug.st/serial turns into PortClosed.
		return pe.Code() == serial.PortClosed
	}
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO) ||
		errors.Is(err, syscall.ENODEV) || errors.Is(err, os.ErrNotExist)
}

// Read reads from the device; see Port.
func (r *Reconnecting) Read(b []byte) (int, error) {
	p, err := r.current()
	if err != nil {
		return 0, err
	}
	n, err := p.Read(b)
	if err != nil {
		return n, r.failed(p, "read", err)
	}
	return n, nil
}

// Write writes to the device.
func (r *Reconnecting) Write(b []byte) (int, error) {
	p, err := r.current()
	if err != nil {
		return 0, err
	}
	n, err := p.Write(b)
	if err != nil {
		return n, r.failed(p, "write", err)
	}
	return n, nil
}

// SetReadTimeout sets the read timeout now and on every reopened port.
func (r *Reconnecting) SetReadTimeout(t time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("%w: %s", ErrClosed, r.label)
	}
	if r.port != nil {
		if err := r.port.SetReadTimeout(t); err != nil {
			return err
		}
	}
	r.timeout, r.timeoutSet = t, true
	return nil
}

// Connected reports whether the device is open now.
func (r *Reconnecting) Connected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.port != nil
}

// Wait blocks until the device is open, ctx ends or the port is closed.
func (r *Reconnecting) Wait(ctx context.Context) error {
	r.mu.Lock()
	up, closed, last := r.up, r.closed, r.lastErr
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("%w: %s", ErrClosed, r.label)
	}
	select {
	case <-up:
		return nil
	case <-r.stop:
		return fmt.Errorf("%w: %s", ErrClosed, r.label)
	case <-ctx.Done():
		r.mu.Lock()
		if r.lastErr != nil {
			last = r.lastErr
		}
		r.mu.Unlock()
		if last == nil {
			return fmt.Errorf("serialport: waiting for %s: %w", r.label, ctx.Err())
		}
		return fmt.Errorf("serialport: waiting for %s: %w (last error: %v)", r.label, ctx.Err(), last)
	}
}

// Close closes the port and stops reconnecting. A Read blocked in another
// goroutine returns ErrClosed.
func (r *Reconnecting) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	p := r.port
	r.port = nil
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	if p != nil {
		return p.Close()
	}
	return nil
}
