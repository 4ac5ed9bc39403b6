package desk

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"yici/assets"
	"yici/drivers/docscan"
	"yici/drivers/sim"
	"yici/sync/catalog"
	"yici/sync/store"
	"yici/sync/uploader"
	"yici/sync/visit"
	"yici/sync/wire"
)

// window is a hall whose desk takes applications: a real local store, the
// simulated scanner, and an uploader drained on each kick, as the
// appliance's runs in the background. Key presses run their work before
// they return (intake.do), so a test reads the screen race-free after one.
type window struct {
	*hall
	st      *store.Store
	scanner *docscan.Simulated
	keys    int // key presses, counted from the card read on
}

func newWindow(t *testing.T, sc docscan.Simulated) *window {
	t.Helper()
	st, err := store.OpenWithKeyFile(filepath.Join(t.TempDir(), "desk.db"), filepath.Join(t.TempDir(), "desk.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &window{st: st, scanner: &sc}
	var up *uploader.Uploader
	w.hall = newHall(t, nil, func(o *Options) {
		o.Store, o.Scanner, o.UploadWait = st, scanProxy{w}, 10*time.Second
		o.Kick = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := up.Drain(ctx); err != nil {
				t.Errorf("drain: %v", err)
			}
		}
	})
	up = uploader.New(st, w.cl, uploader.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	lic := filepath.Join(t.TempDir(), "licences.json")
	if err := os.WriteFile(lic, assets.DemoLicences, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.LoadLicences(lic); err != nil {
		t.Fatal(err)
	}
	w.d.in.do = func(f func()) { f() }
	w.signIn()
	return w
}

// scanProxy scans with the window's simulated feeder as the test last
// loaded it.
type scanProxy struct{ w *window }

func (p scanProxy) Scan(ctx context.Context, o docscan.Options) ([]docscan.Page, error) {
	return p.w.scanner.Scan(ctx, o)
}

// meet reads 张三's card: one press of F2.
func (w *window) meet() {
	w.t.Helper()
	w.keys++
	card := sim.SampleCard
	if err := w.d.Meet(context.Background(), &card); err != nil {
		w.t.Fatal(err)
	}
}

// press presses key as the window's driver delivers it: to the widget
// with the focus, else to the canvas.
func (w *window) press(names ...fyne.KeyName) {
	for _, n := range names {
		w.keys++
		ev := &fyne.KeyEvent{Name: n}
		fyne.DoAndWait(func() {
			c := w.d.w.Canvas()
			if f := c.Focused(); f != nil {
				f.TypedKey(ev)
			} else {
				c.OnTypedKey()(ev)
			}
		})
	}
}

// typ types s, a key per character.
func (w *window) typ(s string) {
	for _, r := range s {
		w.keys++
		fyne.DoAndWait(func() {
			c := w.d.w.Canvas()
			if f := c.Focused(); f != nil {
				f.TypedRune(r)
			} else {
				c.OnTypedRune()(r)
			}
		})
	}
}

func (w *window) progress() string {
	var s string
	fyne.DoAndWait(func() { s = w.d.in.progress.Text })
	return s
}

// pdfPages counts the pages of a PDF as docscan.PDF writes it.
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// material returns material code of the platform's case id, with its bytes
// and their page count.
func (w *window) material(m *wire.Manifest, code string) (wire.MaterialRef, int) {
	w.t.Helper()
	for _, mr := range m.Materials {
		if mr.Code != code {
			continue
		}
		if mr.Exempt {
			return mr, 0
		}
		data, err := w.cl.Blob(context.Background(), m.ID, mr.SHA256, maxPage)
		if err != nil {
			w.t.Fatal(err)
		}
		if mr.ContentType == "image/png" {
			return mr, 1
		}
		return mr, len(pdfPage.FindAll(data, -1))
	}
	w.t.Fatalf("case %s has no material %s: %+v", m.ID, code, m.Materials)
	return wire.MaterialRef{}, 0
}

// A new application at the window by keyboard alone: card, F6, "sfz",
// the wizard by number keys, the whole stack scanned with F7, pages given
// by ranges, F8. The case reaches the platform under this desk's name with
// the on-file 户口簿 exempt and each material's pages, and opens for review.
func TestIntakeByKeyboard(t *testing.T) {
	w := newWindow(t, docscan.Simulated{Pages: 3})
	w.meet()
	w.press(fyne.KeyF6)
	w.typ("sfz")
	fyne.DoAndWait(func() {
		if len(w.d.in.rows) == 0 || w.d.in.rows[0].code != "GA-0101" {
			t.Fatalf("sfz found %+v, want GA-0101 first", w.d.in.rows)
		}
	})
	w.press(fyne.KeyReturn)
	w.typ("1") // 在，只是到期了
	w.press(fyne.KeyBackspace)
	w.typ("12") // back, and again: then 已满16周岁
	var list []string
	var hukou string
	fyne.DoAndWait(func() {
		for _, m := range w.d.in.list {
			list = append(list, m.Code)
			if m.Code == "M-HUKOU" && m.onFile != nil {
				hukou = onFileText(m.onFile)
			}
		}
	})
	if !slices.Equal(list, []string{"M-ID-OLD", "M-PHOTO", "M-HUKOU"}) {
		t.Fatalf("checklist %v", list)
	}
	if !strings.Contains(hukou, "电子证照") || !strings.Contains(hukou, "大连市公安局中山分局") || !strings.Contains(hukou, "2016-05-0") {
		t.Errorf("户口簿 on file says %q, want its source, issuer and date", hukou)
	}
	w.press(fyne.KeyF7)
	if p := w.progress(); !strings.Contains(p, "已扫 3 页") {
		t.Fatalf("after the scan: %q", p)
	}
	w.typ("1-2")
	w.press(fyne.KeyReturn) // the old card's two sides
	w.press(fyne.KeyReturn) // the next page free, to the photo
	w.press(fyne.KeyF8)
	keys := w.keys

	var opened string
	fyne.DoAndWait(func() {
		if w.d.rv.m != nil {
			opened = w.d.rv.m.ID
		}
	})
	if !strings.HasPrefix(opened, "W01-") {
		t.Fatalf("opened %q after submitting (%s / %s)", opened, w.progress(), w.status())
	}
	m, err := w.cl.Case(context.Background(), opened)
	if err != nil {
		t.Fatal(err)
	}
	if m.Terminal != "W01" || !slices.Equal(m.Items, []string{"GA-0101"}) || m.Applicant.IDNumber != zhangSan {
		t.Errorf("case %+v", m)
	}
	if mr, n := w.material(m, "M-ID-OLD"); n != 2 || mr.ContentType != "application/pdf" {
		t.Errorf("M-ID-OLD: %d pages as %s, want 2 as a PDF", n, mr.ContentType)
	}
	if mr, n := w.material(m, "M-PHOTO"); n != 1 || mr.ContentType != "image/png" {
		t.Errorf("M-PHOTO: %d pages as %s", n, mr.ContentType)
	}
	if mr, _ := w.material(m, "M-HUKOU"); !mr.Exempt {
		t.Errorf("M-HUKOU not exempt: %+v", mr)
	}
	if st, err := w.st.CaseState(opened); err != nil || st != store.StateSent {
		t.Errorf("local case %s: %v", st, err)
	}
	t.Logf("GA-0101 by keyboard: %d keys from the card read to the submission", keys)
}

// Without a card read nothing is taken: the window says to read it first.
func TestIntakeNeedsApplicant(t *testing.T) {
	w := newWindow(t, docscan.Simulated{})
	w.press(fyne.KeyF6)
	if w.d.in.shown() || !strings.Contains(w.status(), "请先读卡") {
		t.Fatalf("intake shown %v, status %q", w.d.in.shown(), w.status())
	}
	if err := w.d.SubmitApplication(context.Background()); err == nil {
		t.Error("submitted with no application")
	}
}

// A jam at the third sheet keeps the two scanned and asks for the third
// back; F7 then scans the rest, numbered on. Assigning, moving and removing
// pages recaptures the material; a page rescanned replaces its old self.
func TestIntakeJam(t *testing.T) {
	w := newWindow(t, docscan.Simulated{Pages: 4, JamAt: 3})
	w.meet()
	w.press(fyne.KeyF6)
	w.typ("sfz")
	w.press(fyne.KeyReturn)
	w.typ("12")
	w.press(fyne.KeyF7)
	var n int
	fyne.DoAndWait(func() { n = len(w.d.in.b.pages) })
	if p := w.progress(); n != 2 || !strings.Contains(p, "第 3 页卡纸") || !strings.Contains(p, "放回") {
		t.Fatalf("after a jam: %d pages kept, %q", n, p)
	}
	*w.scanner = docscan.Simulated{Pages: 2, Title: "数码相片回执"} // the 3rd and 4th sheets put back
	w.press(fyne.KeyF7)
	fyne.DoAndWait(func() { n = len(w.d.in.b.pages) })
	if n != 4 {
		t.Fatalf("%d pages after going on, want 4 (%s)", n, w.progress())
	}
	w.typ("1-3")
	w.press(fyne.KeyReturn)
	w.typ("4")
	w.press(fyne.KeyReturn)
	// Page 3 was the photo's after all (the choice stays on the photo, the
	// last to get pages): the ID keeps 1-2. Reorder them, remove one — the
	// last one stays — and rescan the one left.
	w.typ("3,4")
	w.press(fyne.KeyReturn)
	w.press(fyne.KeyUp) // to the ID
	fyne.DoAndWait(func() {
		if c := w.d.in.list[w.d.in.sel].Code; c != "M-ID-OLD" {
			t.Fatalf("chose %s", c)
		}
	})
	w.typ("]")              // 2, 1: page 1 chosen, now second
	w.press(fyne.KeyDelete) // page 1 off
	w.press(fyne.KeyDelete) // refused: the last page stays
	var of map[string][]int
	fyne.DoAndWait(func() { of = map[string][]int{"id": w.d.in.b.of["M-ID-OLD"], "photo": w.d.in.b.of["M-PHOTO"]} })
	if !slices.Equal(of["id"], []int{2}) || !slices.Equal(of["photo"], []int{3, 4}) {
		t.Fatalf("pages %v", of)
	}
	*w.scanner = docscan.Simulated{Title: "居民身份证"}
	w.press(fyne.KeyF9)
	if !strings.Contains(w.progress(), "第 2 页已重扫") {
		t.Fatalf("rescan: %s", w.progress())
	}
	// The store has each material as the screen shows it now.
	var id string
	fyne.DoAndWait(func() { id = w.d.in.caseID })
	m, err := w.st.Case(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, mr := range m.Materials {
		if mr.Code == "M-ID-OLD" && mr.ContentType != "image/png" || mr.Code == "M-PHOTO" && mr.ContentType != "application/pdf" {
			t.Errorf("stored %s as %s", mr.Code, mr.ContentType)
		}
	}
	w.press(fyne.KeyF8)
	var opened string
	fyne.DoAndWait(func() {
		if w.d.rv.m != nil {
			opened = w.d.rv.m.ID
		}
	})
	if opened != id {
		t.Fatalf("opened %q, want %s (%s)", opened, id, w.status())
	}
	pm, err := w.cl.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, n := w.material(pm, "M-PHOTO"); n != 2 {
		t.Errorf("photo of %d pages on the platform, want 2", n)
	}
}

// 出生一件事 at the window: a bundle of four items, its two questions, one
// stack for the merged material list. The test counts the keys.
func TestIntakeBirthBundle(t *testing.T) {
	w := newWindow(t, docscan.Simulated{})
	w.meet()
	w.press(fyne.KeyF6)
	w.typ("cs")
	fyne.DoAndWait(func() {
		if len(w.d.in.rows) == 0 || w.d.in.rows[0].code != "B-BIRTH" {
			t.Fatalf("cs found %+v, want B-BIRTH first", w.d.in.rows)
		}
	})
	w.press(fyne.KeyReturn)
	w.typ("12") // 申领社保卡; 预防接种证未发放
	var toScan int
	var items int
	fyne.DoAndWait(func() {
		items = len(w.d.in.guide.Items)
		for _, m := range w.d.in.list {
			if m.onFile == nil {
				toScan++
			}
		}
	})
	if items != 4 || toScan == 0 {
		t.Fatalf("bundle of %d items, %d materials to scan", items, toScan)
	}
	*w.scanner = docscan.Simulated{Pages: toScan} // a sheet for each
	w.press(fyne.KeyF7)
	for range toScan {
		w.press(fyne.KeyReturn) // the next page to the next material
	}
	w.press(fyne.KeyF8)
	var opened string
	fyne.DoAndWait(func() {
		if w.d.rv.m != nil {
			opened = w.d.rv.m.ID
		}
	})
	if opened == "" {
		t.Fatalf("not opened: %s / %s", w.progress(), w.status())
	}
	m, err := w.cl.Case(context.Background(), opened)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Items) != 4 {
		t.Errorf("items %v", m.Items)
	}
	handed := 0
	for _, mr := range m.Materials {
		if !mr.Exempt {
			handed++
		}
	}
	if handed != toScan {
		t.Errorf("%d materials handed in, want %d", handed, toScan)
	}
	toSubmit := w.keys
	// The review, by keyboard too: space passes each material on show,
	// then F9 accepts.
	for range toScan {
		w.typ(" ")
	}
	if err := w.d.Decide(context.Background(), visit.Accept); err != nil {
		t.Fatalf("accept: %v (%s)", err, w.status())
	}
	w.keys++ // F9
	if got := kinds(w.events(opened)); !strings.HasSuffix(got, "handling_finished:approved") {
		t.Errorf("events %s", got)
	}
	t.Logf("出生一件事 (%d items, %d materials scanned): %d keys from the card read to the submission, %d to the decision", items, toScan, toSubmit, w.keys)
}

// An agent applies for the applicant (帮办代办): the agent's card is read
// after the applicant's, the letter of authorisation joins the checklist,
// and the case on the platform names both.
func TestIntakeByAgent(t *testing.T) {
	w := newWindow(t, docscan.Simulated{Pages: 2})
	w.meet()
	agent := &wire.Applicant{Name: "李梅", IDNumber: "210204199208170022"}
	w.d.mu.Lock()
	w.d.person.agent = agent
	w.d.mu.Unlock()
	w.press(fyne.KeyF6)
	w.typ("sfz")
	w.press(fyne.KeyReturn)
	w.typ("12")
	var list []string
	fyne.DoAndWait(func() {
		for _, m := range w.d.in.list {
			list = append(list, m.Code)
		}
	})
	if !slices.Contains(list, catalog.AuthorisationCode) {
		t.Fatalf("checklist %v has no letter of authorisation", list)
	}
	w.press(fyne.KeyF7)
	w.press(fyne.KeyReturn) // page 1 to the old card
	w.press(fyne.KeyF8)
	var opened string
	fyne.DoAndWait(func() {
		if w.d.rv.m != nil {
			opened = w.d.rv.m.ID
		}
	})
	m, err := w.pst.GetCase(context.Background(), opened)
	if err != nil {
		t.Fatalf("case %q: %v (%s)", opened, err, w.status())
	}
	if m.Manifest.Agent == nil || *m.Manifest.Agent != *agent {
		t.Errorf("case agent %+v, want %+v", m.Manifest.Agent, agent)
	}
	var head string
	fyne.DoAndWait(func() { head = w.d.rv.header.Text })
	if !strings.Contains(head, "代办人 / agent: 李*") {
		t.Errorf("review header %q does not name the agent", head)
	}
}
