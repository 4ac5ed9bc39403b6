package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"yici/drivers/evalpad"
)

// PadFaults make the simulated evaluation pad misbehave. Set them at any
// time with SetFaults.
type PadFaults struct {
	BadCRC    bool // frames the pad sends carry a wrong CRC
	Truncate  bool // only the first half of each frame the pad sends goes out
	Silent    bool // nothing is answered or carried out, as if unplugged
	Duplicate bool // each frame the pad sends goes out twice, as after a lost ACK
	Reject    bool // each command is NAKed as if it had arrived damaged
	// Baud, if set, paces the link at this rate both ways, which a pty
	// does not: a frame is taken only once it could have arrived, and
	// frames go out no faster than the line carries them.
	Baud int
	// Times, if set, limits the faults to the next Times frames the pad
	// sends (or, silent, would send); then they clear.
	Times int
}

// Timing of the simulated pad, as the protocol sets it (§5).
const (
	padGap      = 100 * time.Millisecond // longest pause inside a frame
	padRetry    = 500 * time.Millisecond // wait for the host's ACK to a rating
	padAttempts = 5                      // rating transmissions before giving up
	padModel    = "YICI-SIM-PAD"
	padFirmware = "1.0"
)

// Pad simulates a 好差评 evaluation pad on a pseudo-terminal, speaking
// docs/evalpad-protocol.md. It shows prompts, asks for ratings, and sends
// one when Press simulates the citizen.
type Pad struct {
	pty  *PTY
	done chan struct{}
	wmu  sync.Mutex // whole frames on the wire

	mu       sync.Mutex
	faults   PadFaults
	state    string
	prompt   evalpad.Prompt // last prompt shown, kept after the screen clears
	shown    bool
	askSeq   byte
	askUntil time.Time
	seq      byte // the pad's own SEQ, for ratings
	last     struct {
		ok    bool
		seq   byte
		frame string // type and payload
		reply []byte
	} // last command carried out and its reply, to answer a retransmission
	pending *padEvent // rating waiting for the host's answer
}

// padEvent is a rating on its way to the host.
type padEvent struct {
	seq byte
	ch  chan evalpad.Frame
}

// NewPad opens a pty and starts answering on it. Point the driver at Path;
// Close when done.
func NewPad() (*Pad, error) {
	p, err := OpenPTY()
	if err != nil {
		return nil, err
	}
	s := &Pad{pty: p, done: make(chan struct{}), state: evalpad.StateIdle}
	go s.serve()
	return s, nil
}

// Path is the serial device the driver opens.
func (s *Pad) Path() string { return s.pty.Path }

// Close stops the simulator and closes the pty.
func (s *Pad) Close() error {
	err := s.pty.Close()
	<-s.done
	return err
}

// SetFaults replaces the fault knobs.
func (s *Pad) SetFaults(f PadFaults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Shown gives the last prompt the pad showed, and false if none yet. It
// stays readable after a rating clears the screen.
func (s *Pad) Shown() (evalpad.Prompt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prompt, s.shown
}

// State is what the pad would report to a heartbeat: idle, prompt or asking.
func (s *Pad) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current()
}

// current is the state, with an ask that timed out on the pad's own clock
// turned back into the prompt, unless a rating is on its way. Call with
// s.mu held.
func (s *Pad) current() string {
	if s.state == evalpad.StateAsking && s.pending == nil && time.Now().After(s.askUntil) {
		s.state = evalpad.StatePrompt
	}
	return s.state
}

