package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"yici/drivers/evalpad"
	"yici/drivers/serialport"
)

// padRig starts a simulated pad and opens its port raw, with no driver.
func padRig(t *testing.T) (*Pad, serialport.Port) {
	t.Helper()
	s, err := NewPad()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s, p
}

// readPadFrame reads one whole frame off the port.
func readPadFrame(t *testing.T, p serialport.Port) evalpad.Frame {
	t.Helper()
	var buf []byte
	deadline := time.Now().Add(time.Second)
	for {
		f, n, err := evalpad.Cut(buf)
		if err != nil {
			t.Fatalf("pad sent a bad frame: %v", err)
		}
		if f != nil {
			if n != len(buf) {
				t.Fatalf("% X after the frame", buf[n:])
			}
			return *f
		}
		if time.Now().After(deadline) {
			t.Fatalf("no whole frame in a second, got % X", buf)
		}
		b := make([]byte, 256)
		p.SetReadTimeout(50 * time.Millisecond)
		m, err := p.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b[:m]...)
	}
}

// The pad answers the protocol's frames byte for byte, including damaged
// and repeated ones.
func TestPadBytes(t *testing.T) {
	_, p := padRig(t)
	for _, st := range []struct {
		name, send string
		sleep      time.Duration
		want       string // whole reply in hex, or
		typ        evalpad.Type
		body       string // the reply's type and a part of its body
	}{
		{name: "heartbeat", send: "02 0000 13 01 C2C1 03", typ: evalpad.TypeStatus, body: `{"state":"idle","model":"YICI-SIM-PAD","firmware":"1.0"}`},
		{name: "cancel while idle", send: "02 0000 12 02 C193 03", want: "02 0000 06 02 0E24 03"},
		{name: "cancel sent again", send: "02 0000 12 02 C193 03", want: "02 0000 06 02 0E24 03"},
		{name: "bad crc", send: "02 0000 12 05 0000 03", typ: evalpad.TypeNak, body: `{"reason":"crc"}`},
		{name: "half a frame, a pause, a frame", send: "02 0000 13", sleep: 150 * time.Millisecond},
		{name: "", send: "02 0000 13 03 E283 03", typ: evalpad.TypeStatus, body: `"state":"idle"`},
		{name: "unknown type", send: "02 0000 7E 04 EF12 03", typ: evalpad.TypeError, body: `{"code":"type","detail":"type 0x7E is not a command"}`},
	} {
		if _, err := p.Write(unhex(t, st.send)); err != nil {
			t.Fatal(err)
		}
		if st.sleep > 0 {
			time.Sleep(st.sleep)
			continue
		}
		f := readPadFrame(t, p)
		if st.want != "" {
			if got := evalpad.AppendFrame(nil, f); !bytes.Equal(got, unhex(t, st.want)) {
				t.Errorf("%s: got % X, want %s", st.name, got, st.want)
			}
			continue
		}
		if f.Type != st.typ || !strings.Contains(string(f.Payload), st.body) {
			t.Errorf("%s: got %v %s, want %v with %s", st.name, f.Type, f.Payload, st.typ, st.body)
		}
	}
}

// Commands in the wrong state are refused with ERROR state; a prompt
// missing a field with ERROR payload; Press works only while asking.
func TestPadStates(t *testing.T) {
	s, p := padRig(t)
	cmd := func(seq byte, typ evalpad.Type, body any) evalpad.Frame {
		t.Helper()
		var payload []byte
		if body != nil {
			payload, _ = json.Marshal(body)
		}
		if _, err := p.Write(evalpad.AppendFrame(nil, evalpad.Frame{Type: typ, Seq: seq, Payload: payload})); err != nil {
			t.Fatal(err)
		}
		return readPadFrame(t, p)
	}
	expect := func(f evalpad.Frame, typ evalpad.Type, body string) {
		t.Helper()
		if f.Type != typ || !strings.Contains(string(f.Payload), body) {
			t.Errorf("got %v %s, want %v with %s", f.Type, f.Payload, typ, body)
		}
	}
	if err := s.Press(evalpad.Satisfied); err == nil || err.Error() != "sim: pad: press 满意: not asking for a rating (state idle)" {
		t.Errorf("Press while idle = %v", err)
	}
	expect(cmd(1, evalpad.TypeAsk, evalpad.AskBody{TimeoutMillis: 1000}), evalpad.TypeError, `"code":"state"`)
	expect(cmd(2, evalpad.TypePrompt, evalpad.Prompt{CaseNo: "X1", ClerkName: "李小红"}), evalpad.TypeError, `prompt: clerk_id is empty`)
	pr := evalpad.Prompt{CaseNo: "X1", ClerkName: "李小红", ClerkID: "B0042", Window: "5号窗口"}
	expect(cmd(3, evalpad.TypePrompt, pr), evalpad.TypeAck, "")
	if got, ok := s.Shown(); !ok || got != pr {
		t.Errorf("Shown = %+v, %v", got, ok)
	}
	expect(cmd(4, evalpad.TypeAsk, evalpad.AskBody{TimeoutMillis: 0}), evalpad.TypeError, "timeout_ms 0")
	expect(cmd(5, evalpad.TypeAsk, evalpad.AskBody{TimeoutMillis: 200}), evalpad.TypeAck, "")
	expect(cmd(6, evalpad.TypePrompt, pr), evalpad.TypeError, "cancel first")
	// The pad's own timer ends the ask when the host says nothing.
	time.Sleep(250 * time.Millisecond)
	if st := s.State(); st != evalpad.StatePrompt {
		t.Errorf("state %s after the pad's timeout, want prompt", st)
	}
	expect(cmd(7, evalpad.TypeAsk, evalpad.AskBody{TimeoutMillis: 5000}), evalpad.TypeAck, "")

	// Press sends the rating until the host answers; this host answers
	// the second copy.
	done := make(chan error, 1)
	go func() { done <- s.Press(evalpad.Dissatisfied, evalpad.ReasonManyTrips) }()
	r := readPadFrame(t, p)
	var body evalpad.RatingBody
	if err := json.Unmarshal(r.Payload, &body); err != nil || r.Type != evalpad.TypeRating || body.Ask != 7 || body.CaseNo != "X1" {
		t.Fatalf("rating %v %s", r.Type, r.Payload)
	}
	again := readPadFrame(t, p)
	if again.Seq != r.Seq || !bytes.Equal(again.Payload, r.Payload) {
		t.Errorf("retransmission %v differs from %v", again, r)
	}
	p.Write(evalpad.AppendFrame(nil, evalpad.Frame{Type: evalpad.TypeAck, Seq: r.Seq}))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st != evalpad.StateIdle {
		t.Errorf("state %s after the rating, want idle", st)
	}
}
