package desk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"

	"yici/drivers/idcard"
	"yici/sync/mask"
	"yici/sync/wire"
)

// CardReader is the window's ID-card reader (*idcard.Reader), the same
// driver as the kiosk's.
type CardReader interface {
	ReadCard(ctx context.Context) (*idcard.Card, error)
}

// applicant is the person at the window, met by their card.
type applicant struct {
	name, idNumber string
	since          time.Time
	agent          *wire.Applicant // who applies on their behalf (帮办代办), if anyone
}

// ReadCard reads the card on the window's reader and meets its holder.
// Call it off the UI thread (its key and button do).
func (d *Desk) ReadCard(ctx context.Context) error {
	if d.opt.Reader == nil {
		return errors.New("desk: no ID-card reader at this window")
	}
	fyne.DoAndWait(func() { d.say("正在读卡… / reading the card…") })
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	card, err := d.opt.Reader.ReadCard(rctx)
	cancel()
	if err != nil {
		msg := "读卡失败，请把身份证放在读卡器上再按 F2 / card not read: " + err.Error()
		if errors.Is(err, idcard.ErrNoCard) {
			msg = "读卡器上没有身份证，请放好后按 F2 / no card on the reader"
		}
		fyne.DoAndWait(func() { d.say(msg) })
		return err
	}
	return d.Meet(ctx, card)
}

// Meet starts serving the card's holder: the list shows the hall's cases
// of this person (their kiosk pre-applications, found by the card, nobody
// types a name), and one alone is opened. The first case opened for them
// records the first inquiry (首问登记, S16, S18) in the clerk's name.
func (d *Desk) Meet(ctx context.Context, card *idcard.Card) error {
	if !wire.ValidIDNumber(card.IDNumber) {
		fyne.DoAndWait(func() { d.say("此证件号码无效，无法查询 / the card's number is not a resident ID number") })
		return fmt.Errorf("desk: card number is not a resident ID number")
	}
	a := &applicant{name: card.Name, idNumber: card.IDNumber, since: d.opt.Now()}
	d.mu.Lock()
	d.person = a
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.personLabel.SetText(personText(a))
		d.say(fmt.Sprintf("已读卡 / card read: %s（%s）· F6 新办件 / new application", mask.Name(a.name), mask.ID(a.idNumber)))
	})
	d.Refresh(ctx)
	var only string
	fyne.DoAndWait(func() {
		if len(d.cases) == 1 {
			only = d.cases[0].ID
		}
	})
	if only != "" {
		return d.OpenLatest(ctx)
	}
	return nil
}

// ReadAgentCard reads the card of an agent applying on behalf of the
// person met (帮办代办, S18): both are on the applications taken now, and
// the letter of authorisation joins their materials. Call it off the UI
// thread (its key and button do).
func (d *Desk) ReadAgentCard(ctx context.Context) error {
	a := d.applicant()
	if a == nil {
		fyne.DoAndWait(func() { d.say("请先读申请人的身份证（F2）/ read the applicant's card first (F2)") })
		return errors.New("desk: no applicant met")
	}
	if d.opt.Reader == nil {
		return errors.New("desk: no ID-card reader at this window")
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	card, err := d.opt.Reader.ReadCard(rctx)
	cancel()
	if err == nil && (!wire.ValidIDNumber(card.IDNumber) || card.IDNumber == a.idNumber) {
		err = errors.New("请放代办人的身份证，不是申请人的 / put the agent's card, not the applicant's")
	}
	if err != nil {
		fyne.DoAndWait(func() { d.say("代办人读卡失败 / agent's card not read: " + err.Error()) })
		return err
	}
	d.mu.Lock()
	a.agent = &wire.Applicant{Name: card.Name, IDNumber: card.IDNumber}
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.personLabel.SetText(personText(a))
		d.say(fmt.Sprintf("代办人 %s（%s）已读卡；新办件须交授权委托书 / agent's card read: the letter of authorisation is required",
			mask.Name(card.Name), mask.ID(card.IDNumber)))
	})
	return nil
}

// personText is the line saying who is served, masked.
func personText(a *applicant) string {
	s := fmt.Sprintf("申请人 %s（%s）", mask.Name(a.name), mask.ID(a.idNumber))
	if a.agent != nil {
		s += fmt.Sprintf(" · 代办人 %s（%s）", mask.Name(a.agent.Name), mask.ID(a.agent.IDNumber))
	}
	return s + fmt.Sprintf(" · %s 起接待 · F3 结束接待", a.since.Format("15:04"))
}

// Done ends the serving of the person at the window: the list shows the
// hall's cases again. Call it on the UI thread.
func (d *Desk) Done() {
	d.mu.Lock()
	d.person = nil
	d.mu.Unlock()
	d.personLabel.SetText("")
	go d.Refresh(context.Background())
}

func (d *Desk) applicant() *applicant {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.person
}

// firstInquiry records, once per case, that this clerk took the first
// inquiry of the person met about the case's item.
func (d *Desk) firstInquiry(ctx context.Context, m *wire.Manifest) error {
	a := d.applicant()
	if a == nil || a.idNumber != m.Applicant.IDNumber || len(m.Items) == 0 {
		return nil
	}
	d.mu.Lock()
	me, clerk, done := d.me, d.session.Clerk, d.inquired[m.ID]
	d.inquired[m.ID] = true
	d.mu.Unlock()
	if done {
		return nil
	}
	e := wire.Event{ID: me + "-" + m.ID + "-first-inquiry", Kind: wire.EventFirstInquiry, At: a.since.UTC(),
		Case: m.ID, Item: m.Items[0], Clerk: clerk}
	return d.p.PutEvent(ctx, e)
}
