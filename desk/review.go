package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/sync/mask"
	"yici/sync/visit"
	"yici/sync/wire"
)

// maxPage is the most bytes of one page the desk fetches: the platform's
// blob limit.
const maxPage = wire.MaxBlobBytes

// reviewPane is one case under review: its checklist with a verdict per
// received material, the selected material's page and criteria, and the
// decisions open. Its fields are the UI thread's.
type reviewPane struct {
	d        *Desk
	header   *widget.Label
	rows     *fyne.Container
	page     *pageView
	criteria *widget.Label
	why      *widget.Label
	buttons  map[visit.Kind]*widget.Button
	fix      *widget.Button
	content  fyne.CanvasObject

	gen      int // counts opens, so a late answer for a case left is dropped
	m        *wire.Manifest
	v        *visit.Visit
	verdicts map[string]*widget.Select
	order    []string          // codes of the received materials, in checklist order
	sel      int               // index in order of the material on show
	pages    map[string][]byte // fetched pages by SHA-256
	last     *visit.Decision   // the decision recorded last
	sent     bool              // last reached the platform whole
	sending  bool
}

func newReviewPane(d *Desk) *reviewPane {
	r := &reviewPane{d: d, header: widget.NewLabel("请在左侧选择办件 / Select a case"), rows: container.NewVBox(),
		page: newPageView(), criteria: widget.NewLabel(""), why: widget.NewLabel(""), buttons: map[visit.Kind]*widget.Button{}}
	r.header.Wrapping = fyne.TextWrapWord
	r.criteria.Wrapping = fyne.TextWrapWord
	r.why.Truncation = fyne.TextTruncateEllipsis // one line: the page keeps its room
	for _, k := range []struct {
		kind  visit.Kind
		label string
	}{{visit.Accept, "F9 受理 / Accept"}, {visit.AcceptWithGaps, "F10 容缺受理 / Accept with gaps"}, {visit.Return, "F11 退回 / Return"}} {
		kind := k.kind
		b := widget.NewButton(k.label, func() { go d.Decide(context.Background(), kind) })
		b.Disable()
		r.buttons[kind] = b
	}
	r.buttons[visit.Accept].Importance = widget.HighImportance
	r.fix = widget.NewButton("F12 更正 / Correct", r.correct)
	r.fix.Disable()
	prev := widget.NewButton("PgUp 上一件", func() { r.move(-1) })
	next := widget.NewButton("PgDn 下一件", func() { r.move(1) })
	zoomIn := widget.NewButton("+ 放大", func() { r.page.step(1) })
	zoomOut := widget.NewButton("- 缩小", func() { r.page.step(-1) })
	// The page gets the most room: its controls share one line with its
	// title, and the criteria stand beside it.
	pageBar := container.NewBorder(nil, nil, r.page.title, container.NewHBox(prev, next, zoomOut, zoomIn))
	side := container.NewBorder(nil, nil, nil, nil, container.NewVScroll(container.NewVBox(r.criteria, r.page.note)))
	pageSplit := container.NewHSplit(r.page.scroll, side)
	pageSplit.Offset = 0.7
	pagePane := container.NewBorder(pageBar, nil, nil, nil, pageSplit)
	split := container.NewHSplit(container.NewVScroll(r.rows), pagePane)
	split.Offset = 0.36
	bar := container.NewVBox(r.why,
		container.NewHBox(r.buttons[visit.Accept], r.buttons[visit.AcceptWithGaps], r.buttons[visit.Return], r.fix))
	r.content = container.NewBorder(r.header, bar, nil, nil, split)
	return r
}

// clear forgets the case on show.
func (r *reviewPane) clear() {
	r.gen++
	r.m, r.v, r.last, r.verdicts, r.order, r.pages = nil, nil, nil, nil, nil, nil
	r.rows.Objects = nil
	r.rows.Refresh()
	r.header.SetText("请在左侧选择办件 / Select a case")
	r.page.message("", "")
	r.criteria.SetText("")
	r.why.SetText("")
	r.update()
}

