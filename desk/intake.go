package desk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/draw"

	"yici/drivers/docscan"
	"yici/sync/catalog"
	"yici/sync/catalog/search"
	"yici/sync/mask"
	"yici/sync/wire"
)

// Store is what the window's intake needs of the local store
// (*store.Store). Each call is durable when it returns (D3): a page
// captured is on the disk, with the outbox entry that will send it, before
// the screen says so.
type Store interface {
	SaveCase(m wire.Manifest) error
	Capture(caseID string, ref wire.MaterialRef, data []byte) (sha256 string, err error)
	Submit(caseID string) error
	DiscardCase(caseID string) error
}

// phase is where a new application taken at the window stands.
type phase int

const (
	phaseChoose    phase = iota // search or themes: which item or bundle
	phaseWizard                 // its questions, one by one
	phaseStarting               // the vault asked, the draft being saved
	phaseMaterials              // checklist, scan, assign
	phaseSubmitted              // in the outbox
)

// row is one line of the search results: a theme, a bundle or an item.
type row struct {
	code, name string
	kind       string // "theme", search.KindBundle or search.KindItem
}

// matRow is a material of the checklist: each once, however many of the
// items need it (S5), with what the vault holds for it (S13).
type matRow struct {
	catalog.Needed
	onFile *wire.VaultEntry
}

// intake takes a new application at the window (S7): the clerk chooses
// the item or bundle by keyboard search or theme, answers the same
// questions as the kiosk asks, scans the applicant's whole stack in one
// batch and gives each material its pages; each material is captured into
// the local store as soon as it has them, and F8 submits the case. Its
// fields are the UI thread's but for capMu.
type intake struct {
	d       *Desk
	content *fyne.Container
	other   fyne.CanvasObject // what the intake stands in for while shown

	header   *widget.Label
	note     *widget.Label
	search   *keyEntry
	results  *widget.List
	question *widget.Label
	choices  *fyne.Container
	mats     *fyne.Container
	typed    *widget.Label
	progress *widget.Label
	thumbs   *fyne.Container
	choose   fyne.CanvasObject
	wizard   fyne.CanvasObject
	sheet    fyne.CanvasObject
	scanBtn  *widget.Button
	sendBtn  *widget.Button

	ix    *search.Index
	ixRev int

	phase    phase
	gen      int // counts applications, so a late answer for one left is dropped
	who      *applicant
	cat      *catalog.Catalog
	rows     []row
	hit      int
	moving   bool   // the keyboard moves the results' selection
	theme    string // the theme whose members are listed; "" lists the themes
	code     string
	answers  []string
	guide    *catalog.Guide
	caseID   string
	list     []matRow
	sel      int // material chosen on the checklist
	cur      int // page chosen within it
	b        *batch
	thumb    []image.Image    // thumbnails of b's pages
	buf      string           // page numbers being typed
	stored   map[string]error // material code → its last capture's outcome; absent while one is under way
	scanning bool
	sending  bool

	capMu   sync.Mutex     // one capture at a time, each of the latest pages
	pending sync.WaitGroup // captures asked for and not yet done
	// do starts f off the UI thread: go f(). Tests make it f(), so that a
	// key press returns once its work is done.
	do func(f func())
}

