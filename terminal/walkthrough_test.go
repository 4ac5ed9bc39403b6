package terminal

// Tests for the findings of the elderly citizen's walkthrough of the
// kiosk; each names the finding's number in the issue.

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/idcard"
	"yici/drivers/sim"
	"yici/sync/store"
	"yici/sync/wire"
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
		test.Tap(h.k.matNext)
		if h.k.matFirst == 0 {
			t.Fatal("the checklist does not turn its page: the test shows nothing")
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
		if first := h.k.matFirst; first != 0 {
			t.Errorf("the next visit's checklist opens at row %d, want its first page", first)
		}
	})
}

// TestBackKeepsCaptures (2): Back from the checklist keeps the draft and
// its scans. The same answer again brings them back as they were; another
// answer keeps the scans its list still needs, in a new draft, and says
// which were dropped.
func TestBackKeepsCaptures(t *testing.T) {
	for _, c := range []struct {
		name     string
		item     string
		answers  []string // before the checklist
		scan     []string
		again    string   // the last answer, given again after Back
		kept     []string // captured in the draft after it
		dropped  string   // named on screen as dropped; "" for none
		newDraft bool
	}{
		{"same answer", "GA-0101", []string{"在", "已满16周岁"}, []string{"M-ID-OLD", "M-PHOTO"}, "已满16周岁",
			[]string{"M-ID-OLD", "M-PHOTO"}, "", false},
		{"answer adds a material", "GA-0101", []string{"在", "已满16周岁"}, []string{"M-PHOTO"}, "未满16周岁",
			[]string{"M-PHOTO"}, "", true},
		{"answer removes a scanned material", "RS-0202", []string{"损坏"}, []string{"M-SSC-OLD", "M-PHOTO"}, "丢失",
			[]string{"M-PHOTO"}, "社会保障卡", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHall(t, t.TempDir())
			var draft string
			h.ui(func() {
				h.k.start(&session{card: &sim.SampleCard})
				if err := h.k.Choose(c.item); err != nil {
					t.Fatal(err)
				}
				for _, a := range c.answers {
					if err := h.k.Answer(a); err != nil {
						t.Fatal(err)
					}
				}
				draft = h.k.sess.caseID
			})
			for _, code := range c.scan {
				if err := h.k.ScanMaterial(code); err != nil {
					t.Fatal(err)
				}
			}
			h.ui(func() {
				test.Tap(button(t, h.k.root, "返回"))
				if h.k.Screen() != "question" {
					t.Fatalf("screen %s after Back, want the last question", h.k.Screen())
				}
				test.Tap(button(t, h.k.qChoices, c.again))
				if h.k.Screen() != "materials" {
					t.Fatalf("screen %s after answering again, want materials", h.k.Screen())
				}
				s := h.k.sess
				if got := s.caseID != draft; got != c.newDraft {
					t.Errorf("new draft %v, want %v", got, c.newDraft)
				}
				var got []string
				for code := range s.captured {
					got = append(got, code)
				}
				slices.Sort(got)
				if !slices.Equal(got, c.kept) {
					t.Errorf("captured %v after answering again, want %v", got, c.kept)
				}
				m, err := h.st.Case(s.caseID)
				if err != nil {
					t.Fatal(err)
				}
				var stored []string
				for _, r := range m.Materials {
					if !r.Exempt {
						stored = append(stored, r.Code)
					}
				}
				slices.Sort(stored)
				if !slices.Equal(stored, c.kept) {
					t.Errorf("the draft holds %v, want %v", stored, c.kept)
				}
				if c.newDraft {
					if _, err := h.st.CaseState(draft); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("the old draft is still stored: %v", err)
					}
				}
				msg := h.k.message.Text
				if c.dropped == "" && strings.Contains(msg, "删除") || c.dropped != "" && !strings.Contains(msg, c.dropped) {
					t.Errorf("message %q, want dropped %q named", msg, c.dropped)
				}
				// Every row of a kept scan says so; no 扫描 button for it.
				for _, code := range c.kept {
					for _, n := range s.guide.Materials {
						if n.Code == code {
							if !strings.Contains(rowText(h.k, n.Name), "已收") {
								t.Errorf("row of %s says %q, want 已收", n.Name, rowText(h.k, n.Name))
							}
						}
					}
				}
			})
		})
	}
}

// rowText is the text of the checklist row that names material name.
func rowText(k *Kiosk, name string) string {
	for _, row := range k.matList.Objects {
		t := texts(row)
		if strings.Contains(t, name) {
			return t
		}
	}
	return ""
}

