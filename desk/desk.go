// Package desk is the comprehensive window (综合窗口): a clerk signs in with
// a staff number and PIN, sees the cases of the hall, reviews each material against its
// published criteria (S4) and records the result: materials that pass are
// confirmed into the applicant's vault, so nobody is asked for them again
// (S13); a material fails only by citing one of its criteria, and the
// rejection is recorded with it (否定备案, S18).
package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/uploader"
	"yici/sync/wire"
)

// Platform is what the desk needs of the platform (*uploader.Client).
// Reads and decisions act for the clerk signed in with SignIn.
type Platform interface {
	SignIn(ctx context.Context, clerk, pin, window string) (wire.SessionAnswer, error)
	SignOut(ctx context.Context) error
	WhoAmI(ctx context.Context) (wire.WhoAmI, error)
	Cases(ctx context.Context) ([]wire.CaseSummary, error)
	Case(ctx context.Context, id string) (*wire.Manifest, error)
	Confirm(ctx context.Context, caseID string, req wire.ConfirmRequest) (wire.ConfirmAnswer, error)
	PutEvent(ctx context.Context, e wire.Event) error
}

// pass is the verdict option that cites no criterion.
const pass = "符合 / passes"

// Desk is the clerk's window content.
type Desk struct {
	p      Platform
	cat    *catalog.Catalog
	w      fyne.Window
	review fyne.CanvasObject // the review screen, shown while a clerk is signed in
	signin *signInForm

	mu     sync.Mutex // signed, clerk and me: Run reads them off the UI thread
	signed bool
	clerk  string // "name (staff number)" of the clerk signed in
	me     string // this desk's terminal name: its event ids begin with it
	cases  []wire.CaseSummary
	list   *widget.List
	header *widget.Label
	rows   *fyne.Container
	record *widget.Button
	status *widget.Label

	who *widget.Label

	current  *wire.Manifest
	verdicts map[string]*widget.Select // material code → pass or a criterion
}

// SignIn signs the clerk in at this desk with the platform, and shows the
// review screen; a refusal shows on the form. Call it off the UI thread.
func (d *Desk) SignIn(ctx context.Context, clerk, pin, window string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	fyne.Do(func() { d.signin.busy(true) })
	ans, err := d.p.SignIn(ctx, clerk, pin, window)
	var me wire.WhoAmI
	if err == nil {
		me, err = d.p.WhoAmI(ctx)
	}
	if err != nil {
		fyne.DoAndWait(func() {
			d.signin.busy(false)
			d.signin.fail(signInMessage(err))
		})
		return err
	}
	d.mu.Lock()
	d.signed, d.clerk, d.me = true, fmt.Sprintf("%s（%s）", ans.Name, ans.Clerk), me.Name
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.signin.busy(false)
		d.signin.clear()
		d.who.SetText(fmt.Sprintf("%s · 窗口 %s", d.clerkName(), ans.Window))
		d.w.SetContent(d.review)
	})
	d.Refresh(ctx)
	return nil
}

// SignOut ends the clerk's session and returns to the sign-in form,
// forgetting the open case. Call it off the UI thread.
func (d *Desk) SignOut(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := d.p.SignOut(ctx)
	d.lock("")
	if err != nil {
		fyne.Do(func() {
			d.signin.fail("已退出；平台未确认会话结束（" + err.Error() + "），会话将按时失效")
		})
	}
}

// lock shows the sign-in form with msg and forgets what was on screen.
func (d *Desk) lock(msg string) {
	d.mu.Lock()
	d.signed, d.clerk = false, ""
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.cases, d.current, d.verdicts = nil, nil, nil
		d.rows.Objects = nil
		d.header.SetText("请在左侧选择办件 / Select a case")
		d.record.Disable()
		d.list.UnselectAll()
		d.list.Refresh()
		d.signin.fail(msg)
		d.w.SetContent(d.signin.content)
	})
}

func (d *Desk) clerkName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clerk
}

// SignedIn reports whether a clerk is signed in.
func (d *Desk) SignedIn() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signed
}

