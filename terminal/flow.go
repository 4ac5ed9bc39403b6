package terminal

import (
	"fmt"

	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/store"
)

// start begins the visit s, whose card has been read and vault asked.
func (k *Kiosk) start(s *session) {
	k.mu.Lock()
	k.sess = s
	k.mu.Unlock()
	if k.cfg.Vault != nil { // the vault's answer says whether the platform was reached
		k.online = 1
		if !s.vaultFresh {
			k.online = -1
		}
	}
	card := s.card
	k.touch()
	k.say("")
	if s.printerZh != "" { // told before anything is chosen
		k.say("请注意：" + s.printerZh + "，本次回执暂时打印不出来。您仍可办理，回执请到综合窗口领取。 / Note: " +
			s.printerEn + ", so no receipt can be printed now; you can still apply and get the receipt at the comprehensive window.")
	}
	k.greeting.Text = fmt.Sprintf("您好，%s（%s）", mask.Name(card.Name), mask.ID(card.IDNumber))
	k.greeting.Refresh()
	k.typeQuery("")
	k.show(k.items)
}

// scanMaterial opens m's pages screen and, when m has no page yet, scans
// its first at once (the citizen tapped 扫描 with it on the glass). The
// returned channel gets the scan's result, or nil when nothing is scanned.
func (k *Kiosk) scanMaterial(m catalog.Material) <-chan error {
	k.openPages(m)
	if len(k.sess.pages[m.Code]) > 0 {
		return done(nil)
	}
	return k.addPage()
}

// submit submits the visit's case, shows the done screen, and prints its
// papers and asks for a rating in the background; the returned channel
// closes when the papers are done (or at once on failure).
func (k *Kiosk) submit() <-chan struct{} {
	s := k.sess
	if s.cardGone { // a card that left without a word submits nothing
		k.say("身份证不在读卡区，未提交。请放回您的身份证。 / Not submitted: put your ID card back on the reader.")
		printed := make(chan struct{})
		close(printed)
		return printed
	}
	if err := k.cfg.Store.Submit(s.caseID); err != nil {
		k.say("提交未成功，材料已保存，请联系工作人员 / submit failed, materials are kept: " + err.Error())
		printed := make(chan struct{})
		close(printed)
		return printed
	}
	k.cfg.kick()
	k.doneDetail.SetText("办件编号 Case " + s.caseID)
	k.doneTitle.Text = "已受理 · 正在打印回执…"
	k.doneTitle.Refresh()
	k.showTakeCard(true) // watchCard hides it once the card is lifted
	k.show(k.done)
	k.tick()
	printed := k.printPapers(s)
	k.askRating(s.caseID, s.guide.Name)
	return printed
}

// back steps back one screen: from the materials or a question to the
// previous question (dropping its answer), or to the find screen. The
// draft and its pages stay: the same answer again brings them back, and
// another one keeps the pages its list still needs (startCase).
func (k *Kiosk) back() {
	s := k.sess
	if s == nil {
		return
	}
	switch k.body.Objects[0] {
	case k.pagesScreen:
		if !k.pgBusy {
			k.pagesDone()
		}
	case k.materials, k.question:
		if len(s.answers) == 0 {
			k.show(k.items)
			return
		}
		last := s.answers[len(s.answers)-1]
		s.answers = s.answers[:len(s.answers)-1]
		s.later = append([]string{last}, s.later...)
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
	// The card may still lie on the reader: the welcome screen asks for
	// it to be taken, and no visit starts, until it is lifted.
	k.liftCard = k.liftCard || k.sess != nil && k.senses && !k.sess.cardGone
	k.sess = nil
	k.mu.Unlock()
	k.doneCard.Hide()
	k.welcomeText()
	if k.nextCat != nil {
		k.useCatalog(k.nextCat)
		k.nextCat = nil
	}
	k.greeting.Text = ""
	k.greeting.Refresh()
	k.find.query, k.find.shown = "", nil
	k.find.results.Objects = nil
	k.qChoices.Objects = nil
	k.matRows, k.matFirst, k.matStarts = nil, 0, nil
	k.matList.Objects = nil
	k.pgImage.Resource = nil // the last page on show leaves the screen too
	k.pgImage.Refresh()
	k.pgThumbs.Objects = nil
	k.pgBusy, k.pgMat, k.pgSel = false, catalog.Material{}, 0
	k.find.reset()
	k.doneDetail.SetText("")
	k.doneSync.SetText("")
	k.doneRating.SetText("")
	k.ticketBtn.SetText("取号 / Take a ticket") // the next visit's ticket
	k.ticketBtn.Enable()
	if k.stopRating != nil {
		k.stopRating()
		k.stopRating = nil
	}
	k.idle.Hide()
	k.say("")
	k.show(k.welcome)
}
