package visit

import (
	"fmt"
	"strings"
	"time"

	"yici/sync/catalog"
	"yici/sync/wire"
)

// Kind is a decision on the case.
type Kind string

const (
	Accept         Kind = "accept"           // 受理: everything required is on file or received and passing
	AcceptWithGaps Kind = "accept_with_gaps" // 容缺受理 (S6): what is still due is deferrable, against a commitment letter
	Return         Kind = "return"           // 退回 with a one-time notice; every failure recorded (否定备案, S18)
)

// SetVerdict records the review of the received material code. A failing
// verdict must cite one of that material's own criteria (S4). Verdicts can
// be changed until a decision is recorded, and again after Reopen.
func (v *Visit) SetVerdict(code string, vd Verdict) error {
	if v.decided {
		return fmt.Errorf("visit: case %s: decision %d is recorded, verdicts are frozen; Reopen to correct it", v.m.ID, v.seq)
	}
	i, ok := v.index[code]
	if !ok {
		return fmt.Errorf("visit: case %s: material %s is not on its checklist", v.m.ID, code)
	}
	r := &v.rows[i]
	if r.Status != Received {
		return fmt.Errorf("visit: case %s material %s is %s; only a received material gets a verdict", v.m.ID, code, r.Status)
	}
	if vd.Note != "" {
		if err := wire.CheckText(vd.Note, wire.MaxTextRunes); err != nil {
			return fmt.Errorf("visit: case %s material %s: note %v", v.m.ID, code, err)
		}
	}
	if vd.Pass {
		if vd.Criterion != "" {
			return fmt.Errorf("visit: case %s material %s: a passing verdict cites no criterion (got %s)", v.m.ID, code, vd.Criterion)
		}
	} else {
		c, ok := r.criterion(vd.Criterion)
		if !ok {
			return fmt.Errorf("visit: case %s material %s: a failing verdict must cite one of its criteria (%s), not %q",
				v.m.ID, code, criterionIDs(r.Criteria), vd.Criterion)
		}
		if err := wire.ValidName(c.ID); err != nil {
			return fmt.Errorf("visit: case %s material %s: criterion id %v", v.m.ID, code, err)
		}
		if err := wire.CheckText(reason(c.Text, vd.Note), wire.MaxTextRunes); err != nil {
			return fmt.Errorf("visit: case %s material %s: the criterion's text and the note together %v; shorten the note", v.m.ID, code, err)
		}
	}
	r.Verdict = &vd
	return nil
}

// Option is one decision and whether it is open.
type Option struct {
	Open bool
	Why  string // why it is open, or what closes it
}

// Assessment is what the checklist allows.
type Assessment struct {
	Accept, AcceptWithGaps, Return Option
	// Pending are the received materials without a verdict. While any is
	// pending no decision is open: a return must tell everything at once
	// (一次性告知), and an acceptance must not take an unreviewed copy.
	Pending  []string
	Blocking []string // required materials missing or failing
	Failing  []string // received materials that failed, required or not
	Gaps     []string // for AcceptWithGaps: the blocking materials, all deferrable
}

// Options says which decisions are open and why:
//
//   - Accept iff every required material is on file, or received and passing;
//   - AcceptWithGaps iff some required material is missing or failing and
//     every such one is deferrable (the gaps);
//   - Return iff some material fails or some required one is missing.
//
// None is open while a received material awaits its verdict.
func (v *Visit) Options() Assessment {
	var a Assessment
	var nondeferrable []string
	for _, r := range v.rows {
		switch {
		case r.Status == Received && r.Verdict == nil:
			a.Pending = append(a.Pending, r.Code)
			continue
		case r.Failing():
			a.Failing = append(a.Failing, r.Code)
		}
		if r.Required && (r.Status == Missing || r.Failing()) {
			a.Blocking = append(a.Blocking, r.Code)
			if r.Deferrable {
				a.Gaps = append(a.Gaps, r.Code)
			} else {
				nondeferrable = append(nondeferrable, r.Code)
			}
		}
	}
	if len(a.Pending) > 0 {
		why := "not yet reviewed: " + strings.Join(a.Pending, ", ")
		a.Accept, a.AcceptWithGaps, a.Return = Option{Why: why}, Option{Why: why}, Option{Why: why}
		a.Gaps = nil
		return a
	}
	if len(a.Blocking) == 0 {
		a.Accept = Option{Open: true, Why: "every required material is on file or received and passing"}
		a.AcceptWithGaps = Option{Why: "nothing required is missing or failing"}
	} else {
		a.Accept = Option{Why: "required but missing or failing: " + strings.Join(a.Blocking, ", ")}
		if len(nondeferrable) == 0 {
			a.AcceptWithGaps = Option{Open: true, Why: "missing or failing, all deferrable: " + strings.Join(a.Gaps, ", ")}
		} else {
			a.AcceptWithGaps = Option{Why: "missing or failing and not deferrable: " + strings.Join(nondeferrable, ", ")}
			a.Gaps = nil
		}
	}
	if bad := union(a.Blocking, a.Failing); len(bad) > 0 {
		a.Return = Option{Open: true, Why: "missing or failing: " + strings.Join(bad, ", ")}
	} else {
		a.Return = Option{Why: "nothing is missing or failing to return the case for"}
	}
	return a
}

