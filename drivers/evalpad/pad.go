// Package evalpad drives a 好差评 evaluation pad (评价器) at a service
// window over a serial port, speaking the protocol in
// docs/evalpad-protocol.md: framed JSON messages with CRC-16, sequence
// numbers, stop-and-wait retries and duplicate suppression.
//
// The host shows the case being served (Prompt), asks for a rating
// (AskRating) and gets one of five levels, with reasons for a bad one.
// A Pad keeps a goroutine reading the port, because the pad speaks on its
// own when the citizen presses; Close stops it.
package evalpad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"yici/drivers/serialport"
)

const (
	// pollSlice is how long one port read may block, so that Close is
	// noticed promptly while the pad is quiet.
	pollSlice = 50 * time.Millisecond
	// gapTimeout is the longest pause inside a frame; after it the partial
	// frame is dropped (protocol §5), so that a truncated frame cannot
	// swallow the next one.
	gapTimeout = 100 * time.Millisecond
	// maxReply bounds the size of a reply the host allows wire time for.
	maxReply = 256
	// readRetry is the pause after a failed read before trying again: a
	// reconnecting port fails reads while its device is unplugged and
	// works again once it is back.
	readRetry = 200 * time.Millisecond
	// askGrace is how much longer than the host the pad waits for a press.
	// The host ends an ask with CANCEL; the pad's own timer is only for a
	// host that has gone away, and must not cut off a press that the host
	// would still take.
	askGrace = 2 * time.Second
)

// ErrNoRating is wrapped by AskRating's error when no rating came: the
// timeout passed, the context ended or Cancel was called.
var ErrNoRating = errors.New("evalpad: no rating")

var errClosed = errors.New("driver closed")

// PadError is an ERROR reply: the pad received the command intact and
// refused it.
type PadError struct {
	Op     string // e.g. "ask rating"
	Code   string // one of the Code… constants
	Detail string
}

func (e *PadError) Error() string {
	return fmt.Sprintf("evalpad: %s: pad refused (%s): %s", e.Op, e.Code, e.Detail)
}

// Options tunes a Pad. The zero value, or nil, gives the defaults.
type Options struct {
	// ReplyTimeout is how long the pad may take to answer a command, after
	// the command's and before the reply's wire time. Default 300 ms
	// (the protocol gives the pad 200 ms).
	ReplyTimeout time.Duration
	// Attempts is how many times a command is sent before giving up, the
	// first included; a NAK or a timeout uses one. Default 3.
	Attempts int
	// Baud is the line rate, used only to allow for wire time. Default
	// 115200.
	Baud int
	// Late, if set, receives a rating that arrives after its AskRating
	// gave up (the citizen pressed as the host cancelled), so it can still
	// be recorded. It runs on the reader goroutine and must not block.
	// Without it such a rating is acknowledged and dropped.
	Late func(Rating)
}

// Rating is a citizen's rating, with what the pad showed at the time.
type Rating struct {
	Level   Level
	Reasons []Reason // at least one for a poor level, none otherwise
	Prompt  Prompt   // case, clerk, window and item being rated
	At      time.Time
}

// Status is what a pad reports to a heartbeat.
type Status struct {
	State    string // StateIdle, StatePrompt or StateAsking
	Model    string
	Firmware string
}

// call is the one command waiting for its reply.
type call struct {
	seq byte
	ch  chan Frame
}

// asking is the last ASK. It stays set after AskRating returns, marked
// over, so that a late rating can be matched to its prompt.
type asking struct {
	seq       byte
	prompt    Prompt
	ch        chan Rating
	cancelled chan struct{} // closed by Cancel
	cancel    bool          // cancelled is closed
	over      bool          // AskRating has returned
}

// Pad drives one evaluation pad. Its methods may be called from several
// goroutines; commands go out one at a time.
type Pad struct {
	port serialport.Port
	opts Options
	cmd  sync.Mutex // held for a whole command exchange: stop-and-wait
	wmu  sync.Mutex // held while a frame is written, so frames never interleave
	stop chan struct{}
	done chan struct{} // closed when the reader goroutine ends

	mu      sync.Mutex
	seq     byte
	wait    *call
	ask     *asking
	shown   *Prompt // last prompt the pad acknowledged
	lastBad error   // last damaged or incomplete frame, for error messages
	event   struct {
		ok      bool
		seq     byte
		payload string
	} // last pad event accepted, to spot retransmissions
	readErr error // last read failed with it (commands fail at once), or the driver is closed
}

