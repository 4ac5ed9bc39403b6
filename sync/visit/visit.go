// Package visit is the review and decision of one case at the
// comprehensive window (综合窗口), in plain Go that a test drives without a
// window; the desk shows it as screens.
//
// A Visit holds the case's checklist: each material once, however many
// items need it (S5), on file, received or missing, with its published
// criteria (S4). The clerk gives each received material a verdict; a
// failing one cites one of that material's criteria and nothing else.
// Options says which decisions are open and why; Decide records one and
// freezes the verdicts. What the decision produces — the events of the
// case (S16, S18), the A4 documents and the vault confirmations (S13) — is
// computed from the Decision alone, so it can be sent again, or printed
// again, from a stored Decision and comes out the same.
//
// IMPORTANT: the manifest carries the case's item codes but not the answers
// that led to them, so the checklist is the items' own material lists (plus
// what their questions may add, when it was handed in). A material an
// answer removed shows as missing; the clerk sees it on the checklist before
// deciding.
package visit

import (
	"fmt"
	"time"

	"yici/sync/catalog"
	"yici/sync/wire"
)

// Status is where a material of the case stands.
type Status int

const (
	Missing  Status = iota // neither handed in nor on file
	OnFile                 // exempt (免提交): a licence or an earlier confirmed copy (S13)
	Received               // handed in with this case, to be reviewed
)

