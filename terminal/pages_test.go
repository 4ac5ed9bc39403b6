package terminal

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"yici/drivers/docscan"
	"yici/drivers/sim"
)

// sheets is a flatbed on which the citizen lays a different sheet each
// time: scan n says "Sheet n". It keeps every page it gave, as stored.
type sheets struct {
	mu  sync.Mutex
	got []docscan.Page
}

func (s *sheets) Scan(ctx context.Context, o docscan.Options) ([]docscan.Page, error) {
	s.mu.Lock()
	n := len(s.got) + 1
	s.mu.Unlock()
	ps, err := docscan.Simulated{Title: fmt.Sprintf("Sheet %d", n)}.Scan(ctx, o)
	if err != nil {
		return nil, err
	}
	if len(ps) != 1 || o.MaxPages != 1 {
		return nil, fmt.Errorf("asked for %d pages (max %d), want one a press", len(ps), o.MaxPages)
	}
	p := ps[0]
	p.Data, p.ContentType = p.Stored()
	p.PNG = nil
	s.mu.Lock()
	s.got = append(s.got, p)
	s.mu.Unlock()
	return ps, nil
}

func (s *sheets) sheet(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[n-1].Data
}

func (s *sheets) page(n int) docscan.Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[n-1]
}

func (s *sheets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// pdfPages counts the pages of a PDF as docscan.PDF writes it (as
// desk/intake_test.go does).
var pdfPages = regexp.MustCompile(`/Type\s*/Page[^s]`)

// TestMultiPageMaterial: a material of several pages is scanned one sheet
// a press on its pages screen, a page retaken, moved and deleted, with
// the limit from the catalogue refusing one more; the store holds it as
// one PDF of the pages in the order shown, and a one-page material as
// that page's encoding.
func TestMultiPageMaterial(t *testing.T) {
	h := newHall(t, t.TempDir())
	sc := &sheets{}
	h.k.cfg.Scanner = sc
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("RS-0201"); err != nil {
			t.Fatal(err)
		}
		if h.k.Screen() != "materials" {
			t.Fatalf("screen %s, want materials", h.k.Screen())
		}
		for i := range h.k.sess.guide.Materials {
			if m := &h.k.sess.guide.Materials[i]; m.Code == "M-IDCARD" {
				m.MaxPages = 3 // as the catalogue's max_pages says
			}
		}
		h.k.refreshMaterials()
	})
	// idle waits for the change under way to be stored and shown.
	idle := func() {
		t.Helper()
		if !h.uiEventually(func() bool { return !h.k.pgBusy }) {
			t.Fatal("the change did not finish")
		}
	}
	shown := func() (ps [][]byte) {
		h.ui(func() {
			for _, p := range h.k.pagesOn() {
				ps = append(ps, p.Data)
			}
		})
		return ps
	}
	same := func(what string, got [][]byte, want ...int) {
		t.Helper()
		ok := len(got) == len(want)
		for i := 0; ok && i < len(want); i++ {
			ok = bytes.Equal(got[i], sc.sheet(want[i]))
		}
		if !ok {
			var names []string
			for _, g := range got {
				for n := 1; n <= sc.count(); n++ {
					if bytes.Equal(g, sc.sheet(n)) {
						names = append(names, fmt.Sprint(n))
					}
				}
			}
			t.Fatalf("%s: pages are sheets %v, want %v", what, names, want)
		}
	}

	// 扫描 on the row opens the material's screen and scans the first
	// sheet; each 扫描下一页 takes one more.
	h.ui(func() {
		row := rowOf(t, h.k, "M-IDCARD")
		test.Tap(button(t, row, "扫描"))
		if h.k.Screen() != "pages" {
			t.Fatalf("screen %s after 扫描, want pages", h.k.Screen())
		}
	})
	idle()
	for range 2 {
		h.ui(func() { test.Tap(h.k.pgAdd) })
		idle()
	}
	same("three scanned", shown(), 1, 2, 3)
	h.ui(func() {
		if !strings.Contains(h.k.pgStep.Text, "第 3 / 3 页") {
			t.Errorf("step says %q, want page 3 of 3", h.k.pgStep.Text)
		}
		// The preview is the chosen page, and fills most of the screen.
		if r := h.k.pgImage.Resource; r == nil || !bytes.Equal(r.Content(), sc.sheet(3)) {
			t.Error("the preview is not page 3")
		}
		if sz, win := h.k.pgImage.Size(), h.w.Canvas().Size(); sz.Height < win.Height/2 || h.k.root.MinSize().Width > win.Width {
			t.Errorf("preview %v in a %v window, want at least half its height, in a window that fits", sz, win)
		}
		// The limit (3) refuses a fourth, and says so.
		test.Tap(h.k.pgAdd)
		if h.k.pgBusy || !strings.Contains(h.k.message.Text, "最多 3 页") {
			t.Errorf("a fourth page: busy %v, message %q; want it refused", h.k.pgBusy, h.k.message.Text)
		}
	})
	if sc.count() != 3 {
		t.Fatalf("the scanner was asked %d times, want 3: the limit must refuse before scanning", sc.count())
	}

	// Retake page 2: sheet 4 takes its place.
	h.ui(func() {
		test.Tap(button(t, h.k.pgThumbs, "2"))
		if !strings.Contains(h.k.pgStep.Text, "第 2 / 3 页") || !bytes.Equal(h.k.pgImage.Resource.Content(), sc.sheet(2)) {
			t.Errorf("after choosing page 2: step %q", h.k.pgStep.Text)
		}
		test.Tap(h.k.pgRetake)
	})
	idle()
	same("page 2 retaken", shown(), 1, 4, 3)

	// Move page 3 before page 1: two places earlier.
	h.ui(func() { test.Tap(button(t, h.k.pgThumbs, "3")) })
	for range 2 {
		h.ui(func() { test.Tap(h.k.pgEarlier) })
		idle()
	}
	same("page 3 moved first", shown(), 3, 1, 4)
	h.ui(func() {
		if h.k.pgSel != 0 || !h.k.pgEarlier.Disabled() {
			t.Errorf("the moved page is not chosen first (chosen %d)", h.k.pgSel)
		}
	})

	// Delete page 2 (sheet 1).
	h.ui(func() {
		test.Tap(button(t, h.k.pgThumbs, "2"))
		test.Tap(h.k.pgDelete)
	})
	idle()
	same("page 2 deleted", shown(), 3, 4)

	var caseID string
	h.ui(func() {
		test.Tap(h.k.pgDone)
		if h.k.Screen() != "materials" {
			t.Fatalf("screen %s after 完成, want materials", h.k.Screen())
		}
		if got := texts(rowOf(t, h.k, "M-IDCARD")); !strings.Contains(got, "2 页") {
			t.Errorf("row says %q, want 2 pages", got)
		}
		caseID = h.k.sess.caseID
	})
	// A one-page material is stored as that page's encoding.
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}

	man, err := h.st.Case(caseID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]byte{}
	for _, r := range man.Materials {
		if r.Exempt {
			continue
		}
		data, err := h.st.Blob(r.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		stored[r.Code] = data
		switch r.Code {
		case "M-IDCARD":
			if r.ContentType != "application/pdf" {
				t.Errorf("%s stored as %s, want a PDF", r.Code, r.ContentType)
			}
		case "M-PHOTO":
			if r.ContentType == "application/pdf" {
				t.Errorf("one-page %s stored as a PDF", r.Code)
			}
		}
	}
	if n := len(pdfPages.FindAll(stored["M-IDCARD"], -1)); n != 2 {
		t.Errorf("the stored PDF has %d pages, want 2", n)
	}
	// In the order shown: the PDF of sheets 3 and 4 as docscan binds them.
	if want, err := docscan.PDF([]docscan.Page{sc.page(3), sc.page(4)}); err != nil || !bytes.Equal(stored["M-IDCARD"], want) {
		t.Errorf("the stored PDF is not sheets 3 and 4 in that order (%v)", err)
	}
	if !bytes.Equal(stored["M-PHOTO"], sc.sheet(5)) {
		t.Error("the one-page material is not stored as its page's encoding")
	}
}

