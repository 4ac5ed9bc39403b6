package terminal

import (
	"context"
	"errors"
	"log"
	"time"

	"fyne.io/fyne/v2/widget"

	"yici/drivers/printer"
	"yici/sync/uploader"
	"yici/sync/wire"
)

// Queue is the platform's hall queue as a kiosk uses it
// (docs/sync-protocol.md §16; uploader.Client's methods).
type Queue interface {
	PutTicket(ctx context.Context, id string, req wire.TicketRequest) (wire.Ticket, error)
	Printed(ctx context.Context, id string) (wire.Ticket, error)
	Board(ctx context.Context) (wire.Board, error)
}

// ticketJob is one ticket being issued: its id and request are kept so
// that a repeated attempt (after a failed print) puts the same ticket.
type ticketJob struct {
	id     string
	req    wire.TicketRequest
	busy   bool   // issuing now; the button is grey
	number string // printed: issued
}

// elderAge is the age from which a ticket is priority (绿色通道).
const elderAge = 70

// priority reports whether a holder born on birth (YYYYMMDD, from the ID
// card) is elderAge or older on now's date.
func priority(birth string, now time.Time) bool {
	b, err := time.Parse("20060102", birth)
	if err != nil {
		return false
	}
	age := now.Year() - b.Year()
	if now.Month() < b.Month() || now.Month() == b.Month() && now.Day() < b.Day() {
		age--
	}
	return age >= elderAge
}

// takeTicket issues a ticket for the visit's submitted case (category
// from its first item's window group, priority from the card) or, with no
// visit, a walk-in's enquiry ticket (category A). UI thread. It returns a
// channel closed when the attempt is over.
func (k *Kiosk) takeTicket(btn *widget.Button) <-chan struct{} {
	finished := make(chan struct{})
	s := k.sess
	job := &k.walkIn
	if s != nil {
		job = &s.ticket
	}
	if k.cfg.Queue == nil || job.busy || job.number != "" {
		close(finished)
		return finished
	}
	if job.id == "" {
		now := k.cfg.now()
		job.id = wire.NewCaseID(k.cfg.Terminal, now)
		job.req = wire.TicketRequest{Category: "A", IssuedAt: now.UTC().Truncate(time.Second)}
		if s != nil {
			if s.guide != nil && len(s.guide.Items) > 0 {
				job.req.Category = s.guide.Items[0].WindowGroup()
			}
			job.req.Priority = s.card != nil && priority(s.card.Birth, now)
			job.req.Case = s.caseID
		}
	}
	job.busy = true
	btn.Disable()
	if s == nil {
		k.say("正在取号… / Issuing your ticket…")
	} else {
		k.doneTitle.Text = "正在取号… / Issuing your ticket…"
		k.doneTitle.Refresh()
	}
	id, req := job.id, job.req
	k.bg.Go(func() {
		defer close(finished)
		number, msg, short := k.issue(id, req)
		k.do(func() {
			job.busy = false
			if number != "" {
				job.number = number
				if job == &k.walkIn { // the next walk-in gets a new ticket
					k.walkIn = ticketJob{}
					btn.Enable()
				}
			} else {
				btn.Enable() // try again: the same ticket
			}
			if job == &k.walkIn || k.sess != s {
				k.say(msg)
				return
			}
			// The done screen has no room for another line in elder
			// mode's type at 1024×768: the outcome takes the title's
			// place (the receipt is in the citizen's hand by now).
			k.say("")
			k.doneTitle.Text = short
			k.doneTitle.Refresh()
			if number == "" {
				btn.SetText("再试取号 / Try again")
			}
		})
	})
	return finished
}

// issue puts, prints and reports the ticket id, off the UI thread; it
// returns the number printed ("" when nothing was issued) and what to
// tell the citizen, in full and in a heading's room.
func (k *Kiosk) issue(id string, req wire.TicketRequest) (number, msg, short string) {
	number, msg, short = k.issueOnce(id, req)
	if short == "" {
		short = msg
	}
	return number, msg, short
}

func (k *Kiosk) issueOnce(id string, req wire.TicketRequest) (number, msg, short string) {
	// One ticket at a time: the printer is one, and the band's count is
	// taken only once a number printed.
	k.tk.Lock()
	defer k.tk.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k.flushTickets(ctx)
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	t, err := k.cfg.Queue.PutTicket(pctx, id, req)
	pcancel()
	var se *uploader.StatusError
	switch {
	case errors.As(err, &se):
		return "", "暂时无法取号，请到综合窗口咨询 / no ticket now: ask at the window (" + se.Body.Code + ")", "暂时无法取号，请到综合窗口咨询"
	case err != nil:
		return k.issueOffline(ctx, id, req)
	}
	ahead, wait := -1, 0
	bctx, bcancel := context.WithTimeout(ctx, 3*time.Second)
	if b, err := k.cfg.Queue.Board(bctx); err == nil {
		ahead = b.Waiting[t.Category]
		wait = ahead * k.minutesPerPerson()
	}
	bcancel()
	if err := k.printTicket(ctx, t.Number, req, id, ahead, wait); err != nil {
		zh, en := printTrouble(err)
		return "", "号票未打印（" + zh + "），未取号，可再点取号 / Not printed (" + en + "): no number; tap again", "号票未打印：" + zh
	}
	if _, err := k.cfg.Queue.Printed(ctx, id); err != nil {
		return t.Number, "您的号 " + t.Number + " 未能登记入队，请把号票交给工作人员 / " + t.Number + " not queued: show it to a staff member", t.Number + " 未入队，请交工作人员"
	}
	return t.Number, "已取号 " + t.Number + "，请收好号票 / Your number: " + t.Number, "已取号 " + t.Number + "，请收好号票"
}

