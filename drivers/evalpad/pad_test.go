package evalpad_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"yici/drivers/evalpad"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

var ctx = context.Background()

// An invented case at an invented window.
var prompt = evalpad.Prompt{CaseNo: "DL2026000123", ClerkName: "王小明", ClerkID: "A0173", Window: "3号窗口", Item: "居民身份证换领"}

// rig starts a simulated pad and a driver on its pty, as real serial I/O.
func rig(t *testing.T, opts *evalpad.Options) (*sim.Pad, *evalpad.Pad) {
	t.Helper()
	s, err := sim.NewPad()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	d := evalpad.New(p, opts)
	t.Cleanup(func() { d.Close() })
	return s, d
}

// pressWhenAsked waits for the pad to show the rating screen, then presses.
func pressWhenAsked(s *sim.Pad, level evalpad.Level, reasons ...evalpad.Reason) <-chan error {
	done := make(chan error, 1)
	go func() {
		for deadline := time.Now().Add(3 * time.Second); s.State() != evalpad.StateAsking; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				done <- errors.New("pad never asked")
				return
			}
		}
		done <- s.Press(level, reasons...)
	}()
	return done
}

func TestLevel(t *testing.T) {
	for _, c := range []struct {
		l    evalpad.Level
		name string
		poor bool
	}{
		{evalpad.VerySatisfied, "非常满意", false},
		{evalpad.Satisfied, "满意", false},
		{evalpad.FairlySatisfied, "基本满意", false},
		{evalpad.Dissatisfied, "不满意", true},
		{evalpad.VeryDissatisfied, "非常不满意", true},
		{0, "等级(0)", false},
		{6, "等级(6)", false},
	} {
		if c.l.String() != c.name || c.l.Poor() != c.poor {
			t.Errorf("Level %d: %q poor %v, want %q %v", uint8(c.l), c.l, c.l.Poor(), c.name, c.poor)
		}
	}
	if s := evalpad.ReasonExtraMaterials.String() + evalpad.Reason(42).String(); s != "要求额外材料原因(42)" {
		t.Errorf("reasons: %q", s)
	}
}

