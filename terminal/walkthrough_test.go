package terminal

// Tests for the findings of the elderly citizen's walkthrough of the
// kiosk; each names the finding's number in the issue.

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"yici/drivers/sim"
)

// TestNewVisitStartsAtTop (5): the next visit finds the checklist at its
// top and the find screen on its keyboard, not where the last visitor
// left them.
func TestNewVisitStartsAtTop(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("B-BIRTH"); err != nil { // a long list
			t.Fatal(err)
		}
		for _, a := range []string{"申领", "未发放"} {
			if err := h.k.Answer(a); err != nil {
				t.Fatal(err)
			}
		}
		if h.k.Screen() != "materials" {
			t.Fatalf("screen %s, want materials", h.k.Screen())
		}
		h.k.matScroll.ScrollToOffset(fyne.NewPos(0, 200))
		if h.k.matScroll.Offset.Y == 0 {
			t.Fatal("the checklist does not scroll: the test shows nothing")
		}
		test.Tap(h.k.find.toggle) // 按主题找
		h.k.wipe()

		h.k.start(&session{card: &sim.SampleCard})
		if h.k.find.lower.Objects[0] != h.k.find.keys {
			t.Error("the next visit opens on the themes the last visitor chose")
		}
		if err := h.k.Choose("B-BIRTH"); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"申领", "未发放"} {
			if err := h.k.Answer(a); err != nil {
				t.Fatal(err)
			}
		}
		if y := h.k.matScroll.Offset.Y; y != 0 {
			t.Errorf("the next visit's checklist is scrolled to %v, want 0", y)
		}
	})
}
