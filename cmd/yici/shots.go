package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// shooter takes screenshots of the demo's real windows from the X server:
// Fyne's Canvas().Capture() returns a transparent image in a real window.
// Under Xvfb there is no window manager, so every window opens at 0,0;
// arrange moves them side by side (with xdotool) so none hides another.
type shooter struct {
	dir  string
	wins map[string]fyne.Window // by title: what each window's widgets say is saved beside its picture
}

// xwindow finds the X id of the top-level window whose title (or class,
// which Fyne sets to the title) starts with the ASCII part of title: in
// some locales xwininfo cannot print the Chinese part.
func xwindow(title string) (string, error) {
	if i := strings.IndexFunc(title, func(r rune) bool { return r > 0x7f }); i > 0 {
		title = title[:i]
	}
	cmd := exec.Command("xwininfo", "-root", "-tree")
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("shots: xwininfo: %w (install x11-utils)", err)
	}
	re := regexp.MustCompile(`^\s+(0x[0-9a-f]+) .*"` + regexp.QuoteMeta(title))
	for _, l := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("shots: no window titled %q among:\n%s", title, out)
}

// arrange places each titled window at its position; it waits for windows
// that are still opening.
func (s *shooter) arrange(pos map[string][2]int) error {
	for title, p := range pos {
		var id string
		var err error
		for i := 0; i < 50; i++ {
			if id, err = xwindow(title); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		if out, err := exec.Command("xdotool", "windowmove", id, fmt.Sprint(p[0]), fmt.Sprint(p[1])).CombinedOutput(); err != nil {
			return fmt.Errorf("shots: xdotool windowmove %s: %v: %s", title, err, out)
		}
	}
	return nil
}

// window saves a PNG of one window as dir/name.png.
func (s *shooter) window(title, name string) error {
	id, err := xwindow(title)
	if err != nil {
		return err
	}
	// import grabs what the screen shows where the window is: raise it
	// first, so a neighbour that overlaps it (the device panel reaches down
	// over the desk's top corner) does not cover it in the picture.
	if out, err := exec.Command("xdotool", "windowraise", id).CombinedOutput(); err != nil {
		return fmt.Errorf("shots: xdotool windowraise %s: %v: %s", title, err, out)
	}
	time.Sleep(200 * time.Millisecond) // the raised window's frame is redrawn
	if w, ok := s.wins[title]; ok {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return err
		}
		var lines []string
		fyne.DoAndWait(func() { visibleText(w.Content(), &lines) })
		if err := os.WriteFile(filepath.Join(s.dir, name+".txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return s.run(name, "-window", id)
}

// screen saves a PNG of the whole virtual screen.
func (s *shooter) screen(name string) error { return s.run(name, "-window", "root") }

func (s *shooter) run(name string, args ...string) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(s.dir, name+".png")
	out, err := exec.Command("import", append(args, dst)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("shots: import %s: %v: %s (install imagemagick)", name, err, out)
	}
	return nil
}

// visibleText appends what the visible widgets under o say, one per line:
// the real-window test checks it beside the picture, so a wrong screen
// fails on its content, not only on its size and colours.
func visibleText(o fyne.CanvasObject, out *[]string) {
	if o == nil || !o.Visible() {
		return
	}
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			*out = append(*out, s)
		}
	}
	switch w := o.(type) {
	case *widget.Label:
		add(w.Text)
	case *widget.Button:
		add(w.Text)
	case *widget.Select:
		if w.Selected != "" {
			add(w.Selected)
		} else {
			add(w.PlaceHolder)
		}
	case *widget.Entry:
		if w.Text != "" && !w.Password {
			add(w.Text)
		} else {
			add(w.PlaceHolder)
		}
	case *widget.RichText:
		for _, seg := range w.Segments {
			if t, ok := seg.(*widget.TextSegment); ok {
				add(t.Text)
			}
		}
	case *widget.Form:
		for _, it := range w.Items {
			add(it.Text)
			visibleText(it.Widget, out)
		}
	case *canvas.Text:
		add(w.Text)
	case *container.Split:
		visibleText(w.Leading, out)
		visibleText(w.Trailing, out)
	case *container.Scroll:
		visibleText(w.Content, out)
	case *fyne.Container:
		for _, c := range w.Objects {
			visibleText(c, out)
		}
	}
}
