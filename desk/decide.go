package desk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"

	"yici/drivers/evalpad"
	"yici/drivers/printer/a4"
	"yici/sync/mask"
	"yici/sync/visit"
	"yici/sync/wire"
)

// Decide records decision kind on the case under review and sends it;
// called again after a send that failed, it sends the same decision again
// (its events keep their ids, so the platform takes each once). Call it off
// the UI thread (its key and button do).
func (d *Desk) Decide(ctx context.Context, kind visit.Kind) error {
	r := d.rv
	var dec visit.Decision
	var m wire.Manifest
	var gen int
	var refused error
	fyne.DoAndWait(func() {
		if r.v == nil || r.sending {
			refused = errors.New("desk: no case open, or one being recorded")
			return
		}
		if r.last == nil {
			a := r.v.Options()
			opt := map[visit.Kind]visit.Option{visit.Accept: a.Accept, visit.AcceptWithGaps: a.AcceptWithGaps, visit.Return: a.Return}[kind]
			if !opt.Open {
				refused = errors.New(kindName(kind) + "不可用 / not open: " + opt.Why)
				d.say(refused.Error())
				return
			}
			dc, err := r.v.Decide(kind, d.opt.Now())
			if err != nil {
				refused = err
				d.say(err.Error())
				return
			}
			r.last, r.sent = &dc, false
		} else if r.sent || r.last.Kind != kind {
			refused = fmt.Errorf("desk: %s is recorded; correct it first (F12)", kindName(r.last.Kind))
			return
		}
		dec, m, gen = *r.last, *r.m, r.gen
		r.sending = true
		r.update()
		d.say("正在记录" + kindName(kind) + "… / recording…")
	})
	if refused != nil {
		return refused
	}
	msg, err := d.record(ctx, m, dec)
	if sessionEnded(err) {
		d.lock("会话已结束，请重新登录后重新审核本件 / Session ended: sign in and review again")
		return err
	}
	fyne.DoAndWait(func() {
		if r.gen == gen {
			r.sending, r.sent = false, err == nil
			r.update()
		}
		if err != nil {
			d.say(fmt.Sprintf("办件 %s：%s未能全部记录，请按 %s 重发 / not recorded: %v", m.ID, kindName(kind), keyOf(kind), err))
			return
		}
		d.mu.Lock()
		d.outcomes[m.ID] = kind
		d.mu.Unlock()
		d.list.Refresh()
		d.say(msg)
	})
	if err == nil && d.opt.Pad != nil {
		rated := d.rate(ctx, m, dec)
		fyne.DoAndWait(func() { d.say(msg + "\n" + rated) })
	}
	return err
}

// rate asks the applicant to rate the service on the window's pad, once
// per case (S17), and sends the rating in the clerk's name; it says what
// came of it. No answer in time leaves the receipt's QR code.
func (d *Desk) rate(ctx context.Context, m wire.Manifest, dec visit.Decision) string {
	d.mu.Lock()
	me, ses, done := d.me, d.session, d.rated[m.ID]
	d.rated[m.ID] = true
	d.mu.Unlock()
	if done {
		return ""
	}
	fyne.DoAndWait(func() { d.say("请申请人在评价器上评价 / asking the applicant to rate on the pad…") })
	window := ses.Window
	if window == "" {
		window = me
	}
	p := evalpad.Prompt{CaseNo: m.ID, ClerkName: ses.Name, ClerkID: ses.Clerk, Window: window, Item: cut(strings.Join(dec.ItemNames, "、"), 128)}
	if err := d.opt.Pad.Prompt(ctx, p); err != nil {
		return "评价器暂不可用，可扫回执二维码评价 / pad unavailable: " + err.Error()
	}
	r, err := d.opt.Pad.AskRating(ctx, d.opt.RateWait)
	if errors.Is(err, evalpad.ErrNoRating) {
		return "未评价，可扫回执二维码评价 / not rated; the receipt's QR code remains"
	}
	if err != nil {
		return "评价未收到 / rating failed: " + err.Error()
	}
	reasons := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		reasons[i] = x.String()
	}
	e := wire.Event{ID: me + "-" + m.ID + "-rating", Kind: wire.EventRating, At: d.opt.Now().UTC(), Case: m.ID,
		Level: r.Level.Stars(), Reasons: reasons, Channel: "pad"}
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	if err := d.p.PutEvent(ctx, e); err != nil {
		return "评价未能送达平台 / rating not sent: " + err.Error()
	}
	return "申请人评价：" + r.Level.String()
}

