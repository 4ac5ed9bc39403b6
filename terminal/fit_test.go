package terminal

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/sim"
)

// Every button is at least minTarget square (screens.go), in both text
// sizes: a finger does not shrink with the type.

// elderBody is the least text size in elder mode (大字): what a
// 75-year-old reads at arm's length.
const elderBody = 32

// visible walks the objects under o that are shown, through containers
// and widgets' renderers, calling fn for each.
func visible(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			visible(c, fn)
		}
	case fyne.Widget:
		if _, ok := v.(*widget.Button); ok {
			return // its label and icon are its own
		}
		for _, c := range test.WidgetRenderer(v).Objects() {
			visible(c, fn)
		}
	}
}

// TestEveryScreenFits: every screen, at every supported resolution and in
// both text sizes, fits its window (nothing pushes the window larger or
// the toolbar off), shows every button whole and at least minTarget
// square, and in elder mode draws no text under elderBody and its
// headlines larger than in the normal size.
func TestEveryScreenFits(t *testing.T) {
	h := newHall(t, t.TempDir())
	birth := func(t *testing.T, answers ...string) {
		h.k.wipe()
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("B-BIRTH"); err != nil {
			t.Fatal(err)
		}
		for _, a := range answers {
			if err := h.k.Answer(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	screens := []struct {
		name string
		show func(t *testing.T)
	}{
		{"welcome", func(t *testing.T) { h.k.wipe() }},
		{"find-keyboard", func(t *testing.T) {
			h.k.wipe()
			h.k.start(&session{card: &sim.SampleCard})
		}},
		{"find-themes", func(t *testing.T) {
			h.k.wipe()
			h.k.start(&session{card: &sim.SampleCard})
			test.Tap(h.k.find.toggle)
			test.Tap(button(t, h.k.find.themes, "出生"))
		}},
		{"question", func(t *testing.T) { birth(t) }},
		{"materials", func(t *testing.T) {
			birth(t, "申领", "未发放")
			if n := len(h.k.sess.guide.Materials); n < 5 {
				t.Fatalf("出生一件事 lists %d materials, want a checklist of 5 or more", n)
			}
			h.k.confirm.Show() // the tallest it gets: asking before an empty submission
		}},
		{"materials-last-page", func(t *testing.T) {
			birth(t, "申领", "未发放")
			for range len(h.k.sess.guide.Materials) {
				h.k.matPage(1)
			}
		}},
		{"done", func(t *testing.T) {
			h.k.wipe()
			h.k.start(&session{card: &sim.SampleCard})
			// As submit leaves it, with every line filled.
			h.k.doneDetail.SetText("办件编号 Case K01-20250101-000000-ABCD")
			h.k.doneTitle.Text = "已受理 · 正在打印回执…"
			h.k.doneTitle.Refresh()
			h.k.doneSync.SetText("待上传（断网时自动重试） / pending")
			h.k.doneRating.SetText("请在评价器上为本次服务评价 / Please rate this service on the pad")
			h.k.showTakeCard(true)
			h.k.show(h.k.done)
		}},
		{"done-ticket-failed", func(t *testing.T) {
			h.k.wipe()
			h.k.start(&session{card: &sim.SampleCard})
			h.k.doneDetail.SetText("办件编号 Case K01-20250101-000000-ABCD")
			h.k.doneTitle.Text = "已受理 · 回执已打印"
			h.k.doneTitle.Refresh()
			h.k.doneSync.SetText("待上传（断网时自动重试） / pending")
			h.k.showTakeCard(true)
			h.k.show(h.k.done)
			h.k.doneTitle.Text = "号票未打印：打印机上盖没有合上"
			h.k.doneTitle.Refresh()
			h.k.ticketBtn.SetText("再试取号 / Try again")
		}},
		{"welcome-ticket", func(t *testing.T) {
			h.k.wipe()
			h.k.say("已取号 A1001，请收好号票 / Your number: A1001")
		}},
		{"idle", func(t *testing.T) {
			h.k.wipe()
			h.k.start(&session{card: &sim.SampleCard})
			h.k.idleSecs.Text = "10 秒后自动退出，未提交的材料将被清除 / leaving in 10 s"
			h.k.idleSecs.Refresh()
			h.k.idle.Show()
		}},
	}
	headline := map[string]float32{} // screen → its largest text in the normal size, at 1920×1080
	for _, large := range []bool{false, true} {
		for _, size := range []fyne.Size{{Width: 1024, Height: 768}, {Width: 1280, Height: 1024}, {Width: 1920, Height: 1080}, {Width: 1080, Height: 1920}} {
			for _, sc := range screens {
				mode := "normal"
				if large {
					mode = "large"
				}
				t.Run(fmt.Sprintf("%s/%vx%v/%s", sc.name, size.Width, size.Height, mode), func(t *testing.T) {
					h.ui(func() {
						if (scale() > h.k.cfg.Scale) != large { // as the citizen does: the toolbar's button
							test.Tap(button(t, h.k.root, map[bool]string{true: "大字", false: "标准字"}[large]))
						}
						// Lay the window out at its size first, as the kiosk
						// starts, then show the screen and lay it out anew, as
						// a frame of the real driver does.
						h.w.Resize(size)
						sc.show(t)
						h.w.Resize(size.SubtractWidthHeight(1, 1))
						h.w.Resize(size)
						c := h.w.Canvas()
						if min, got := h.w.Content().MinSize(), h.w.Content().Size(); min.Width > got.Width || min.Height > got.Height {
							t.Errorf("content needs %v, the window gives it %v", min, got)
						}
						d := fyne.CurrentApp().Driver()
						inside := func(o fyne.CanvasObject) bool {
							p := d.AbsolutePositionForObject(o)
							s := o.Size()
							return p.X >= 0 && p.Y >= 0 && p.X+s.Width <= c.Size().Width+0.5 && p.Y+s.Height <= c.Size().Height+0.5
						}
						for _, label := range []string{"返回", "首页", map[bool]string{true: "标准字", false: "大字"}[large], "找我办"} {
							if b := button(t, h.k.root, label); !inside(b) {
								t.Errorf("toolbar button %q at %v size %v, outside the %v canvas", label, d.AbsolutePositionForObject(b), b.Size(), c.Size())
							}
						}
						var biggest, smallest float32 = 0, 1000
						visible(h.k.root, func(o fyne.CanvasObject) {
							switch v := o.(type) {
							case *widget.Button:
								if !inside(v) {
									t.Errorf("button %q at %v size %v, outside the %v canvas", v.Text, d.AbsolutePositionForObject(v), v.Size(), c.Size())
								}
								if s := v.Size(); s.Width < minTarget || s.Height < minTarget {
									t.Errorf("button %q is %v, want at least %d×%d", v.Text, s, minTarget, minTarget)
								}
							case *canvas.Text:
								if v.Text == "" {
									return
								}
								biggest = max(biggest, v.TextSize)
								if v.TextSize < smallest && !isStatus(h.k, v) {
									smallest = v.TextSize
								}
							}
						})
						if large && smallest < elderBody {
							t.Errorf("smallest text %v px in elder mode, want at least %d", smallest, elderBody)
						}
						if size.Width == 1920 {
							if !large {
								headline[sc.name] = biggest
							} else if biggest <= headline[sc.name] {
								t.Errorf("largest text %v px in elder mode, %v normally: want it larger", biggest, headline[sc.name])
							}
						}
					})
				})
			}
		}
	}
	h.ui(func() { test.Tap(button(t, h.k.root, "标准字")) })
}

// isStatus reports whether t is the status line's text, for the hall's
// staff and not the citizen.
func isStatus(k *Kiosk, t *canvas.Text) bool {
	found := false
	visible(k.status, func(o fyne.CanvasObject) { found = found || o == t })
	return found
}