func (s Status) String() string {
	switch s {
	case Missing:
		return "missing"
	case OnFile:
		return "on file"
	case Received:
		return "received"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Blob is a material handed in with the case.
type Blob struct {
	SHA256      string
	Size        int64
	ContentType string
}

// Verdict is the clerk's review of one received material. A failing verdict
// cites one of the material's published criteria by id (S4).
type Verdict struct {
	Pass      bool
	Criterion string // the criterion id, when failing
	Note      string // optional, what exactly is wrong; goes into the rejection's reason
}

// Row is one material of the checklist.
type Row struct {
	catalog.Needed // code, name, criteria, required, deferrable, defer days, the items that need it

	Status Status
	// Entry is what the vault holds for an on-file material (source,
	// issuer, dates), or nil when only the manifest's exempt mark says it
	// is on file (the kiosk saw it, this vault answer does not).
	Entry *wire.VaultEntry
	Blob  Blob // a received material's bytes
	// Verdict is the review of a received material; nil until given.
	Verdict *Verdict
	// Situational is set for a material the items do not list themselves
	// but one of their questions adds (a guardian's ID for a minor); it is
	// on the checklist because the applicant handed it in.
	Situational bool
}

// Failing reports whether the row is received and failed its review.
func (r Row) Failing() bool { return r.Status == Received && r.Verdict != nil && !r.Verdict.Pass }

// Passing reports whether the row is received and passed its review.
func (r Row) Passing() bool { return r.Status == Received && r.Verdict != nil && r.Verdict.Pass }

// criterion returns the material's criterion with this id.
func (r Row) criterion(id string) (catalog.Criterion, bool) {
	for _, c := range r.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return catalog.Criterion{}, false
}

// Visit is the review of one case at the window.
type Visit struct {
	m     wire.Manifest
	names []string // the items' names, in manifest order
	began time.Time
	rows  []Row
	index map[string]int // material code → row
	extra []wire.MaterialRef

	seq     int  // the last decision's sequence number; 0 before the first
	decided bool // the last decision stands: verdicts are frozen
}

// New starts the review of case m under cat, which must be the catalogue
// revision the case was made under (S3), with what the vault holds for the
// applicant. now is when the review began (handling_started).
func New(cat *catalog.Catalog, m wire.Manifest, vault wire.VaultAnswer, now time.Time) (*Visit, error) {
	if cat == nil {
		return nil, fmt.Errorf("visit: case %s: no catalogue", m.ID)
	}
	if m.CatalogRevision != cat.Revision {
		return nil, fmt.Errorf("visit: case %s was made under catalogue revision %d, the catalogue given is revision %d; review it under its own revision",
			m.ID, m.CatalogRevision, cat.Revision)
	}
	if !wire.ValidCaseID(m.ID) {
		return nil, fmt.Errorf("visit: case id %q is not a valid case id", m.ID)
	}
	if len(m.Items) == 0 {
		return nil, fmt.Errorf("visit: case %s names no item", m.ID)
	}
	needed, err := materials(cat, m)
	if err != nil {
		return nil, fmt.Errorf("visit: case %s: %w", m.ID, err)
	}
	v := &Visit{m: m, began: now, index: map[string]int{}}
	for _, code := range m.Items {
		it, _ := cat.Item(code)
		v.names = append(v.names, it.Name)
	}
	got := map[string]wire.MaterialRef{}
	var order []string
	for _, r := range m.Materials {
		if _, dup := got[r.Code]; dup {
			return nil, fmt.Errorf("visit: case %s lists material %s twice", m.ID, r.Code)
		}
		if !r.Exempt && !wire.ValidSHA256(r.SHA256) {
			return nil, fmt.Errorf("visit: case %s material %s is neither exempt nor a blob (sha256 %q)", m.ID, r.Code, r.SHA256)
		}
		got[r.Code] = r
		order = append(order, r.Code)
	}
	for _, n := range needed {
		v.add(Row{Needed: n}, got, vault, now)
	}
	added := situational(cat, m.Items)
	for _, code := range order {
		if _, listed := v.index[code]; listed {
			continue
		}
		if n, ok := added[code]; ok {
			v.add(Row{Needed: n, Situational: true}, got, vault, now)
			continue
		}
		v.extra = append(v.extra, got[code])
	}
	return v, nil
}

// materials is the material list of case m: the guide its answers give
// when the case records what was applied for, else its items' own lists
// (a case made before answers were recorded).
func materials(cat *catalog.Catalog, m wire.Manifest) ([]catalog.Needed, error) {
	var needed []catalog.Needed
	if m.Applied == "" {
		ns, err := cat.MaterialsOf(m.Items)
		if err != nil {
			return nil, err
		}
		needed = ns
	} else {
		g, err := cat.Resolve(m.Applied, m.Answers)
		if err != nil {
			return nil, fmt.Errorf("applied for %s with answers %v: %w", m.Applied, m.Answers, err)
		}
		if !g.Complete() {
			return nil, fmt.Errorf("applied for %s with answers %v: question %s is unanswered", m.Applied, m.Answers, g.Next.ID)
		}
		needed = g.Materials
	}
	if m.Agent != nil {
		needed = cat.WithAgent(needed, m.Items)
	}
	return needed, nil
}

// add puts a row on the checklist with its status: handed in wins over on
// file, since there are bytes to review; the vault's entry is kept for
// either.
func (v *Visit) add(r Row, got map[string]wire.MaterialRef, vault wire.VaultAnswer, now time.Time) {
	if e, ok := vault.OnFile(r.Code, now); ok {
		r.Entry = &e
		r.Status = OnFile
	}
	if ref, ok := got[r.Code]; ok {
		if ref.Exempt {
			r.Status = OnFile
		} else {
			r.Status = Received
			r.Blob = Blob{SHA256: ref.SHA256, Size: ref.Size, ContentType: ref.ContentType}
		}
	}
	v.index[r.Code] = len(v.rows)
	v.rows = append(v.rows, r)
}

// situational collects the materials the question trees of these items,
// and of the bundles that contain any of them, may add.
func situational(cat *catalog.Catalog, items []string) map[string]catalog.Needed {
	out := map[string]catalog.Needed{}
	collect := func(t *catalog.Tree, owner string) {
		if t == nil {
			return
		}
		for _, q := range t.Questions {
			for _, ch := range q.Choices {
				for _, m := range ch.AddMaterials {
					if _, ok := out[m.Code]; !ok {
						out[m.Code] = catalog.Needed{Material: m, For: []string{owner}}
					}
				}
			}
		}
	}
	in := map[string]bool{}
	for _, code := range items {
		in[code] = true
		if it, ok := cat.Item(code); ok {
			collect(it.Questions, code)
		}
	}
	for _, b := range cat.Bundles {
		for _, code := range b.Items {
			if in[code] {
				collect(b.Questions, b.Code)
				break
			}
		}
	}
	return out
}

// Checklist returns the materials of the case, each once, in guide order
// then situational ones; a copy the caller may keep.
func (v *Visit) Checklist() []Row { return copyRows(v.rows) }

// Extra lists what the manifest holds that the catalogue does not ask of
// these items: reported, never reviewed, never silently dropped.
func (v *Visit) Extra() []wire.MaterialRef { return append([]wire.MaterialRef(nil), v.extra...) }

func copyRows(rows []Row) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		if r.Verdict != nil {
			vd := *r.Verdict
			r.Verdict = &vd
		}
		if r.Entry != nil {
			e := *r.Entry
			r.Entry = &e
		}
		r.Criteria = append([]catalog.Criterion(nil), r.Criteria...)
		r.For = append([]string(nil), r.For...)
		out[i] = r
	}
	return out
}
