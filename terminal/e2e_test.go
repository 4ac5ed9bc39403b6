package terminal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"yici/assets"
	"yici/drivers/devices"
	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/drivers/printer"
	"yici/drivers/printer/printtest"
	"yici/drivers/sim"
	"yici/sync/appliance"
	"yici/sync/catalog"
	"yici/sync/platform"
	"yici/sync/store"
	"yici/sync/uploader"
	"yici/sync/wire"
)

// hall is one kiosk with real serial I/O to simulated devices, a real
// encrypted store and a platform on loopback.
type hall struct {
	k      *Kiosk
	w      fyne.Window
	card   *sim.IDCard
	prn    *sim.Printer
	pad    *sim.Pad
	code   *sim.CodeScanner
	st     *store.Store
	srv    *platform.Server
	pst    *platform.BoltStorage
	client *uploader.Client
	url    string // the platform's
}

func newHall(t testing.TB, dir string) *hall {
	t.Helper()
	h := &hall{}
	var err error
	if h.card, err = sim.NewIDCard(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.card.Close() })
	if h.prn, err = sim.NewPrinter(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.prn.Close() })
	if h.pad, err = sim.NewPad(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.pad.Close() })
	if h.code, err = sim.NewCodeScanner(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.code.Close() })
	// The devices and the appliance as the demo opens them; the printer
	// settles faster than a real one.
	ports := &devices.Ports{Printer: printer.Options{Settle: 50 * time.Millisecond}}
	t.Cleanup(func() { ports.Close() })
	reader, prn, pad, err := ports.Kiosk(h.card.Path(), h.prn.Path(), h.pad.Path())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := ports.CodeScanner(h.code.Path())
	if err != nil {
		t.Fatal(err)
	}

	if h.pst, err = platform.OpenBolt(filepath.Join(dir, "platform")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.pst.Close() })
	srv := platform.New(h.pst, platform.Options{})
	h.srv = srv
	// The platform refuses a case made under a revision it has not published.
	if _, _, err := srv.PublishCatalog(assets.SampleCatalog); err != nil {
		t.Fatal(err)
	}
	lic := filepath.Join(dir, "licences.json")
	if err := os.WriteFile(lic, assets.DemoLicences, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LoadLicences(lic); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Enrol(platform.RoleKiosk, "DL01", "K01")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	h.url = hs.URL
	ap, err := appliance.Open(dir, hs.URL, tok, "") // the store in dir/kiosk.db
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ap.Close() })
	h.st, h.client = ap.Store, ap.Client
	if err := ap.SyncAppCodeKeys(t.Context()); err != nil { // as the kiosk does at start, online
		t.Fatal(err)
	}
	test.NewTempApp(t)
	h.w = test.NewTempWindow(t, nil)
	h.w.Resize(fyne.NewSize(1024, 768))
	h.k = New(Config{
		Hall: "示例政务服务中心", Terminal: "K01", Catalog: ap.Catalog.Current(), Store: h.st,
		Reader: reader, Scanner: docscan.Simulated{Title: "居民身份证"}, Printer: prn, Pad: pad,
		CodeScanner: codes, AppCodes: ap.AppCodes,
		Vault:    ap.Vault,
		QueryURL: "https://yici.example/q/", IdleTimeout: time.Minute,
		Documents: filepath.Join(dir, "documents"),
		Queue:     ap.Client, TicketBand: 1,
	}, h.w)
	// Before the devices, the store and the app close: end the rating a
	// submitted visit may still wait for, and wait for every goroutine
	// the kiosk started.
	t.Cleanup(func() {
		h.ui(func() {
			if h.k.stopRating != nil {
				h.k.stopRating()
			}
		})
		h.k.bg.Wait()
	})
	return h
}

// ui runs fn as the kiosk's UI work, holding its UI lock: every tap and
// every read of the kiosk's widgets or visit in a test goes through it.
// The test driver runs the kiosk's fyne.Do callbacks on the goroutines
// that call them, so without it a test's tap and a scan's result could
// change the same widget at once. fn must not call ScanMaterial or Submit
// (they take the lock themselves) nor wait for the kiosk's goroutines.
func (h *hall) ui(fn func()) { h.k.doAndWait(fn) }