// Press is the citizen choosing a level, and reasons, on the rating screen.
// The pad sends the rating as it is, valid or not, sends it again on a NAK
// or after 500 ms without an answer, up to 5 times, and returns once the
// host acknowledges it (the screen then clears). It fails if the pad is
// not asking, if the host refuses the rating (for a bad body the screen
// stays up so the citizen can correct it; otherwise the pad goes back to
// the prompt) or if no answer comes (back to the prompt).
func (s *Pad) Press(level evalpad.Level, reasons ...evalpad.Reason) error {
	s.mu.Lock()
	if s.pending != nil {
		s.mu.Unlock()
		return fmt.Errorf("sim: pad: press %v: the last rating is still being sent", level)
	}
	if st := s.current(); st != evalpad.StateAsking {
		s.mu.Unlock()
		return fmt.Errorf("sim: pad: press %v: not asking for a rating (state %s)", level, st)
	}
	s.seq++
	if s.seq == 0 {
		s.seq = 1
	}
	body, err := json.Marshal(evalpad.RatingBody{Ask: s.askSeq, CaseNo: s.prompt.CaseNo, Level: level, Reasons: reasons})
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("sim: pad: press %v: %w", level, err)
	}
	ev := &padEvent{seq: s.seq, ch: make(chan evalpad.Frame, 4)}
	s.pending = ev
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.pending = nil
		s.mu.Unlock()
	}()

	frame := evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeRating, Seq: ev.seq, Payload: body})
	for range padAttempts {
		if err := s.send(frame, s.take()); err != nil {
			return fmt.Errorf("sim: pad: press %v: %w", level, err)
		}
		t := time.NewTimer(padRetry)
		select {
		case f := <-ev.ch:
			t.Stop()
			switch f.Type {
			case evalpad.TypeAck:
				s.mu.Lock()
				s.state = evalpad.StateIdle
				s.mu.Unlock()
				return nil
			case evalpad.TypeError:
				var b evalpad.ErrorBody
				_ = json.Unmarshal(f.Payload, &b) // a garbled body still means refused
				if b.Code != evalpad.CodePayload {
					s.giveUp()
				}
				return fmt.Errorf("sim: pad: press %v: host refused the rating (%s): %s", level, b.Code, b.Detail)
			}
		case <-t.C:
		case <-s.done:
			t.Stop()
			return fmt.Errorf("sim: pad: press %v: closed", level)
		}
	}
	s.giveUp()
	return fmt.Errorf("sim: pad: press %v: no ACK after %d attempts", level, padAttempts)
}

// giveUp drops a rating the host will not take, back to the prompt.
func (s *Pad) giveUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == evalpad.StateAsking {
		s.state = evalpad.StatePrompt
	}
}

// take gives the faults for one frame the pad sends, counting down Times.
func (s *Pad) take() PadFaults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if s.faults.Times > 0 {
		s.faults.Times--
		if s.faults.Times == 0 {
			s.faults = PadFaults{}
		}
	}
	return f
}

// serve reads frames from the host and answers them until Close.
func (s *Pad) serve() {
	defer close(s.done)
	var in []byte
	buf := make([]byte, 512)
	for {
		// A partial frame followed by silence is dropped (§5), so that a
		// truncated command cannot swallow the next one.
		var deadline time.Time
		if len(in) > 0 {
			deadline = time.Now().Add(padGap)
		}
		if err := s.pty.Master.SetReadDeadline(deadline); err != nil {
			return
		}
		n, err := s.pty.Master.Read(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			in = in[1:]
		case err != nil:
			return
		}
		in = append(in, buf[:n]...)
		for {
			f, used, err := evalpad.Cut(in)
			var fe *evalpad.FrameError
			switch {
			case errors.As(err, &fe) && fe.Kind == "crc":
				s.pace(used)
				s.send(s.nak(fe.Seq), s.take())
			case f != nil:
				s.pace(used)
				s.handle(*f)
			}
			in = in[used:]
			if f == nil && err == nil {
				break
			}
		}
	}
}

// pace waits until a frame of n bytes could have arrived at the faults'
// rate.
func (s *Pad) pace(n int) {
	s.mu.Lock()
	baud := s.faults.Baud
	s.mu.Unlock()
	if baud > 0 {
		time.Sleep(wireTime(n, baud))
	}
}