func newIntake(d *Desk) *intake {
	in := &intake{d: d, header: widget.NewLabel(""), note: widget.NewLabel(""), question: widget.NewLabel(""),
		choices: container.NewVBox(), mats: container.NewVBox(), typed: widget.NewLabel(""), progress: widget.NewLabel(""),
		thumbs: container.NewGridWrap(fyne.NewSize(96, 150)), do: func(f func()) { go f() }}
	in.header.TextStyle = fyne.TextStyle{Bold: true}
	for _, l := range []*widget.Label{in.header, in.note, in.question, in.progress} {
		l.Wrapping = fyne.TextWrapWord
	}
	in.search = newKeyEntry()
	in.search.SetPlaceHolder("拼音首字母、全拼或中文，如 sfz / 身份证 · ↑↓ 选择 · Enter 确定")
	in.search.OnChanged = func(string) { in.find() }
	in.search.onKey = in.entryKey
	in.results = widget.NewList(func() int { return len(in.rows) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(in.rowText(in.rows[i])) })
	in.results.OnSelected = func(i widget.ListItemID) {
		in.hit = i
		if !in.moving {
			in.pick()
		}
	}
	in.choose = container.NewBorder(container.NewVBox(widget.NewLabel("1 选择事项或一件事 / Choose the item or bundle"), in.search), nil, nil, nil, in.results)
	back := widget.NewButton("Backspace 上一题 / Previous question", func() { in.previous() })
	in.wizard = container.NewVBox(widget.NewLabel("2 情形问答 / Questions (数字键 1–9 选择)"), in.question, in.choices, back)

	in.scanBtn = widget.NewButton("F7 扫描全部 / Scan the stack", func() { in.do(func() { in.d.ScanStack(context.Background()) }) })
	in.sendBtn = widget.NewButton("F8 提交 / Submit", func() { in.do(func() { in.d.SubmitApplication(context.Background()) }) })
	in.sendBtn.Importance = widget.HighImportance
	rescan := widget.NewButton("F9 重扫 / Rescan", func() { in.do(func() { in.d.RescanPage(context.Background()) }) })
	assign := widget.NewButton("Enter 指定 / Assign", func() { in.assign() })
	del := widget.NewButton("Del 移除 / Remove", func() { in.removePage() })
	earlier := widget.NewButton("[ 前移", func() { in.movePage(-1) })
	later := widget.NewButton("] 后移", func() { in.movePage(1) })
	help := widget.NewLabel("↑↓ 选材料 · 输入页码如 1-3,5 后按 Enter（只按 Enter：下一未指定页）· ←→ 选页")
	help.Wrapping = fyne.TextWrapWord
	left := container.NewBorder(widget.NewLabel("3 材料清单 / Checklist"), container.NewVBox(help, in.typed), nil, nil, container.NewVScroll(in.mats))
	right := container.NewBorder(in.progress, container.NewHBox(assign, del, earlier, later, rescan), nil, nil, container.NewVScroll(in.thumbs))
	split := container.NewHSplit(left, right)
	split.Offset = 0.42
	in.sheet = container.NewBorder(nil, container.NewHBox(in.scanBtn, in.sendBtn), nil, nil, split)

	leave := widget.NewButton("Esc 返回办件列表 / Back to the cases", func() { in.hide() })
	top := container.NewBorder(nil, nil, nil, leave, container.NewVBox(in.header, in.note))
	in.content = container.NewBorder(top, nil, nil, nil, container.NewStack(in.choose, in.wizard, in.sheet))
	in.content.Hide()
	return in
}

// shown reports whether the intake is on screen.
func (in *intake) shown() bool { return in.content.Visible() }

// NewApplication shows the intake for the person met by their card, going
// on with theirs if one is under way. Call it on the UI thread (F6).
func (d *Desk) NewApplication() error {
	in := d.in
	a := d.applicant()
	if a == nil {
		err := errors.New("请先读卡 / read the card first (F2)")
		d.say(err.Error())
		return err
	}
	if d.opt.Store == nil || d.opt.Scanner == nil {
		err := errors.New("此窗口未配置本地存储或扫描仪，不能收件 / this window has no store or scanner to take applications")
		d.say(err.Error())
		return err
	}
	// The card read again for the same person goes on with their
	// application; another person's, or one submitted, starts anew.
	if in.who == nil || in.who.idNumber != a.idNumber || in.phase == phaseSubmitted {
		in.reset()
		in.who = a
		d.mu.Lock()
		in.cat = d.current
		d.mu.Unlock()
		if in.ix == nil || in.ixRev != in.cat.Revision {
			in.ix, in.ixRev = search.New(in.cat), in.cat.Revision
		}
	}
	in.other.Hide()
	in.content.Show()
	in.showPhase()
	return nil
}

// reset forgets the application under way; a draft never submitted is
// discarded from the store (S19: nothing kept that nobody will send).
func (in *intake) reset() {
	if in.caseID != "" && in.phase != phaseSubmitted {
		id, st := in.caseID, in.d.opt.Store
		in.do(func() { st.DiscardCase(id) })
	}
	in.gen++
	in.phase, in.who, in.theme, in.code, in.answers, in.guide, in.caseID = phaseChoose, nil, "", "", nil, nil, ""
	in.list, in.sel, in.cur, in.b, in.thumb, in.buf, in.stored = nil, 0, 0, newBatch(), nil, "", map[string]error{}
	in.scanning, in.sending = false, false
	in.note.SetText("")
	in.progress.SetText("")
	in.search.SetText("")
}

