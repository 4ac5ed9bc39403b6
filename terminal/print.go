package terminal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yici/drivers/printer"
	"yici/drivers/printer/a4"
	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/visit"
)

// printPapers prints the receipt of the visit s, just submitted, with the
// one-time notice of what is still missing on it, and writes the notice on
// A4 for the hall's records; then it says on the done screen how that
// went. The returned channel closes when both are done. The printer
// answers status before and after the job, about a second, so this runs
// off the UI thread, on a copy of the visit: the UI thread may wipe it
// meanwhile.
func (k *Kiosk) printPapers(s *session) <-chan struct{} {
	printed := make(chan struct{})
	snap := s.snapshot()
	cat := k.cfg.Catalog // the visit's revision; a newer one is taken on wipe
	k.bg.Go(func() {
		defer close(printed)
		p, err := k.papers(cat, snap)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = k.cfg.Printer.Print(ctx, p.receipt)
			cancel()
		}
		var nerr error
		if p.notice != nil {
			nerr = k.writeNotice(snap.caseID, p.notice)
		}
		k.do(func() {
			if k.sess != s {
				return
			}
			var msg []string
			if err != nil {
				k.doneTitle.Text = "已受理 · 回执未打印"
				zh, en := printTrouble(err)
				msg = append(msg, "回执没有打印出来（"+zh+"）。您的办件已受理，请到综合窗口领取回执 / receipt not printed ("+en+"): your case is accepted, get the receipt at the comprehensive window")
			} else {
				k.doneTitle.Text = "已受理 · 回执已打印"
			}
			switch {
			case p.missing && err == nil:
				k.doneDetail.SetText(k.doneDetail.Text + "\n尚缺材料已列入一次性告知书，打印在回执下半部分，请收好 / what is still missing is listed on your receipt")
			case p.missing:
				k.doneDetail.SetText(k.doneDetail.Text + "\n尚缺材料请到综合窗口询问 / ask at the window what is still missing")
			}
			if nerr != nil {
				msg = append(msg, "一次性告知书未能存档，请告知工作人员 / notice not filed: "+nerr.Error())
			}
			k.say(strings.Join(msg, "\n"))
			k.doneTitle.Refresh()
		})
	})
	return printed
}

// paperSet is what a submitted visit prints and files.
type paperSet struct {
	receipt []byte     // ESC/POS, the notice's list on it
	notice  *a4.Notice // nil when nothing is missing
	missing bool       // a required material is missing
}