// sessionEnded reports whether err says the clerk's session is over (idle,
// expired, or the clerk disabled): the desk then asks for the PIN again.
func sessionEnded(err error) bool {
	var se *uploader.StatusError
	return errors.As(err, &se) && se.Body.Code == wire.CodeSessionRequired
}

func signInMessage(err error) string {
	var se *uploader.StatusError
	if errors.As(err, &se) {
		switch se.Body.Code {
		case wire.CodeSignInFailed:
			return "工号或密码不对，请重试 / Staff number or PIN is wrong"
		case wire.CodeClerkLocked:
			return "密码错误次数过多，账号已暂时锁定，请稍后再试或联系管理员 / Locked after too many wrong PINs: " + se.Body.Message
		}
	}
	return "无法登录：" + err.Error()
}

// New builds the desk in w; it shows the sign-in form until a clerk signs
// in.
func New(p Platform, cat *catalog.Catalog, w fyne.Window) *Desk {
	d := &Desk{p: p, cat: cat, w: w}
	d.header = widget.NewLabel("请在左侧选择办件 / Select a case")
	d.header.Wrapping = fyne.TextWrapWord
	d.rows = container.NewVBox()
	d.status = widget.NewLabel("")
	d.record = widget.NewButton("记录审核结果 / Record the review", func() { d.Record(context.Background()) })
	d.record.Importance = widget.HighImportance
	d.record.Disable()
	d.list = widget.NewList(
		func() int { return len(d.cases) },
		func() fyne.CanvasObject {
			return widget.NewLabel("00:00  张*  0000**********0000  居民身份证换领")
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := d.cases[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s  %s  %s  %s", c.ReceivedAt.Local().Format("15:04"),
				mask.Name(c.Applicant.Name), mask.ID(c.Applicant.IDNumber), d.itemNames(c.Items)))
		})
	d.list.OnSelected = func(i widget.ListItemID) { d.open(d.cases[i].ID) }
	detail := container.NewBorder(d.header, d.record, nil, nil, container.NewVScroll(d.rows))
	split := container.NewHSplit(d.list, detail)
	split.Offset = 0.4
	d.who = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	out := widget.NewButton("退出登录 / Sign out", func() { go d.SignOut(context.Background()) })
	top := container.NewBorder(nil, nil, widget.NewLabelWithStyle("综合窗口 · 收件审核 / Window desk · review", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(d.who, out))
	d.review = container.NewBorder(top, d.status, nil, nil, split)
	d.signin = newSignInForm(func(clerk, pin, window string) {
		go d.SignIn(context.Background(), clerk, pin, window)
	})
	w.SetContent(d.signin.content)
	return d
}

func (d *Desk) itemNames(codes []string) string {
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		if it, ok := d.cat.Item(c); ok {
			names = append(names, it.Name)
		} else {
			names = append(names, c)
		}
	}
	return strings.Join(names, "、")
}

// Refresh reloads the case list; safe to call from any goroutine.
func (d *Desk) Refresh(ctx context.Context) {
	if !d.SignedIn() {
		return
	}
	cs, err := d.p.Cases(ctx)
	if sessionEnded(err) {
		d.lock("会话已结束，请重新登录 / Session ended: sign in again")
		return
	}
	fyne.DoAndWait(func() {
		if err != nil {
			d.status.SetText("平台暂不可达，稍后自动重试 / platform unreachable: " + err.Error())
			return
		}
		d.cases = cs
		d.status.SetText(fmt.Sprintf("共 %d 件 · 更新于 %s", len(cs), time.Now().Format("15:04:05")))
		d.list.Refresh()
	})
}