// Open reads case id — its manifest, the catalogue revision it was made
// under, what its applicant has on file, and the pages handed in — and
// shows it for review; the screen says what it is doing meanwhile. Call it
// off the UI thread (a tap on the list does).
func (d *Desk) Open(ctx context.Context, id string) error {
	r := d.rv
	var gen int
	fyne.DoAndWait(func() {
		r.clear()
		gen = r.gen
		r.header.SetText("正在读取办件 " + id + "… / Loading…")
	})
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	v, m, note, err := d.load(ctx, id)
	if sessionEnded(err) {
		d.lock("会话已结束，请重新登录 / Session ended: sign in again")
		return err
	}
	current := true
	fyne.DoAndWait(func() {
		if current = r.gen == gen; !current {
			return // the clerk has moved on
		}
		if err != nil {
			r.header.SetText("无法读取办件 " + id + "，请按 F5 后重选 / cannot load case: " + err.Error())
			return
		}
		r.show(m, v, note)
	})
	if err != nil || !current {
		return err
	}
	if err := d.firstInquiry(ctx, m); err != nil {
		fyne.DoAndWait(func() { d.say("首问登记未能送达平台 / first inquiry not recorded: " + err.Error()) })
	}
	// The pages, one by one: each appears when it is in.
	for _, row := range v.Checklist() {
		if row.Status != visit.Received {
			continue
		}
		data, err := d.p.Blob(ctx, m.ID, row.Blob.SHA256, maxPage)
		fyne.DoAndWait(func() {
			if current = r.gen == gen; current {
				r.pageIn(row.Code, row.Name, row.Blob.SHA256, data, err)
			}
		})
		if !current {
			return nil
		}
	}
	return nil
}

// OpenLatest opens the newest case of the list, as a tap on its first line
// does. Call it off the UI thread.
func (d *Desk) OpenLatest(ctx context.Context) error {
	var id string
	fyne.DoAndWait(func() {
		if len(d.cases) > 0 {
			id = d.cases[0].ID
			d.selecting = true
			d.list.Select(0)
			d.selecting = false
		}
	})
	if id == "" {
		return errors.New("desk: no case in the list")
	}
	return d.Open(ctx, id)
}

// load reads what the review of case id needs; note says what is missing
// of it but does not stop the review (the vault, offline).
func (d *Desk) load(ctx context.Context, id string) (v *visit.Visit, m *wire.Manifest, note string, err error) {
	if m, err = d.p.Case(ctx, id); err != nil {
		return nil, nil, "", err
	}
	cat, err := d.catalogAt(ctx, m.CatalogRevision)
	if err != nil {
		return nil, nil, "", err
	}
	vault, verr := d.p.Vault(ctx, m.Applicant.IDNumber)
	if sessionEnded(verr) {
		return nil, nil, "", verr
	}
	if verr != nil {
		note = "档案库暂不可达，免提交以办件所记为准 / vault unreachable: " + verr.Error()
	}
	v, err = visit.New(cat, *m, vault, d.opt.Now())
	return v, m, note, err
}

// show lays out the checklist of v and fetches the pages of its received
// materials.
func (r *reviewPane) show(m *wire.Manifest, v *visit.Visit, note string) {
	r.m, r.v, r.verdicts, r.pages, r.sel = m, v, map[string]*widget.Select{}, map[string][]byte{}, 0
	head := fmt.Sprintf("办件 %s · 申请人 %s %s · 终端 %s · 事项清单版本 %d\n事项：%s", m.ID,
		mask.Name(m.Applicant.Name), mask.ID(m.Applicant.IDNumber), m.Terminal, m.CatalogRevision, r.d.itemNames(m.Items))
	if a := m.Agent; a != nil {
		head += fmt.Sprintf("\n代办人 / agent: %s %s", mask.Name(a.Name), mask.ID(a.IDNumber))
	}
	if note != "" {
		head += "\n" + note
	}
	if extra := v.Extra(); len(extra) > 0 {
		var codes []string
		for _, e := range extra {
			codes = append(codes, e.Code)
		}
		head += "\n清单外材料（不审核）/ not asked for: " + strings.Join(codes, "、")
	}
	r.header.SetText(head)
	var objs []fyne.CanvasObject
	for _, row := range v.Checklist() {
		objs = append(objs, r.rowView(row), widget.NewSeparator())
	}
	r.rows.Objects = objs
	r.rows.Refresh()
	r.update()
	if len(r.order) > 0 {
		r.move(0)
	} else {
		r.page.message("", "本件无待审材料 / nothing handed in to review")
	}
}

