package visit

import (
	"strings"

	"yici/drivers/printer/a4"
	"yici/sync/wire"
)

// The documents of a decision, as inputs for drivers/printer/a4. The caller
// gives the header with the applicant's name and ID number masked (a4
// refuses them otherwise); an empty case number, items or date are filled
// in from the decision.

// AcceptanceNotice is the acceptance notice (受理通知书) of an Accept or
// AcceptWithGaps: the materials received and passing, those on file, and
// the gaps with their deadlines. Due, the promised completion date, is
// left to the caller, who knows the hall's working days.
func (d Decision) AcceptanceNotice(h a4.Header) a4.Acceptance {
	a := a4.Acceptance{Header: d.header(h)}
	for _, r := range d.Rows {
		switch {
		case r.Passing():
			a.Received = append(a.Received, r.Name)
		case r.Status == OnFile:
			a.Exempt = append(a.Exempt, r.Name)
		}
	}
	a.Deferred = d.deferred()
	return a
}

// CommitmentLetter is the commitment letter (容缺受理承诺书) of an
// AcceptWithGaps: each gap with its criteria and deadline. It is empty for
// other decisions, and a4 refuses to lay out an empty one.
func (d Decision) CommitmentLetter(h a4.Header) a4.Commitment {
	return a4.Commitment{Header: d.header(h), Deferred: d.deferred()}
}

// OneTimeNotice is the one-time notice (一次性告知书): everything still to
// come in one go (S18) — each required material missing, with its criteria,
// and each failing one, with the criterion it failed and the clerk's note.
// After AcceptWithGaps its deadline is the earliest gap's; after Return it
// is left to the caller.
func (d Decision) OneTimeNotice(h a4.Header) a4.Notice {
	n := a4.Notice{Header: d.header(h), Missing: outstanding(d.Rows)}
	for _, g := range d.Gaps {
		if n.Deadline.IsZero() || g.Due.Before(n.Deadline) {
			n.Deadline = g.Due
		}
	}
	return n
}

// Outstanding is the one-time notice of a case not yet reviewed (the
// kiosk's, at the end of a self-service visit): each required material
// neither handed in nor on file, with its criteria, told once (S18). Its
// header is the caller's; no deadline is set.
func (v *Visit) Outstanding(h a4.Header) a4.Notice {
	return a4.Notice{Header: h, Missing: outstanding(v.rows)}
}

// outstanding are the materials of rows still to come: each failing one,
// with the criterion it failed and the clerk's note, and each required one
// missing, with its criteria.
func outstanding(rows []Row) []a4.Material {
	var out []a4.Material
	for _, r := range rows {
		switch {
		case r.Failing():
			c, _ := r.criterion(r.Verdict.Criterion)
			out = append(out, a4.Material{Name: r.Name, Criteria: "不符合：" + reason(c.Text, r.Verdict.Note)})
		case r.Required && r.Status == Missing:
			out = append(out, a4.Material{Name: r.Name, Criteria: criteriaText(r)})
		}
	}
	return out
}

// Confirmations are the received materials that passed, to confirm into
// the applicant's vault (S13). They are confirmed after a Return too: the
// one-time notice promises that what was handed in need not be handed in
// again, and only the vault keeps that promise.
func (d Decision) Confirmations() []wire.ConfirmMaterial {
	var out []wire.ConfirmMaterial
	for _, r := range d.Rows {
		if r.Passing() {
			out = append(out, wire.ConfirmMaterial{Code: r.Code})
		}
	}
	return out
}

func (d Decision) header(h a4.Header) a4.Header {
	if h.CaseNo == "" {
		h.CaseNo = d.Case
	}
	if len(h.Items) == 0 {
		h.Items = append([]string(nil), d.ItemNames...)
	}
	if h.Date.IsZero() {
		h.Date = d.Filed
	}
	return h
}

func (d Decision) deferred() []a4.Deferred {
	var out []a4.Deferred
	for _, g := range d.Gaps {
		out = append(out, a4.Deferred{Material: a4.Material{Name: g.Name, Criteria: criteriaText(g.Row)}, Due: g.Due})
	}
	return out
}

// criteriaText is a material's criteria as one line of a document; a
// failing one's cited criterion comes first, with the note.
func criteriaText(r Row) string {
	var texts []string
	if r.Failing() {
		c, _ := r.criterion(r.Verdict.Criterion)
		texts = append(texts, "不符合："+reason(c.Text, r.Verdict.Note))
	}
	for _, c := range r.Criteria {
		texts = append(texts, c.Text)
	}
	return strings.Join(texts, "；")
}
