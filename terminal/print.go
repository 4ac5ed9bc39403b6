package terminal

import (
	"context"
	"errors"
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

// printPapers prints the receipt of the visit s, just submitted, and
// writes its one-time notice, then says on the done screen how that went;
// the returned channel closes when both are done. The printer answers
// status before and after the job, about a second, so this runs off the UI
// thread, on a copy of the visit: the UI thread may wipe it meanwhile.
func (k *Kiosk) printPapers(s *session) <-chan struct{} {
	printed := make(chan struct{})
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
				zh, en := printTrouble(err)
				msg = append(msg, "回执没有打印出来（"+zh+"）。您的办件已受理，请到综合窗口领取回执 / receipt not printed ("+en+"): your case is accepted, get the receipt at the comprehensive window")
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
	return printed
}

// receipt lays out the acceptance receipt of visit s: masked applicant,
// the items, each material's state (the 待补 lines are the one-time notice
// of what is still missing), and a QR code to follow the case and rate it
// (S17).
func (k *Kiosk) receipt(s *session) ([]byte, error) {
	var mats []printer.ReceiptMaterial
	for _, m := range s.guide.Materials {
		st := printer.MaterialPending
		if s.captured[m.Code] {
			st = printer.MaterialReceived
		} else if _, ok := s.exempt[m.Code]; ok {
			st = printer.MaterialExempt
		}
		mats = append(mats, printer.ReceiptMaterial{Name: m.Name, State: st})
	}
	doc, err := printer.Receipt(printer.ReceiptData{
		Hall:      k.cfg.Hall,
		CaseNo:    s.caseID,
		Time:      k.cfg.now(),
		Applicant: mask.Name(s.card.Name),
		IDNumber:  mask.ID(s.card.IDNumber),
		Items:     names(s.guide.Items),
		Materials: mats,
		QR:        k.cfg.QueryURL + s.caseID,
		Footer:    []string{"待补材料请于承诺时限内补交", "咨询电话 " + s.guide.Items[0].Contact},
	})
	if err != nil {
		return nil, err
	}
	return doc.Bytes(), nil
}

// notice writes the A4 one-time notice (一次性告知书) of visit s to the
// documents directory when required materials are still missing: everything
// missing, with its review criteria, told once (S18). It returns the file
// written, or "" when nothing is missing or no directory is set.
func (k *Kiosk) notice(s *session) (string, error) {
	if k.cfg.Documents == "" {
		return "", nil
	}
	// The case as stored, reviewed as the window would see it: what is
	// still to come is the same list there and here.
	m, err := k.cfg.Store.Case(s.caseID)
	if err != nil {
		return "", err
	}
	v, err := visit.New(k.cfg.Catalog, m, s.vault, k.cfg.now())
	if err != nil {
		return "", err
	}
	n := v.Outstanding(a4.Header{Hall: k.cfg.Hall, CaseNo: s.caseID, Date: k.cfg.now(),
		Applicant: mask.Name(s.card.Name), IDNumber: mask.ID(s.card.IDNumber),
		Items: names(s.guide.Items), Window: "综合窗口", Phone: s.guide.Items[0].Contact,
		QR: k.cfg.QueryURL + s.caseID})
	if len(n.Missing) == 0 {
		return "", nil
	}
	n.Deadline = k.cfg.now().AddDate(0, 0, 7*max(1, s.guide.PromisedDays/5))
	pdf, err := a4.OneTimeNotice(n)
	if err != nil {
		return "", err
	}
	path := filepath.Join(k.cfg.Documents, s.caseID+"-一次性告知书.pdf")
	if err := os.MkdirAll(k.cfg.Documents, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, pdf, 0o600)
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
