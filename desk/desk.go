// Package desk is the comprehensive window (综合窗口): the clerk sees every
// case that reached the platform, with its materials and the review criteria
// each must meet (S4, S7).
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

// Platform is what the desk reads from the platform.
type Platform interface {
	Cases(ctx context.Context) ([]wire.CaseSummary, error)
	Case(ctx context.Context, id string) (*wire.Manifest, error)
}

// Desk is the clerk's window content.
type Desk struct {
	p       Platform
	cat     *catalog.Catalog
	cases   []wire.CaseSummary
	list    *widget.List
	detail  *widget.Label
	status  *widget.Label
	current string
}

// New builds the desk in w.
func New(p Platform, cat *catalog.Catalog, w fyne.Window) *Desk {
	d := &Desk{p: p, cat: cat}
	d.detail = widget.NewLabel("请在左侧选择办件 / Select a case")
	d.detail.Wrapping = fyne.TextWrapWord
	d.status = widget.NewLabel("")
	d.list = widget.NewList(
		func() int { return len(d.cases) },
		func() fyne.CanvasObject {
			return widget.NewLabel("办件 0000-00000000-000000 张* 0000**********0000")
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := d.cases[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s  %s  %s  %s", c.ReceivedAt.Local().Format("15:04"),
				mask.Name(c.Applicant.Name), mask.ID(c.Applicant.IDNumber), d.itemNames(c.Items)))
		})
	d.list.OnSelected = func(i widget.ListItemID) { d.open(d.cases[i].ID) }
	split := container.NewHSplit(d.list, container.NewVScroll(d.detail))
	split.Offset = 0.45
	w.SetContent(container.NewBorder(widget.NewLabelWithStyle("综合窗口 · 收件 / Window desk · received cases", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
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

func (d *Desk) open(id string) {
	d.current = id
	m, err := d.p.Case(context.Background(), id)
	if err != nil {
		d.detail.SetText("无法读取办件 / cannot load case: " + err.Error())
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "办件 %s\n申请人 %s  %s\n终端 %s · 事项清单版本 %d\n\n", m.ID,
		mask.Name(m.Applicant.Name), mask.ID(m.Applicant.IDNumber), m.Terminal, m.CatalogRevision)
	for _, code := range m.Items {
		it, ok := d.cat.Item(code)
		if !ok {
			fmt.Fprintf(&b, "事项 %s（不在当前清单）\n", code)
			continue
		}
		fmt.Fprintf(&b, "事项：%s\n", it.Name)
		for _, mat := range it.Materials {
			state := "未交 / missing"
			for _, r := range m.Materials {
				if r.Code == mat.Code {
					state = fmt.Sprintf("已收 %d KB", (r.Size+1023)/1024)
					if r.Exempt {
						state = "免提交 / on file"
					}
				}
			}
			fmt.Fprintf(&b, "  · %s — %s\n", mat.Name, state)
			for _, c := range mat.Criteria {
				fmt.Fprintf(&b, "      [%s] %s\n", c.ID, c.Text)
			}
		}
	}
	d.detail.SetText(b.String())
}

// SelectLatest opens the newest case, as a tap on the list's first line.
func (d *Desk) SelectLatest() {
	if len(d.cases) > 0 {
		d.list.Select(0)
	}
}
