package catalog

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a catalogue, located by the path of codes
// that leads to it: ["item", "GA-0101", "material", "M-PHOTO"].
type Problem struct {
	Path []string
	Msg  string
}

// Where is the location in words: "item GA-0101 material M-PHOTO".
func (p Problem) Where() string { return strings.Join(p.Path, " ") }

func (p Problem) Error() string {
	if len(p.Path) == 0 {
		return "catalog: " + p.Msg
	}
	return "catalog: " + p.Where() + ": " + p.Msg
}

// Problems is every problem found in a catalogue, in document order.
type Problems []Problem

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "catalog: no problems"
	case 1:
		return ps[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", ps[0].Error(), len(ps)-1)
}

// checker collects problems while it walks a catalogue, so an author sees
// all of them at once rather than one per run.
type checker struct {
	c     *Catalog
	ps    Problems
	names map[string]string // material code → name where first defined
	where map[string]string // material code → where first defined
	crits map[string]string // criterion id → text
}

func (k *checker) add(path []string, format string, args ...any) {
	k.ps = append(k.ps, Problem{Path: append([]string(nil), path...), Msg: fmt.Sprintf(format, args...)})
}

func at(path []string, more ...string) []string {
	return append(append(make([]string, 0, len(path)+len(more)), path...), more...)
}

// Check validates a catalogue built in code (a generator's, a platform's
// editor's) as Decode does one read from a file, and readies its lookups.
// It returns Problems, or nil.
func (c *Catalog) Check() error {
	if ps := c.check(); len(ps) > 0 {
		return ps
	}
	return nil
}

// check resolves library references, builds the lookup maps and returns
// every problem.
func (c *Catalog) check() Problems {
	k := &checker{c: c, names: map[string]string{}, where: map[string]string{}, crits: map[string]string{}}
	if c.Revision <= 0 {
		k.add(nil, "revision %d, want a positive number", c.Revision)
	}
	c.fields = map[string]*Field{}
	for i := range c.Fields {
		k.field(&c.Fields[i], i)
	}
	c.library = map[string]*Material{}
	for i := range c.Materials {
		m := &c.Materials[i]
		path := []string{"materials", m.Code}
		if m.Code == "" {
			path = []string{"materials", fmt.Sprintf("#%d", i+1)}
		} else if c.library[m.Code] != nil {
			k.add(path, "duplicate code in the materials library")
		} else {
			c.library[m.Code] = m
		}
		k.material(m, path)
	}
	c.byCode = map[string]*Item{}
	c.bundles = map[string]*Bundle{}
	for i := range c.Items {
		it := &c.Items[i]
		switch {
		case it.Code == "":
			k.add([]string{"item", fmt.Sprintf("#%d", i+1)}, "code is required")
		case c.byCode[it.Code] != nil:
			k.add([]string{"item", it.Code}, "duplicate code")
		default:
			c.byCode[it.Code] = it
		}
	}
	for i := range c.Bundles {
		b := &c.Bundles[i]
		switch {
		case b.Code == "":
			k.add([]string{"bundle", fmt.Sprintf("#%d", i+1)}, "code is required")
		case c.byCode[b.Code] != nil || c.bundles[b.Code] != nil:
			k.add([]string{"bundle", b.Code}, "duplicate code (item and bundle codes share one namespace)")
		default:
			c.bundles[b.Code] = b
		}
	}
	for i := range c.Items {
		k.item(&c.Items[i])
	}
	for i := range c.Bundles {
		k.bundle(&c.Bundles[i])
	}
	c.themes = map[string]*Theme{}
	c.inThemes = map[string][]string{}
	for i := range c.Themes {
		k.theme(&c.Themes[i], i)
	}
	return k.ps
}

func (k *checker) field(f *Field, i int) {
	path := []string{"field", f.Code}
	if f.Code == "" {
		k.add([]string{"field", fmt.Sprintf("#%d", i+1)}, "code is required")
		return
	}
	if k.c.fields[f.Code] != nil {
		k.add(path, "duplicate code")
		return
	}
	k.c.fields[f.Code] = f
	if f.Label == "" {
		k.add(path, "label is required")
	}
	if !contains(FieldKinds, f.Kind) {
		k.add(path, "kind %q, want one of %s", f.Kind, strings.Join(FieldKinds, ", "))
	}
	if (f.Kind == "choice") != (len(f.Options) > 0) {
		k.add(path, "options are for, and required by, kind choice")
	}
}

