// Package display is the hall's call display (叫号屏, docs/sync-protocol.md
// §16): the tickets called now, number → window, large; the newest one
// flashing for a few seconds with a chime; the last calls; and how many
// wait per category. It shows the board of the platform and nothing else:
// numbers and windows, never who. It lives beside the desk because it
// shows the windows' calls; it needs only a platform client with the
// display role.
package display

import (
	"context"
	"fmt"
	"image/color"
	"log"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"

	"yici/sync/wire"
)

// Board reads the hall's call board (*uploader.Client).
type Board interface {
	Board(ctx context.Context) (wire.Board, error)
}

// Options are the display's settings.
type Options struct {
	Hall     string        // the title line
	Interval time.Duration // between reads of the board; default 1 s
	Flash    time.Duration // how long a new call flashes; default 5 s
	Calls    int           // current calls shown large; default 4
	Timeout  time.Duration // of each read; default 5 s
	// Chime announces a new call (number, window); nil: silent. It must
	// not block: Command's runs in the background.
	Chime func(number, window string)
	Now   func() time.Time
}

// Display is the call display's window content.
type Display struct {
	b   Board
	opt Options

	mu         sync.Mutex // read off the UI thread
	newest     string     // key of the newest call seen
	seen       bool       // the board was read once: what it had then does not flash
	flashUntil time.Time
	flashing   string // the number that flashes

	// On the UI thread only.
	content fyne.CanvasObject
	calls   *fyne.Container
	last    *fyne.Container
	waiting *canvas.Text
	status  *canvas.Text
	pulse   *canvas.Rectangle // behind the newest call: its colour pulses while it flashes
	on      bool              // the pulse's phase
}

var (
	background = color.NRGBA{R: 0x10, G: 0x18, B: 0x30, A: 0xff}
	number     = color.NRGBA{R: 0xff, G: 0xd0, B: 0x40, A: 0xff}
	plain      = color.NRGBA{R: 0xf0, G: 0xf0, B: 0xf0, A: 0xff}
	dim        = color.NRGBA{R: 0xa0, G: 0xa8, B: 0xc0, A: 0xff}
	// FlashOn and FlashOff are the pulse's two colours.
	FlashOn  = color.NRGBA{R: 0xd0, G: 0x20, B: 0x20, A: 0xff}
	FlashOff = color.NRGBA{R: 0x60, G: 0x10, B: 0x10, A: 0xff}
)

// New builds the display in w.
func New(b Board, w fyne.Window, opt Options) *Display {
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.Flash <= 0 {
		opt.Flash = 5 * time.Second
	}
	if opt.Calls <= 0 {
		opt.Calls = 4
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	d := &Display{b: b, opt: opt}
	title := canvas.NewText(strings.TrimSpace(opt.Hall+" 叫号 / Now calling"), plain)
	title.TextSize, title.TextStyle = 34, fyne.TextStyle{Bold: true}
	d.calls = container.NewVBox()
	d.last = container.NewVBox()
	d.waiting = canvas.NewText("", plain)
	d.waiting.TextSize = 30
	d.status = canvas.NewText("", dim)
	d.status.TextSize = 18
	d.pulse = canvas.NewRectangle(color.Transparent)
	lastTitle := canvas.NewText("最近叫号 / Last calls", dim)
	lastTitle.TextSize = 24
	side := container.NewVBox(lastTitle, d.last)
	body := container.NewBorder(nil, nil, nil, container.NewPadded(side), container.NewPadded(d.calls))
	d.content = container.NewStack(canvas.NewRectangle(background),
		container.NewBorder(container.NewPadded(title), container.NewPadded(container.NewVBox(d.waiting, d.status)), nil, nil, body))
	d.show(wire.Board{})
	w.SetContent(d.content)
	return d
}

// Poll reads the board once and shows it; a call newer than any seen
// before flashes and chimes. Call it off the UI thread.
func (d *Display) Poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	b, err := d.b.Board(ctx)
	if err != nil {
		fyne.DoAndWait(func() {
			d.status.Text = "平台暂不可达 / platform unreachable · " + d.opt.Now().Format("15:04:05")
			d.status.Refresh()
		})
		return err
	}
	var fresh *wire.BoardCall
	if len(b.Calls) > 0 {
		fresh = &b.Calls[0]
	} else if len(b.Last) > 0 {
		fresh = &b.Last[0]
	}
	d.mu.Lock()
	chime := false
	if fresh != nil {
		key := fresh.Number + "\x00" + fresh.Window + "\x00" + fresh.At.String()
		if key != d.newest {
			d.newest = key
			if d.seen && len(b.Calls) > 0 {
				d.flashing, d.flashUntil, chime = fresh.Number, d.opt.Now().Add(d.opt.Flash), true
			}
		}
	}
	d.seen = true
	d.mu.Unlock()
	fyne.DoAndWait(func() { d.show(b) })
	if chime && d.opt.Chime != nil {
		d.opt.Chime(fresh.Number, WindowName(fresh.Window))
	}
	return nil
}