// texts joins the texts of the labels and buttons under o.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *widget.Button:
			b.WriteString(v.Text + "\n")
		case *canvas.Text:
			b.WriteString(v.Text + "\n")
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

// TestQuestionsGuide (11): the themes do not ask for pinyin; a question
// says how far along it is; Back shows the answer given before.
func TestQuestionsGuide(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		test.Tap(h.k.find.toggle) // 按主题找
		if q := h.k.find.queryTx.Text; strings.Contains(q, "拼音") {
			t.Errorf("theme mode says %q", q)
		}
		test.Tap(h.k.find.toggle) // 用键盘找
		if q := h.k.find.queryTx.Text; !strings.Contains(q, "拼音") {
			t.Errorf("keyboard mode says %q, want the pinyin hint", q)
		}
	})
	for _, c := range []struct {
		item    string
		answers []string // given before the step is read
		step    string
	}{
		{"GA-0101", nil, "问题 1 / 2"},
		{"GA-0101", []string{"在"}, "问题 2 / 2"},
		{"B-RESTAURANT", nil, "问题 1 / 3"},
		{"B-RESTAURANT", []string{"公司", "超过"}, "问题 3 / 3"},
	} {
		h.ui(func() {
			if err := h.k.Choose(c.item); err != nil {
				t.Fatal(err)
			}
			for _, a := range c.answers {
				if err := h.k.Answer(a); err != nil {
					t.Fatal(err)
				}
			}
			if got := h.k.qStep.Text; !strings.HasPrefix(got, c.step) {
				t.Errorf("%s after %v: step %q, want %q", c.item, c.answers, got, c.step)
			}
		})
	}
	h.ui(func() {
		if err := h.k.Choose("GA-0101"); err != nil {
			t.Fatal(err)
		}
		test.Tap(button(t, h.k.qChoices, "在，只是到期了"))
		test.Tap(button(t, h.k.qChoices, "已满16周岁"))
		for _, want := range []struct{ chosen, other string }{{"已满16周岁", "未满16周岁"}, {"在，只是到期了", "丢了"}} {
			test.Tap(button(t, h.k.root, "返回"))
			if b := button(t, h.k.qChoices, want.chosen); b.Importance != widget.HighImportance || !strings.Contains(b.Text, "上次") {
				t.Errorf("after Back, the earlier answer %q is not shown as such (%q)", want.chosen, b.Text)
			}
			if b := button(t, h.k.qChoices, want.other); b.Importance == widget.HighImportance {
				t.Errorf("after Back, %q is highlighted too", want.other)
			}
		}
	})
}

// TestIdleOverlay (9): before the idle wipe an overlay asks whether the
// citizen is still there, in both languages, with the seconds left and a
// big Continue button; Continue (or a touch anywhere on it) goes on.
func TestIdleOverlay(t *testing.T) {
	for _, c := range []struct {
		name string
		tap  func(h *hall)
	}{
		{"continue", func(h *hall) { test.Tap(button(t, h.k.idle, "继续")) }},
		{"touch anywhere", func(h *hall) { test.Tap(h.k.idle.Objects[0].(fyne.Tappable)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHall(t, t.TempDir())
			now := time.Now()
			h.ui(func() {
				h.k.cfg.Now = func() time.Time { return now }
				h.k.start(&session{card: &sim.SampleCard})
				if err := h.k.Choose("RS-0201"); err != nil {
					t.Fatal(err)
				}
				now = now.Add(h.k.cfg.IdleTimeout - 20*time.Second)
				h.k.tick()
				said := texts(h.k.idle)
				for _, want := range []string{"还在吗", "Are you still there", "20 秒", "继续 / Continue"} {
					if !h.k.idle.Visible() || !strings.Contains(said, want) {
						t.Errorf("overlay shown %v, saying %q; want %q", h.k.idle.Visible(), said, want)
					}
				}
				c.tap(h)
				if h.k.idle.Visible() {
					t.Error("the overlay stays after the tap")
				}
				now = now.Add(25 * time.Second) // past the old deadline
				h.k.tick()
				if h.k.Screen() != "materials" || h.k.idle.Visible() {
					t.Errorf("after %s: screen %s, overlay %v; want the visit on", c.name, h.k.Screen(), h.k.idle.Visible())
				}
			})
		})
	}
}

// TestStatusSaysOffline (8): the status line claims nothing was sent
// when the platform could not be reached.
func TestStatusSaysOffline(t *testing.T) {
	for _, c := range []struct {
		name      string
		fresh     bool
		want, not string
	}{
		{"offline", false, "未联网 / offline · 0 件待上传", "已送达"},
		{"online", true, "全部已送达平台", "未联网"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHall(t, t.TempDir())
			h.k.cfg.Vault = func(ctx context.Context, id string) (wire.VaultAnswer, time.Time, bool, error) {
				if !c.fresh {
					return wire.VaultAnswer{}, time.Time{}, false, errors.New("platform unreachable")
				}
				return wire.VaultAnswer{}, time.Now(), true, nil
			}
			s := &session{card: &sim.SampleCard}
			h.k.lookupVault(t.Context(), s)
			h.ui(func() {
				h.k.start(s)
				h.k.tick()
				if got := h.k.status.Text; !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
					t.Errorf("status %q, want %q and not %q", got, c.want, c.not)
				}
			})
		})
	}
}