// Decision is a recorded decision on the case. A correction is a later
// decision with the next Seq; it supersedes every one before it.
type Decision struct {
	Case      string
	Seq       int // 1 for the first decision, then 2, 3, … for corrections
	Kind      Kind
	Began, At time.Time // when the review began, when this decision was taken
	Filed     time.Time // when the case was made (the manifest's created_at)
	Items     []string  // item codes
	ItemNames []string
	Rows      []Row    // the checklist as decided, verdicts included
	Gaps      []Gap    // AcceptWithGaps: what is to follow, by when
	Extra     []string // material codes the manifest had and the catalogue does not ask for
}

// Gap is a deferred material and its deadline (S6).
type Gap struct {
	Row
	Due time.Time
}

// Decide records a decision of kind, taken at at, if Options has it open.
// The verdicts are frozen until Reopen.
func (v *Visit) Decide(kind Kind, at time.Time) (Decision, error) {
	if v.decided {
		return Decision{}, fmt.Errorf("visit: case %s: decision %d is already recorded; Reopen to correct it", v.m.ID, v.seq)
	}
	if at.Before(v.began) {
		return Decision{}, fmt.Errorf("visit: case %s: decision at %v is before the review began at %v", v.m.ID, at, v.began)
	}
	a := v.Options()
	var o Option
	switch kind {
	case Accept:
		o = a.Accept
	case AcceptWithGaps:
		o = a.AcceptWithGaps
	case Return:
		o = a.Return
	default:
		return Decision{}, fmt.Errorf("visit: case %s: unknown decision %q", v.m.ID, kind)
	}
	if !o.Open {
		return Decision{}, fmt.Errorf("visit: case %s: %s is not open: %s", v.m.ID, kind, o.Why)
	}
	d := Decision{Case: v.m.ID, Seq: v.seq + 1, Kind: kind, Began: v.began, At: at, Filed: v.m.CreatedAt,
		Items: append([]string(nil), v.m.Items...), ItemNames: append([]string(nil), v.names...), Rows: copyRows(v.rows)}
	for _, e := range v.extra {
		d.Extra = append(d.Extra, e.Code)
	}
	if kind == AcceptWithGaps {
		for _, r := range d.Rows {
			if contains(a.Gaps, r.Code) {
				d.Gaps = append(d.Gaps, Gap{Row: r, Due: at.AddDate(0, 0, r.Deferral())})
			}
		}
	}
	v.seq, v.decided = d.Seq, true
	return d, nil
}

// Reopen lets the verdicts change again after a decision, to correct it;
// the next Decide supersedes it with the next sequence number.
func (v *Visit) Reopen() error {
	if !v.decided {
		return fmt.Errorf("visit: case %s: no decision recorded to reopen", v.m.ID)
	}
	v.decided = false
	return nil
}

// Resume carries on from a decision recorded before (by a desk that has
// since restarted): its verdicts and start time are restored and it
// stands, so the next correction gets the next sequence number and the
// events it repeats keep their ids and content.
func (v *Visit) Resume(last Decision) error {
	if last.Case != v.m.ID {
		return fmt.Errorf("visit: case %s: cannot resume from a decision on case %s", v.m.ID, last.Case)
	}
	if last.Seq < v.seq {
		return fmt.Errorf("visit: case %s: decision %d is older than decision %d already here", v.m.ID, last.Seq, v.seq)
	}
	for _, r := range last.Rows {
		if i, ok := v.index[r.Code]; ok && v.rows[i].Status == Received && r.Verdict != nil {
			vd := *r.Verdict
			v.rows[i].Verdict = &vd
		}
	}
	v.began, v.seq, v.decided = last.Began, last.Seq, true
	return nil
}

// reason is a rejection's reason: the criterion's text, then the note.
func reason(text, note string) string {
	if note == "" {
		return text
	}
	return text + "；" + note
}

func criterionIDs(cs []catalog.Criterion) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return strings.Join(ids, ", ")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// union is a followed by what of b is not in a.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