// hide returns to the case list; the application under way stays for F6.
func (in *intake) hide() {
	in.content.Hide()
	in.other.Show()
	in.d.w.Canvas().Unfocus()
}

func (in *intake) showPhase() {
	in.choose.Hide()
	in.wizard.Hide()
	in.sheet.Hide()
	head := "新办件 / New application"
	if in.who != nil {
		head += fmt.Sprintf(" · 申请人 %s（%s）", mask.Name(in.who.name), mask.ID(in.who.idNumber))
	}
	if in.guide != nil {
		head += " · " + in.guide.Name
	}
	if in.caseID != "" {
		head += " · 办件 " + in.caseID
	}
	in.header.SetText(head)
	switch in.phase {
	case phaseChoose:
		in.choose.Show()
		in.find()
		in.d.w.Canvas().Focus(in.search)
	case phaseWizard:
		in.wizard.Show()
		in.d.w.Canvas().Unfocus()
	default:
		in.sheet.Show()
		in.d.w.Canvas().Unfocus()
		in.refresh()
	}
}

// find lists what the search box's text finds, or the theme's members, or
// the themes.
func (in *intake) find() {
	if in.cat == nil {
		return
	}
	in.rows = in.rows[:0]
	q := strings.TrimSpace(in.search.Text)
	switch {
	case q != "":
		for _, h := range in.ix.Search(q, 12) {
			in.rows = append(in.rows, row{code: h.Code, name: h.Name, kind: string(h.Kind)})
		}
	case in.theme != "":
		th, _ := in.cat.Theme(in.theme)
		for _, c := range th.Members {
			if b, ok := in.cat.Bundle(c); ok {
				in.rows = append(in.rows, row{code: c, name: b.Name, kind: string(search.KindBundle)})
			} else if it, ok := in.cat.Item(c); ok {
				in.rows = append(in.rows, row{code: c, name: it.Name, kind: string(search.KindItem)})
			}
		}
	default:
		for _, th := range in.cat.Themes {
			in.rows = append(in.rows, row{code: th.Code, name: th.Name, kind: "theme"})
		}
	}
	in.hit = 0
	in.results.Refresh()
	in.moving = true
	if len(in.rows) > 0 {
		in.results.Select(0)
	} else {
		in.results.UnselectAll()
	}
	in.moving = false
}

func (in *intake) rowText(r row) string {
	switch r.kind {
	case "theme":
		return "主题 · " + r.name
	case string(search.KindBundle):
		return "一件事 · " + r.name
	}
	return r.name + "  " + r.code
}

// pick takes the result chosen: a theme lists its members; an item or
// bundle goes to its questions.
func (in *intake) pick() {
	if in.hit < 0 || in.hit >= len(in.rows) || in.phase != phaseChoose {
		return
	}
	r := in.rows[in.hit]
	if r.kind == "theme" {
		in.theme = r.code
		in.search.SetText("") // lists the theme's members
		in.find()
		return
	}
	in.code, in.answers = r.code, nil
	in.resolve()
}

// resolve walks the questions with the answers so far: the next question,
// or, all answered, the checklist.
func (in *intake) resolve() {
	g, err := in.cat.Resolve(in.code, in.answers)
	if err != nil {
		in.d.say(err.Error())
		return
	}
	in.guide = g
	if !g.Complete() {
		in.phase = phaseWizard
		q := g.Next
		in.question.SetText(fmt.Sprintf("%s\n%s", g.Name, q.Text))
		var objs []fyne.CanvasObject
		for i, ch := range q.Choices {
			id := ch.ID
			objs = append(objs, widget.NewButton(fmt.Sprintf("%d  %s", i+1, ch.Label), func() { in.answer(id) }))
		}
		in.choices.Objects = objs
		in.choices.Refresh()
		in.showPhase()
		return
	}
	in.phase = phaseStarting
	in.showPhase()
	in.progress.SetText("正在查询档案库并建立办件… / asking the vault, saving the draft…")
	gen := in.gen
	in.do(func() { in.start(context.Background(), gen) })
}