// Every level goes through, with its reasons and the prompt it rates.
func TestRatingEachLevel(t *testing.T) {
	s, d := rig(t, nil)
	for _, c := range []struct {
		level   evalpad.Level
		reasons []evalpad.Reason
	}{
		{evalpad.VerySatisfied, nil},
		{evalpad.Satisfied, nil},
		{evalpad.FairlySatisfied, nil},
		{evalpad.Dissatisfied, []evalpad.Reason{evalpad.ReasonManyTrips}},
		{evalpad.VeryDissatisfied, []evalpad.Reason{evalpad.ReasonAttitude, evalpad.ReasonExtraMaterials, evalpad.ReasonOther}},
	} {
		t.Run(c.level.String(), func(t *testing.T) {
			p := prompt
			p.CaseNo += c.level.String()
			if err := d.Prompt(ctx, p); err != nil {
				t.Fatal(err)
			}
			if got, ok := s.Shown(); !ok || got != p {
				t.Fatalf("pad shows %+v, want %+v", got, p)
			}
			pressed := pressWhenAsked(s, c.level, c.reasons...)
			r, err := d.AskRating(ctx, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-pressed; err != nil {
				t.Fatal(err)
			}
			if r.Level != c.level || !reflect.DeepEqual(r.Reasons, c.reasons) || r.Prompt != p || time.Since(r.At) > 5*time.Second {
				t.Errorf("got %+v, want level %v reasons %v for %+v", r, c.level, c.reasons, p)
			}
			if st := s.State(); st != evalpad.StateIdle {
				t.Errorf("pad state %s after rating, want idle", st)
			}
			if got, _ := s.Shown(); got != p {
				t.Errorf("last prompt no longer readable: %+v", got)
			}
		})
	}
}

// A rating that breaks the reason rules is refused; the screen stays up
// and a corrected press counts.
func TestRatingRules(t *testing.T) {
	s, d := rig(t, nil)
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	var r evalpad.Rating
	go func() {
		var err error
		r, err = d.AskRating(ctx, 5*time.Second)
		res <- err
	}()
	for _, c := range []struct {
		level   evalpad.Level
		reasons []evalpad.Reason
		want    string
	}{
		{evalpad.Dissatisfied, nil, "level 4 (不满意) needs at least one reason"},
		{evalpad.Satisfied, []evalpad.Reason{evalpad.ReasonSlow}, "level 2 (满意) takes no reasons"},
		{evalpad.VeryDissatisfied, []evalpad.Reason{evalpad.ReasonSlow, evalpad.ReasonSlow}, "reason 2 (效率低) given twice"},
		{evalpad.VeryDissatisfied, []evalpad.Reason{77}, "unknown reason code 77"},
		{9, nil, "level 9, want 1..5"},
	} {
		err := <-pressWhenAsked(s, c.level, c.reasons...)
		if err == nil || !strings.Contains(err.Error(), "host refused the rating (payload): rating: "+c.want) {
			t.Errorf("Press(%v, %v) = %v, want refusal %q", c.level, c.reasons, err, c.want)
		}
	}
	if err := <-pressWhenAsked(s, evalpad.Dissatisfied, evalpad.ReasonUnclearGuide); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if r.Level != evalpad.Dissatisfied || len(r.Reasons) != 1 || r.Reasons[0] != evalpad.ReasonUnclearGuide {
		t.Errorf("got %+v", r)
	}
}

// No press: ErrNoRating after the timeout, and the pad leaves the rating
// screen because the driver cancels it.
func TestAskTimeout(t *testing.T) {
	s, d := rig(t, nil)
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := d.AskRating(ctx, 200*time.Millisecond)
	if !errors.Is(err, evalpad.ErrNoRating) || err.Error() != "evalpad: no rating in 200ms" {
		t.Fatalf("err = %v, want ErrNoRating", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > time.Second {
		t.Errorf("gave up after %v", el)
	}
	if st := s.State(); st != evalpad.StatePrompt {
		t.Errorf("pad state %s, want prompt (cancelled)", st)
	}
}

// Cancel from another goroutine and an ended context both end AskRating
// with ErrNoRating.
func TestCancel(t *testing.T) {
	s, d := rig(t, nil)
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { _, err := d.AskRating(ctx, time.Minute); res <- err }()
	for s.State() != evalpad.StateAsking {
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, evalpad.ErrNoRating) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("AskRating after Cancel = %v", err)
	}
	if st := s.State(); st != evalpad.StatePrompt {
		t.Errorf("pad state %s, want prompt", st)
	}

	c, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	_, err := d.AskRating(c, time.Minute)
	if !errors.Is(err, evalpad.ErrNoRating) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AskRating with ended context = %v", err)
	}
	if st := s.State(); st != evalpad.StatePrompt {
		t.Errorf("pad state %s, want prompt", st)
	}
}

// The pad refuses what its state does not allow; the driver refuses what
// it can tell is wrong before sending.
func TestRefusals(t *testing.T) {
	s, d := rig(t, nil)
	if _, err := d.AskRating(ctx, time.Second); err == nil || err.Error() != "evalpad: ask rating: no prompt shown since the last rating (one rating per prompt)" {
		t.Errorf("AskRating before Prompt = %v", err)
	}
	bad := prompt
	bad.ClerkID = ""
	if err := d.Prompt(ctx, bad); err == nil || err.Error() != "evalpad: prompt: clerk_id is empty" {
		t.Errorf("Prompt without clerk id = %v", err)
	}
	bad.ClerkID, bad.Window = "A0173", strings.Repeat("窗", 65)
	if err := d.Prompt(ctx, bad); err == nil || !strings.Contains(err.Error(), "window has 65 characters, over 64") {
		t.Errorf("Prompt with long window = %v", err)
	}
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AskRating(ctx, 0); err == nil || err.Error() != "evalpad: ask rating: timeout 0s, want more than 0" {
		t.Errorf("AskRating for 0 s = %v", err)
	}
	if _, err := d.AskRating(ctx, 11*time.Minute); err == nil || err.Error() != "evalpad: ask rating: ask: timeout_ms 662000, want 1..600000" {
		t.Errorf("AskRating for 11 minutes = %v", err)
	}
	go d.AskRating(ctx, time.Minute)
	for s.State() != evalpad.StateAsking {
		time.Sleep(5 * time.Millisecond)
	}
	var pe *evalpad.PadError
	err := d.Prompt(ctx, prompt)
	if !errors.As(err, &pe) || pe.Code != evalpad.CodeState {
		t.Errorf("Prompt while asking = %v, want a state PadError", err)
	}
	if want := "evalpad: prompt: pad refused (state): asking for a rating: cancel first"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestHeartbeat(t *testing.T) {
	s, d := rig(t, nil)
	want := []string{evalpad.StateIdle, evalpad.StatePrompt, evalpad.StateAsking}
	for i, step := range []func(){
		func() {},
		func() { d.Prompt(ctx, prompt) },
		func() {
			go d.AskRating(ctx, time.Minute)
			for s.State() != evalpad.StateAsking {
				time.Sleep(5 * time.Millisecond)
			}
		},
	} {
		step()
		st, err := d.Heartbeat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != want[i] || st.Model != "YICI-SIM-PAD" || st.Firmware == "" {
			t.Errorf("step %d: %+v, want state %s", i, st, want[i])
		}
	}
}

// Each fault knob of the simulator, and what the caller sees. After each
// the faults are cleared and the pad must work again.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		name    string
		faults  sim.PadFaults
		opts    *evalpad.Options
		err     string // "" for success
		timeout bool   // err wraps serialport.ErrTimeout
	}{
		{name: "bad CRC once: NAK, retry", faults: sim.PadFaults{BadCRC: true, Times: 1}},
		{name: "bad CRC always", faults: sim.PadFaults{BadCRC: true},
			err: "no valid reply (3 attempts, 0 NAKed, 3 unanswered in 334ms; last bad frame: evalpad: frame: crc 0x3EB8, want 0x3E47)", timeout: true},
		{name: "truncated once", faults: sim.PadFaults{Truncate: true, Times: 1}},
		{name: "truncated always", faults: sim.PadFaults{Truncate: true},
			err: "last bad frame: evalpad: frame: incomplete, 4 bytes then 100ms of silence", timeout: true},
		{name: "unplugged", faults: sim.PadFaults{Silent: true},
			err: "evalpad: prompt: serialport: timeout: no valid reply (3 attempts, 0 NAKed, 3 unanswered in 334ms)", timeout: true},
		{name: "unplugged for one command", faults: sim.PadFaults{Silent: true, Times: 1}},
		{name: "NAK once", faults: sim.PadFaults{Reject: true, Times: 2}},
		{name: "NAK always", faults: sim.PadFaults{Reject: true},
			err: "evalpad: prompt: pad NAKed every attempt (3 attempts, 3 NAKed, 0 unanswered"},
		{name: "every frame twice", faults: sim.PadFaults{Duplicate: true}},
		{name: "slow link at 9600", faults: sim.PadFaults{Baud: 9600}, opts: &evalpad.Options{Baud: 9600}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, d := rig(t, c.opts)
			s.SetFaults(c.faults)
			start := time.Now()
			err := d.Prompt(ctx, prompt)
			el := time.Since(start)
			if c.err == "" && err != nil {
				t.Fatalf("Prompt = %v, want success", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("Prompt = %v, want %q", err, c.err)
			}
			if errors.Is(err, serialport.ErrTimeout) != c.timeout {
				t.Errorf("wraps ErrTimeout: %v, want %v", errors.Is(err, serialport.ErrTimeout), c.timeout)
			}
			if c.faults.Baud > 0 {
				// PROMPT (131 bytes) and ACK (8) at 9600 baud take 145 ms.
				if wire := 139 * 10 * time.Second / 9600; el < wire {
					t.Errorf("Prompt took %v at 9600 baud, less than the wire time %v", el, wire)
				}
			}
			if c.err == "" {
				pressed := pressWhenAsked(s, evalpad.VeryDissatisfied, evalpad.ReasonSlow)
				r, err := d.AskRating(ctx, 5*time.Second)
				if err != nil || r.Level != evalpad.VeryDissatisfied {
					t.Fatalf("AskRating = %+v, %v", r, err)
				}
				if err := <-pressed; err != nil {
					t.Fatal(err)
				}
			}
			s.SetFaults(sim.PadFaults{})
			if _, err := d.Heartbeat(ctx); err != nil {
				t.Errorf("Heartbeat after the fault cleared: %v", err)
			}
		})
	}
}