// material resolves a library reference and checks the material's own
// elements, and that one code means one material everywhere.
func (k *checker) material(m *Material, path []string) {
	if m.Code == "" {
		k.add(path, "code is required")
		return
	}
	lib := k.c.library[m.Code]
	if m.Name == "" && lib != nil && lib != m {
		m.Name, m.Source, m.Form, m.Copies, m.Original = lib.Name, lib.Source, lib.Form, lib.Copies, lib.Original
		m.Criteria = append([]Criterion(nil), lib.Criteria...)
		m.ValidDays, m.MaxPages = lib.ValidDays, lib.MaxPages
	}
	if m.DeferDays == 0 && lib != nil && lib != m {
		m.DeferDays = lib.DeferDays // the entry's own deadline, else the library's
	}
	if m.Name == "" {
		k.add(path, "name is required (or put %s in the materials library)", m.Code)
		return
	}
	if first, ok := k.names[m.Code]; !ok {
		k.names[m.Code], k.where[m.Code] = m.Name, strings.Join(path, " ")
	} else if first != m.Name {
		k.add(path, "named %q, but %s names the same code %q", m.Name, k.where[m.Code], first)
	}
	switch src := m.Source; {
	case src == "applicant":
	case strings.HasPrefix(src, "licence:") && len(src) > len("licence:"):
	case strings.HasPrefix(src, "body:") && len(src) > len("body:"):
	default:
		k.add(path, "source %q, want applicant, licence:<licence type> or body:<issuing body>", src)
	}
	if m.Form != "paper" && m.Form != "electronic" {
		k.add(path, "form %q, want paper or electronic", m.Form)
	}
	if m.Copies < 0 {
		k.add(path, "copies %d, want zero or more", m.Copies)
	}
	if m.ValidDays < 0 {
		k.add(path, "valid_days %d, want zero (the default, %d) or more", m.ValidDays, DefaultValidDays)
	}
	if m.DeferDays < 0 {
		k.add(path, "defer_days %d, want zero (the default, %d) or more", m.DeferDays, DefaultDeferDays)
	}
	if m.MaxPages < 0 {
		k.add(path, "max_pages %d, want zero (the default, %d) or more", m.MaxPages, DefaultMaxPages)
	}
	if len(m.Criteria) == 0 {
		k.add(path, "no review criteria (审核准则)")
	}
	seen := map[string]bool{}
	for j, cr := range m.Criteria {
		cp := at(path, "criterion", cr.ID)
		if cr.ID == "" {
			k.add(at(path, "criterion", fmt.Sprintf("#%d", j+1)), "id is required")
			continue
		}
		if seen[cr.ID] {
			k.add(cp, "duplicate id")
		}
		seen[cr.ID] = true
		if !strings.HasPrefix(cr.ID, m.Code+"-") {
			k.add(cp, "id does not start with the material code %q", m.Code+"-")
		}
		if cr.Text == "" {
			k.add(cp, "text is required")
		}
		if t, ok := k.crits[cr.ID]; ok && t != cr.Text {
			k.add(cp, "text %q differs from %q elsewhere; one id, one criterion", cr.Text, t)
		} else {
			k.crits[cr.ID] = cr.Text
		}
	}
}

func (k *checker) lists(path []string, lists []string) {
	for _, l := range lists {
		if !contains(SpecialLists, l) {
			k.add(path, "special list %q, want one of %s", l, strings.Join(SpecialLists, ", "))
		}
	}
}

func (k *checker) fieldRefs(path []string, codes []string) {
	seen := map[string]bool{}
	for _, f := range codes {
		if k.c.fields[f] == nil {
			k.add(at(path, "field", f), "not in the field dictionary")
		}
		if seen[f] {
			k.add(at(path, "field", f), "listed twice")
		}
		seen[f] = true
	}
}