// TestReaderFault (6): with the reader not answering the welcome screen
// says cards cannot be read and that 找我办 still works; the status line
// does not widen the window; the fault clears once the reader reads again.
func TestReaderFault(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.card.SetFaults(sim.Faults{Silent: true})
	h.k.pollCard(t.Context())
	h.ui(func() {
		h.k.tick()
		said := texts(h.k.welcome)
		if strings.Contains(said, "请将身份证放在读卡区") || !strings.Contains(said, "无法读取身份证") || !strings.Contains(said, "找我办") {
			t.Errorf("welcome with the reader silent says %q", said)
		}
		if !strings.Contains(h.k.status.Text, "读卡器故障") {
			t.Errorf("status %q, want the reader fault", h.k.status.Text)
		}
		h.k.status.SetText(h.k.status.Text + strings.Repeat(" 很长的故障说明", 40))
		if w := h.w.Content().MinSize().Width; w > 1024 {
			t.Errorf("a long status line makes the window %v wide", w)
		}
	})
	// The reader back, with a card on it: the visit starts and the fault
	// is gone.
	h.card.SetFaults(sim.Faults{})
	h.card.Place(sim.SampleCard)
	h.k.pollCard(t.Context())
	h.ui(func() {
		h.k.tick()
		if h.k.Screen() != "find" || strings.Contains(h.k.status.Text, "故障") {
			t.Errorf("reader back: screen %s, status %q", h.k.Screen(), h.k.status.Text)
		}
		if said := texts(h.k.welcome); !strings.Contains(said, "请将身份证放在读卡区") {
			t.Errorf("welcome after the reader came back says %q", said)
		}
	})
}

// TestSubmitAsksOrSaysWhy (10): with nothing scanned Submit asks first;
// a grey Submit says why.
func TestSubmitAsksOrSaysWhy(t *testing.T) {
	for _, c := range []struct {
		name   string
		item   string
		vault  bool   // ask the vault: 居民户口簿 is on file
		scan   string // "" for nothing
		answer string // the confirmation's button tapped; "" for none asked
		grey   bool
		done   bool
	}{
		{"nothing scanned, confirmed", "GA-0101", true, "", "确定提交", false, true},
		{"nothing scanned, cancelled", "GA-0101", true, "", "取消", false, false},
		{"nothing to submit", "RS-0201", false, "", "", true, false},
		{"scanned", "RS-0201", false, "M-PHOTO", "", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHall(t, t.TempDir())
			s := &session{card: &sim.SampleCard}
			if c.vault {
				h.k.lookupVault(t.Context(), s)
			}
			h.ui(func() {
				h.k.start(s)
				if err := h.k.Choose(c.item); err != nil {
					t.Fatal(err)
				}
				for h.k.Screen() == "question" {
					test.Tap(button(t, h.k.qChoices.Objects[0], "")) // the first choice
				}
			})
			if c.scan != "" {
				if err := h.k.ScanMaterial(c.scan); err != nil {
					t.Fatal(err)
				}
			}
			var id string
			h.ui(func() {
				id = h.k.sess.caseID
				if got := h.k.submitBtn.Disabled(); got != c.grey {
					t.Fatalf("submit grey %v, want %v", got, c.grey)
				}
				if why := h.k.submitWhy.Text; c.grey != (why != "") || c.grey && !strings.Contains(why, "扫描") {
					t.Errorf("grey %v with the reason %q", c.grey, why)
				}
				if c.grey {
					return
				}
				test.Tap(h.k.submitBtn)
				if c.answer != "" {
					if h.k.Screen() != "materials" || !h.k.confirm.Visible() {
						t.Fatalf("one tap with nothing scanned: screen %s, asked %v", h.k.Screen(), h.k.confirm.Visible())
					}
					test.Tap(button(t, h.k.confirm, c.answer))
				}
			})
			if c.done {
				h.waitScreen(t, "done")
				return
			}
			h.ui(func() {
				if h.k.Screen() != "materials" || h.k.confirm.Visible() {
					t.Errorf("screen %s, still asking %v; want the checklist", h.k.Screen(), h.k.confirm.Visible())
				}
			})
			if st, _ := h.st.CaseState(id); st != store.StateDraft {
				t.Errorf("case %s, want a draft still", st)
			}
		})
	}
}