// rowView is one checklist line: the material, where it stands and, if
// received, its verdict.
func (r *reviewPane) rowView(row visit.Row) fyne.CanvasObject {
	var tags []string
	if row.Required {
		tags = append(tags, "必交")
	}
	if row.Deferrable {
		tags = append(tags, "可容缺")
	}
	name := widget.NewLabelWithStyle(row.Name+"  "+strings.Join(tags, " "), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	state := widget.NewLabel(stateText(row))
	state.Wrapping = fyne.TextWrapWord
	if row.Status != visit.Received {
		return container.NewVBox(name, state)
	}
	code := row.Code
	r.order = append(r.order, code)
	opts := []string{"符合 / passes"}
	for _, c := range row.Criteria {
		opts = append(opts, fmt.Sprintf("不符合 [%s] %s", c.ID, c.Text))
	}
	crits := row.Criteria
	sel := widget.NewSelect(opts, nil)
	sel.PlaceHolder = "请审核 / review it"
	sel.OnChanged = func(string) {
		// The verdict is the option's place, never its label read back.
		i := sel.SelectedIndex()
		vd := visit.Verdict{Pass: i == 0}
		if i > 0 {
			vd.Criterion = crits[i-1].ID
		}
		if err := r.v.SetVerdict(code, vd); err != nil {
			r.d.say(err.Error())
		}
		r.update()
	}
	r.verdicts[code] = sel
	view := widget.NewButton("查看 / View", func() { r.showMaterial(code) })
	return container.NewVBox(container.NewBorder(nil, nil, nil, view, name), state, sel)
}

func stateText(row visit.Row) string {
	switch row.Status {
	case visit.OnFile:
		s := "免提交 / on file"
		if e := row.Entry; e != nil {
			src := "电子证照"
			if e.Source == wire.SourceCase {
				src = "已确认的材料"
			}
			s += fmt.Sprintf(" · %s", src)
			if e.Issuer != "" {
				s += " · " + e.Issuer
			}
			if !e.ValidUntil.IsZero() {
				s += " · 有效至 " + e.ValidUntil.Local().Format("2006-01-02")
			}
		}
		return s
	case visit.Received:
		return fmt.Sprintf("已收 / received · %d KB · %s", (row.Blob.Size+1023)/1024, row.Blob.ContentType)
	}
	if row.Deferrable {
		return "未交 / missing — 可容缺，限期补交"
	}
	return "未交 / missing"
}

// showMaterial puts material code's page and criteria on show.
func (r *reviewPane) showMaterial(code string) {
	for i, c := range r.order {
		if c == code {
			r.sel = i
		}
	}
	for _, row := range r.v.Checklist() {
		if row.Code != code {
			continue
		}
		var cs []string
		for i, c := range row.Criteria {
			cs = append(cs, fmt.Sprintf("%d [%s] %s", i+1, c.ID, c.Text))
		}
		r.criteria.SetText("空格 符合 · 数字 不符合第 n 条 / space passes, n fails on criterion n\n审核准则 / criteria:\n" + strings.Join(cs, "\n"))
		if data, ok := r.pages[row.Blob.SHA256]; ok {
			r.page.show(row.Name, data)
		} else {
			r.page.message(row.Name, "正在读取页面… / fetching the page…")
		}
	}
}

// move shows the next (1), previous (-1) or current (0) received material.
func (r *reviewPane) move(dir int) {
	if len(r.order) == 0 {
		return
	}
	r.sel = (r.sel + dir + len(r.order)) % len(r.order)
	r.showMaterial(r.order[r.sel])
}

// pageIn keeps the page sha of material code, fetched or not, and shows it
// if the material is on show.
func (r *reviewPane) pageIn(code, name, sha string, data []byte, err error) {
	if err == nil {
		r.pages[sha] = data
	}
	if len(r.order) == 0 || r.order[r.sel] != code {
		return
	}
	if err != nil {
		r.page.message(name, "页面未能读取，请按 F5 后重选本件 / page not fetched: "+err.Error())
		return
	}
	r.page.show(name, data)
}

// update enables the decisions the visit says are open, and says why the
// others are not.
func (r *reviewPane) update() {
	for _, b := range r.buttons {
		b.Disable()
	}
	r.fix.Disable()
	if r.v == nil || r.sending {
		return
	}
	if r.last != nil && r.sent {
		r.fix.Enable()
		for _, s := range r.verdicts {
			s.Disable()
		}
		r.why.SetText(fmt.Sprintf("已记录：%s。更正请按 F12 / Recorded; F12 to correct", kindName(r.last.Kind)))
		return
	}
	if r.last != nil { // recorded here, not yet whole on the platform
		r.buttons[r.last.Kind].Enable()
		r.why.SetText("决定已记录但未全部送达平台，请按 " + keyOf(r.last.Kind) + " 重发 / not all sent: press it again")
		return
	}
	for _, s := range r.verdicts {
		s.Enable()
	}
	a := r.v.Options()
	for kind, o := range map[visit.Kind]visit.Option{visit.Accept: a.Accept, visit.AcceptWithGaps: a.AcceptWithGaps, visit.Return: a.Return} {
		if o.Open {
			r.buttons[kind].Enable()
		}
	}
	// One line: what the clerk must still do, or what stands in the way.
	switch {
	case len(a.Pending) > 0:
		r.why.SetText("待审核 / to review: " + strings.Join(r.names(a.Pending), "、"))
	case len(a.Blocking) > 0:
		r.why.SetText("缺少或不符合 / missing or failing: " + strings.Join(r.names(a.Blocking), "、"))
	default:
		r.why.SetText("材料齐全，可受理 / complete: F9 to accept")
	}
}

// names are the names of material codes on the checklist.
func (r *reviewPane) names(codes []string) []string {
	byCode := map[string]string{}
	for _, row := range r.v.Checklist() {
		byCode[row.Code] = row.Name
	}
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = byCode[c]
		if out[i] == "" {
			out[i] = c
		}
	}
	return out
}