// rowOf finds the row of the material with this code on the material list.
func rowOf(t *testing.T, k *Kiosk, code string) fyne.CanvasObject {
	t.Helper()
	for i, n := range k.sess.guide.Materials {
		if n.Code == code {
			return k.matRows[i] // every row, on whichever page of the list it stands
		}
	}
	t.Fatalf("no row for %s", code)
	return nil
}

// TestPagesKeptAcrossBack: the pages of a material stay through Back and
// the same answer again, all of them, in order.
func TestPagesKeptAcrossBack(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("GA-0101"); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"在", "已满16周岁"} {
			if err := h.k.Answer(a); err != nil {
				t.Fatal(err)
			}
		}
	})
	for range 2 {
		if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
			t.Fatal(err)
		}
	}
	h.ui(func() {
		before := h.k.sess.pages["M-PHOTO"]
		h.k.back()
		if err := h.k.Answer("已满16周岁"); err != nil {
			t.Fatal(err)
		}
		after := h.k.sess.pages["M-PHOTO"]
		if h.k.Screen() != "materials" || len(after) != 2 || !bytes.Equal(after[0].Data, before[0].Data) || !bytes.Equal(after[1].Data, before[1].Data) {
			t.Fatalf("after Back and the same answer: screen %s, %d pages, want materials with both", h.k.Screen(), len(after))
		}
		if got := texts(rowOf(t, h.k, "M-PHOTO")); !strings.Contains(got, "2 页") {
			t.Errorf("row says %q, want 2 pages", got)
		}
	})
}