// A rating sent twice (as after a lost ACK) is acknowledged twice and
// counted once: the next ask does not see it.
func TestDuplicateRatingCountsOnce(t *testing.T) {
	s, d := rig(t, nil)
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.PadFaults{Duplicate: true})
	pressed := pressWhenAsked(s, evalpad.Satisfied)
	if _, err := d.AskRating(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := <-pressed; err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the copy arrive
	if _, err := d.AskRating(ctx, time.Second); err == nil || !strings.Contains(err.Error(), "one rating per prompt") {
		t.Errorf("second ask without a prompt = %v", err)
	}
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	if r, err := d.AskRating(ctx, 300*time.Millisecond); !errors.Is(err, evalpad.ErrNoRating) {
		t.Errorf("second ask = %+v, %v; want ErrNoRating", r, err)
	}
}

// A press while the CANCEL is still on its way counts for that ask; one
// that comes after AskRating has given up goes to Options.Late.
func TestRatingRacesCancel(t *testing.T) {
	var mu sync.Mutex
	var late []evalpad.Rating
	s, d := rig(t, &evalpad.Options{Late: func(r evalpad.Rating) { mu.Lock(); late = append(late, r); mu.Unlock() }})
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	// The pad goes deaf after acknowledging the ASK, so the CANCEL goes
	// unanswered; the citizen presses meanwhile and the pad hears again.
	ask := make(chan error, 1)
	var got evalpad.Rating
	go func() {
		var err error
		got, err = d.AskRating(ctx, 100*time.Millisecond)
		ask <- err
	}()
	for s.State() != evalpad.StateAsking {
		time.Sleep(5 * time.Millisecond)
	}
	s.SetFaults(sim.PadFaults{Silent: true, Times: 1})
	time.Sleep(200 * time.Millisecond) // the ask times out; the first CANCEL vanishes
	if err := s.Press(evalpad.FairlySatisfied); err != nil {
		t.Fatal(err)
	}
	if err := <-ask; err != nil || got.Level != evalpad.FairlySatisfied {
		t.Fatalf("AskRating = %+v, %v; want the rating that crossed the CANCEL", got, err)
	}

	// Now the CANCEL is lost for good: AskRating gives up, the pad still
	// asks, and the citizen's press arrives late.
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	go func() {
		for s.State() != evalpad.StateAsking {
			time.Sleep(5 * time.Millisecond)
		}
		s.SetFaults(sim.PadFaults{Silent: true})
	}()
	_, err := d.AskRating(ctx, 100*time.Millisecond)
	if !errors.Is(err, evalpad.ErrNoRating) || !strings.Contains(err.Error(), "the pad may still be asking") {
		t.Fatalf("AskRating = %v", err)
	}
	s.SetFaults(sim.PadFaults{})
	if err := s.Press(evalpad.VeryDissatisfied, evalpad.ReasonAttitude); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(late) != 1 || late[0].Level != evalpad.VeryDissatisfied || late[0].Prompt != prompt {
		t.Errorf("late ratings %+v, want the one pressed", late)
	}
}