func keyOf(k visit.Kind) string {
	switch k {
	case visit.Accept:
		return "F9"
	case visit.AcceptWithGaps:
		return "F10"
	}
	return "F11"
}

// rune gives the material on show its verdict from the keyboard: space
// passes it, 1–9 fails it citing its criterion of that number; then the
// next material is shown. Call it on the UI thread.
func (r *reviewPane) rune(c rune) {
	if r.v == nil || r.last != nil || len(r.order) == 0 {
		return
	}
	sel := r.verdicts[r.order[r.sel]]
	switch {
	case c == ' ':
		sel.SetSelectedIndex(0)
	case c >= '1' && c <= '9' && int(c-'0') < len(sel.Options):
		sel.SetSelectedIndex(int(c - '0'))
	default:
		return
	}
	if r.sel+1 < len(r.order) {
		r.move(1)
	}
}

// PassAll gives every received material of the case on show a passing
// verdict, as the clerk would one by one. Call it on the UI thread.
func (d *Desk) PassAll() {
	for _, s := range d.rv.verdicts {
		s.SetSelectedIndex(0)
	}
}

// Assessment says which decisions are open on the case on show. Call it on
// the UI thread.
func (d *Desk) Assessment() visit.Assessment {
	if d.rv.v == nil {
		return visit.Assessment{}
	}
	return d.rv.v.Options()
}