// New starts driving a pad on an open port (115200 8N1 unless the pad is
// set otherwise). Close stops it; the port stays the caller's to close.
func New(p serialport.Port, opts *Options) *Pad {
	d := &Pad{port: p, stop: make(chan struct{}), done: make(chan struct{})}
	if opts != nil {
		d.opts = *opts
	}
	if d.opts.ReplyTimeout <= 0 {
		d.opts.ReplyTimeout = 300 * time.Millisecond
	}
	if d.opts.Attempts <= 0 {
		d.opts.Attempts = 3
	}
	if d.opts.Baud <= 0 {
		d.opts.Baud = 115200
	}
	go d.run()
	return d
}

// Close stops the reader goroutine. Commands in progress fail.
// While reads from the port fail (say, a reconnecting port whose device is
// unplugged) commands fail at once with that error; the reader keeps
// trying, so the Pad works again when the port does.
func (d *Pad) Close() error {
	d.mu.Lock()
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.mu.Unlock()
	<-d.done
	return nil
}

// Prompt shows the case being served. It fails with a *PadError while the
// pad is asking for a rating: Cancel first.
func (d *Pad) Prompt(ctx context.Context, p Prompt) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("evalpad: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("evalpad: prompt: %w", err)
	}
	if _, err := d.exchange(ctx, "prompt", TypePrompt, body, TypeAck, nil); err != nil {
		return err
	}
	d.mu.Lock()
	d.shown = &p
	d.mu.Unlock()
	return nil
}

