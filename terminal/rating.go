package terminal

import (
	"context"
	"errors"
	"time"

	"yici/drivers/evalpad"
	"yici/sync/wire"
)

// askRating asks for a rating of the visit just submitted on the pad, if
// there is one, in the background; the done screen shows the outcome. wipe
// ends a rating still pending (stopRating), and its outcome is then dropped.
func (k *Kiosk) askRating(caseID, item string) {
	if k.cfg.Pad == nil {
		return // rating by the receipt's QR code only
	}
	k.doneRating.SetText("请在评价器上为本次服务评价 / Please rate this service on the pad")
	ctx, cancel := context.WithCancel(context.Background())
	k.stopRating = cancel
	k.bg.Go(func() {
		msg := k.rate(ctx, caseID, item)
		k.do(func() {
			if ctx.Err() == nil { // the visit is still on screen
				k.doneRating.SetText(msg)
			}
		})
	})
}

// rate asks for a rating of this visit on the pad (一次一评, S17) and
// queues it as an event; it runs off the UI thread and returns what the
// done screen should say.
func (k *Kiosk) rate(ctx context.Context, caseID, item string) string {
	p := evalpad.Prompt{CaseNo: caseID, ClerkName: "自助服务", ClerkID: k.cfg.Terminal, Window: "自助终端 " + k.cfg.Terminal, Item: item}
	if err := k.cfg.Pad.Prompt(ctx, p); err != nil {
		return "评价器暂不可用，可扫回执二维码评价 / rating pad unavailable: " + err.Error()
	}
	r, err := k.cfg.Pad.AskRating(ctx, 90*time.Second)
	if errors.Is(err, evalpad.ErrNoRating) {
		return "未评价，可扫回执二维码评价 / not rated; use the receipt's QR code"
	}
	if err != nil {
		return "评价未收到，可扫回执二维码评价 / rating failed: " + err.Error()
	}
	reasons := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		reasons[i] = x.String()
	}
	e := wire.Event{ID: caseID + "-rating", Kind: wire.EventRating, At: k.cfg.now().UTC(), Case: caseID,
		Level: r.Level.Stars(), Reasons: reasons, Channel: "pad"}
	if err := k.cfg.Store.QueueEvent(e, nil); err != nil {
		return "评价未能保存，请告知工作人员 / rating not saved: " + err.Error()
	}
	k.cfg.kick()
	return "感谢您的评价：" + r.Level.String() + " / thank you"
}