// TestPrinterWarnedAtStart (7): a card placed while the printer cannot
// print starts the visit with a plain warning, before anything is chosen.
func TestPrinterWarnedAtStart(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults sim.PrinterFaults
		want   string // "" for no warning
	}{
		{"ready", sim.PrinterFaults{}, ""},
		{"paper out", sim.PrinterFaults{PaperOut: true}, "打印机缺纸"},
		{"cover open", sim.PrinterFaults{CoverOpen: true}, "上盖"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHall(t, t.TempDir())
			h.prn.SetFaults(c.faults)
			h.card.Place(sim.SampleCard)
			h.k.pollCard(t.Context())
			h.ui(func() {
				msg := h.k.message.Text
				if h.k.Screen() != "find" {
					t.Fatalf("screen %s after the card, want find", h.k.Screen())
				}
				if c.want == "" && msg != "" || c.want != "" && (!strings.Contains(msg, c.want) || !strings.Contains(msg, "综合窗口")) {
					t.Errorf("message %q, want %q and where to get the receipt", msg, c.want)
				}
				if strings.Contains(msg, "status") {
					t.Errorf("message %q shows status bytes", msg)
				}
			})
		})
	}
}

// TestPapersFromOneList (4): the receipt and the one-time notice list the
// same missing materials, an optional one marked 可选 on both (never
// 待补); the notice's list is printed on the receipt, which the screen
// points to instead of a notice nobody hands out.
func TestPapersFromOneList(t *testing.T) {
	h := newHall(t, t.TempDir())
	names := map[string]string{}
	h.ui(func() {
		h.k.start(&session{card: &sim.SampleCard})
		if err := h.k.Choose("GA-0105"); err != nil { // 居住证: 从业证明 is optional
			t.Fatal(err)
		}
		for _, n := range h.k.sess.guide.Materials {
			names[n.Code] = n.Name
		}
	})
	if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
		t.Fatal(err)
	}
	var id string
	h.ui(func() { id = h.k.sess.caseID })
	h.k.Submit()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	rec, err := h.prn.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range rec.Lines {
		lines = append(lines, l.Text)
	}
	receipt := strings.Join(lines, "\n")
	row := func(name string) string { // the material's row in the receipt's list
		for _, l := range lines {
			if strings.Contains(l, ". "+name) {
				return l
			}
		}
		return ""
	}
	for _, c := range []struct{ code, state string }{
		{"M-PHOTO", "已收"}, {"M-IDCARD", "待补"}, {"M-RES-PROOF", "待补"}, {"M-EMPLOY-PROOF", "可选"},
	} {
		if r := row(names[c.code]); !strings.HasSuffix(strings.TrimSpace(r), c.state) {
			t.Errorf("receipt row of %s is %q, want %s", names[c.code], r, c.state)
		}
	}
	i := strings.Index(receipt, "一次性告知书")
	if i < 0 {
		t.Fatalf("the receipt carries no one-time notice:\n%s", receipt)
	}
	onReceipt := receipt[i:]
	out, err := exec.Command("pdftotext", "-layout", filepath.Join(h.k.cfg.Documents, id+"-一次性告知书.pdf"), "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ name, text string }{{"receipt's notice", onReceipt}, {"A4 notice", string(out)}} {
		for _, code := range []string{"M-IDCARD", "M-RES-PROOF", "M-EMPLOY-PROOF"} {
			if !strings.Contains(doc.text, string([]rune(names[code])[:4])) { // the A4 table wraps long names
				t.Errorf("%s lacks %s:\n%s", doc.name, names[code], doc.text)
			}
		}
		if !strings.Contains(doc.text, names["M-EMPLOY-PROOF"]+"（可选）") {
			t.Errorf("%s does not mark %s 可选:\n%s", doc.name, names["M-EMPLOY-PROOF"], doc.text)
		}
		if strings.Contains(doc.text, names["M-PHOTO"]) {
			t.Errorf("%s lists the received %s", doc.name, names["M-PHOTO"])
		}
	}
	var detail string
	if !h.uiEventually(func() bool { detail = h.k.doneDetail.Text; return strings.Contains(detail, "尚缺材料") }) {
		t.Fatalf("done screen says %q", detail)
	}
	if !strings.Contains(detail, "回执") || strings.Contains(detail, "领取") {
		t.Errorf("done screen says %q: want it to point at the receipt, not a notice to fetch", detail)
	}
}