// Run refreshes the list every interval until ctx ends.
func (d *Desk) Run(ctx context.Context, interval time.Duration) {
	for {
		d.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// SetCatalog makes c the catalogue cases are reviewed against from the next
// case opened on; call it on the UI thread.
func (d *Desk) SetCatalog(c *catalog.Catalog) { d.cat = c }

// SelectLatest opens the newest case, as a tap on the list's first line.
func (d *Desk) SelectLatest() {
	if len(d.cases) > 0 {
		d.list.Select(0)
	}
}

// open shows a case: each material of its items once, received, on file
// or missing, and for each received one a verdict that is either "passes"
// or one of the material's own criteria — nothing beyond them (S4).
func (d *Desk) open(id string) {
	m, err := d.p.Case(context.Background(), id)
	if err != nil {
		d.header.SetText("无法读取办件 / cannot load case: " + err.Error())
		return
	}
	d.current = m
	d.verdicts = map[string]*widget.Select{}
	d.header.SetText(fmt.Sprintf("办件 %s · 申请人 %s %s · 终端 %s · 事项清单版本 %d\n事项：%s", m.ID,
		mask.Name(m.Applicant.Name), mask.ID(m.Applicant.IDNumber), m.Terminal, m.CatalogRevision, d.itemNames(m.Items)))
	got := map[string]wire.MaterialRef{}
	for _, r := range m.Materials {
		got[r.Code] = r
	}
	var rows []fyne.CanvasObject
	seen := map[string]bool{}
	for _, code := range m.Items {
		it, ok := d.cat.Item(code)
		if !ok {
			rows = append(rows, widget.NewLabel("事项 "+code+" 不在当前清单 / not in this catalogue"))
			continue
		}
		for _, mat := range it.Materials {
			if seen[mat.Code] {
				continue // a material several items need is reviewed once (S5)
			}
			seen[mat.Code] = true
			r, have := got[mat.Code]
			var state fyne.CanvasObject
			switch {
			case have && r.Exempt:
				state = widget.NewLabel("免提交 / on file")
			case have:
				opts := []string{pass}
				for _, c := range mat.Criteria {
					opts = append(opts, "不符合 ["+c.ID+"] "+c.Text)
				}
				sel := widget.NewSelect(opts, nil)
				sel.SetSelected(pass)
				d.verdicts[mat.Code] = sel
				state = container.NewVBox(widget.NewLabel(fmt.Sprintf("已收 %d KB", (r.Size+1023)/1024)), sel)
			default:
				state = widget.NewLabel("未交 / missing")
			}
			name := widget.NewLabelWithStyle(mat.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			rows = append(rows, container.NewBorder(nil, nil, name, nil, state), widget.NewSeparator())
		}
	}
	d.rows.Objects = rows
	d.rows.Refresh()
	if len(d.verdicts) > 0 {
		d.record.Enable()
	} else {
		d.record.Disable()
	}
}

// criterionOf returns the criterion id a verdict cites, or "" for a pass.
func criterionOf(verdict string) (id, text string) {
	rest, ok := strings.CutPrefix(verdict, "不符合 [")
	if !ok {
		return "", ""
	}
	id, text, _ = strings.Cut(rest, "] ")
	return id, text
}

// Record sends the review of the open case: a rejection event citing its
// criterion for each failed material, then the confirmation of those that
// passed, which puts them in the applicant's vault.
func (d *Desk) Record(ctx context.Context) {
	m := d.current
	if m == nil {
		return
	}
	var ok []wire.ConfirmMaterial
	failed := 0
	for code, sel := range d.verdicts {
		crit, text := criterionOf(sel.Selected)
		if crit == "" {
			ok = append(ok, wire.ConfirmMaterial{Code: code})
			continue
		}
		// The platform writes the clerk from the session; the id is this
		// desk's, as every id a terminal makes.
		e := wire.Event{ID: d.me + "-" + m.ID + "-reject-" + code, Kind: wire.EventRejection, At: time.Now().UTC(), Case: m.ID,
			Material: code, Criterion: crit, Reason: text}
		if err := d.p.PutEvent(ctx, e); err != nil {
			d.status.SetText("退回未能记录，请重试 / rejection not recorded: " + err.Error())
			return
		}
		failed++
	}
	if len(ok) > 0 {
		if _, err := d.p.Confirm(ctx, m.ID, wire.ConfirmRequest{Materials: ok}); err != nil {
			d.status.SetText("确认未能记录，请重试 / confirmation not recorded: " + err.Error())
			return
		}
	}
	d.status.SetText(fmt.Sprintf("办件 %s：%d 件材料确认入库（下次免提交），%d 件退回并备案", m.ID, len(ok), failed))
}