// AskRating asks the citizen to rate the case last shown with Prompt (each
// prompt can be rated once) and waits up to timeout. With no rating by
// then, or when ctx ends or Cancel is called, it tells the pad to stop
// asking and returns an error wrapping ErrNoRating; a rating that crossed
// the CANCEL on the wire still counts. A pad that does not answer gives an
// error wrapping serialport.ErrTimeout.
func (d *Pad) AskRating(ctx context.Context, timeout time.Duration) (Rating, error) {
	if timeout <= 0 {
		return Rating{}, fmt.Errorf("evalpad: ask rating: timeout %v, want more than 0", timeout)
	}
	d.mu.Lock()
	shown := d.shown
	d.mu.Unlock()
	if shown == nil {
		return Rating{}, errors.New("evalpad: ask rating: no prompt shown since the last rating (one rating per prompt)")
	}
	ab := AskBody{TimeoutMillis: int((timeout + askGrace).Milliseconds())}
	if err := ab.Validate(); err != nil {
		return Rating{}, fmt.Errorf("evalpad: ask rating: %w", err)
	}
	body, err := json.Marshal(ab)
	if err != nil {
		return Rating{}, fmt.Errorf("evalpad: ask rating: %w", err)
	}
	a := &asking{prompt: *shown, ch: make(chan Rating, 1), cancelled: make(chan struct{})}
	_, err = d.exchange(ctx, "ask rating", TypeAsk, body, TypeAck, func(seq byte) {
		a.seq = seq
		d.ask = a
	})
	if err != nil {
		d.end(a)
		return Rating{}, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var why error
	select {
	case r := <-a.ch:
		d.end(a)
		return r, nil
	case <-a.cancelled:
		d.end(a)
		return Rating{}, fmt.Errorf("%w: cancelled", ErrNoRating)
	case <-t.C:
		why = fmt.Errorf("%w in %v", ErrNoRating, timeout)
	case <-ctx.Done():
		why = fmt.Errorf("%w: %w", ErrNoRating, ctx.Err())
	case <-d.done:
		d.end(a)
		return Rating{}, d.stopped("ask rating")
	}
	// The pad answers CANCEL only after anything it sent before, so a
	// rating already on its way is in a.ch once the CANCEL is answered.
	_, cerr := d.exchange(context.WithoutCancel(ctx), "cancel", TypeCancel, nil, TypeAck, nil)
	if r, ok := d.end(a); ok {
		return r, nil
	}
	if cerr != nil {
		return Rating{}, fmt.Errorf("%w (and the pad may still be asking: %v)", why, cerr)
	}
	return Rating{}, why
}

// end marks an ask over and gives a rating that reached it first.
func (d *Pad) end(a *asking) (Rating, bool) {
	d.mu.Lock()
	a.over = true
	d.mu.Unlock()
	select {
	case r := <-a.ch:
		return r, true
	default:
		return Rating{}, false
	}
}

// Cancel tells the pad to stop asking and ends a waiting AskRating with
// ErrNoRating. It is harmless when nothing is being asked.
func (d *Pad) Cancel(ctx context.Context) error {
	d.mu.Lock()
	if a := d.ask; a != nil && !a.over && !a.cancel {
		a.cancel = true
		close(a.cancelled)
	}
	d.mu.Unlock()
	_, err := d.exchange(ctx, "cancel", TypeCancel, nil, TypeAck, nil)
	return err
}

// Heartbeat checks that the pad answers and reports its state.
func (d *Pad) Heartbeat(ctx context.Context) (Status, error) {
	f, err := d.exchange(ctx, "heartbeat", TypeHeartbeat, nil, TypeStatus, nil)
	if err != nil {
		return Status{}, err
	}
	var b StatusBody
	if err := Decode(f.Payload, &b); err != nil {
		return Status{}, fmt.Errorf("evalpad: heartbeat: %w", err)
	}
	return Status(b), nil
}

// exchange sends one command and waits for its reply, of type want, sending
// it again (same SEQ, so the pad does not act twice) on a NAK or a timeout.
// onSeq runs under d.mu once the SEQ is chosen, before anything is sent.
func (d *Pad) exchange(ctx context.Context, op string, typ Type, body []byte, want Type, onSeq func(byte)) (Frame, error) {
	d.cmd.Lock()
	defer d.cmd.Unlock()
	d.mu.Lock()
	if err := d.readErr; err != nil {
		d.mu.Unlock()
		return Frame{}, fmt.Errorf("evalpad: %s: %w", op, err)
	}
	d.seq++
	if d.seq == 0 { // 0 is never used, so a fresh peer sees no duplicate
		d.seq = 1
	}
	c := &call{seq: d.seq, ch: make(chan Frame, 4)}
	d.wait, d.lastBad = c, nil
	if onSeq != nil {
		onSeq(c.seq)
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.wait = nil
		d.mu.Unlock()
	}()

	frame := AppendFrame(nil, Frame{Type: typ, Seq: c.seq, Payload: body})
	wait := d.opts.ReplyTimeout + d.wireTime(len(frame)) + d.wireTime(maxReply)
	naks := 0
	for range d.opts.Attempts {
		if err := d.write(frame); err != nil {
			return Frame{}, fmt.Errorf("evalpad: %s: write: %w", op, err)
		}
		t := time.NewTimer(wait)
		select {
		case f := <-c.ch:
			t.Stop()
			switch f.Type {
			case want:
				return f, nil
			case TypeNak:
				naks++
				continue
			case TypeError:
				var b ErrorBody
				if err := Decode(f.Payload, &b); err != nil {
					return Frame{}, fmt.Errorf("evalpad: %s: ERROR reply: %w", op, err)
				}
				return Frame{}, &PadError{Op: op, Code: b.Code, Detail: b.Detail}
			}
			return Frame{}, fmt.Errorf("evalpad: %s: reply %v, want %v", op, f.Type, want)
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Frame{}, fmt.Errorf("evalpad: %s: %w", op, ctx.Err())
		case <-d.done:
			t.Stop()
			return Frame{}, d.stopped(op)
		}
	}
	d.mu.Lock()
	bad, rerr := d.lastBad, d.readErr
	d.mu.Unlock()
	if rerr != nil {
		return Frame{}, fmt.Errorf("evalpad: %s: %w", op, rerr)
	}
	msg := fmt.Sprintf("%d attempts, %d NAKed, %d unanswered in %v", d.opts.Attempts, naks, d.opts.Attempts-naks, wait.Round(time.Millisecond))
	if bad != nil {
		msg += fmt.Sprintf("; last bad frame: %v", bad)
	}
	if naks == d.opts.Attempts {
		return Frame{}, fmt.Errorf("evalpad: %s: pad NAKed every attempt (%s)", op, msg)
	}
	return Frame{}, fmt.Errorf("evalpad: %s: %w: no valid reply (%s)", op, serialport.ErrTimeout, msg)
}

// stopped is the error for a command after Close.
func (d *Pad) stopped(op string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Errorf("evalpad: %s: %w", op, d.readErr)
}

// wireTime is how long n bytes take on the line: 10 bits a byte.
func (d *Pad) wireTime(n int) time.Duration {
	return time.Duration(n*10) * time.Second / time.Duration(d.opts.Baud)
}

func (d *Pad) write(frame []byte) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_, err := d.port.Write(frame)
	return err
}

// reply sends an ACK, NAK or ERROR from the reader goroutine. A failed
// write is not reported: the port is then gone, and the next read says so.
func (d *Pad) reply(typ Type, seq byte, body any) {
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body) // the bodies here always marshal
	}
	_ = d.write(AppendFrame(nil, Frame{Type: typ, Seq: seq, Payload: payload}))
}

