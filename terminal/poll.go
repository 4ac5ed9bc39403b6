package terminal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"yici/drivers/codescan"
	"yici/drivers/idcard"
	"yici/sync/appcode"
	"yici/sync/store"
)

// touch restarts the idle timer; every button calls it.
func (k *Kiosk) touch() {
	k.mu.Lock()
	k.lastTouch = k.cfg.now()
	k.mu.Unlock()
}

// Run reads cards and app codes while the welcome screen is up, keeps the
// status line current and wipes idle sessions, until ctx ends.
func (k *Kiosk) Run(ctx context.Context) {
	if k.cfg.CodeScanner != nil && k.cfg.AppCodes != nil {
		done := make(chan struct{})
		go func() { defer close(done); k.pollCodes(ctx) }()
		defer func() { <-done }()
	}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.mu.Lock()
		idle := k.sess == nil
		k.mu.Unlock()
		if idle {
			k.pollCard(ctx)
		} else {
			k.watchCard(ctx)
		}
		k.doAndWait(k.tick)
	}
}

// pollCard reads the card on the reader, off the UI thread: none keeps the
// welcome screen, a fault goes to the status line, and a card starts the
// visit once the vault has been asked what its holder has on file.
func (k *Kiosk) pollCard(ctx context.Context) {
	k.mu.Lock()
	lift := k.liftCard
	k.mu.Unlock()
	if lift { // the last visit's card: wait for it to be taken
		if present, ok := k.cardPresent(ctx); !ok || !present {
			k.doAndWait(func() {
				k.mu.Lock()
				k.liftCard = false
				k.mu.Unlock()
				k.welcomeText()
			})
		}
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	card, err := k.cfg.Reader.ReadCard(rctx)
	switch {
	case errors.Is(err, idcard.ErrNoCard):
		k.doAndWait(func() { k.setReaderFault("") })
	case err != nil:
		msg := fmt.Sprintf("读卡器故障，请联系工作人员 / card reader fault: %v", err)
		k.doAndWait(func() { k.setReaderFault(msg) })
	default:
		s := &session{card: card}
		k.lookupVault(ctx, s)
		s.printerZh, s.printerEn = k.checkPrinter(ctx)
		present, ok := k.cardPresent(ctx) // just read: a reader that says it is gone cannot tell
		k.mu.Lock()
		k.senses = ok && present
		k.mu.Unlock()
		k.doAndWait(func() {
			k.setReaderFault("")
			if k.sess == nil { // not begun meanwhile by an app code
				k.start(s)
			}
		})
	}
}

// pollCodes reads the code scanner until ctx ends. While the welcome
// screen is up, a valid app code starts the visit as a card does, with
// the person's name and ID number (and no card photo); a code refused
// says why on the welcome screen. During a visit codes are read and let
// go unverified, so a phone left under the scanner does not use up a
// code meant for later.
func (k *Kiosk) pollCodes(ctx context.Context) {
	for {
		code, err := k.cfg.CodeScanner.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		k.mu.Lock()
		idle := k.sess == nil
		k.mu.Unlock()
		lineErr := errors.Is(err, codescan.ErrTooLong) || errors.Is(err, codescan.ErrBadByte) ||
			errors.Is(err, codescan.ErrNoPrefix) || errors.Is(err, codescan.ErrNoSuffix)
		switch {
		case err != nil && !lineErr:
			// The port failed (unplugged, say): tell the hall, and try
			// again in a moment rather than at once.
			msg := fmt.Sprintf("扫码器故障，请联系工作人员 / code scanner fault: %v", err)
			k.doAndWait(func() { k.codeFault = msg })
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		case !idle:
			continue
		}
		k.doAndWait(func() { k.codeFault = "" })
		var who appcode.Person
		if err == nil {
			who, err = k.cfg.AppCodes.Verify(code)
		}
		if err != nil {
			msg := codeRefusal(err)
			k.doAndWait(func() {
				if k.sess == nil {
					k.say(msg)
				}
			})
			continue
		}
		s := &session{card: &idcard.Card{Type: idcard.Resident, Name: who.Name, IDNumber: who.IDNumber}}
		k.lookupVault(ctx, s)
		s.printerZh, s.printerEn = k.checkPrinter(ctx)
		k.doAndWait(func() {
			if k.sess == nil { // not begun meanwhile by a card
				k.start(s)
			}
		})
	}
}

// codeRefusal says in plain words why a scanned code was refused, and
// what to do.
func codeRefusal(err error) string {
	switch {
	case errors.Is(err, appcode.ErrExpired):
		return "二维码已过期，请在手机上刷新二维码 / The code has expired: refresh it on your phone."
	case errors.Is(err, appcode.ErrReplayed):
		return "二维码已使用，请在手机上刷新二维码 / The code was used already: refresh it on your phone."
	case errors.Is(err, appcode.ErrNotYetValid):
		return "二维码时间与本机不符，请刷新二维码或联系工作人员 / The code's time does not match this kiosk's clock."
	case errors.Is(err, appcode.ErrUnknownKey), errors.Is(err, appcode.ErrBusy):
		return "本机暂时无法核验二维码，请使用身份证或联系工作人员 / This kiosk cannot check the code now: please use your ID card."
	default: // malformed, forged, an invalid ID number, a line the scanner could not read, another kind of code
		return "二维码无效，请在手机上刷新二维码 / Not a valid 掌上办 code: refresh it on your phone."
	}
}

// tick updates the status line, the done screen's upload state and the
// idle countdown, and wipes a visit left idle for IdleTimeout; on the UI
// thread, every Run tick and at once after a submission.
func (k *Kiosk) tick() {
	var upload string
	n, oldest, err := k.cfg.Store.Pending()
	switch {
	case err != nil:
		upload = "本地存储故障 / local store fault: " + err.Error()
	case n < k.lastPending:
		k.online = 1 // a case reached the platform
		fallthrough
	default:
		k.lastPending = n
	}
	switch {
	case err != nil:
	case k.online < 0:
		upload = fmt.Sprintf("未联网 / offline · %d 件待上传 / waiting", n)
	case n == 0 && k.online > 0:
		upload = "上传：全部已送达平台 / all sent"
	case n == 0:
		upload = "上传：无待上传 / nothing waiting"
	default:
		upload = fmt.Sprintf("上传：%d 件待上传（最早 %s） / %d waiting", n, oldest.Local().Format("01-02 15:04"), n)
	}
	reader := "读卡器正常 / reader ready"
	if k.readerFault != "" {
		reader = k.readerFault
	}
	if k.codeFault != "" {
		reader += "  ·  " + k.codeFault
	}
	k.status.SetText(reader + "  ·  " + upload)
	if k.sess == nil {
		return
	}
	if k.body.Objects[0] == k.done {
		st, err := k.cfg.Store.CaseState(k.sess.caseID)
		switch {
		case err != nil:
			k.doneSync.SetText("上传状态未知 / upload state unknown: " + err.Error())
		case st == store.StateSent:
			k.doneSync.SetText("已上传至平台 / sent")
		case st == store.StateFailed:
			k.doneSync.SetText("平台拒收，请联系工作人员 / refused by the platform")
		default:
			k.doneSync.SetText("待上传（断网时自动重试） / pending")
		}
	}
	left := k.cfg.IdleTimeout - k.cfg.now().Sub(k.lastTouch)
	switch {
	case left <= 0:
		k.wipe()
	case left <= 30*time.Second:
		secs := int(left.Seconds())
		k.idleSecs.Text = fmt.Sprintf("%d 秒后自动退出，未提交的材料将被清除 / leaving in %d s", secs, secs)
		k.idleSecs.Refresh()
		k.idle.Show()
	default:
		k.idle.Hide()
	}
}
