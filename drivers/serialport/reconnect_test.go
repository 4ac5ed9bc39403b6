package serialport_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"yici/drivers/serialport"
	"yici/drivers/sim"
)

// device is a pseudo-terminal standing in for a USB serial adapter that
// can be pulled out (its pty closed) and plugged back in (a new pty, at a
// new path, as a replugged adapter may get one). Its resolve is the seam
// the Reconnecting port finds it through.
type device struct {
	t  *testing.T
	mu sync.Mutex
	pt *sim.PTY // nil while unplugged
}

func (d *device) plug() *sim.PTY {
	pt, err := sim.OpenPTY()
	if err != nil {
		d.t.Fatal(err)
	}
	d.mu.Lock()
	d.pt = pt
	d.mu.Unlock()
	d.t.Cleanup(func() { pt.Close() })
	return pt
}

func (d *device) unplug() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pt.Close()
	d.pt = nil
}

func (d *device) resolve() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pt == nil {
		return "", errors.New("no adapter with 1a86:7523 plugged in")
	}
	return d.pt.Path, nil
}

// events records what Notify reports.
type events struct {
	mu  sync.Mutex
	got []serialport.Event
}

func (e *events) add(ev serialport.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) list() []serialport.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]serialport.Event(nil), e.got...)
}

// echo checks that bytes pass both ways between the port and the pty.
func echo(t *testing.T, port serialport.Port, pt *sim.PTY, msg string) {
	t.Helper()
	if _, err := port.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := pt.Master.Read(got); err != nil || string(got) != msg {
		t.Fatalf("device got %q, %v; want %q", got, err, msg)
	}
	if _, err := pt.Master.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := serialport.ReadFull(port, got, time.Second); err != nil || string(got) != msg {
		t.Fatalf("host got %q, %v; want %q", got, err, msg)
	}
}

func TestReconnectingUnplugAndReplug(t *testing.T) {
	dev := &device{t: t}
	first := dev.plug()
	var ev events
	r := serialport.OpenReconnecting("USB 1a86:7523", dev.resolve, serialport.Config{},
		serialport.ReconnectOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Notify: ev.add})
	defer r.Close()
	if !r.Connected() {
		t.Fatal("not connected to a device that is there")
	}
	echo(t, r, first, "before")

	// Unplugged while a read is waiting: the read ends with the message a
	// clerk can act on, and so does every call until the device is back.
	errc := make(chan error, 1)
	go func() {
		if err := r.SetReadTimeout(-1); err != nil {
			errc <- err
			return
		}
		_, err := r.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	dev.unplug()
	var err error
	select {
	case err = <-errc:
	case <-time.After(2 * time.Second):
		t.Fatal("read still blocked 2s after the device went away")
	}
	if !errors.Is(err, serialport.ErrUnplugged) || !strings.HasPrefix(err.Error(), "serialport: USB 1a86:7523 unplugged; waiting for it to come back (read: ") {
		t.Fatalf("read after unplug: %v", err)
	}
	if _, err := r.Write([]byte("x")); !errors.Is(err, serialport.ErrUnplugged) {
		t.Fatalf("write while unplugged: %v", err)
	}
	if r.Connected() {
		t.Fatal("connected while unplugged")
	}
	// Still away after a few retries: the error says why the last failed.
	time.Sleep(100 * time.Millisecond)
	if _, err := r.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "no adapter with 1a86:7523 plugged in") {
		t.Fatalf("read while away: %v", err)
	}

	// Plugged back in, at another path: the same Port works again, with
	// the read timeout the caller set before.
	second := dev.plug()
	if second.Path == first.Path {
		t.Logf("the new pty reuses %s", second.Path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	echo(t, r, second, "after")

	got := ev.list()
	if len(got) != 3 || !got[0].Up || got[1].Up || !got[2].Up || got[2].Path != second.Path || got[1].Err == nil {
		t.Fatalf("events = %+v, want up, down (with its cause), up on %s", got, second.Path)
	}
}

// A device that is not there at start comes up when it appears, so a kiosk
// switched on before its printer still finds it.
func TestReconnectingStartsUnplugged(t *testing.T) {
	dev := &device{t: t}
	r := serialport.OpenReconnecting("printer", dev.resolve, serialport.Config{ReadTimeout: 20 * time.Millisecond},
		serialport.ReconnectOptions{MinBackoff: 10 * time.Millisecond})
	defer r.Close()
	_, err := r.Read(make([]byte, 1))
	if want := "serialport: printer unplugged; waiting for it to come back (no adapter with 1a86:7523 plugged in)"; err == nil || err.Error() != want {
		t.Fatalf("read before the device appears: %v, want %s", err, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no adapter") {
		t.Fatalf("Wait with the device away: %v", err)
	}
	pt := dev.plug()
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The configured read timeout applies to the port opened late.
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("idle read = %d, %v; want 0, nil after the read timeout", n, err)
	}
	echo(t, r, pt, "late")
}

// Close releases a blocked read with ErrClosed, not "unplugged", and stops
// the reconnect loop.
func TestReconnectingClose(t *testing.T) {
	dev := &device{t: t}
	dev.plug()
	r := serialport.OpenReconnecting("p", dev.resolve, serialport.Config{}, serialport.ReconnectOptions{})
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, serialport.ErrClosed) {
			t.Fatalf("blocked read after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not release a blocked read")
	}
	if _, err := r.Write([]byte("x")); !errors.Is(err, serialport.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Wait(context.Background()); !errors.Is(err, serialport.ErrClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// Bytes written just before an unplug are not silently taken as sent on
// the new port: the write that fails says so, and nothing is replayed.
func TestReconnectingDoesNotReplay(t *testing.T) {
	dev := &device{t: t}
	dev.plug()
	r := serialport.OpenReconnecting("p", dev.resolve, serialport.Config{}, serialport.ReconnectOptions{MinBackoff: 5 * time.Millisecond})
	defer r.Close()
	dev.unplug()
	if _, err := r.Write([]byte("lost")); !errors.Is(err, serialport.ErrUnplugged) {
		t.Fatalf("write to an unplugged device: %v", err)
	}
	pt := dev.plug()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// echo reads exactly "new" first: "lost" was not replayed before it.
	echo(t, r, pt, "new")
}