// issueOffline numbers the ticket from the kiosk's band when the platform
// cannot be reached, prints it, and holds it in the store to put when the
// link returns. The band's count is in the store too, so a kiosk restarted
// offline the same day goes on from the last number it printed.
func (k *Kiosk) issueOffline(ctx context.Context, id string, req wire.TicketRequest) (number, msg, short string) {
	if k.cfg.TicketBand < 1 || k.cfg.TicketBand > 9 {
		return "", "暂时无法取号（网络中断），请到综合窗口咨询 / no ticket while offline: ask at the window", "网络中断，请到综合窗口取号"
	}
	day := req.IssuedAt.In(time.Local).Format("20060102")
	seq, err := k.cfg.Store.BandSeq(day, req.Category)
	if err != nil {
		log.Printf("ticket %s: band count: %v", id, err)
		return "", "暂时无法取号（本机存储故障），请到综合窗口咨询 / no ticket: this kiosk's storage failed; ask at the window", "本机存储故障，请到综合窗口取号"
	}
	if seq++; seq > 999 {
		return "", "今日号源已用完，请到综合窗口咨询 / no more tickets today: ask at the window", "今日号源已用完"
	}
	number = wire.OfflineNumber(req.Category, k.cfg.TicketBand, seq)
	if err := k.printTicket(ctx, number, req, id, -1, 0); err != nil {
		zh, en := printTrouble(err)
		return "", "号票未打印（" + zh + "），未取号，可再点取号 / Not printed (" + en + "): no number; tap again", "号票未打印：" + zh
	}
	req.Number = number
	// Counted once printed: a failed print leaves no gap. A slip printed
	// but not held (the store failed in between) never reaches the
	// platform from here, and its number may be printed again: the
	// citizen is sent to the staff with it.
	if err := k.cfg.Store.HoldTicket(id, req, day, seq); err != nil {
		log.Printf("ticket %s (%s): hold: %v", id, number, err)
		return number, "您的号 " + number + " 未能保存，请把号票交给工作人员 / " + number + " not saved: show it to a staff member", number + " 未保存，请交工作人员"
	}
	return number, "已取号 " + number + "，请收好号票 / Your number: " + number, "已取号 " + number + "，请收好号票"
}

// flushTickets puts the tickets held offline, oldest first, while the
// platform answers; one refused is dropped (it is printed: the hall's staff
// see it on the slip), one not reached is kept. Holding tk.
func (k *Kiosk) flushTickets(ctx context.Context) {
	held, err := k.cfg.Store.HeldTickets()
	if err != nil {
		log.Printf("tickets held offline: %v", err)
		return
	}
	for _, t := range held {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := k.cfg.Queue.PutTicket(pctx, t.ID, t.Req)
		cancel()
		var se *uploader.StatusError
		switch {
		case errors.As(err, &se):
			log.Printf("ticket %s (%s) refused by the platform: %s; dropped", t.ID, t.Req.Number, se.Body.Code)
		case err != nil:
			return
		}
		if err := k.cfg.Store.DropTicket(t.ID); err != nil {
			log.Printf("ticket %s: drop: %v", t.ID, err)
			return
		}
	}
}

// FlushTickets puts the tickets issued offline, if the platform answers
// (the demo or a timer may call it; issuing a ticket does too).
func (k *Kiosk) FlushTickets(ctx context.Context) {
	if k.cfg.Queue != nil {
		k.tk.Lock()
		defer k.tk.Unlock()
		k.flushTickets(ctx)
	}
}

func (k *Kiosk) minutesPerPerson() int {
	if k.cfg.MinutesPerPerson > 0 {
		return k.cfg.MinutesPerPerson
	}
	return 5
}

// printTicket prints the ticket slip; ahead < 0 when unknown.
func (k *Kiosk) printTicket(ctx context.Context, number string, req wire.TicketRequest, id string, ahead, wait int) error {
	doc, err := printer.Ticket(printer.TicketData{Hall: k.cfg.Hall, Number: number, Category: req.Category,
		Priority: req.Priority, Ahead: ahead, WaitMinutes: wait, Time: req.IssuedAt.In(time.Local), QR: id})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return k.cfg.Printer.Print(pctx, doc.Bytes())
}
