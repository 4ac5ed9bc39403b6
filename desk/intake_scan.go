package desk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"yici/drivers/docscan"
	"yici/sync/wire"
)

// maxStack is the most pages one press of F7 takes from the feeder.
const maxStack = 50

// capture stores the materials codes with their pages as they are now,
// off the UI thread, one capture after another. Call it on the UI thread.
func (in *intake) capture(codes []string) {
	gen := in.gen
	in.pending.Add(1)
	in.do(func() {
		defer in.pending.Done()
		in.store(gen, codes)
	})
}

// store captures each of codes through the store, the kiosk's path: the
// material's one page as PNG, several as one PDF, durable with its outbox
// entry when Capture returns (D3). Each capture takes the pages the
// material has when it runs, so the last one stores the clerk's last word.
func (in *intake) store(gen int, codes []string) {
	in.capMu.Lock()
	defer in.capMu.Unlock()
	for _, code := range codes {
		var ps []docscan.Page
		var nums []int
		var id, name string
		fyne.DoAndWait(func() {
			if in.gen != gen {
				return
			}
			ps, nums, id = in.b.pagesOf(code), slices.Clone(in.b.of[code]), in.caseID
			for _, m := range in.list {
				if m.Code == code {
					name = m.Name
				}
			}
		})
		if len(ps) == 0 {
			continue
		}
		data, ct, err := docscan.Bind(ps)
		if err == nil {
			_, err = in.d.opt.Store.Capture(id, wire.MaterialRef{Code: code, Name: name, ContentType: ct}, data)
		}
		fyne.DoAndWait(func() {
			if in.gen != gen || !slices.Equal(nums, in.b.of[code]) {
				return // changed meanwhile: the capture queued since has the last word
			}
			in.stored[code] = err
			if err != nil {
				in.d.say(fmt.Sprintf("%s 未能存入本机，请重新指定页码 / not stored: %v", name, err))
			}
			in.refresh()
		})
	}
}

// ScanStack scans the whole stack in the feeder in one batch and adds its
// pages to the application's, numbered after those already scanned; the
// screen counts them as the scanner reports them and shows them when the
// batch is in (docscan returns a batch whole). A jam keeps the pages
// scanned before it and says which page to put back; F7 then goes on.
// Call it off the UI thread (F7 does).
func (d *Desk) ScanStack(ctx context.Context) error {
	in := d.in
	var gen, before int
	refused := errors.New("现在不能扫描 / not now: choose the item and wait for the checklist, or for the scan under way")
	fyne.DoAndWait(func() {
		if !in.shown() || in.phase != phaseMaterials || in.scanning || in.sending {
			d.say(refused.Error())
			return
		}
		refused = nil
		in.scanning, gen, before = true, in.gen, len(in.b.pages)
		in.progress.SetText("正在扫描… / scanning…")
		in.refresh()
	})
	if refused != nil {
		return refused
	}
	progress := func(page, total int) {
		fyne.DoAndWait(func() {
			if in.gen != gen {
				return
			}
			if total > 0 {
				in.progress.SetText(fmt.Sprintf("正在扫描第 %d / %d 页… / scanning page %d of %d", before+page, before+total, before+page, before+total))
			} else {
				in.progress.SetText(fmt.Sprintf("已扫 %d 页… / %d pages scanned", before+page, before+page))
			}
		})
	}
	pages, err := d.opt.Scanner.Scan(ctx, docscan.Options{MaxPages: maxStack, Progress: progress})
	thumbs := make([]image.Image, len(pages))
	for i, p := range pages {
		thumbs[i] = thumbnail(p)
	}
	fyne.DoAndWait(func() {
		if in.gen != gen {
			return
		}
		in.scanning = false
		in.b.add(pages)
		in.thumb = append(in.thumb, thumbs...)
		n := len(in.b.pages)
		switch {
		case err != nil && len(pages) > 0 || errors.Is(err, docscan.ErrJam):
			what := "卡纸 / jammed"
			if !errors.Is(err, docscan.ErrJam) {
				what = "扫描中断 / stopped"
			}
			in.progress.SetText(fmt.Sprintf("第 %d 页%s：已保留前 %d 页。请取出第 %d 页，连同未扫的各页放回进纸器，按 F7 接着扫 / pages 1–%d kept: put page %d and the rest back and press F7 (%v)",
				n+1, what, n, n+1, n, n+1, err))
		case err != nil:
			in.progress.SetText("扫描失败，请检查扫描仪后按 F7 重试 / scan failed: " + err.Error())
		default:
			in.progress.SetText(fmt.Sprintf("已扫 %d 页（本次 %d 页）。选材料，输入页码后按 Enter / %d pages: assign them", n, len(pages), n))
		}
		in.refresh()
	})
	return err
}