func (k *checker) item(it *Item) {
	if it.Code == "" {
		return // reported when codes were registered
	}
	path := []string{"item", it.Code}
	if it.Name == "" {
		k.add(path, "name is required")
	}
	if !contains(ItemTypes, it.Type) {
		k.add(path, "type %q, want one of %s", it.Type, strings.Join(ItemTypes, ", "))
	}
	if it.Body == "" {
		k.add(path, "implementing body (body) is required")
	}
	if w := it.Window; w != "" && (len(w) != 1 || w[0] < 'A' || w[0] > 'Z') {
		k.add(path, "window %q, want one upper-case letter A–Z (a window group of the hall queue)", w)
	}
	if it.LegalDays < 0 || it.PromisedDays < 0 {
		k.add(path, "time limits must not be negative")
	}
	if it.LegalDays > 0 && it.PromisedDays > it.LegalDays {
		k.add(path, "promised_days %d exceeds legal_days %d", it.PromisedDays, it.LegalDays)
	}
	k.lists(path, it.Lists)
	k.fieldRefs(path, it.Fields)
	seen := map[string]bool{}
	for j := range it.Materials {
		m := &it.Materials[j]
		mp := at(path, "material", m.Code)
		if m.Code == "" {
			mp = at(path, "material", fmt.Sprintf("#%d", j+1))
		} else if seen[m.Code] {
			k.add(mp, "duplicate code")
		}
		seen[m.Code] = true
		k.material(m, mp)
	}
	if it.Questions != nil {
		k.tree(it.Questions, path, it.Code, false, seen, setOf(it.Fields))
	}
}

func (k *checker) bundle(b *Bundle) {
	if b.Code == "" {
		return
	}
	path := []string{"bundle", b.Code}
	if b.Name == "" {
		k.add(path, "name is required")
	}
	if len(b.Items) < 2 {
		k.add(path, "a bundle combines at least two items, has %d", len(b.Items))
	}
	k.lists(path, b.Lists)
	k.fieldRefs(path, b.Fields)
	mats, fields := map[string]bool{}, setOf(b.Fields)
	seen := map[string]bool{}
	for _, code := range b.Items {
		it, ok := k.c.byCode[code]
		switch {
		case !ok && k.c.bundles[code] != nil:
			k.add(at(path, "item", code), "is a bundle; bundles combine items")
		case !ok:
			k.add(at(path, "item", code), "no such item")
		case seen[code]:
			k.add(at(path, "item", code), "listed twice")
		default:
			for _, m := range it.Materials {
				mats[m.Code] = true
			}
			for _, f := range it.Fields {
				fields[f] = true
			}
		}
		seen[code] = true
	}
	if b.Questions != nil {
		k.tree(b.Questions, path, b.Code, true, mats, fields)
	}
}

func (k *checker) theme(t *Theme, i int) {
	path := []string{"theme", t.Code}
	if t.Code == "" {
		k.add([]string{"theme", fmt.Sprintf("#%d", i+1)}, "code is required")
		return
	}
	if k.c.themes[t.Code] != nil {
		k.add(path, "duplicate code")
		return
	}
	k.c.themes[t.Code] = t
	if t.Name == "" {
		k.add(path, "name is required")
	}
	if !contains(Audiences, t.Audience) {
		k.add(path, "audience %q, want person or company", t.Audience)
	}
	if len(t.Members) == 0 {
		k.add(path, "no members")
	}
	seen := map[string]bool{}
	for _, code := range t.Members {
		if k.c.byCode[code] == nil && k.c.bundles[code] == nil {
			k.add(at(path, "member", code), "no such item or bundle")
			continue
		}
		if seen[code] {
			k.add(at(path, "member", code), "listed twice")
			continue
		}
		seen[code] = true
		k.c.inThemes[code] = append(k.c.inThemes[code], t.Code)
	}
}

