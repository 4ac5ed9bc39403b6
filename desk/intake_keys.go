package desk

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// keyEntry is the search box: it keeps the text keys and hands the
// navigation and function keys to the intake, so the clerk never leaves
// the keyboard (Up/Down through the results, Enter to choose).
type keyEntry struct {
	widget.Entry
	onKey func(*fyne.KeyEvent) bool // true: handled
}

func newKeyEntry() *keyEntry {
	e := &keyEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	if e.onKey != nil && e.onKey(ev) {
		return
	}
	e.Entry.TypedKey(ev)
}

// entryKey takes the search box's keys that are not editing.
func (in *intake) entryKey(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyUp, fyne.KeyDown, fyne.KeyReturn, fyne.KeyEnter, fyne.KeyEscape:
	case fyne.KeyBackspace:
		if in.search.Text != "" {
			return false
		}
	default:
		if len(ev.Name) < 2 || ev.Name[0] != 'F' { // F1…F12 go to the desk
			return false
		}
	}
	in.d.key(ev)
	return true
}

// key is the intake's keyboard while it is on screen; it reports whether
// it took ev.
func (in *intake) key(ev *fyne.KeyEvent) bool {
	if !in.shown() {
		return false
	}
	switch ev.Name {
	case fyne.KeyEscape:
		in.hide()
		return true
	case fyne.KeyF7:
		in.do(func() { in.d.ScanStack(context.Background()) })
		return true
	case fyne.KeyF8:
		in.do(func() { in.d.SubmitApplication(context.Background()) })
		return true
	case fyne.KeyF9:
		in.do(func() { in.d.RescanPage(context.Background()) })
		return true
	}
	switch in.phase {
	case phaseChoose:
		switch ev.Name {
		case fyne.KeyUp, fyne.KeyDown:
			if n := len(in.rows); n > 0 {
				step := 1
				if ev.Name == fyne.KeyUp {
					step = -1
				}
				in.moving = true
				in.results.Select((in.hit + step + n) % n)
				in.moving = false
			}
		case fyne.KeyReturn, fyne.KeyEnter:
			in.pick()
		case fyne.KeyBackspace: // in an empty box: from a theme's members back to the themes
			in.theme = ""
			in.find()
		default:
			return false
		}
		return true
	case phaseWizard:
		if ev.Name == fyne.KeyBackspace {
			in.previous()
			return true
		}
		return false
	case phaseMaterials:
		switch ev.Name {
		case fyne.KeyUp, fyne.KeyDown:
			if n := len(in.list); n > 0 {
				step := 1
				if ev.Name == fyne.KeyUp {
					step = -1
				}
				in.sel, in.cur = (in.sel+step+n)%n, 0
				in.refresh()
			}
		case fyne.KeyLeft, fyne.KeyRight:
			if in.sel < len(in.list) {
				n := len(in.b.of[in.list[in.sel].Code])
				if ev.Name == fyne.KeyLeft {
					in.cur = max(in.cur-1, 0)
				} else {
					in.cur = max(min(in.cur+1, n-1), 0)
				}
				in.refresh()
			}
		case fyne.KeyReturn, fyne.KeyEnter:
			in.assign()
		case fyne.KeyBackspace:
			if in.buf != "" {
				in.buf = in.buf[:len(in.buf)-1]
				in.refresh()
			}
		case fyne.KeyDelete:
			in.removePage()
		default:
			return false
		}
		return true
	}
	return false
}

// rune takes the characters typed with nothing focused: a choice's number
// in the questions; page numbers, and [ ] to move a page, on the checklist.
func (in *intake) rune(r rune) {
	if !in.shown() {
		return
	}
	switch in.phase {
	case phaseWizard:
		if r >= '1' && r <= '9' && in.guide != nil && in.guide.Next != nil {
			if i := int(r - '1'); i < len(in.guide.Next.Choices) {
				in.answer(in.guide.Next.Choices[i].ID)
			}
		}
	case phaseMaterials:
		switch {
		case r >= '0' && r <= '9', r == '-', r == ',', r == ' ':
			in.buf += string(r)
			in.refresh()
		case r == '[':
			in.movePage(-1)
		case r == ']':
			in.movePage(1)
		}
	}
}

// assign gives the material chosen the pages typed, or with nothing typed
// the next page no material has, and captures what changed.
func (in *intake) assign() {
	if in.phase != phaseMaterials || in.sel >= len(in.list) {
		return
	}
	m := in.list[in.sel]
	if m.onFile != nil {
		in.d.say(m.Name + " 免提交，无需扫描 / on file: nothing to scan")
		return
	}
	var pages []int
	if in.buf == "" {
		p := in.b.free()
		if p == 0 {
			in.d.say("没有未指定的页；请输入页码或按 F7 扫描 / no page left unassigned: type page numbers or scan")
			return
		}
		pages = []int{p}
	} else {
		var err error
		if pages, err = parsePages(in.buf, len(in.b.pages)); err != nil {
			in.d.say(err.Error())
			return
		}
	}
	changed, err := in.b.assign(m.Code, pages)
	if err != nil {
		in.d.say(err.Error())
		return
	}
	in.buf = ""
	for _, c := range changed {
		delete(in.stored, c)
	}
	in.d.say("第 " + ranges(pages) + " 页 → " + m.Name)
	in.sel, in.cur = in.firstToScan(in.sel), 0
	in.refresh()
	in.capture(changed)
}

// removePage takes the page chosen off its material.
func (in *intake) removePage() {
	if in.phase != phaseMaterials || in.sel >= len(in.list) {
		return
	}
	code := in.list[in.sel].Code
	if err := in.b.remove(code, in.cur); err != nil {
		in.d.say(err.Error())
		return
	}
	in.cur = max(0, min(in.cur, len(in.b.of[code])-1))
	delete(in.stored, code)
	in.refresh()
	in.capture([]string{code})
}

// movePage moves the page chosen earlier (-1) or later (+1) in its
// material.
func (in *intake) movePage(dir int) {
	if in.phase != phaseMaterials || in.sel >= len(in.list) {
		return
	}
	code := in.list[in.sel].Code
	if j := in.b.move(code, in.cur, dir); j != in.cur {
		in.cur = j
		delete(in.stored, code)
		in.refresh()
		in.capture([]string{code})
	}
}