// Flashing is the number that flashes now, or "".
func (d *Display) Flashing() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.flashing == "" || !d.opt.Now().Before(d.flashUntil) {
		return ""
	}
	return d.flashing
}

// Pulse turns the newest call's colour over while it flashes, and clears
// it after; Run calls it a few times a second. It reports the colour
// shown. Call it on the UI thread.
func (d *Display) Pulse() color.Color {
	var c color.Color = color.Transparent
	if d.Flashing() != "" {
		d.on = !d.on
		c = FlashOff
		if d.on {
			c = FlashOn
		}
	}
	if d.pulse.FillColor != c {
		d.pulse.FillColor = c
		d.pulse.Refresh()
	}
	return c
}

// Run reads the board every interval and pulses the flash until ctx ends.
func (d *Display) Run(ctx context.Context) {
	go func() {
		t := time.NewTicker(400 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fyne.Do(func() { d.Pulse() })
			}
		}
	}()
	for {
		if err := d.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Printf("display: board: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.opt.Interval):
		}
	}
}

// show lays out board b; call it on the UI thread.
func (d *Display) show(b wire.Board) {
	d.calls.RemoveAll()
	if len(b.Calls) == 0 {
		t := canvas.NewText("请留意叫号 / Please wait to be called", dim)
		t.TextSize = 36
		d.calls.Add(t)
	}
	for i, c := range b.Calls {
		if i == d.opt.Calls {
			break
		}
		num := canvas.NewText(c.Number, number)
		num.TextSize, num.TextStyle = 96, fyne.TextStyle{Bold: true}
		win := canvas.NewText("→ "+WindowName(c.Window), plain)
		win.TextSize, win.TextStyle = 72, fyne.TextStyle{Bold: true}
		row := container.NewHBox(num, layout.NewSpacer(), win)
		if i == 0 {
			d.calls.Add(container.NewStack(d.pulse, container.NewPadded(row)))
		} else {
			d.calls.Add(container.NewPadded(row))
		}
	}
	d.last.RemoveAll()
	for _, c := range b.Last {
		t := canvas.NewText(fmt.Sprintf("%s → %s  %s", c.Number, WindowName(c.Window), c.At.Local().Format("15:04")), plain)
		t.TextSize = 26
		d.last.Add(t)
	}
	cats := make([]string, 0, len(b.Waiting))
	for c := range b.Waiting {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	var parts []string
	for _, c := range cats {
		parts = append(parts, fmt.Sprintf("%s 类 %d 人", c, b.Waiting[c]))
	}
	w := "等候 / Waiting：无"
	if len(parts) > 0 {
		w = "等候 / Waiting：" + strings.Join(parts, " · ")
	}
	d.waiting.Text = w
	d.waiting.Refresh()
	d.status.Text = "更新于 " + d.opt.Now().Format("15:04:05")
	d.status.Refresh()
	d.Pulse()
}

// WindowName is how the display names a window: a bare number is "3号窗口".
func WindowName(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return w + "号窗口"
	}
	return w
}

// Command is a chime that runs name with args and the announcement
// ("请 A012 号到 3号窗口") as its last argument, in the background; a
// missing or failing command is logged, never fatal.
func Command(name string, args ...string) func(number, window string) {
	return func(number, window string) {
		text := fmt.Sprintf("请 %s 号到 %s", spell(number), window)
		go func() {
			cmd := exec.Command(name, append(slices.Clone(args), text)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				log.Printf("display: chime %s: %v %s", name, err, strings.TrimSpace(string(out)))
			}
		}()
	}
}

// AutoChime is espeak-ng speaking Mandarin if it is installed, else nil:
// the display stays silent rather than fail.
func AutoChime() func(number, window string) {
	if p, err := exec.LookPath("espeak-ng"); err == nil {
		return Command(p, "-v", "cmn")
	}
	return nil
}

// spell spaces a number's characters so a speech synthesiser reads
// "A012" as A 0 1 2, as halls announce them.
func spell(n string) string {
	return strings.Join(strings.Split(n, ""), " ")
}