// TestCardWatched (3): the kiosk follows the card. After the visit it
// asks for the card until it is lifted, and starts no visit for it; a
// card lifted mid-visit holds the visit (nothing is submitted, the draft
// stays) until the same card is back.
func TestCardWatched(t *testing.T) {
	other := sim.SampleCard
	other.Name, other.Gender, other.Birth, other.IDNumber = "李梅", "女", "19920817", "210204199208170022"
	watch := func(h *hall) {
		h.k.lastSense = time.Time{} // no waiting for the next second
		h.k.watchCard(t.Context())
	}
	begin := func(t *testing.T, h *hall) {
		h.card.Place(sim.SampleCard)
		h.k.pollCard(t.Context())
		h.ui(func() {
			if err := h.k.Choose("RS-0201"); err != nil {
				t.Fatal(err)
			}
		})
		if err := h.k.ScanMaterial("M-PHOTO"); err != nil {
			t.Fatal(err)
		}
	}
	welcome := func(h *hall) (s string) { h.ui(func() { s = texts(h.k.welcome) }); return s }

	t.Run("take the card after the visit", func(t *testing.T) {
		h := newHall(t, t.TempDir())
		begin(t, h)
		h.k.Submit()
		watch(h)
		h.ui(func() {
			if !h.k.doneCard.Visible() || !strings.Contains(h.k.doneCard.Text, "请取走您的身份证") {
				t.Error("the done screen does not ask for the card on the reader")
			}
			test.Tap(button(t, h.k.done, "完成"))
		})
		for i := 0; i < 2; i++ { // it stays, and it stays asked for
			h.k.pollCard(t.Context())
			if w := welcome(h); !strings.Contains(w, "请取走您的身份证") || strings.Contains(w, "请将身份证放在") {
				t.Fatalf("welcome with the card left on says %q", w)
			}
			h.ui(func() {
				if h.k.Screen() != "welcome" {
					t.Fatalf("screen %s: a visit started for the card left on the reader", h.k.Screen())
				}
			})
		}
		h.card.Lift()
		h.k.pollCard(t.Context())
		if w := welcome(h); !strings.Contains(w, "请将身份证放在读卡区") {
			t.Errorf("welcome after the card was taken says %q", w)
		}
	})

	t.Run("card lifted mid-visit", func(t *testing.T) {
		h := newHall(t, t.TempDir())
		begin(t, h)
		var id string
		h.ui(func() { id = h.k.sess.caseID })
		h.card.Lift()
		watch(h)
		h.ui(func() {
			if !strings.Contains(h.k.message.Text, "身份证已离开读卡区") || !h.k.submitBtn.Disabled() || !strings.Contains(h.k.submitWhy.Text, "身份证") {
				t.Errorf("card lifted: message %q, submit grey %v (%q)", h.k.message.Text, h.k.submitBtn.Disabled(), h.k.submitWhy.Text)
			}
		})
		h.k.Submit() // as automation would: refused all the same
		if st, _ := h.st.CaseState(id); st != store.StateDraft {
			t.Fatalf("case %s with the card away, want a draft", st)
		}
		for _, c := range []struct {
			card idcard.Card
			want string
			grey bool
		}{
			{other, "不是本次办理人的身份证", true},
			{sim.SampleCard, "", false},
		} {
			h.card.Place(c.card)
			watch(h)
			h.ui(func() {
				if msg := h.k.message.Text; c.want == "" && msg != "" || !strings.Contains(msg, c.want) || h.k.submitBtn.Disabled() != c.grey {
					t.Errorf("%s placed: message %q, submit grey %v", c.card.Name, msg, h.k.submitBtn.Disabled())
				}
				if h.k.Screen() != "materials" || h.k.sess.caseID != id || !h.k.sess.captured["M-PHOTO"] {
					t.Errorf("%s placed: the visit's draft or scan is lost", c.card.Name)
				}
			})
		}
		h.k.Submit()
		if st, _ := h.st.CaseState(id); st != store.StatePending {
			t.Errorf("case %s after the card came back and Submit, want pending", st)
		}
	})
}
