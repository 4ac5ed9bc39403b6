package terminal

import (
	"context"
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
				msg = append(msg, "回执打印失败，办件已受理，请到窗口领取回执 / receipt not printed: "+err.Error())
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
