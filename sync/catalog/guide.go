package catalog

import "fmt"

// Guide is what one applicant gets for one item or bundle in their
// situation: the items it comes to, one merged form and one material list
// in which every field and every material appears once, however many items
// need it (S5, S8: 表单之外无材料).
type Guide struct {
	Revision     int
	Code, Name   string  // the item or bundle finally applied for
	Bundle       *Bundle // nil for a single item
	Items        []*Item
	Fields       []Field
	Materials    []Needed
	Notes        []string
	Answers      []Answer
	Switched     []string  // codes left for another by a switch, in order
	Next         *Question // asked next; nil once the guide is complete
	PromisedDays int
	LegalDays    int
}

// Needed is a material in a guide, with the items that need it.
type Needed struct {
	Material
	For []string
}

// Answer is one answered question, kept for the case file.
type Answer struct {
	Question, Choice string // ids
	Text, Label      string // as shown
}

// Complete reports whether every question has been answered.
func (g *Guide) Complete() bool { return g.Next == nil }

// Resolve walks the question tree of an item or bundle with the answers
// given so far (choice ids, in the order asked) and returns the guide for
// that situation. While questions remain, Next is the one to ask and the
// lists are provisional; the kiosk's Back button is the same call with the
// last answer dropped.
func (c *Catalog) Resolve(code string, answers []string) (*Guide, error) {
	g := &Guide{Revision: c.Revision}
	used := 0
	for {
		var tree *Tree
		st := &situation{removeItems: map[string]bool{}, removeMats: map[string]bool{}, removeFields: map[string]bool{}}
		if it, ok := c.byCode[code]; ok {
			st.items = []string{code}
			tree = it.Questions
			g.Code, g.Name, g.Bundle = it.Code, it.Name, nil
		} else if b, ok := c.bundles[code]; ok {
			st.items = b.Items
			st.fields = b.Fields
			tree = b.Questions
			g.Code, g.Name, g.Bundle = b.Code, b.Name, b
		} else {
			return nil, fmt.Errorf("catalog: %q: no such item or bundle in revision %d", code, c.Revision)
		}
		switchTo := ""
		if tree != nil {
			qid := tree.Start
			for qid != "" && switchTo == "" {
				q := tree.question(qid)
				if used == len(answers) {
					g.Next = q
					break
				}
				ch := q.choice(answers[used])
				if ch == nil {
					return nil, fmt.Errorf("catalog: %s question %s: no choice %q", code, q.ID, answers[used])
				}
				used++
				g.Answers = append(g.Answers, Answer{Question: q.ID, Choice: ch.ID, Text: q.Text, Label: ch.Label})
				st.apply(ch)
				if ch.Note != "" {
					g.Notes = append(g.Notes, ch.Note)
				}
				switchTo, qid = ch.Switch, ch.Next
			}
		}
		if switchTo != "" {
			g.Switched = append(g.Switched, code)
			code = switchTo
			continue
		}
		if used < len(answers) {
			return nil, fmt.Errorf("catalog: %s: %d answers given, the questions took %d", code, len(answers), used)
		}
		c.assemble(g, st)
		return g, nil
	}
}

// situation is what the answers so far have done to an item or bundle.
type situation struct {
	items, fields []string
	addItems      []string
	addMats       []Material
	addFields     []string
	removeItems   map[string]bool
	removeMats    map[string]bool
	removeFields  map[string]bool
}

// apply records a choice's effects. A later answer can undo an earlier one,
// so adding something clears its removal and the other way round.
func (s *situation) apply(ch *Choice) {
	for _, c := range ch.AddItems {
		s.addItems = append(s.addItems, c)
		delete(s.removeItems, c)
	}
	for _, c := range ch.RemoveItems {
		s.removeItems[c] = true
	}
	for _, m := range ch.AddMaterials {
		s.addMats = append(s.addMats, m)
		delete(s.removeMats, m.Code)
	}
	for _, c := range ch.RemoveMaterials {
		s.removeMats[c] = true
	}
	for _, f := range ch.AddFields {
		s.addFields = append(s.addFields, f)
		delete(s.removeFields, f)
	}
	for _, f := range ch.RemoveFields {
		s.removeFields[f] = true
	}
}