func (in *intake) answer(choice string) {
	if in.phase != phaseWizard {
		return
	}
	in.answers = append(in.answers, choice)
	in.resolve()
}

// previous goes back one question, or from the first to the search.
func (in *intake) previous() {
	if in.phase != phaseWizard {
		return
	}
	if len(in.answers) == 0 {
		in.phase, in.guide = phaseChoose, nil
		in.showPhase()
		return
	}
	in.answers = in.answers[:len(in.answers)-1]
	in.resolve()
}

// start asks the vault what the applicant has on file and saves the case
// draft: its id begins with this desk's terminal name, the only ids the
// platform takes from it. Offline, the application goes on without the
// vault and says so. Off the UI thread.
func (in *intake) start(ctx context.Context, gen int) {
	d := in.d
	var g *catalog.Guide
	var a *applicant
	var code string
	var answers []string
	var cat *catalog.Catalog
	fyne.DoAndWait(func() { g, a, code, answers, cat = in.guide, in.who, in.code, slices.Clone(in.answers), in.cat })
	if g == nil || a == nil {
		return
	}
	vctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	ans, verr := d.p.Vault(vctx, a.idNumber)
	cancel()
	if sessionEnded(verr) {
		d.lock("会话已结束，请重新登录 / Session ended: sign in again")
		return
	}
	now := d.opt.Now()
	d.mu.Lock()
	me, agent := d.me, a.agent
	d.mu.Unlock()
	needed := g.Materials
	if agent != nil {
		// An agent applies: the letter of authorisation joins the list, as
		// the review will ask for it (catalog.WithAgent).
		codes := make([]string, len(g.Items))
		for i, it := range g.Items {
			codes[i] = it.Code
		}
		needed = cat.WithAgent(needed, codes)
	}
	list := make([]matRow, len(needed))
	var refs []wire.MaterialRef
	for i, m := range needed {
		list[i] = matRow{Needed: m}
		if verr != nil {
			continue
		}
		if e, ok := ans.OnFile(m.Code, now); ok {
			list[i].onFile = &e
			refs = append(refs, wire.MaterialRef{Code: m.Code, Name: m.Name, Exempt: true})
		}
	}
	items := make([]string, len(g.Items))
	for i, it := range g.Items {
		items[i] = it.Code
	}
	id := wire.NewCaseID(me, now)
	err := d.opt.Store.SaveCase(wire.Manifest{ID: id, Terminal: me, CatalogRevision: g.Revision, Items: items,
		Applied: code, Answers: answers,
		Applicant: wire.Applicant{Name: a.name, IDNumber: a.idNumber}, Agent: agent, Materials: refs, CreatedAt: now.UTC()})
	fyne.DoAndWait(func() {
		if in.gen != gen {
			return
		}
		if err != nil {
			in.phase, in.guide = phaseChoose, nil
			in.progress.SetText("")
			in.showPhase()
			d.say("办件未能存入本机，请重新选择事项 / the draft was not saved, choose again: " + err.Error())
			return
		}
		in.caseID, in.list, in.sel, in.phase = id, list, in.firstToScan(0), phaseMaterials
		if verr != nil {
			in.note.SetText("档案库暂不可达，未标免提交，请收齐纸质材料 / vault unreachable, nothing marked on file: " + verr.Error())
		} else {
			in.note.SetText(fmt.Sprintf("档案库已查询：%d 件免提交 / vault asked: %d on file", len(refs), len(refs)))
		}
		in.progress.SetText("请把全部材料放入进纸器，按 F7 扫描 / put the whole stack in the feeder and press F7")
		in.showPhase()
	})
}

// firstToScan is the first material from i on that is not on file and has
// no pages yet, else i.
func (in *intake) firstToScan(i int) int {
	for j := i; j < len(in.list); j++ {
		if in.list[j].onFile == nil && len(in.b.of[in.list[j].Code]) == 0 {
			return j
		}
	}
	return min(i, max(len(in.list)-1, 0))
}

