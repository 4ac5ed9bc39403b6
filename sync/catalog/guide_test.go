package catalog

import (
	"reflect"
	"strings"
	"testing"
)

func codesOf(ns []Needed) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Code)
	}
	return out
}

func itemCodes(its []*Item) []string {
	var out []string
	for _, it := range its {
		out = append(out, it.Code)
	}
	return out
}

func fieldCodes(fs []Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestResolve(t *testing.T) {
	c := sample(t)
	for _, tc := range []struct {
		name     string
		code     string
		answers  []string
		next     string // pending question, or "" when complete
		final    string // code applied for in the end
		items    []string
		mats     []string
		fieldHas []string
	}{
		{name: "unanswered", code: "GA-0101", next: "Q-HAVE", final: "GA-0101", items: []string{"GA-0101"}, mats: []string{"M-ID-OLD", "M-PHOTO", "M-HUKOU"}},
		{name: "renewal of a minor", code: "GA-0101", answers: []string{"have", "minor"}, final: "GA-0101",
			items: []string{"GA-0101"}, mats: []string{"M-ID-OLD", "M-PHOTO", "M-HUKOU", "M-GUARDIAN-ID"}, fieldHas: []string{"F-GUARDIAN-NAME"}},
		{name: "lost card switches to 补领", code: "GA-0101", answers: []string{"lost"}, next: "Q-WHY", final: "GA-0102", items: []string{"GA-0102"}},
		{name: "补领 after a switch", code: "GA-0101", answers: []string{"lost", "lost"}, final: "GA-0102",
			items: []string{"GA-0102"}, mats: []string{"M-PHOTO", "M-HUKOU", "M-LOST-DECL"}},
		{name: "item without questions", code: "GA-0105", final: "GA-0105", items: []string{"GA-0105"}, mats: []string{"M-IDCARD", "M-PHOTO", "M-RES-PROOF", "M-EMPLOY-PROOF"}},
		{name: "birth bundle, all items", code: "B-BIRTH", answers: []string{"yes", "no"}, final: "B-BIRTH",
			items: []string{"GA-0103", "YB-0605", "RS-0201", "WJ-0803"},
			mats:  []string{"M-BIRTH-CERT", "M-HUKOU", "M-MARRIAGE-CERT", "M-IDCARD", "M-PHOTO"}, fieldHas: []string{"F-CHILD-NAME", "F-PHONE"}},
		{name: "birth bundle without card and vaccine book", code: "B-BIRTH", answers: []string{"no", "yes"}, final: "B-BIRTH",
			items: []string{"GA-0103", "YB-0605"}, mats: []string{"M-BIRTH-CERT", "M-HUKOU", "M-MARRIAGE-CERT", "M-IDCARD"}},
		{name: "restaurant as a small company without sign", code: "B-RESTAURANT", answers: []string{"company", "small", "no"}, final: "B-RESTAURANT",
			items: []string{"SC-1504", "PS-2001", "SC-1501"}},
		{name: "second-hand flat with provident-fund loan", code: "B-HOUSE", answers: []string{"gjj"}, final: "B-HOUSE",
			items: []string{"ZJ-1202", "SW-1604", "BDC-0901", "GJJ-0402", "BDC-0902"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := c.Resolve(tc.code, tc.answers)
			if err != nil {
				t.Fatal(err)
			}
			next := ""
			if g.Next != nil {
				next = g.Next.ID
			}
			if next != tc.next || g.Complete() != (tc.next == "") {
				t.Errorf("next %q, want %q", next, tc.next)
			}
			if g.Code != tc.final {
				t.Errorf("applied for %s, want %s (switched from %v)", g.Code, tc.final, g.Switched)
			}
			if got := itemCodes(g.Items); tc.items != nil && !reflect.DeepEqual(got, tc.items) {
				t.Errorf("items %v, want %v", got, tc.items)
			}
			if got := codesOf(g.Materials); tc.mats != nil && !reflect.DeepEqual(got, tc.mats) {
				t.Errorf("materials %v, want %v", got, tc.mats)
			}
			fs := strings.Join(fieldCodes(g.Fields), " ")
			for _, f := range tc.fieldHas {
				if !strings.Contains(fs, f) {
					t.Errorf("fields %s lack %s", fs, f)
				}
			}
			if g.Revision != c.Revision || len(g.Answers) != len(tc.answers) {
				t.Errorf("revision %d, %d answers recorded", g.Revision, len(g.Answers))
			}
		})
	}
}

// A material or field that several items of a bundle need is asked once (S5, S8).
func TestBundleAsksOnce(t *testing.T) {
	c := sample(t)
	for _, b := range c.Bundles {
		g, err := c.Resolve(b.Code, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range g.Materials {
			if seen[n.Code] {
				t.Errorf("%s: material %s listed twice", b.Code, n.Code)
			}
			seen[n.Code] = true
		}
		for _, f := range g.Fields {
			if seen[f.Code] {
				t.Errorf("%s: field %s asked twice", b.Code, f.Code)
			}
			seen[f.Code] = true
		}
	}
	g, _ := c.Resolve("B-BIRTH", []string{"yes", "no"})
	for _, n := range g.Materials {
		if n.Code == "M-BIRTH-CERT" && !reflect.DeepEqual(n.For, []string{"GA-0103", "YB-0605", "WJ-0803"}) {
			t.Errorf("M-BIRTH-CERT for %v", n.For)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	c := sample(t)
	for _, tc := range []struct {
		code    string
		answers []string
		want    string
	}{
		{"XX-0000", nil, `catalog: "XX-0000": no such item`},
		{"GA-0101", []string{"maybe"}, `catalog: GA-0101 question Q-HAVE: no choice "maybe"`},
		{"GA-0105", []string{"yes"}, "catalog: GA-0105: 1 answers given, the questions took 0"},
	} {
		if _, err := c.Resolve(tc.code, tc.answers); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%s, %v) = %v, want %q", tc.code, tc.answers, err, tc.want)
		}
	}
}

func TestMergeNeed(t *testing.T) {
	m := func(req, def bool, copies int, crits ...string) Material {
		var cs []Criterion
		for _, id := range crits {
			cs = append(cs, Criterion{ID: id, Text: id})
		}
		return Material{Code: "M", Name: "m", Required: req, Deferrable: def, Copies: copies, Criteria: cs}
	}
	for _, tc := range []struct {
		name     string
		a, b     Material
		req, def bool
		copies   int
		criteria int
	}{
		{"both defer", m(true, true, 1, "M-1"), m(true, true, 2, "M-1"), true, true, 2, 1},
		{"one refuses deferral", m(true, true, 1, "M-1"), m(true, false, 1, "M-2"), true, false, 1, 2},
		{"optional elsewhere keeps deferral", m(true, true, 0, "M-1"), m(false, false, 0, "M-1"), true, true, 0, 1},
		{"required later decides", m(false, false, 0), m(true, true, 3, "M-1"), true, true, 3, 1},
	} {
		at := map[string]int{}
		ns := mergeNeed(nil, at, tc.a, "A")
		ns = mergeNeed(ns, at, tc.b, "B")
		n := ns[0]
		if len(ns) != 1 || n.Required != tc.req || n.Deferrable != tc.def || n.Copies != tc.copies || len(n.Criteria) != tc.criteria || len(n.For) != 2 {
			t.Errorf("%s: got %+v", tc.name, n)
		}
	}
}