// run reads frames until Close or a port error.
func (d *Pad) run() {
	defer close(d.done)
	var buf []byte
	var last time.Time
	scratch := make([]byte, 512)
	for {
		for {
			f, n, err := Cut(buf)
			var fe *FrameError
			switch {
			case errors.As(err, &fe):
				d.damaged(fe)
			case f != nil:
				d.handle(*f)
			}
			buf = buf[n:]
			if f == nil && err == nil {
				break
			}
		}
		if len(buf) > 0 && time.Since(last) > gapTimeout {
			d.mu.Lock()
			d.lastBad = fmt.Errorf("evalpad: frame: incomplete, %d bytes then %v of silence", len(buf), gapTimeout)
			d.mu.Unlock()
			buf = buf[1:] // drop the STX; Cut hunts on from there
			continue
		}
		select {
		case <-d.stop:
			d.mu.Lock()
			d.readErr = errClosed
			d.mu.Unlock()
			return
		default:
		}
		err := d.port.SetReadTimeout(pollSlice)
		var n int
		if err == nil {
			n, err = d.port.Read(scratch)
		}
		d.mu.Lock()
		d.readErr = nil
		if err != nil {
			d.readErr = fmt.Errorf("read: %w", err)
		}
		d.mu.Unlock()
		if err != nil {
			buf = buf[:0] // a frame cut by the failure is lost
			t := time.NewTimer(readRetry)
			select {
			case <-d.stop:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if n > 0 {
			buf = append(buf, scratch[:n]...)
			last = time.Now()
		}
	}
}

// damaged handles a rejected frame: a NAK for a CRC error, so that the
// pad sends it again at once. A false start (bad length or ETX) is more
// likely noise than a frame and is not answered.
func (d *Pad) damaged(fe *FrameError) {
	d.mu.Lock()
	d.lastBad = fe
	d.mu.Unlock()
	if fe.Kind == "crc" {
		d.reply(TypeNak, fe.Seq, NakBody{Reason: "crc"})
	}
}

// handle dispatches an intact frame.
func (d *Pad) handle(f Frame) {
	switch f.Type {
	case TypeAck, TypeNak, TypeStatus, TypeError:
		d.mu.Lock()
		c := d.wait
		d.mu.Unlock()
		// A NAK's SEQ may be the damaged one; with one command outstanding
		// it can only be about that command.
		if c != nil && (f.Seq == c.seq || f.Type == TypeNak) {
			f.Payload = append([]byte(nil), f.Payload...)
			select {
			case c.ch <- f:
			default: // replies to earlier attempts of the same command
			}
		}
	case TypeRating:
		d.rating(f)
	default:
		d.reply(TypeError, f.Seq, ErrorBody{Code: CodeType, Detail: fmt.Sprintf("%v is not a message for the host", f.Type)})
	}
}

// rating checks a RATING, acknowledges it, and hands it to the AskRating
// waiting for it. A retransmission (same SEQ and body as the last one
// accepted) is acknowledged again but counted once.
func (d *Pad) rating(f Frame) {
	var b RatingBody
	if err := Decode(f.Payload, &b); err != nil {
		d.reply(TypeError, f.Seq, ErrorBody{Code: CodePayload, Detail: err.Error()})
		return
	}
	d.mu.Lock()
	if d.event.ok && d.event.seq == f.Seq && d.event.payload == string(f.Payload) {
		d.mu.Unlock()
		d.reply(TypeAck, f.Seq, nil)
		return
	}
	a := d.ask
	if a == nil || a.seq != b.Ask {
		d.mu.Unlock()
		d.reply(TypeError, f.Seq, ErrorBody{Code: CodeState, Detail: fmt.Sprintf("rating answers ASK %d, which is not the last ASK", b.Ask)})
		return
	}
	if b.CaseNo != a.prompt.CaseNo {
		d.mu.Unlock()
		d.reply(TypeError, f.Seq, ErrorBody{Code: CodePayload, Detail: fmt.Sprintf("rating: case_no %q, the prompt shows %q", b.CaseNo, a.prompt.CaseNo)})
		return
	}
	d.event.ok, d.event.seq, d.event.payload = true, f.Seq, string(f.Payload)
	d.shown = nil // the pad clears its screen: the next ask needs a new prompt
	r := Rating{Level: b.Level, Reasons: b.Reasons, Prompt: a.prompt, At: time.Now()}
	late := a.over
	if !late {
		select {
		case a.ch <- r:
		default: // a second rating for one ASK: the first counts
		}
	}
	d.mu.Unlock()
	// Hand the rating over before acknowledging it: once ACKed, the pad
	// forgets it.
	if late && d.opts.Late != nil {
		d.opts.Late(r)
	}
	d.reply(TypeAck, f.Seq, nil)
}
