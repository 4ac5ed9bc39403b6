package terminal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/docscan"
	"yici/sync/catalog"
	"yici/sync/wire"
)

// The pages screen is one material's scan: each 扫描 takes one sheet from
// the flatbed, a large preview shows the page chosen, and the citizen
// retakes, deletes or moves pages until the material is right. After every
// change the material is captured anew (one page as docscan stores it,
// several bound into one PDF: docscan.Bind, as the desk does), so the
// store always holds what the screen shows.
//
// One change runs at a time: while a scan or a capture runs, every button
// but Back and Home is grey (pgBusy), so the captures reach the store in
// the order they were made.

// buildPages makes the pages screen once.
func (k *Kiosk) buildPages() {
	k.pgTitle = bigText("", theme.SizeNameSubHeadingText)
	k.pgStep = widget.NewLabel("")
	k.pgStep.Alignment = fyne.TextAlignCenter
	k.pgStep.Wrapping = fyne.TextWrapWord
	k.pgImage = canvas.NewImageFromResource(nil)
	k.pgImage.FillMode = canvas.ImageFillContain
	k.pgImage.ScaleMode = canvas.ImageScaleSmooth
	big := func(label string, icon fyne.Resource, fn func()) *widget.Button {
		return widget.NewButtonWithIcon(label, icon, func() { k.touch(); fn() })
	}
	k.pgAdd = big("扫描下一页 / Scan a page", theme.ContentAddIcon(), func() { k.addPage() })
	k.pgAdd.Importance = widget.HighImportance
	k.pgRetake = big("重拍 / Retake", theme.ViewRefreshIcon(), k.retakePage)
	k.pgDelete = big("删除 / Delete", theme.DeleteIcon(), k.deletePage)
	k.pgEarlier = big("← 前移 / Earlier", theme.NavigateBackIcon(), func() { k.movePage(-1) })
	k.pgLater = big("→ 后移 / Later", theme.NavigateNextIcon(), func() { k.movePage(+1) })
	k.pgDone = big("完成 / Done", theme.ConfirmIcon(), k.pagesDone)
	k.pgDone.Importance = widget.HighImportance
	// The preview takes all the height the screen has (an A4 page is
	// tall); the buttons stand in a column beside it, the page numbers
	// to choose from under them.
	k.pgThumbs = container.NewGridWithColumns(5)
	side := container.NewVBox(k.pgAdd, k.pgRetake, k.pgDelete, k.pgEarlier, k.pgLater, k.pgThumbs, layout.NewSpacer(), k.pgDone)
	k.pagesScreen = container.NewBorder(container.NewVBox(k.pgTitle, k.pgStep), nil, nil, side, k.pgImage)
}

// openPages shows material m's pages, the last one chosen.
func (k *Kiosk) openPages(m catalog.Material) {
	k.pgMat = m
	k.pgSel = len(k.sess.pages[m.Code]) - 1
	k.refreshPages()
	k.show(k.pagesScreen)
}

// pagesOn returns the pages of the material on the pages screen.
func (k *Kiosk) pagesOn() []docscan.Page { return k.sess.pages[k.pgMat.Code] }

