package idcard_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"yici/drivers/idcard"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

var ctx = context.Background()

// rig starts a simulated reader and a driver on its pty, as real serial I/O.
func rig(t testing.TB, opts *idcard.Options) (*sim.IDCard, *idcard.Reader, serialport.Port) {
	t.Helper()
	s, err := sim.NewIDCard()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if opts == nil {
		opts = &idcard.Options{CommandTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond}
	}
	return s, idcard.New(p, opts), p
}

func TestReadCardEachLayout(t *testing.T) {
	s, r, _ := rig(t, nil)
	for _, want := range idcard.SampleCards() {
		t.Run(want.Type.String()+"/"+want.Birth, func(t *testing.T) {
			s.Place(want)
			got, err := r.ReadCard(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %#v\nwant %#v (masked)", got, want)
				t.Errorf("unmasked: %q %q / %q %q", got.Name, got.IDNumber, want.Name, want.IDNumber)
			}
			// Again with fingerprints (30 10), after lifting the card.
			want.Fingerprint = []byte(strings.Repeat("FP", 512))
			s.Lift()
			s.Place(want)
			if err := r.Find(ctx); err != nil {
				t.Fatal(err)
			}
			if err := r.Select(ctx); err != nil {
				t.Fatal(err)
			}
			got, err = r.Read(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("with fingerprint: got %#v, want %#v", got, want)
			}
		})
	}
}

func TestNoCard(t *testing.T) {
	_, r, _ := rig(t, nil)
	c, err := r.ReadCard(ctx)
	if !errors.Is(err, idcard.ErrNoCard) || c != nil {
		t.Fatalf("ReadCard = %v, %v; want ErrNoCard", c, err)
	}
	if want := "idcard: find card: find card failed (SW3 0x80), SW1 SW2 00 00"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	// Select and read out of order fail with the SAM's own codes.
	var se *idcard.StatusError
	if err := r.Select(ctx); !errors.As(err, &se) || se.Status != idcard.StatusSelectFailed {
		t.Errorf("Select = %v, want SW3 0x81", err)
	}
	if _, err := r.Read(ctx, false); !errors.As(err, &se) || se.Status != idcard.StatusReadFailed || errors.Is(err, idcard.ErrNoCard) {
		t.Errorf("Read = %v, want SW3 0x41", err)
	}
}

// A read card is not found again until it is lifted and placed again.
func TestLiftBeforeNextRead(t *testing.T) {
	s, r, _ := rig(t, nil)
	card := idcard.SampleCards()[0]
	s.Place(card)
	steps := []struct {
		do     func()
		noCard bool
	}{
		{nil, false},
		{nil, true},
		{nil, true},
		{func() { s.Lift() }, true},
		{func() { s.Place(card) }, false},
		{nil, true},
	}
	for i, st := range steps {
		if st.do != nil {
			st.do()
		}
		c, err := r.ReadCard(ctx)
		if st.noCard != errors.Is(err, idcard.ErrNoCard) || (err == nil) == (c == nil) {
			t.Fatalf("step %d: ReadCard = %v, %v; want no card: %v", i, c, err, st.noCard)
		}
	}
}

// Each fault knob gives the caller a clear error, and the reader works
// again once the fault is cleared.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		name    string
		faults  sim.Faults
		timeout bool          // error wraps serialport.ErrTimeout
		err     string        // part of the error; "" for success
		settle  time.Duration // for the simulator to finish a slow reply
	}{
		{"bad checksum", sim.Faults{BadChecksum: true}, false, "idcard: find card: read: checksum 0x68, want 0x97", 0},
		{"truncate", sim.Faults{Truncate: true}, true, "idcard: find card: read: serialport: timeout after 300ms: got 7 of 15 bytes", 0},
		{"silent", sim.Faults{Silent: true}, true, "idcard: find card: read: serialport: timeout after 300ms: no frame", 0},
		{"pace 115200", sim.Faults{Pace: true}, false, "", 0},
		{"pace too slow for the timeout", sim.Faults{Pace: true, Baud: 9600}, true, "idcard: read card: read: serialport: timeout after 500ms: got ", time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, r, _ := rig(t, nil)
			s.Place(idcard.SampleCards()[0])
			s.SetFaults(c.faults)
			start := time.Now()
			card, err := r.ReadCard(ctx)
			elapsed := time.Since(start)
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				// find 10+15, select 10+19, read 10+1295 bytes at 115200 bps.
				if wire := 1359 * 10 * time.Second / 115200; elapsed < wire {
					t.Errorf("paced read took %v, less than the wire time %v", elapsed, wire)
				}
			} else {
				if err == nil || card != nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ReadCard = %v, %v; want error containing %q", card, err, c.err)
				}
				if errors.Is(err, serialport.ErrTimeout) != c.timeout || errors.Is(err, idcard.ErrNoCard) {
					t.Errorf("err = %v: timeout %v, want %v; never ErrNoCard", err, !c.timeout, c.timeout)
				}
			}
			s.SetFaults(sim.Faults{})
			time.Sleep(c.settle)
			s.Lift()
			s.Place(idcard.SampleCards()[0])
			if _, err := r.ReadCard(ctx); err != nil {
				t.Errorf("after clearing the fault: %v", err)
			}
		})
	}
}

