package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"yici/sync/uploader"
	"yici/sync/wire"
)

// The hall queue at the window (docs/sync-protocol.md §16): the clerk
// calls the next ticket of the window's categories, recalls it, marks it
// a no-show, holds it, transfers it or finishes it, each with a key. The
// function keys are the review's and the new application's, so the queue
// has Ctrl and a letter:
//
//	Ctrl+N next · Ctrl+R recall · Ctrl+M no-show (missed) · Ctrl+H hold
//	Ctrl+T transfer (to the window or category typed beside it) · Ctrl+F finish
//
// A ticket that carries a kiosk pre-application opens its case for review
// at once: the clerk has the case, the card data and the pages in front of
// them without asking again.

// queueKeys are the queue's shortcuts, in the order of the bar's buttons.
// The buttons say what they do in Chinese only: with the English the bar
// is wider than the window, and the line of the ticket says "Queue".
var queueKeys = []struct {
	key    fyne.KeyName
	action string // "next" or a wire.Act…
	label  string
}{
	{fyne.KeyN, "next", "Ctrl+N 叫号"},
	{fyne.KeyR, wire.ActRecall, "Ctrl+R 重呼"},
	{fyne.KeyM, wire.ActNoShow, "Ctrl+M 过号"},
	{fyne.KeyH, wire.ActHold, "Ctrl+H 暂挂"},
	{fyne.KeyT, wire.ActTransfer, "Ctrl+T 转移"},
	{fyne.KeyF, wire.ActFinish, "Ctrl+F 办结"},
}

// allCategories is a window's default: every category of the hall.
var allCategories = strings.Split("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "")

// queueBar is the line above the review: the ticket being served and the
// queue's buttons.
type queueBar struct {
	d *Desk
	// do runs an action's I/O: on its own goroutine, or at once in the
	// tests, so a key's work is done when the key returns.
	do func(f func())

	mu      sync.Mutex   // read off the UI thread
	current *wire.Ticket // the ticket at this window (called or held), or nil
	held    []wire.Ticket

	// On the UI thread only.
	label   *widget.Label
	to      *widget.Entry // where a transfer goes: a window, or one category letter
	content fyne.CanvasObject
}

func newQueueBar(d *Desk) *queueBar {
	q := &queueBar{d: d, do: func(f func()) { go f() }}
	q.label = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	q.label.Truncation = fyne.TextTruncateEllipsis
	q.to = widget.NewEntry()
	q.to.SetPlaceHolder("转至 / to")
	q.to.OnSubmitted = func(string) { q.d.w.Canvas().Unfocus(); q.press(wire.ActTransfer) }
	var buttons []fyne.CanvasObject
	for _, k := range queueKeys {
		buttons = append(buttons, widget.NewButton(k.label, func() { q.press(k.action) }))
		d.w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: k.key, Modifier: fyne.KeyModifierControl},
			func(fyne.Shortcut) { q.press(k.action) })
	}
	// The transfer box stands between Transfer and Finish.
	right := container.NewHBox(append(slices.Clone(buttons[:5]),
		container.NewGridWrap(fyne.NewSize(100, q.to.MinSize().Height), q.to), buttons[5])...)
	q.content = container.NewBorder(nil, nil, nil, right, q.label)
	q.show()
	return q
}

// press starts the action of a key or button off the UI thread; call it
// on the UI thread.
func (q *queueBar) press(action string) {
	if !q.d.SignedIn() {
		return
	}
	if action == "next" {
		q.do(func() { q.d.Next(context.Background()) })
		return
	}
	var tr *wire.TransferRequest
	if action == wire.ActTransfer {
		to := strings.TrimSpace(q.to.Text)
		if to == "" {
			q.d.w.Canvas().Focus(q.to)
			q.d.say("请输入转至的窗口或类别字母，回车转移 / type the window or category letter, then Enter")
			return
		}
		tr = transferTo(to)
	}
	q.do(func() { q.d.Act(context.Background(), action, tr) })
}

// transferTo reads the transfer box: one letter is a category, anything
// else a window.
func transferTo(s string) *wire.TransferRequest {
	if c := strings.ToUpper(s); wire.ValidCategory(c) {
		return &wire.TransferRequest{Category: c}
	}
	return &wire.TransferRequest{Window: s}
}

// Ticket is the ticket being served at this window (called or held), if
// any.
func (d *Desk) Ticket() (wire.Ticket, bool) {
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.current == nil {
		return wire.Ticket{}, false
	}
	return *q.current, true
}

// Next calls the next ticket of the window's categories — priority first,
// then arrival — and, when it carries a kiosk pre-application, opens that
// case for review. A ticket still called here must be finished, marked a
// no-show, held or transferred first; a held one is put aside (Recall
// calls it again). ok is false when nobody is waiting. Call it off the UI
// thread.
func (d *Desk) Next(ctx context.Context) (t wire.Ticket, ok bool, err error) {
	q := d.q
	q.mu.Lock()
	busy := q.current != nil && q.current.State == wire.TicketCalled
	var number string
	if busy {
		number = q.current.Number
	}
	q.mu.Unlock()
	if busy {
		err = fmt.Errorf("desk: %s is still called here", number)
		fyne.DoAndWait(func() {
			d.say(fmt.Sprintf("请先办结、过号、暂挂或转移 %s / finish, no-show, hold or transfer %s first", number, number))
		})
		return t, false, err
	}
	cats := d.opt.Categories
	if len(cats) == 0 {
		cats = allCategories
	}
	cctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	t, ok, err = d.p.Next(cctx, "", cats...)
	cancel()
	if d.queueFailed(err, "叫号") {
		return t, false, err
	}
	if !ok {
		fyne.DoAndWait(func() { d.say("无人等候 / nobody is waiting") })
		return t, false, nil
	}
	q.mu.Lock()
	if q.current != nil { // held: put aside for a recall
		q.held = append(q.held, *q.current)
	}
	q.current = &t
	q.mu.Unlock()
	fyne.DoAndWait(func() {
		q.show()
		msg := fmt.Sprintf("已叫 %s / called %s", t.Number, t.Number)
		if t.Case != "" {
			msg += " · 自助机预申请已打开 / the kiosk pre-application is open"
		}
		d.say(msg)
	})
	if t.Case != "" {
		err = d.Open(ctx, t.Case)
	}
	return t, true, err
}