// assemble merges the items' fields and materials, each once. A material
// several items need is required if any of them requires it, deferrable only
// if all of them allow it, and carries every criterion any of them cites.
func (c *Catalog) assemble(g *Guide, st *situation) {
	seenItem := map[string]bool{}
	for _, code := range append(append([]string(nil), st.items...), st.addItems...) {
		if seenItem[code] || st.removeItems[code] {
			continue
		}
		seenItem[code] = true
		g.Items = append(g.Items, c.byCode[code])
	}
	var fields []string
	at := map[string]int{}
	for _, it := range g.Items {
		fields = append(fields, it.Fields...)
		for _, m := range it.Materials {
			g.Materials = mergeNeed(g.Materials, at, m, it.Code)
		}
		if it.PromisedDays > g.PromisedDays {
			g.PromisedDays = it.PromisedDays
		}
		if it.LegalDays > g.LegalDays {
			g.LegalDays = it.LegalDays
		}
	}
	if g.Bundle != nil && g.Bundle.PromisedDays > 0 {
		g.PromisedDays = g.Bundle.PromisedDays
	}
	for _, m := range st.addMats {
		g.Materials = mergeNeed(g.Materials, at, m, g.Code)
	}
	kept := g.Materials[:0]
	for _, n := range g.Materials {
		if !st.removeMats[n.Code] {
			kept = append(kept, n)
		}
	}
	g.Materials = kept
	seen := map[string]bool{}
	for _, f := range append(append(fields, st.fields...), st.addFields...) {
		if seen[f] || st.removeFields[f] {
			continue
		}
		seen[f] = true
		g.Fields = append(g.Fields, *c.fields[f])
	}
}

func mergeNeed(ns []Needed, at map[string]int, m Material, owner string) []Needed {
	i, ok := at[m.Code]
	if !ok {
		at[m.Code] = len(ns)
		m.Criteria = append([]Criterion(nil), m.Criteria...)
		return append(ns, Needed{Material: m, For: []string{owner}})
	}
	n := &ns[i]
	if !contains(n.For, owner) {
		n.For = append(n.For, owner)
	}
	// Deferral is decided by the items that require the material.
	switch {
	case n.Required && m.Required:
		n.Deferrable = n.Deferrable && m.Deferrable
	case m.Required:
		n.Deferrable = m.Deferrable
	case !n.Required:
		n.Deferrable = n.Deferrable || m.Deferrable
	}
	n.Required = n.Required || m.Required
	if n.DeferDays != m.DeferDays {
		// The earliest deadline holds: every item must have it in time.
		n.DeferDays = min(n.Deferral(), m.Deferral())
	}
	n.Original = n.Original || m.Original
	n.Copies = max(n.Copies, m.Copies)
	if n.MaxPages != m.MaxPages { // the largest limit: every item's document fits
		n.MaxPages = max(n.PageLimit(), m.PageLimit())
	}
	for _, cr := range m.Criteria {
		dup := false
		for _, have := range n.Criteria {
			dup = dup || have.ID == cr.ID
		}
		if !dup {
			n.Criteria = append(n.Criteria, cr)
		}
	}
	return ns
}

func (t *Tree) question(id string) *Question {
	for i := range t.Questions {
		if t.Questions[i].ID == id {
			return &t.Questions[i]
		}
	}
	return nil
}

func (q *Question) choice(id string) *Choice {
	for i := range q.Choices {
		if q.Choices[i].ID == id {
			return &q.Choices[i]
		}
	}
	return nil
}

// MaterialsOf merges the materials of these items, each once, by the rules
// of Resolve (required if any item requires it, deferrable only if every
// item that requires it allows it, the union of the criteria), without any
// question answered. A window reviewing a case has its item codes, not the
// answers that led to them, and reviews by these rules, so it is the same
// list the applicant was given, less what answers added or removed.
func (c *Catalog) MaterialsOf(items []string) ([]Needed, error) {
	var ns []Needed
	at := map[string]int{}
	seen := map[string]bool{}
	for _, code := range items {
		it, ok := c.byCode[code]
		if !ok {
			return nil, fmt.Errorf("catalog: %q: no such item in revision %d", code, c.Revision)
		}
		if seen[code] {
			continue
		}
		seen[code] = true
		for _, m := range it.Materials {
			ns = mergeNeed(ns, at, m, code)
		}
	}
	return ns, nil
}

// AuthorisationCode is the material an agent applying on someone's behalf
// (帮办代办, S18) hands in: the applicant's letter of authorisation.
const AuthorisationCode = "M-AUTH"

// defaultAuthorisation is the letter of authorisation when the catalogue's
// materials library does not define one.
var defaultAuthorisation = Material{Code: AuthorisationCode, Name: "授权委托书", Source: "applicant", Form: "paper", Required: true,
	Criteria: []Criterion{
		{ID: AuthorisationCode + "-1", Text: "委托人本人签名或按手印"},
		{ID: AuthorisationCode + "-2", Text: "写明受托人、代办事项和委托期限"},
	}}

// WithAgent is needed, the material list of an application, when an agent
// applies on the applicant's behalf: the letter of authorisation joins it,
// required, as the library defines it (or a default), unless it is there
// already. Kiosk, desk and review all use it, so the list is the same.
func (c *Catalog) WithAgent(needed []Needed, items []string) []Needed {
	for _, n := range needed {
		if n.Code == AuthorisationCode {
			return needed
		}
	}
	m := defaultAuthorisation
	if lib, ok := c.library[AuthorisationCode]; ok {
		m = *lib
	}
	m.Required = true
	return append(append([]Needed(nil), needed...), Needed{Material: m, For: append([]string(nil), items...)})
}