// refreshPages redraws the pages screen from the visit.
func (k *Kiosk) refreshPages() {
	ps := k.pagesOn()
	limit := k.pgMat.PageLimit()
	k.pgSel = min(max(k.pgSel, 0), len(ps)-1)
	k.pgTitle.Text = k.pgMat.Name
	k.pgTitle.Refresh()
	switch {
	case k.pgBusy:
	case len(ps) == 0:
		k.pgStep.SetText(fmt.Sprintf("请把第一页放在扫描仪上，点“扫描下一页”（最多 %d 页） / Put the first page on the scanner (at most %d)", limit, limit))
	default:
		k.pgStep.SetText(fmt.Sprintf("第 %d / %d 页（最多 %d 页）· 请核对页面是否清晰完整 / page %d of %d: check it is sharp and whole", k.pgSel+1, len(ps), limit, k.pgSel+1, len(ps)))
	}
	if k.pgSel >= 0 {
		k.pgSeq++ // a new name per picture: never a cached one of another page
		k.pgImage.Resource = fyne.NewStaticResource(fmt.Sprintf("page-%d", k.pgSeq), ps[k.pgSel].Data)
	} else {
		k.pgImage.Resource = nil
	}
	k.pgImage.Refresh()
	thumbs := make([]fyne.CanvasObject, len(ps))
	for i := range ps {
		b := widget.NewButton(fmt.Sprint(i+1), func() { k.touch(); k.pgSel = i; k.refreshPages() })
		if i == k.pgSel {
			b.Importance = widget.HighImportance
		}
		if k.pgBusy {
			b.Disable()
		}
		thumbs[i] = b
	}
	k.pgThumbs.Objects = thumbs
	k.pgThumbs.Refresh()
	enable := func(b *widget.Button, on bool) {
		if on && !k.pgBusy {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	// 扫描 stays live at the limit, to say why no more pages go in.
	enable(k.pgAdd, true)
	enable(k.pgRetake, len(ps) > 0)
	// A material keeps at least one page once scanned (the store cannot
	// take a capture back): 重拍 replaces a single page.
	enable(k.pgDelete, len(ps) > 1)
	enable(k.pgEarlier, k.pgSel > 0)
	enable(k.pgLater, k.pgSel >= 0 && k.pgSel < len(ps)-1)
	enable(k.pgDone, true)
}

// addPage scans one more page after the last, unless the material has
// its catalogue's limit already.
func (k *Kiosk) addPage() <-chan error {
	ps := k.pagesOn()
	if limit := k.pgMat.PageLimit(); len(ps) >= limit {
		err := fmt.Errorf("本材料最多 %d 页，已满，不能再加 / this material takes at most %d pages", limit, limit)
		k.say(err.Error())
		return done(err)
	}
	return k.changePages(len(ps), true, func(ps []docscan.Page, p docscan.Page) ([]docscan.Page, int) {
		return append(ps, p), len(ps)
	})
}

// retakePage scans the chosen page again, in its place.
func (k *Kiosk) retakePage() {
	if k.pgSel < 0 {
		return
	}
	at := k.pgSel
	k.changePages(at, true, func(ps []docscan.Page, p docscan.Page) ([]docscan.Page, int) {
		ps[at] = p
		return ps, at
	})
}

// deletePage removes the chosen page; the last page stays (retake it).
func (k *Kiosk) deletePage() {
	at := k.pgSel
	if at < 0 || len(k.pagesOn()) < 2 {
		return
	}
	k.changePages(at, false, func(ps []docscan.Page, _ docscan.Page) ([]docscan.Page, int) {
		ps = slices.Delete(ps, at, at+1)
		return ps, min(at, len(ps)-1)
	})
}

// movePage moves the chosen page one place earlier (-1) or later (+1).
func (k *Kiosk) movePage(by int) {
	at, to := k.pgSel, k.pgSel+by
	if at < 0 || to < 0 || to >= len(k.pagesOn()) {
		return
	}
	k.changePages(at, false, func(ps []docscan.Page, _ docscan.Page) ([]docscan.Page, int) {
		ps[at], ps[to] = ps[to], ps[at]
		return ps, to
	})
}

// pagesDone goes back to the material list.
func (k *Kiosk) pagesDone() {
	if k.pgBusy {
		return
	}
	k.say("")
	k.refreshMaterials()
	k.show(k.materials)
}

// changePages makes one change to the pages of the material on screen in
// the background: with scan, a page is scanned first and edit gets it;
// edit returns the new pages (it may change the copy it is given) and
// the one to choose. The material is captured as the new pages; only
// once that is durable does the visit keep them and the screen show
// them. The result arrives on the UI thread, and on the returned channel
// for automation and tests. A visit wiped meanwhile keeps nothing.
func (k *Kiosk) changePages(at int, scan bool, edit func(ps []docscan.Page, p docscan.Page) ([]docscan.Page, int)) <-chan error {
	result := make(chan error, 1)
	s, m := k.sess, k.pgMat
	caseID := s.caseID // Back or Home may clear it while the scan runs
	ps := slices.Clone(s.pages[m.Code])
	k.pgBusy = true
	if scan {
		k.pgStep.SetText(fmt.Sprintf("正在扫描第 %d 页，请稍候… / Scanning page %d…", at+1, at+1))
	} else {
		k.pgStep.SetText("正在保存… / Saving…")
	}
	k.say("")
	k.refreshPages()
	k.refreshMaterials() // Submit waits for the change
	k.bg.Go(func() {
		var p docscan.Page
		var err error
		if scan {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			p, err = k.scanPage(ctx)
			cancel()
		}
		sel := 0
		if err == nil {
			ps, sel = edit(ps, p)
			err = k.capture(caseID, m, ps)
		}
		k.do(func() {
			if k.sess != s || s.caseID != caseID {
				return // the visit, or its draft, is gone
			}
			k.pgBusy = false
			if err != nil {
				k.say("未能完成，页面保持原样，请重试或联系工作人员 / not done, the pages are as they were: " + err.Error())
			} else {
				s.captured[m.Code] = true
				s.pages[m.Code] = ps
				if k.pgMat.Code == m.Code {
					k.pgSel = sel
				}
			}
			if k.pgMat.Code == m.Code {
				k.refreshPages()
			}
			k.refreshMaterials()
		})
		result <- err
	})
	return result
}

// done returns a channel that holds err.
func done(err error) <-chan error {
	c := make(chan error, 1)
	c <- err
	return c
}

// scanPage takes one sheet from the scanner, kept as docscan encodes it
// (a few grey levels or JPEG, chosen by measurement: ≤ 150 KB, SSIM ≥
// 0.95), not the raw scan, whose PNG is dropped. Off the UI thread.
func (k *Kiosk) scanPage(ctx context.Context) (docscan.Page, error) {
	pages, err := k.cfg.Scanner.Scan(ctx, docscan.Options{MaxPages: 1}) // a flatbed: one sheet a press
	if err != nil {
		return docscan.Page{}, err
	}
	if len(pages) == 0 {
		return docscan.Page{}, errors.New("扫描仪没有送出页面 / the scanner returned no page")
	}
	p := pages[0]
	p.Data, p.ContentType = p.Stored()
	p.PNG = nil
	return p, nil
}

// capture stores material m of the case as pages ps (docscan.Bind), with
// its outbox entry in one transaction. Off the UI thread; it touches no
// session state.
func (k *Kiosk) capture(caseID string, m catalog.Material, ps []docscan.Page) error {
	data, ct, err := docscan.Bind(ps)
	if err != nil {
		return err
	}
	_, err = k.cfg.Store.Capture(caseID, wire.MaterialRef{Code: m.Code, Name: m.Name, ContentType: ct}, data)
	return err
}