// tree checks a question tree: every reference resolves, every question is
// reachable from the start, and no answer leads back to an earlier question,
// so the wizard always ends. mats and fields are what the owner asks for
// before any answer; choices may remove those or what other choices add.
func (k *checker) tree(t *Tree, owner []string, code string, bundle bool, mats, fields map[string]bool) {
	path := at(owner, "questions")
	byID := map[string]*Question{}
	for i := range t.Questions {
		q := &t.Questions[i]
		switch {
		case q.ID == "":
			k.add(at(path, fmt.Sprintf("#%d", i+1)), "question id is required")
		case byID[q.ID] != nil:
			k.add(at(owner, "question", q.ID), "duplicate id")
		default:
			byID[q.ID] = q
		}
	}
	if byID[t.Start] == nil {
		k.add(path, "start %q is not a question of this tree", t.Start)
	}
	// What choices add is in scope for what other choices remove: a later
	// answer may undo an earlier one.
	for _, q := range t.Questions {
		for _, ch := range q.Choices {
			for _, m := range ch.AddMaterials {
				mats[m.Code] = true
			}
			for _, f := range ch.AddFields {
				fields[f] = true
			}
		}
	}
	for i := range t.Questions {
		q := &t.Questions[i]
		qp := at(owner, "question", q.ID)
		if q.Text == "" {
			k.add(qp, "text is required")
		}
		if len(q.Choices) < 2 {
			k.add(qp, "has %d choices, a question needs at least two", len(q.Choices))
		}
		seen := map[string]bool{}
		for j := range q.Choices {
			ch := &q.Choices[j]
			cp := at(qp, "choice", ch.ID)
			if ch.ID == "" {
				cp = at(qp, "choice", fmt.Sprintf("#%d", j+1))
				k.add(cp, "id is required")
			} else if seen[ch.ID] {
				k.add(cp, "duplicate id")
			}
			seen[ch.ID] = true
			k.choice(ch, cp, code, bundle, byID, mats, fields)
		}
	}
	k.walk(t, owner, byID)
}

func (k *checker) choice(ch *Choice, cp []string, code string, bundle bool, byID map[string]*Question, mats, fields map[string]bool) {
	if ch.Label == "" {
		k.add(cp, "label is required")
	}
	if ch.Next != "" && byID[ch.Next] == nil {
		k.add(cp, "next %q is not a question of this tree", ch.Next)
	}
	if ch.Switch != "" {
		switch {
		case ch.Next != "":
			k.add(cp, "has both next and switch; a switch ends this tree")
		case ch.Switch == code:
			k.add(cp, "switches to itself")
		case k.c.byCode[ch.Switch] == nil && k.c.bundles[ch.Switch] == nil:
			k.add(cp, "switch to %q: no such item or bundle", ch.Switch)
		}
	}
	if !bundle && len(ch.AddItems)+len(ch.RemoveItems) > 0 {
		k.add(cp, "add_items and remove_items are for bundles; an item's choice can switch instead")
	}
	for _, c := range append(append([]string(nil), ch.AddItems...), ch.RemoveItems...) {
		if k.c.byCode[c] == nil {
			k.add(at(cp, "item", c), "no such item")
		}
	}
	for j := range ch.AddMaterials {
		m := &ch.AddMaterials[j]
		k.material(m, at(cp, "material", m.Code))
	}
	for _, m := range ch.RemoveMaterials {
		if !mats[m] {
			k.add(at(cp, "material", m), "removes a material that is not asked for")
		}
	}
	k.fieldRefs(cp, ch.AddFields)
	for _, f := range ch.RemoveFields {
		if !fields[f] {
			k.add(at(cp, "field", f), "removes a field that is not asked for")
		}
	}
}

// walk reports questions the start cannot reach and answers that lead back
// to a question already on the way (a cycle would keep the wizard asking).
func (k *checker) walk(t *Tree, owner []string, byID map[string]*Question) {
	const (
		fresh = iota
		onPath
		done
	)
	state := map[string]int{}
	var visit func(id string)
	visit = func(id string) {
		state[id] = onPath
		for _, ch := range byID[id].Choices {
			n := ch.Next
			if byID[n] == nil {
				continue
			}
			switch state[n] {
			case onPath:
				k.add(at(owner, "question", id, "choice", ch.ID), "next %q leads back to an earlier question (cycle)", n)
			case fresh:
				visit(n)
			}
		}
		state[id] = done
	}
	if byID[t.Start] != nil {
		visit(t.Start)
	}
	for i := range t.Questions {
		q := &t.Questions[i]
		if q.ID != "" && byID[q.ID] == q && state[q.ID] == fresh {
			k.add(at(owner, "question", q.ID), "unreachable from the start %q", t.Start)
		}
	}
}

func setOf(xs []string) map[string]bool {
	s := make(map[string]bool, len(xs))
	for _, x := range xs {
		s[x] = true
	}
	return s
}