// Act does action (wire.ActRecall, ActNoShow, ActHold, ActTransfer,
// ActFinish) on the ticket served here; transfer says where to for
// ActTransfer. Recall with no ticket served recalls the last one held.
// Call it off the UI thread.
func (d *Desk) Act(ctx context.Context, action string, transfer *wire.TransferRequest) (wire.Ticket, error) {
	q := d.q
	q.mu.Lock()
	var t *wire.Ticket
	fromHeld := false
	if q.current != nil {
		t = q.current
	} else if action == wire.ActRecall && len(q.held) > 0 {
		t, fromHeld = &q.held[len(q.held)-1], true
	}
	var id, number, window string
	if t != nil {
		id, number, window = t.ID, t.Number, t.Window
	}
	q.mu.Unlock()
	if t == nil {
		fyne.DoAndWait(func() { d.say("当前无号，请按 Ctrl+N 叫号 / no ticket: Ctrl+N calls the next") })
		return wire.Ticket{}, errors.New("desk: no ticket at this window")
	}
	if action == wire.ActTransfer && transfer == nil {
		return wire.Ticket{}, errors.New("desk: transfer to where?")
	}
	cctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	got, err := d.p.Act(cctx, id, action, transfer)
	cancel()
	if d.queueFailed(err, number) {
		return got, err
	}
	var msg string
	q.mu.Lock()
	if fromHeld {
		q.held = q.held[:len(q.held)-1]
	}
	switch {
	case got.State == wire.TicketCalled && got.Window == window:
		q.current = &got // recalled, or transferred to this very window
		msg = fmt.Sprintf("已重呼 %s / recalled", number)
	case got.State == wire.TicketHeld:
		q.current = &got
		msg = fmt.Sprintf("%s 已暂挂，Ctrl+R 重呼 / held: Ctrl+R calls it again", number)
	default:
		q.current = nil
		msg = outcomeText(number, action, got)
	}
	q.mu.Unlock()
	fyne.DoAndWait(func() {
		if action == wire.ActTransfer {
			q.to.SetText("")
		}
		q.show()
		d.say(msg)
	})
	return got, nil
}

// outcomeText says what became of a ticket that left this window.
func outcomeText(number, action string, t wire.Ticket) string {
	switch {
	case t.State == wire.TicketAbandoned:
		return fmt.Sprintf("%s 第二次过号，已作废 / a second no-show: abandoned", number)
	case action == wire.ActNoShow:
		return fmt.Sprintf("%s 过号，已回到队尾 / no-show: back in the queue once", number)
	case t.State == wire.TicketServed:
		return fmt.Sprintf("%s 已办结 / served", number)
	case action == wire.ActTransfer && t.State == wire.TicketCalled:
		return fmt.Sprintf("%s 已转至 %s / transferred", number, t.Window)
	case action == wire.ActTransfer:
		return fmt.Sprintf("%s 已转入 %s 类等候 / transferred to category %s", number, t.Category, t.Category)
	}
	return fmt.Sprintf("%s：%s", number, t.State)
}

// queueFailed shows a failed queue call, if err is one, and reports it.
func (d *Desk) queueFailed(err error, what string) bool {
	if err == nil {
		return false
	}
	if sessionEnded(err) {
		d.lock("会话已结束，请重新登录 / Session ended: sign in again")
		return true
	}
	msg := what + " 未成功 / queue: " + err.Error()
	var se *uploader.StatusError
	if errors.As(err, &se) && se.Body.Code == wire.CodeTicketState {
		msg = what + " 不在可操作状态（已办结或不属本窗口）/ not this window's to act on"
	}
	fyne.DoAndWait(func() { d.say(msg) })
	return true
}

// show writes the bar's line; call it on the UI thread.
func (q *queueBar) show() {
	q.mu.Lock()
	t, held := q.current, len(q.held)
	q.mu.Unlock()
	s := "叫号 / Queue：当前无号 / no ticket"
	if t != nil {
		s = fmt.Sprintf("叫号 / Queue：当前 %s · %s 类", t.Number, t.Category)
		if t.Priority {
			s += " · 绿色通道"
		}
		if !t.CalledAt.IsZero() {
			s += " · " + t.CalledAt.Local().Format("15:04") + " 起"
		}
		if t.State == wire.TicketHeld {
			s += " · 暂挂 / held"
		}
	}
	if held > 0 {
		s += fmt.Sprintf(" · 暂挂 %d 个", held)
	}
	q.label.SetText(s)
}

// forget drops the tickets on screen when the clerk leaves; call it on the
// UI thread. They stay the clerk's on the platform.
func (q *queueBar) forget() {
	q.mu.Lock()
	q.current, q.held = nil, nil
	q.mu.Unlock()
	q.to.SetText("")
	q.show()
}