// Close ends a waiting AskRating and later commands.
func TestClose(t *testing.T) {
	s, d := rig(t, nil)
	if err := d.Prompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { _, err := d.AskRating(ctx, time.Minute); res <- err }()
	for s.State() != evalpad.StateAsking {
		time.Sleep(5 * time.Millisecond)
	}
	d.Close()
	if err := <-res; err == nil || err.Error() != "evalpad: ask rating: driver closed" {
		t.Errorf("AskRating after Close = %v", err)
	}
	if _, err := d.Heartbeat(ctx); err == nil || err.Error() != "evalpad: heartbeat: driver closed" {
		t.Errorf("Heartbeat after Close = %v", err)
	}
}

// unpluggable fails reads and writes while unplugged, as a reconnecting
// port does while its device is away.
type unpluggable struct {
	serialport.Port
	mu  sync.Mutex
	out bool
}

var errUnplugged = errors.New("device unplugged")

func (u *unpluggable) set(out bool) { u.mu.Lock(); u.out = out; u.mu.Unlock() }
func (u *unpluggable) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.out {
		return errUnplugged
	}
	return nil
}
func (u *unpluggable) Read(b []byte) (int, error) {
	if err := u.err(); err != nil {
		time.Sleep(10 * time.Millisecond)
		return 0, err
	}
	return u.Port.Read(b)
}
func (u *unpluggable) Write(b []byte) (int, error) {
	if err := u.err(); err != nil {
		return 0, err
	}
	return u.Port.Write(b)
}

// While the port fails, commands fail with its error at once; when it
// works again, so does the Pad.
func TestPortFailsAndRecovers(t *testing.T) {
	s, err := sim.NewPad()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u := &unpluggable{Port: p}
	d := evalpad.New(u, nil)
	defer d.Close()
	if _, err := d.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	u.set(true)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if _, err := d.Heartbeat(ctx); !errors.Is(err, errUnplugged) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Heartbeat while unplugged = %v after %v, want the port's error at once", err, time.Since(start))
	}
	u.set(false)
	time.Sleep(300 * time.Millisecond)
	if _, err := d.Heartbeat(ctx); err != nil {
		t.Errorf("Heartbeat after replugging = %v", err)
	}
}