// A card that fails validation is refused whole.
func TestInvalidCardRefused(t *testing.T) {
	s, r, _ := rig(t, nil)
	for _, c := range []struct {
		edit func(c *idcard.Card)
		err  string
	}{
		{func(c *idcard.Card) { c.IDNumber = "210202198805041231" }, "ID number 2102**********1231 has check character '1', want 'X'"},
		{func(c *idcard.Card) { c.ValidFrom = "20151301" }, `valid from "20151301" is not a YYYYMMDD date`},
	} {
		card := idcard.SampleCards()[0]
		c.edit(&card)
		s.Lift()
		s.Place(card)
		got, err := r.ReadCard(ctx)
		if err == nil || got != nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ReadCard = %v, %v; want error containing %q", got, err, c.err)
		}
	}
}

func TestSAMCommands(t *testing.T) {
	_, r, _ := rig(t, nil)
	if err := r.Reset(ctx); err != nil {
		t.Error(err)
	}
	if err := r.CheckSAM(ctx); err != nil {
		t.Error(err)
	}
	id, err := r.SAMID(ctx)
	if want := "05.01-20260101-000000001-123456789"; err != nil || id != want {
		t.Errorf("SAMID = %q, %v; want %q", id, err, want)
	}
	if err := r.SetBaud(ctx, 57600); err != nil {
		t.Error(err)
	}
	if err := r.SetBaud(ctx, 4800); err == nil || !strings.Contains(err.Error(), "set baud 4800: want one of") {
		t.Errorf("SetBaud(4800) = %v", err)
	}
}

// A cancelled context ends a wait long before the timeout.
func TestContextCancel(t *testing.T) {
	s, r, _ := rig(t, &idcard.Options{CommandTimeout: 10 * time.Second})
	s.SetFaults(sim.Faults{Silent: true})
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := r.Find(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Find = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Find returned after %v", d)
	}
}

// The driver hunts past garbage on a real serial line and understands
// frames captured from a real reader, answered here by hand.
func TestCapturedFramesOverPTY(t *testing.T) {
	pt, err := sim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	p, err := serialport.Open(pt.Path, serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := idcard.New(p, &idcard.Options{CommandTimeout: time.Second})
	answers := [][]byte{
		unhexT(t, "00 FF AA 55 AAAAAA9669 FFFF 13 AAAAAA9669 0008 00009F 00000000 97"), // find OK after garbage
		unhexT(t, "AAAAAA9669 0004 000080 84"),                                         // find failed
	}
	go func() {
		cmd := make([]byte, 10)
		for _, a := range answers {
			if _, err := io.ReadFull(pt.Master, cmd); err != nil {
				return
			}
			pt.Master.Write(a)
		}
	}()
	if err := r.Find(ctx); err != nil {
		t.Errorf("Find after garbage: %v", err)
	}
	if err := r.Find(ctx); !errors.Is(err, idcard.ErrNoCard) {
		t.Errorf("Find = %v, want ErrNoCard", err)
	}
}

func unhexT(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingPort counts the bytes that cross the line both ways.
type countingPort struct {
	serialport.Port
	n int
}

func (c *countingPort) Read(b []byte) (int, error) {
	n, err := c.Port.Read(b)
	c.n += n
	return n, err
}

func (c *countingPort) Write(b []byte) (int, error) {
	n, err := c.Port.Write(b)
	c.n += n
	return n, err
}

// BenchmarkReadCardPaced reads a card from the simulator paced at 115200
// bps. ratio is the elapsed time over the wire time of all bytes exchanged
// (10 bits a byte at 115200): 1.0 would be a perfect driver on a perfect
// line. The unpaced run is the baseline: the same exchange with the pty
// delivering at full speed, so its ratio shows the driver's and pty's own
// share of that time.
func BenchmarkReadCardPaced(b *testing.B) {
	for _, bc := range []struct {
		name string
		pace bool
	}{{"paced-115200", true}, {"unpaced", false}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := sim.NewIDCard()
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p, err := serialport.Open(s.Path(), serialport.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			cp := &countingPort{Port: p}
			r := idcard.New(cp, nil)
			s.SetFaults(sim.Faults{Pace: bc.pace})
			card := idcard.SampleCards()[0]
			var elapsed time.Duration
			for b.Loop() {
				s.Lift()
				s.Place(card)
				start := time.Now()
				if _, err := r.ReadCard(ctx); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
			}
			wire := time.Duration(cp.n*10) * time.Second / 115200
			b.ReportMetric(float64(elapsed)/float64(wire), "ratio")
			b.ReportMetric(float64(cp.n)/float64(b.N), "bytes/op")
		})
	}
}

// fakeWLT stands in for a vendor's licensed WLT decoder.
type fakeWLT struct{ err error }

func (f fakeWLT) DecodeWLT(wlt []byte) (image.Image, error) {
	if len(wlt) != 1024 {
		return nil, fmt.Errorf("WLT is %d bytes", len(wlt))
	}
	return image.NewRGBA(image.Rect(0, 0, 102, 126)), f.err
}

func TestPhotoDecoderHook(t *testing.T) {
	for _, dec := range []fakeWLT{{}, {errors.New("licence expired")}} {
		s, r, _ := rig(t, &idcard.Options{PhotoDecoder: dec})
		s.Place(idcard.SampleCards()[0])
		c, err := r.ReadCard(ctx)
		if dec.err == nil && (err != nil || c.Image.Bounds().Dx() != 102) {
			t.Errorf("ReadCard = %v, %v; want a card with a 102-wide image", c, err)
		}
		if dec.err != nil && (c != nil || err == nil || err.Error() != "idcard: decode photo: licence expired") {
			t.Errorf("ReadCard = %v, %v; want the decoder's error", c, err)
		}
	}
}