// run polls the card reader (Kiosk.Run) until the test ends, and waits
// for Run to return before the rest of the cleanup.
func (h *hall) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.k.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// patience is how long a test waits for something the kiosk does in the
// background before it fails.
const patience = 10 * time.Second

// eventually reports whether cond holds within patience, checking it
// every few milliseconds.
func eventually(cond func() bool) bool {
	deadline := time.NewTimer(patience)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-poll.C:
		}
	}
	return true
}

// uiEventually is eventually with cond checked as UI work.
func (h *hall) uiEventually(cond func() bool) bool {
	return eventually(func() (ok bool) {
		h.ui(func() { ok = cond() })
		return ok
	})
}

// button finds the button whose text contains label under o.
func button(t *testing.T, o fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			if found == nil && strings.Contains(v.Text, label) {
				found = v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	if found == nil {
		t.Fatalf("no button %q here", label)
	}
	return found
}

// waitScreen waits for the kiosk to show the screen want.
func (h *hall) waitScreen(t *testing.T, want string) {
	t.Helper()
	if h.uiEventually(func() bool { return h.k.Screen() == want }) {
		return
	}
	var got, msg string
	h.ui(func() { got, msg = h.k.Screen(), h.k.message.Text })
	t.Fatalf("screen is %s, want %s; message: %q", got, want, msg)
}

// TestVisitEndToEnd walks the skeleton's slice: the card is read over a
// serial port, the greeting is masked, a material is scanned into the
// encrypted store, the receipt's QR decodes from the printed picture, and
// the uploader puts the case on the platform once.
func TestVisitEndToEnd(t *testing.T) {
	h := newHall(t, t.TempDir())
	ctx := t.Context()
	h.run(t)

	h.card.Place(sim.SampleCard)
	h.waitScreen(t, "find")
	h.ui(func() {
		if got, want := h.k.greeting.Text, "您好，张*（2102**********123X）"; got != want {
			t.Errorf("greeting %q, want %q", got, want)
		}
		// Find the item by pinyin initials on the on-screen keyboard, then
		// answer its situational questions.
		for _, key := range []string{"S", "F", "Z", "H", "L"} {
			test.Tap(button(t, h.k.find.keys, key))
		}
		test.Tap(button(t, h.k.find.results, "居民身份证换领"))
	})
	h.waitScreen(t, "question")
	h.ui(func() {
		test.Tap(button(t, h.k.qChoices, "在，只是到期了"))
		test.Tap(button(t, h.k.qChoices, "已满16周岁"))
	})
	h.waitScreen(t, "materials")
	h.ui(func() {
		if _, ok := h.k.sess.exempt["M-HUKOU"]; !ok {
			t.Error("居民户口簿 is on file as a licence but not marked 免提交")
		}
		test.Tap(button(t, h.k.matList, "扫描"))
	})
	// The capture's result and the screen's refresh arrive together as UI
	// work of the scan's goroutine, so wait for both.
	if !h.uiEventually(func() bool { return h.k.sess.captured["M-ID-OLD"] && !h.k.submitBtn.Disabled() }) {
		var msg string
		h.ui(func() { msg = h.k.message.Text })
		t.Fatalf("first material not captured, or submit not enabled; message: %q", msg)
	}
	var caseID string
	h.ui(func() {
		caseID = h.k.sess.caseID
		test.Tap(h.k.submitBtn)
	})
	h.waitScreen(t, "done")
	if st, _ := h.st.CaseState(caseID); st != store.StatePending {
		t.Errorf("case state %s before the upload, want pending", st)
	}
	h.ui(func() {
		h.k.tick()
		if !strings.Contains(h.k.doneSync.Text, "待上传") {
			t.Errorf("done screen says %q before the upload, want 待上传", h.k.doneSync.Text)
		}
	})

	// The receipt: decoded from what the printer received.
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	rec, err := h.prn.Next(rctx)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, l := range rec.Lines {
		text.WriteString(l.Text + "\n")
	}
	for _, want := range []string{"受理回执", "张*", "2102**********123X", "居民身份证换领", caseID, "免提交"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("receipt lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), sim.SampleCard.IDNumber) {
		t.Error("receipt shows the unmasked ID number")
	}
	pic, err := rec.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := printtest.MustQRFromPNG(t, pic), "https://yici.example/q/"+caseID; got != want {
		t.Errorf("receipt QR %q, want %q", got, want)
	}

	// The one-time notice: the photo receipt is still missing, told once
	// with its criteria, on A4 for the window.
	notice := filepath.Join(h.k.cfg.Documents, caseID+"-一次性告知书.pdf")
	if !eventually(func() bool { _, err := os.Stat(notice); return err == nil }) {
		_, err := os.Stat(notice)
		t.Fatalf("no one-time notice: %v", err)
	}
	out, err := exec.Command("pdftotext", "-layout", notice, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils): %v", err)
	}
	for _, want := range []string{"一次性告知书", "数码相片回执", "六个月内拍摄", "2102**********123X"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("notice lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "原居民身份证") || strings.Contains(string(out), sim.SampleCard.IDNumber) {
		t.Errorf("notice lists a received material or the unmasked ID:\n%s", out)
	}

	// The rating on the pad: 满意, queued as an event with the platform's
	// level (4 of 5 stars).
	var pressErr error
	if !eventually(func() bool { pressErr = h.pad.Press(evalpad.Satisfied); return pressErr == nil }) {
		t.Fatalf("pad never asked for a rating: %v", pressErr)
	}
	var rating string
	if !h.uiEventually(func() bool {
		rating = h.k.doneRating.Text
		return strings.Contains(rating, "感谢您的评价：满意")
	}) {
		t.Fatalf("done screen says %q after the rating", rating)
	}

	// The upload: once, byte-identical.
	if err := uploader.New(h.st, h.client, uploader.Options{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	var revision int
	h.ui(func() {
		h.k.tick()
		if !strings.Contains(h.k.doneSync.Text, "已上传") {
			t.Errorf("done screen says %q after the upload, want 已上传", h.k.doneSync.Text)
		}
		revision = h.k.cfg.Catalog.Revision
	})
	c, err := h.pst.GetCase(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Manifest
	var scanned []wire.MaterialRef
	exempt := 0
	for _, r := range m.Materials {
		if r.Exempt {
			exempt++
		} else {
			scanned = append(scanned, r)
		}
	}
	if m.Applicant.IDNumber != sim.SampleCard.IDNumber || len(scanned) != 1 || scanned[0].Code != "M-ID-OLD" || exempt != 1 || m.CatalogRevision != revision {
		t.Fatalf("platform holds revision %d, materials %+v", m.CatalogRevision, m.Materials)
	}
	m.Materials = scanned
	page, _ := docscan.Simulated{Title: "居民身份证"}.Scan(ctx, docscan.Options{})
	stored, _ := page[0].Stored()
	sum := sha256.Sum256(stored)
	if m.Materials[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Error("platform's blob hash differs from the scanned page")
	}
	evs, err := h.pst.CaseEvents(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != wire.EventRating || evs[0].Level != 4 || evs[0].Channel != "pad" {
		t.Errorf("platform holds events %+v, want one pad rating of 4", evs)
	}
	rc, err := h.pst.OpenBlob(ctx, m.Materials[0].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, stored) {
		t.Error("platform's blob bytes differ from the scanned page")
	}

	// The card is still on the reader: check the wipe before Run can start
	// the next visit.
	h.ui(func() {
		test.Tap(button(t, h.k.done, "完成"))
		if h.k.Screen() != "welcome" || h.k.sess != nil || h.k.greeting.Text != "" {
			t.Error("finish did not wipe the visit")
		}
	})
}

// TestSubmittedCaseSurvivesRestart: a case submitted while the platform
// cannot be reached is still in the store after the kiosk's store is
// closed and reopened, and is then sent once.
func TestSubmittedCaseSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHall(t, dir)
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("RS-0201"); err != nil {
			t.Fatal(err)
		}
	})
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}
	var id string
	h.ui(func() { id = h.k.sess.caseID })
	h.k.Submit()
	h.st.Close()

	st, err := store.OpenWithKeyFile(filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _, _ := st.Pending(); n != 1 {
		t.Fatalf("%d cases pending after restart, want 1", n)
	}
	up := uploader.New(st, h.client, uploader.Options{})
	for i := 0; i < 2; i++ { // a second drain finds nothing more to send
		if err := up.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cases, err := h.pst.ListCases(context.Background(), "DL01", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].ID != id {
		t.Fatalf("platform holds %d cases, want exactly %s", len(cases), id)
	}
}

// TestIdleWipes: an untouched visit is wiped, with a countdown shown first.
func TestIdleWipes(t *testing.T) {
	h := newHall(t, t.TempDir())
	now := time.Now() // the kiosk's clock, read and set as UI work
	h.ui(func() {
		h.k.cfg.Now = func() time.Time { return now }
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
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}
	var id string
	h.ui(func() {
		id = h.k.sess.caseID
		now = now.Add(h.k.cfg.IdleTimeout - 10*time.Second)
		h.k.tick()
		if !h.k.idle.Visible() || !strings.Contains(h.k.idleSecs.Text, "10 秒") {
			t.Errorf("idle overlay shown %v, saying %q; want it shown with 10 秒", h.k.idle.Visible(), h.k.idleSecs.Text)
		}
		now = now.Add(11 * time.Second)
		h.k.tick()
		if h.k.Screen() != "welcome" || h.k.sess != nil || h.k.greeting.Text != "" {
			t.Error("idle visit not wiped")
		}
	})
	if _, err := h.st.CaseState(id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unsubmitted case after the wipe: state err %v, want ErrNotFound", err)
	}
}

// TestElderMode: the 大字 button enlarges the kiosk's type and back.
func TestElderMode(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.ui(func() {
		normal := scale()
		test.Tap(button(t, h.k.root, "大字"))
		if scale() <= normal {
			t.Fatalf("scale %v after 大字, want more than %v", scale(), normal)
		}
		test.Tap(button(t, h.k.root, "标准字"))
		if scale() != normal {
			t.Fatalf("scale %v after 标准字, want %v", scale(), normal)
		}
	})
}

// TestGuideSwitchAndBack: an answer that means another item switches to
// it (a lost card is 补领, not 换领); Back drops the last answer but keeps
// the unsubmitted draft, which Home then discards.
func TestGuideSwitchAndBack(t *testing.T) {
	h := newHall(t, t.TempDir())
	var draft string
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("GA-0101"); err != nil {
			t.Fatal(err)
		}
		if err := h.k.Answer("丢了"); err != nil {
			t.Fatal(err)
		}
		if g := h.k.sess.guide; g.Code != "GA-0102" || h.k.Screen() != "question" {
			t.Fatalf("after 丢了: guide %s on the %s screen, want GA-0102's question", g.Code, h.k.Screen())
		}
		if err := h.k.Answer("损坏"); err != nil {
			t.Fatal(err)
		}
		if h.k.Screen() != "materials" {
			t.Fatalf("screen %s after the last answer, want materials", h.k.Screen())
		}
		draft = h.k.sess.caseID
	})
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}
	h.ui(func() {
		h.k.back()
		if h.k.Screen() != "question" || len(h.k.sess.answers) != 1 {
			t.Fatalf("back: %s screen with answers %v, want the last question with one answer", h.k.Screen(), h.k.sess.answers)
		}
		if st, err := h.st.CaseState(draft); err != nil || st != store.StateDraft {
			t.Errorf("draft after back: %v %v, want it kept", st, err)
		}
		h.k.back()
		h.k.back()
		if h.k.Screen() != "find" {
			t.Fatalf("screen %s after backing out of every question, want find", h.k.Screen())
		}
		h.k.wipe()
		if _, err := h.st.CaseState(draft); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("draft after Home: %v, want ErrNotFound", err)
		}
	})
}

// TestThemeAndSearch: a life-cycle theme lists its bundles and items; a
// typed query with no match says so and offers help.
func TestThemeAndSearch(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		test.Tap(button(t, h.k.root, "按主题找"))
		test.Tap(button(t, h.k.find.themes, "出生"))
		test.Tap(button(t, h.k.find.results, "出生一件事"))
		if g := h.k.sess.guide; g == nil || g.Bundle == nil || len(g.Items) < 2 {
			t.Fatalf("出生一件事 resolved to %+v, want a bundle of several items", g)
		}
		h.k.wipe()
		h.k.start(&session{card: &sim.SampleCard})
		h.k.typeQuery("qqqqqq")
		if len(h.k.find.shown) != 0 || !strings.Contains(h.k.find.queryTx.Text, "没有找到") {
			t.Errorf("query qqqqqq shows %d results and %q", len(h.k.find.shown), h.k.find.queryTx.Text)
		}
	})
}