// papers makes the receipt and the one-time notice of visit s from one
// list: the case as stored, reviewed as the window would see it (so the
// window tells the same). Each material is 已收, 免提交, 待补 when required
// and missing, or 可选 when missing and not required; the notice lists the
// missing ones, the optional ones marked 可选, with what each must meet.
func (k *Kiosk) papers(cat *catalog.Catalog, s *session) (paperSet, error) {
	var p paperSet
	m, err := k.cfg.Store.Case(s.caseID)
	if err != nil {
		return p, err
	}
	v, err := visit.New(cat, m, s.vault, k.cfg.now())
	if err != nil {
		return p, err
	}
	deadline := k.cfg.now().AddDate(0, 0, 7*max(1, s.guide.PromisedDays/5))
	var mats []printer.ReceiptMaterial
	var missing []a4.Material
	var lines []string
	for _, r := range v.Checklist() {
		st := printer.MaterialReceived
		switch {
		case r.Status == visit.OnFile:
			st = printer.MaterialExempt
		case r.Status == visit.Missing && r.Required:
			st = printer.MaterialPending
			p.missing = true
		case r.Status == visit.Missing:
			st = printer.MaterialOptional
		}
		mats = append(mats, printer.ReceiptMaterial{Name: r.Name, State: st})
		if r.Status != visit.Missing {
			continue
		}
		var crit []string
		for _, c := range r.Criteria {
			crit = append(crit, c.Text)
		}
		name, need := r.Name, strings.Join(crit, "；")
		if !r.Required {
			name += "（可选）"
			need = "可选材料，可不提交" + map[bool]string{true: "；如提交须：" + need}[need != ""]
		}
		missing = append(missing, a4.Material{Name: name, Criteria: need})
		lines = append(lines, fmt.Sprintf("%d. %s：%s", len(lines)+1, name, need))
	}
	data := printer.ReceiptData{
		Hall:      k.cfg.Hall,
		CaseNo:    s.caseID,
		Time:      k.cfg.now(),
		Applicant: mask.Name(s.card.Name),
		IDNumber:  mask.ID(s.card.IDNumber),
		Items:     names(s.guide.Items),
		Materials: mats,
		QR:        k.cfg.QueryURL + s.caseID,
		Footer:    []string{"待补材料请于承诺时限内补交", "咨询电话 " + s.guide.Items[0].Contact},
	}
	if len(missing) > 0 {
		data.NoticeTitle = "一次性告知书"
		if p.missing {
			lines = append(lines, "请于 "+deadline.Format("2006-01-02")+" 前将待补材料交到综合窗口。")
		}
		data.Notice = append([]string{"尚缺以下材料，一次告知："}, lines...)
		n := v.Outstanding(a4.Header{Hall: k.cfg.Hall, CaseNo: s.caseID, Date: k.cfg.now(),
			Applicant: mask.Name(s.card.Name), IDNumber: mask.ID(s.card.IDNumber),
			Items: names(s.guide.Items), Window: "综合窗口", Phone: s.guide.Items[0].Contact,
			QR: k.cfg.QueryURL + s.caseID})
		n.Missing, n.Deadline = missing, deadline
		p.notice = &n
	}
	doc, err := printer.Receipt(data)
	if err != nil {
		return p, err
	}
	p.receipt = doc.Bytes()
	return p, nil
}

// writeNotice files the A4 one-time notice of case id in the documents
// directory, if one is set, for the hall's records (S18).
func (k *Kiosk) writeNotice(id string, n *a4.Notice) error {
	if k.cfg.Documents == "" {
		return nil
	}
	pdf, err := a4.OneTimeNotice(*n)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(k.cfg.Documents, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(k.cfg.Documents, id+"-一次性告知书.pdf"), pdf, 0o600)
}

func names(items []*catalog.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Name
	}
	return out
}

// printerStatus is a printer that can say whether it could print now.
type printerStatus interface {
	Status(ctx context.Context) (printer.Status, error)
}

// checkPrinter asks the printer, if it can say, whether it could print a
// receipt now; off the UI thread, when a card starts a visit. It returns
// what is wrong in plain words, or "" when it can print (or cannot say).
func (k *Kiosk) checkPrinter(ctx context.Context) (zh, en string) {
	p, ok := k.cfg.Printer.(printerStatus)
	if !ok {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := p.Status(ctx)
	if err == nil && st.Ready() {
		return "", ""
	}
	if err == nil {
		err = &printer.NotReadyError{Status: st}
	}
	return printTrouble(err)
}

// printTrouble says in plain words, for the citizen, why a receipt was or
// would not be printed: no status bytes, no driver wording.
func printTrouble(err error) (zh, en string) {
	var nr *printer.NotReadyError
	switch {
	case errors.As(err, &nr) && nr.Status.PaperOut:
		return "打印机缺纸", "the printer is out of paper"
	case errors.As(err, &nr) && nr.Status.CoverOpen:
		return "打印机上盖没有合上", "the printer's cover is open"
	case errors.As(err, &nr) && nr.Status.Error:
		return "打印机出了故障", "the printer has a fault"
	case errors.As(err, &nr):
		return "打印机没有联机", "the printer is offline"
	case errors.Is(err, printer.ErrNoAnswer):
		return "打印机没有响应", "the printer does not answer"
	}
	return "打印机出了问题", "the printer failed"
}
