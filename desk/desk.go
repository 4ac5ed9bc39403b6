// Package desk is the comprehensive window (综合窗口): the clerk sees every
// case that reached the platform, reviews each material against its
// published criteria (S4) and records the result: materials that pass are
// confirmed into the applicant's vault, so nobody is asked for them again
// (S13); a material fails only by citing one of its criteria, and the
// rejection is recorded with it (否定备案, S18).
package desk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/wire"
)

// Platform is what the desk needs of the platform (*uploader.Client).
type Platform interface {
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
	clerk  string
	cases  []wire.CaseSummary
	list   *widget.List
	header *widget.Label
	rows   *fyne.Container
	record *widget.Button
	status *widget.Label

	current  *wire.Manifest
	verdicts map[string]*widget.Select // material code → pass or a criterion
}

// New builds the desk in w for the clerk named clerk.
func New(p Platform, cat *catalog.Catalog, clerk string, w fyne.Window) *Desk {
	d := &Desk{p: p, cat: cat, clerk: clerk}
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
	w.SetContent(container.NewBorder(widget.NewLabelWithStyle("综合窗口 · 收件审核 / Window desk · review", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.status, nil, nil, split))
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
	cs, err := d.p.Cases(ctx)
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
		e := wire.Event{ID: m.ID + "-reject-" + code, Kind: wire.EventRejection, At: time.Now().UTC(), Case: m.ID,
			Clerk: d.clerk, Material: code, Criterion: crit, Reason: text}
		if err := d.p.PutEvent(ctx, e); err != nil {
			d.status.SetText("退回未能记录，请重试 / rejection not recorded: " + err.Error())
			return
		}
		failed++
	}
	if len(ok) > 0 {
		if _, err := d.p.Confirm(ctx, m.ID, wire.ConfirmRequest{Clerk: d.clerk, Materials: ok}); err != nil {
			d.status.SetText("确认未能记录，请重试 / confirmation not recorded: " + err.Error())
			return
		}
	}
	d.status.SetText(fmt.Sprintf("办件 %s：%d 件材料确认入库（下次免提交），%d 件退回并备案", m.ID, len(ok), failed))
}
