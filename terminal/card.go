package terminal

import (
	"context"
	"errors"
	"time"

	"yici/drivers/idcard"
)

// A GA 467 reader will not find a card it has read until the card is
// lifted, so ReadCard cannot tell a card left on the reader from none.
// cardSensor is what the kiosk asks instead: a reset, after which a card
// still in the field is found again (the simulator does so; a reader that
// does not is noticed at the first read, and the kiosk then reminds the
// citizen without watching).
type cardSensor interface {
	Reset(ctx context.Context) error
	Find(ctx context.Context) error
}

// senseEvery is how often the card is looked for during a visit.
const senseEvery = time.Second

// cardPresent reports whether a card is on the reader; ok is false when
// the reader cannot tell.
func (k *Kiosk) cardPresent(ctx context.Context) (present, ok bool) {
	cs, can := k.cfg.Reader.(cardSensor)
	if !can {
		return false, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := cs.Reset(ctx); err != nil {
		return false, false
	}
	err := cs.Find(ctx)
	switch {
	case errors.Is(err, idcard.ErrNoCard):
		return false, true
	case err != nil:
		return false, false
	}
	return true, true
}

// watchCard follows the card during a visit, off the UI thread (Run): a
// card lifted before the submission holds the visit, draft kept, until
// the same card is back; on the done screen it reminds the citizen to take
// the card until it is lifted.
func (k *Kiosk) watchCard(ctx context.Context) {
	k.mu.Lock()
	senses := k.senses
	k.mu.Unlock()
	if !senses || time.Since(k.lastSense) < senseEvery {
		return
	}
	k.lastSense = time.Now()
	var s *session
	var gone bool
	k.doAndWait(func() {
		s = k.sess
		if s != nil {
			gone = s.cardGone
		}
	})
	if s == nil {
		return
	}
	if !gone {
		present, ok := k.cardPresent(ctx)
		if ok {
			k.doAndWait(func() { k.cardThere(s, present) })
		}
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	card, err := k.cfg.Reader.ReadCard(rctx)
	cancel()
	if err == nil {
		k.doAndWait(func() { k.cardBack(s, card) })
	}
}

// cardThere is told, on the UI thread, whether the visit's card is on the
// reader.
func (k *Kiosk) cardThere(s *session, present bool) {
	if k.sess != s {
		return
	}
	if k.body.Objects[0] == k.done {
		k.showTakeCard(present)
		s.cardGone = !present
		return
	}
	if present {
		return
	}
	s.cardGone = true
	k.say("您的身份证已离开读卡区。请放回同一张身份证继续办理；已扫描的材料仍保留，尚未提交。 / Your ID card left the reader: put it back to go on. Nothing has been submitted; your scans are kept.")
	if k.body.Objects[0] == k.materials {
		k.refreshMaterials()
	}
}

// cardBack is told, on the UI thread, of a card placed while the visit's
// card was away.
func (k *Kiosk) cardBack(s *session, c *idcard.Card) {
	if k.sess != s || !s.cardGone {
		return
	}
	if c.IDNumber != s.card.IDNumber {
		k.say("这不是本次办理人的身份证。请放回原来的身份证继续，或点“首页”结束本次办理。 / This is not the card this visit began with: put that one back, or tap Home to end the visit.")
		return
	}
	s.cardGone = false
	if k.body.Objects[0] == k.done {
		k.showTakeCard(true)
		return
	}
	k.say("")
	if k.body.Objects[0] == k.materials {
		k.refreshMaterials()
	}
}

// showTakeCard shows, or hides, the reminder to take the card.
func (k *Kiosk) showTakeCard(present bool) {
	if present {
		k.doneCard.Show()
	} else {
		k.doneCard.Hide()
	}
}
