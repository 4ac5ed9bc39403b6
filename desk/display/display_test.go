package display

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"yici/sync/wire"
)

type fakeBoard struct {
	mu  sync.Mutex
	b   wire.Board
	err error
}

func (f *fakeBoard) Board(context.Context) (wire.Board, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.b, f.err
}

func (f *fakeBoard) set(b wire.Board, err error) {
	f.mu.Lock()
	f.b, f.err = b, err
	f.mu.Unlock()
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// texts is what the display's canvas texts say, one a line.
func texts(o fyne.CanvasObject) string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *canvas.Text:
			out = append(out, w.Text)
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return strings.Join(out, "\n")
}

// TestDisplayFlashesTheNewCall: what the board had at start stands still;
// a new call shows large, number → window, flashes for the flash time with
// a pulsing colour and chimes once; the last calls and the waiting counts
// show.
func TestDisplayFlashesTheNewCall(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	old := wire.BoardCall{Number: "B004", Window: "5", At: at}
	fb := &fakeBoard{b: wire.Board{Calls: []wire.BoardCall{old}, Last: []wire.BoardCall{old}, Waiting: map[string]int{"A": 2}}}
	clk := &clock{now: at}
	var chimes []string
	var chimeMu sync.Mutex
	d := New(fb, w, Options{Hall: "示例大厅", Now: clk.Now, Flash: 5 * time.Second, Chime: func(n, win string) {
		chimeMu.Lock()
		chimes = append(chimes, n+" "+win)
		chimeMu.Unlock()
	}})
	ctx := context.Background()
	if err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if f := d.Flashing(); f != "" {
		t.Errorf("the call on the board at start flashes: %q", f)
	}
	call := wire.BoardCall{Number: "A012", Window: "3", At: at.Add(time.Minute)}
	fb.set(wire.Board{Calls: []wire.BoardCall{call, old}, Last: []wire.BoardCall{call, old}, Waiting: map[string]int{"A": 1, "B": 3}}, nil)
	if err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if f := d.Flashing(); f != "A012" {
		t.Fatalf("flashing %q, want A012", f)
	}
	var said string
	var c1, c2 any
	fyne.DoAndWait(func() {
		said = texts(d.content)
		c1, c2 = d.Pulse(), d.Pulse()
	})
	for _, want := range []string{"A012", "→ 3号窗口", "B004", "→ 5号窗口", "A012 → 3号窗口", "A 类 1 人 · B 类 3 人"} {
		if !strings.Contains(said, want) {
			t.Errorf("the display does not say %q; it says:\n%s", want, said)
		}
	}
	if c1 == c2 || (c1 != FlashOn && c1 != FlashOff) || (c2 != FlashOn && c2 != FlashOff) {
		t.Errorf("the pulse shows %v then %v, want it to turn between the flash colours", c1, c2)
	}
	// The same board again: no second chime, still flashing.
	d.Poll(ctx)
	chimeMu.Lock()
	if len(chimes) != 1 || chimes[0] != "A012 3号窗口" {
		t.Errorf("chimes %q, want one for A012 at 3号窗口", chimes)
	}
	chimeMu.Unlock()
	clk.add(6 * time.Second)
	if f := d.Flashing(); f != "" {
		t.Errorf("still flashing %q after the flash time", f)
	}
	var c any
	fyne.DoAndWait(func() { c = d.Pulse() })
	if c == FlashOn || c == FlashOff {
		t.Errorf("the pulse stays %v after the flash", c)
	}
	// The platform unreachable: the calls stay, the status says so.
	fb.set(wire.Board{}, errors.New("down"))
	if err := d.Poll(ctx); err == nil {
		t.Fatal("no error from a failed read")
	}
	fyne.DoAndWait(func() { said = texts(d.content) })
	if !strings.Contains(said, "A012") || !strings.Contains(said, "平台暂不可达") {
		t.Errorf("after a failed read the display says:\n%s", said)
	}
}

func TestWindowName(t *testing.T) {
	for in, want := range map[string]string{"3": "3号窗口", "12": "12号窗口", "3号窗口": "3号窗口", "": ""} {
		if got := WindowName(in); got != want {
			t.Errorf("WindowName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCommandChimeMissing: a chime command that is not installed is
// logged, never fatal.
func TestCommandChimeMissing(t *testing.T) {
	Command("/nonexistent/espeak-ng")("A001", "3号窗口")
}
