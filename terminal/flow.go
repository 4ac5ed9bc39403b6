package terminal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/store"
)

// start begins the visit s, whose card has been read and vault asked.
func (k *Kiosk) start(s *session) {
	k.mu.Lock()
	k.sess = s
	k.mu.Unlock()
	card := s.card
	k.touch()
	k.say("")
	k.greeting.Text = fmt.Sprintf("您好，%s（%s）", mask.Name(card.Name), mask.ID(card.IDNumber))
	k.greeting.Refresh()
	k.typeQuery("")
	k.show(k.items)
}

// scanMaterial scans m in the background, so the screen stays alive and
// says what is happening; the result arrives on the UI thread, and on the
// returned channel for automation. A visit wiped meanwhile keeps nothing:
// its draft is gone, so the capture fails and the page is not stored.
func (k *Kiosk) scanMaterial(m catalog.Material) <-chan error {
	done := make(chan error, 1)
	s := k.sess
	caseID := s.caseID // Back or Home may clear it while the scan runs
	k.say("正在扫描，请稍候… / Scanning…")
	k.submitBtn.Disable()
	k.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err := k.scan(ctx, caseID, m)
		k.do(func() {
			if k.sess != s {
				return
			}
			if err != nil {
				k.say("扫描未成功，请重试或联系工作人员 / scan failed: " + err.Error())
			} else {
				k.say("")
				s.captured[m.Code] = true
			}
			k.refreshMaterials()
		})
		done <- err
	})
	return done
}

// submit submits the visit's case and prints its papers in the background;
// the returned channel closes when they are done (or at once on failure).
func (k *Kiosk) submit() <-chan struct{} {
	printed := make(chan struct{})
	s := k.sess
	if err := k.cfg.Store.Submit(s.caseID); err != nil {
		k.say("提交未成功，材料已保存，请联系工作人员 / submit failed, materials are kept: " + err.Error())
		close(printed)
		return printed
	}
	if k.cfg.Kick != nil {
		k.cfg.Kick()
	}
	k.doneDetail.SetText("办件编号 Case " + s.caseID)
	k.doneTitle.Text = "已受理 · 正在打印回执…"
	k.doneTitle.Refresh()
	k.show(k.done)
	k.tick()
	// The printer answers status before and after the job: about a second,
	// off the UI thread. The goroutines work on a copy of the visit: the
	// UI thread may wipe it meanwhile.
	doc, err := k.receipt(s)
	snap := s.snapshot()
	k.bg.Go(func() {
		defer close(printed)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = k.cfg.Printer.Print(ctx, doc)
			cancel()
		}
		notice, nerr := k.notice(snap)
		k.do(func() {
			if k.sess != s {
				return
			}
			var msg []string
			if err != nil {
				k.doneTitle.Text = "已受理 · 回执未打印"
				msg = append(msg, "回执打印失败，办件已受理，请到窗口领取回执 / receipt not printed: "+err.Error())
			} else {
				k.doneTitle.Text = "已受理 · 回执已打印"
			}
			switch {
			case nerr != nil:
				msg = append(msg, "一次性告知书未能生成，请到窗口询问 / notice not written: "+nerr.Error())
			case notice != "":
				k.doneDetail.SetText(k.doneDetail.Text + "\n尚缺材料已列入一次性告知书，请到综合窗口领取")
			}
			k.say(strings.Join(msg, "\n"))
			k.doneTitle.Refresh()
		})
	})
	if k.cfg.Pad != nil {
		k.doneRating.SetText("请在评价器上为本次服务评价 / Please rate this service on the pad")
		ctx, cancel := context.WithCancel(context.Background())
		k.stopRating = cancel
		caseID, name := snap.caseID, snap.guide.Name
		k.bg.Go(func() {
			msg := k.rate(ctx, caseID, name)
			k.do(func() {
				if ctx.Err() == nil { // the visit is still on screen
					k.doneRating.SetText(msg)
				}
			})
		})
	}
	return printed
}

// back steps back one screen: from the materials or a question to the
// previous question (dropping its answer, and the unsubmitted draft), or
// to the find screen.
func (k *Kiosk) back() {
	s := k.sess
	if s == nil {
		return
	}
	switch k.body.Objects[0] {
	case k.materials, k.question:
		k.discardDraft()
		if len(s.answers) == 0 {
			k.show(k.items)
			return
		}
		s.answers = s.answers[:len(s.answers)-1]
		k.advance()
	case k.items:
		k.wipe()
	}
}

// discardDraft drops the case draft of the session, if it has one that
// was not submitted, with every page scanned into it (S19).
func (k *Kiosk) discardDraft() {
	s := k.sess
	if s == nil || s.caseID == "" {
		return
	}
	id := s.caseID
	s.caseID = ""
	if st, err := k.cfg.Store.CaseState(id); err == nil && st == store.StateDraft {
		if err := k.cfg.Store.DiscardCase(id); err != nil {
			k.say("未提交的材料未能清除，请联系工作人员 / could not discard the unsubmitted case: " + err.Error())
		}
	}
}

// wipe ends the visit: everything personal leaves the screen and memory,
// and a case left unsubmitted leaves the store with its scans (S19).
func (k *Kiosk) wipe() {
	k.discardDraft()
	k.mu.Lock()
	k.sess = nil
	k.mu.Unlock()
	if k.nextCat != nil {
		k.useCatalog(k.nextCat)
		k.nextCat = nil
	}
	k.greeting.Text = ""
	k.greeting.Refresh()
	k.find.query, k.find.shown = "", nil
	k.find.results.Objects = nil
	k.qChoices.Objects = nil
	k.matList.Objects = nil
	k.doneDetail.SetText("")
	k.doneSync.SetText("")
	k.doneRating.SetText("")
	if k.stopRating != nil {
		k.stopRating()
		k.stopRating = nil
	}
	k.countdown.SetText("")
	k.say("")
	k.show(k.welcome)
}