// handle answers one intact frame from the host.
func (s *Pad) handle(f evalpad.Frame) {
	switch f.Type {
	case evalpad.TypeAck, evalpad.TypeNak, evalpad.TypeError:
		s.mu.Lock()
		ev, unplugged := s.pending, s.faults.Silent
		s.mu.Unlock()
		if !unplugged && ev != nil && (f.Seq == ev.seq || f.Type == evalpad.TypeNak) {
			f.Payload = append([]byte(nil), f.Payload...)
			select {
			case ev.ch <- f:
			default:
			}
		}
		return
	case evalpad.TypePrompt, evalpad.TypeAsk, evalpad.TypeCancel, evalpad.TypeHeartbeat:
	default:
		s.send(s.refuse(f.Seq, evalpad.CodeType, fmt.Sprintf("%v is not a command", f.Type)), s.take())
		return
	}
	flt := s.take()
	if flt.Silent {
		return
	}
	if flt.Reject {
		s.send(s.nak(f.Seq), PadFaults{Baud: flt.Baud})
		return
	}
	key := string(rune(f.Type)) + string(f.Payload)
	s.mu.Lock()
	if s.last.ok && s.last.seq == f.Seq && s.last.frame == key {
		reply := s.last.reply
		s.mu.Unlock()
		s.send(reply, flt)
		return
	}
	reply := s.execute(f)
	s.last.ok, s.last.seq, s.last.frame, s.last.reply = true, f.Seq, key, reply
	s.mu.Unlock()
	s.send(reply, flt)
}

// execute carries out a command and gives the reply frame. Call with s.mu
// held.
func (s *Pad) execute(f evalpad.Frame) []byte {
	st := s.current()
	switch f.Type {
	case evalpad.TypePrompt:
		var p evalpad.Prompt
		if err := evalpad.Decode(f.Payload, &p); err != nil {
			return s.refuse(f.Seq, evalpad.CodePayload, err.Error())
		}
		if st == evalpad.StateAsking {
			return s.refuse(f.Seq, evalpad.CodeState, "asking for a rating: cancel first")
		}
		s.prompt, s.shown, s.state = p, true, evalpad.StatePrompt
	case evalpad.TypeAsk:
		var a evalpad.AskBody
		if err := evalpad.Decode(f.Payload, &a); err != nil {
			return s.refuse(f.Seq, evalpad.CodePayload, err.Error())
		}
		if st != evalpad.StatePrompt {
			return s.refuse(f.Seq, evalpad.CodeState, "can ask only while a prompt is shown, state "+st)
		}
		s.state, s.askSeq = evalpad.StateAsking, f.Seq
		s.askUntil = time.Now().Add(time.Duration(a.TimeoutMillis) * time.Millisecond)
	case evalpad.TypeCancel:
		// A rating already sent still counts: the screen stays until it
		// is answered.
		if st == evalpad.StateAsking && s.pending == nil {
			s.state = evalpad.StatePrompt
		}
	case evalpad.TypeHeartbeat:
		body, _ := json.Marshal(evalpad.StatusBody{State: st, Model: padModel, Firmware: padFirmware})
		return evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeStatus, Seq: f.Seq, Payload: body})
	}
	return evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeAck, Seq: f.Seq})
}

func (s *Pad) nak(seq byte) []byte {
	body, _ := json.Marshal(evalpad.NakBody{Reason: "crc"})
	return evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeNak, Seq: seq, Payload: body})
}

func (s *Pad) refuse(seq byte, code, detail string) []byte {
	body, _ := json.Marshal(evalpad.ErrorBody{Code: code, Detail: detail})
	return evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeError, Seq: seq, Payload: body})
}

// send writes a frame under the given faults. Write errors end with the
// pty, which serve notices.
func (s *Pad) send(frame []byte, f PadFaults) error {
	if f.Silent {
		return nil
	}
	if f.BadCRC {
		frame = append([]byte(nil), frame...)
		frame[len(frame)-2] ^= 0xFF
	}
	if f.Truncate {
		frame = frame[:len(frame)/2]
	}
	copies := 1
	if f.Duplicate {
		copies = 2
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for range copies {
		if err := padWrite(s.pty.Master, frame, f.Baud); err != nil {
			return err
		}
	}
	return nil
}

// padWrite writes b, at baud if set: in small chunks, each when its last
// byte would have gone out. The code scanner simulator uses it too.
func padWrite(w *os.File, b []byte, baud int) error {
	if baud <= 0 {
		_, err := w.Write(b)
		return err
	}
	const chunk = 16
	start := time.Now()
	for off := 0; off < len(b); {
		end := min(off+chunk, len(b))
		time.Sleep(time.Until(start.Add(wireTime(end, baud))))
		if _, err := w.Write(b[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}