// correct reopens the decided case for new verdicts; the next decision
// supersedes the last (new event ids, the same case). Call it on the UI
// thread.
func (r *reviewPane) correct() {
	if r.v == nil || r.last == nil || !r.sent || r.sending {
		return
	}
	if err := r.v.Reopen(); err != nil {
		r.d.say(err.Error())
		return
	}
	r.last, r.sent = nil, false
	r.update()
	r.d.say("已重新打开，请更改审核意见后重新决定 / reopened: change the verdicts and decide again")
}

// record sends decision dec of case m: its events (the platform writes the
// clerk from the session), the confirmation of the passing materials into
// the applicant's vault (S13), and its documents, saved and printed. It
// returns what to tell the clerk.
func (d *Desk) record(ctx context.Context, m wire.Manifest, dec visit.Decision) (string, error) {
	d.mu.Lock()
	me, window := d.me, d.window
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 4*d.opt.Timeout)
	defer cancel()
	for _, e := range dec.Events(me) {
		if err := d.p.PutEvent(ctx, e); err != nil {
			return "", fmt.Errorf("event %s: %w", e.Kind, err)
		}
	}
	confirmed := 0
	if c := dec.Confirmations(); len(c) > 0 {
		if _, err := d.p.Confirm(ctx, m.ID, wire.ConfirmRequest{Materials: c}); err != nil {
			return "", fmt.Errorf("confirm into the vault: %w", err)
		}
		confirmed = len(c)
	}
	h := a4.Header{Hall: d.opt.Hall, CaseNo: m.ID, Date: m.CreatedAt, Applicant: mask.Name(m.Applicant.Name),
		IDNumber: mask.ID(m.Applicant.IDNumber), Window: window, Phone: d.opt.Phone}
	var docs []document
	switch dec.Kind {
	case visit.Accept:
		docs = append(docs, document{"受理通知书", func() ([]byte, error) { return a4.AcceptanceNotice(dec.AcceptanceNotice(h)) }})
	case visit.AcceptWithGaps:
		docs = append(docs, document{"受理通知书", func() ([]byte, error) { return a4.AcceptanceNotice(dec.AcceptanceNotice(h)) }},
			document{"容缺承诺书", func() ([]byte, error) { return a4.CommitmentLetter(dec.CommitmentLetter(h)) }})
	case visit.Return:
		docs = append(docs, document{"一次性告知书", func() ([]byte, error) { return a4.OneTimeNotice(dec.OneTimeNotice(h)) }})
	}
	msg := fmt.Sprintf("办件 %s %s：%d 件材料确认入库（下次免提交）", m.ID, kindName(dec.Kind), confirmed)
	if n := len(dec.Gaps); n > 0 {
		msg += fmt.Sprintf("，%d 件容缺待补", n)
	}
	if n := countFailing(dec); n > 0 {
		msg += fmt.Sprintf("，%d 件不符合已备案", n)
	}
	var problems []string
	for _, doc := range docs {
		out, err := d.document(ctx, m.ID, dec.Seq, doc)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		msg += "；" + out
	}
	if len(problems) > 0 {
		// The decision is recorded; only paper is missing, and the clerk
		// can print the saved file.
		msg += "。文书问题 / document problems: " + strings.Join(problems, "; ")
	}
	return msg, nil
}

type document struct {
	title string
	make  func() ([]byte, error)
}

// document lays doc out, saves it under Documents and prints it, and says
// what became of it.
func (d *Desk) document(ctx context.Context, caseID string, seq int, doc document) (string, error) {
	pdf, err := doc.make()
	if err != nil {
		return "", fmt.Errorf("%s: %w", doc.title, err)
	}
	saved := ""
	if d.opt.Documents != "" {
		path := filepath.Join(d.opt.Documents, fmt.Sprintf("%s-%d-%s.pdf", caseID, seq, doc.title))
		if err := os.MkdirAll(d.opt.Documents, 0o700); err != nil {
			return "", fmt.Errorf("%s: save: %w", doc.title, err)
		}
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			return "", fmt.Errorf("%s: save: %w", doc.title, err)
		}
		saved = path
	}
	if d.opt.Printer == nil {
		if saved == "" {
			return "", errors.New(doc.title + ": no printer and no documents directory set")
		}
		return doc.title + "已保存 " + saved, nil
	}
	// The title is what the print queue shows anyone on the machine: the
	// case number and the document, never a name.
	job, err := d.opt.Printer.Print(ctx, caseID+" "+doc.title, pdf)
	if err != nil {
		return "", fmt.Errorf("%s未打印（%s）: %w", doc.title, orNone(saved), err)
	}
	return doc.title + "已送打印 " + job, nil
}

func orNone(path string) string {
	if path == "" {
		return "未保存"
	}
	return "已保存 " + path
}

func countFailing(dec visit.Decision) int {
	n := 0
	for _, r := range dec.Rows {
		if r.Failing() {
			n++
		}
	}
	return n
}

// cut shortens s to at most n runes (the pad shows 128 of an item name).
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