// TestCatalogUpdateReachesKiosk: a newer revision is used from the next
// visit on, without a restart; the visit under way keeps its own.
func TestCatalogUpdateReachesKiosk(t *testing.T) {
	h := newHall(t, t.TempDir())
	old := h.k.cfg.Catalog
	doc := bytes.Replace(assets.SampleCatalog, []byte(`"revision": 2`), []byte(`"revision": 3`), 1)
	doc = bytes.Replace(doc, []byte(`"name": "居民身份证换领"`), []byte(`"name": "居民身份证到期换领"`), 1)
	next, err := catalog.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if next.Revision != old.Revision+1 {
		t.Fatalf("test catalogue revision %d, want %d", next.Revision, old.Revision+1)
	}
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		h.k.SetCatalog(next)
		if h.k.cfg.Catalog != old {
			t.Fatal("the catalogue changed under a visit")
		}
		h.k.wipe()
		h.k.start(&session{card: &sim.SampleCard})
		h.k.typeQuery("sfzdqhl")
		if len(h.k.find.shown) == 0 || h.k.find.shown[0].name != "居民身份证到期换领" {
			t.Fatalf("after the update, sfzdqhl finds %+v", h.k.find.shown)
		}
	})
}

// BenchmarkVisitHeap runs whole visits (card, guide, scan, submit, wipe)
// on the same screens and reports the live heap left per visit after GC:
// screens are reused so that a kiosk running for months does not grow
// (fyne-io/fyne#3818). The baseline is the heap before the first visit.
func BenchmarkVisitHeap(b *testing.B) {
	dir := b.TempDir()
	h := newHall(b, dir)
	visit := func() {
		h.ui(func() {
			h.k.start(&session{card: &sim.SampleCard})
			h.k.typeQuery("sbk")
			if err := h.k.Choose("RS-0201"); err != nil {
				b.Fatal(err)
			}
		})
		if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
			b.Fatal(err)
		}
		h.ui(h.k.wipe) // unsubmitted: the draft and its page are discarded
	}
	visit()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		visit()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(b.N), "heap-growth-B/visit")
	b.ReportMetric(float64(m0.HeapAlloc)/(1<<20), "baseline-heap-MB")
}

// TestPaperOut: with the printer out of paper the case is still accepted
// and kept; the screen says the receipt was not printed and where to get it.
func TestPaperOut(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.prn.SetFaults(sim.PrinterFaults{PaperOut: true})
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("RS-0201"); err != nil {
			t.Fatal(err)
		}
	})
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}
	var id string
	h.ui(func() { id = h.k.sess.caseID })
	h.k.Submit()
	var title, msg string
	if !h.uiEventually(func() bool {
		title, msg = h.k.doneTitle.Text, h.k.message.Text
		return strings.Contains(title, "未打印")
	}) {
		t.Fatalf("done title %q with the paper out", title)
	}
	if !strings.Contains(msg, "请到综合窗口领取回执") || !strings.Contains(msg, "缺纸") {
		t.Errorf("message %q, want what happened and where to go", msg)
	}
	if strings.Contains(msg, "status") || strings.Contains(msg, "printer:") { // walkthrough 7: plain words
		t.Errorf("message %q shows the driver's words or status bytes", msg)
	}
	if st, _ := h.st.CaseState(id); st != store.StatePending {
		t.Errorf("case %s after a failed print, want pending", st)
	}
}