// refresh redraws the checklist and the thumbnails.
func (in *intake) refresh() {
	var objs []fyne.CanvasObject
	for i, m := range in.list {
		mark := "   "
		if i == in.sel {
			mark = "▶ "
		}
		tag := ""
		if m.Required {
			tag = "（必交）"
		} else if m.Deferrable {
			tag = "（可容缺）"
		}
		line := fmt.Sprintf("%s%d. %s%s", mark, i+1, m.Name, tag)
		var state string
		switch ps := in.b.of[m.Code]; {
		case m.onFile != nil:
			state = "免提交 / on file · " + onFileText(m.onFile)
		case len(ps) > 0:
			var nums []string
			for j, p := range ps {
				if i == in.sel && j == in.cur {
					nums = append(nums, fmt.Sprintf("[%d]", p))
				} else {
					nums = append(nums, fmt.Sprint(p))
				}
			}
			saved := "正在存入… / storing…"
			if err, done := in.stored[m.Code]; done && err == nil {
				saved = "已存入本机 ✓ / stored"
			} else if done {
				saved = "未存入 ✗ / not stored"
			}
			state = fmt.Sprintf("第 %s 页（%d 页）· %s", strings.Join(nums, " "), len(ps), saved)
		default:
			state = "未扫 / no pages yet"
		}
		l := widget.NewLabel(line + "\n      " + state)
		l.Wrapping = fyne.TextWrapWord
		if i == in.sel {
			l.TextStyle = fyne.TextStyle{Bold: true}
		}
		objs = append(objs, l)
	}
	in.mats.Objects = objs
	in.mats.Refresh()
	var chosen int
	if in.sel < len(in.list) {
		if ps := in.b.of[in.list[in.sel].Code]; in.cur < len(ps) {
			chosen = ps[in.cur]
		}
	}
	thumbs := make([]fyne.CanvasObject, len(in.thumb))
	for i, t := range in.thumb {
		img := canvas.NewImageFromImage(t)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(90, 120))
		label := fmt.Sprintf("%d", i+1)
		if o := in.b.owner[i+1]; o != "" {
			label += " → " + in.indexOf(o)
		}
		if i+1 == chosen {
			label = "▶" + label
		}
		thumbs[i] = container.NewBorder(nil, widget.NewLabel(label), nil, nil, img)
	}
	in.thumbs.Objects = thumbs
	in.thumbs.Refresh()
	in.typed.SetText("页码 / pages: " + in.buf + "▏")
	ready := in.phase == phaseMaterials && !in.scanning && !in.sending
	for _, b := range []*widget.Button{in.scanBtn, in.sendBtn} {
		if ready {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// indexOf is the checklist number of material code.
func (in *intake) indexOf(code string) string {
	for i, m := range in.list {
		if m.Code == code {
			return fmt.Sprint(i + 1)
		}
	}
	return "?"
}

// onFileText says where an on-file material comes from and since when.
func onFileText(e *wire.VaultEntry) string {
	src := "电子证照 / licence"
	if e.Source == wire.SourceCase {
		src = "已确认的材料 / confirmed earlier"
		if e.Case != "" {
			src += " " + e.Case
		}
	}
	parts := []string{src}
	if e.Issuer != "" {
		parts = append(parts, e.Issuer)
	}
	switch {
	case !e.ConfirmedAt.IsZero():
		parts = append(parts, e.ConfirmedAt.Local().Format("2006-01-02"))
	case !e.ValidFrom.IsZero():
		parts = append(parts, e.ValidFrom.Local().Format("2006-01-02"))
	}
	if !e.ValidUntil.IsZero() {
		parts = append(parts, "有效至 "+e.ValidUntil.Local().Format("2006-01-02"))
	}
	return strings.Join(parts, " · ")
}

// thumbnail shrinks a scanned page to the width of its place on screen;
// off the UI thread.
func thumbnail(p docscan.Page) image.Image {
	src, _, err := image.Decode(bytes.NewReader(p.PNG))
	if err != nil {
		return image.NewGray(image.Rect(0, 0, 1, 1))
	}
	b := src.Bounds()
	w := 180
	h := max(1, b.Dy()*w/max(b.Dx(), 1))
	dst := image.NewGray(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}