// RescanPage scans again the page chosen on the checklist (one sheet, put
// on the feeder alone) and stores its material anew. Call it off the UI
// thread (F9 does).
func (d *Desk) RescanPage(ctx context.Context) error {
	in := d.in
	var gen, page int
	refused := errors.New("请先在材料上用 ←→ 选择要重扫的页 / choose the page to rescan first")
	fyne.DoAndWait(func() {
		if !in.shown() || in.phase != phaseMaterials || in.scanning || in.sending || in.sel >= len(in.list) {
			return
		}
		ps := in.b.of[in.list[in.sel].Code]
		if in.cur >= len(ps) {
			d.say(refused.Error())
			return
		}
		refused = nil
		in.scanning, gen, page = true, in.gen, ps[in.cur]
		in.progress.SetText(fmt.Sprintf("请把第 %d 页单独放入进纸器，正在重扫… / rescanning page %d", page, page))
		in.refresh()
	})
	if refused != nil {
		return refused
	}
	pages, err := d.opt.Scanner.Scan(ctx, docscan.Options{MaxPages: 1})
	if err == nil && len(pages) == 0 {
		err = errors.New("扫描仪没有送出页面 / the scanner returned no page")
	}
	var thumb image.Image
	if err == nil {
		thumb = thumbnail(pages[0])
	}
	fyne.DoAndWait(func() {
		if in.gen != gen {
			return
		}
		in.scanning = false
		if err != nil {
			in.progress.SetText(fmt.Sprintf("第 %d 页未能重扫，原页保留 / page %d kept as it was: %v", page, page, err))
			in.refresh()
			return
		}
		in.b.replace(page, pages[0])
		in.thumb[page-1] = thumb
		in.progress.SetText(fmt.Sprintf("第 %d 页已重扫 / page %d rescanned", page, page))
		code := in.b.owner[page]
		delete(in.stored, code)
		in.refresh()
		in.capture([]string{code})
	})
	return err
}

// SubmitApplication submits the case once every material's pages are
// stored, wakes the uploader, waits (with a deadline, saying so) until the
// platform has the case and opens it in the review, where the clerk
// decides as on a kiosk's case. Offline, the case waits in the outbox and
// is opened from the list once it is up. Call it off the UI thread (F8
// does).
func (d *Desk) SubmitApplication(ctx context.Context) error {
	in := d.in
	var gen int
	var id string
	refused := errors.New("现在不能提交 / not now: wait for the checklist, or for the scan under way")
	fyne.DoAndWait(func() {
		if !in.shown() || in.phase != phaseMaterials || in.scanning || in.sending || in.caseID == "" {
			d.say(refused.Error())
			return
		}
		refused = nil
		in.sending, gen, id = true, in.gen, in.caseID
		in.progress.SetText("正在存入最后的页… / storing the last pages…")
		in.refresh()
	})
	if refused != nil {
		return refused
	}
	in.pending.Wait() // every capture asked for before the press is done
	var missing, unstored []string
	fyne.DoAndWait(func() {
		for _, m := range in.list {
			err, done := in.stored[m.Code]
			switch {
			case len(in.b.of[m.Code]) > 0 && (!done || err != nil):
				unstored = append(unstored, m.Name)
			case len(in.b.of[m.Code]) == 0 && m.onFile == nil && m.Required:
				missing = append(missing, m.Name)
			}
		}
		if len(unstored) > 0 {
			in.sending = false
			in.progress.SetText("未存入本机，请重新指定其页码后再提交 / not stored, assign their pages again: " + strings.Join(unstored, "、"))
			in.refresh()
		}
	})
	if len(unstored) > 0 {
		return fmt.Errorf("desk: materials not stored: %s", strings.Join(unstored, ", "))
	}
	if err := d.opt.Store.Submit(id); err != nil {
		fyne.DoAndWait(func() {
			in.sending = false
			in.progress.SetText("提交未成功，请重试 F8 / not submitted: " + err.Error())
			in.refresh()
		})
		return err
	}
	if d.opt.Kick != nil {
		d.opt.Kick()
	}
	gaps := ""
	if len(missing) > 0 {
		gaps = "；未交 / missing: " + strings.Join(missing, "、")
	}
	fyne.DoAndWait(func() {
		if in.gen == gen {
			in.phase, in.sending = phaseSubmitted, false
			in.progress.SetText("已提交，正在上传… / submitted, uploading…" + gaps)
			in.refresh()
		}
	})
	began := time.Now()
	for {
		cctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
		_, err := d.p.Case(cctx, id)
		cancel()
		if err == nil {
			break
		}
		if sessionEnded(err) {
			d.lock("会话已结束，请重新登录；办件已提交 / Session ended: sign in again; the case is submitted")
			return err
		}
		waited := time.Since(began)
		if waited > d.opt.UploadWait || ctx.Err() != nil {
			fyne.DoAndWait(func() {
				d.say(fmt.Sprintf("办件 %s 已存入本机待上传，上传后可在列表中打开 / in the outbox: open it from the list once it is up%s", id, gaps))
			})
			return nil
		}
		fyne.DoAndWait(func() {
			if in.gen == gen {
				in.progress.SetText(fmt.Sprintf("已提交，正在上传… %d 秒 / uploading… %d s%s", int(waited.Seconds()), int(waited.Seconds()), gaps))
			}
		})
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	fyne.DoAndWait(func() {
		if in.gen == gen {
			in.hide()
		}
	})
	d.Refresh(ctx)
	return d.Open(ctx, id)
}
