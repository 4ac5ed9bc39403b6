package search

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"yici/assets"
	"yici/sync/catalog"
)

func sampleIndex(t testing.TB) (*catalog.Catalog, *Index) {
	t.Helper()
	c, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c, New(c)
}

// labelled is one line of testdata/queries.tsv.
type labelled struct {
	query, kind string
	want        []string
}

func loadQueries(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open("testdata/queries.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 3 {
			t.Fatalf("testdata/queries.tsv:%d: want 3 tab-separated fields, have %d", n, len(fs))
		}
		qs = append(qs, labelled{query: fs[0], want: strings.Split(fs[1], ","), kind: fs[2]})
	}
	return qs
}

// recallAt5 is the share of labelled queries with an expected code in the
// first five answers of search; misses lists the others.
func recallAt5(qs []labelled, search func(q string) []string) (recall float64, misses []string) {
	hit := 0
	for _, q := range qs {
		got := search(q.query)
		found := false
		for _, g := range got {
			for _, w := range q.want {
				found = found || g == w
			}
		}
		if found {
			hit++
		} else {
			misses = append(misses, q.kind+" "+q.query+" → "+strings.Join(got, ","))
		}
	}
	return float64(hit) / float64(len(qs)), misses
}

func codes(hs []Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Code)
	}
	return out
}

func TestRecall(t *testing.T) {
	_, ix := sampleIndex(t)
	qs := loadQueries(t)
	if len(qs) < 100 {
		t.Fatalf("%d labelled queries, want at least 100", len(qs))
	}
	r, misses := recallAt5(qs, func(q string) []string { return codes(ix.Search(q, 5)) })
	t.Logf("recall@5 = %.3f over %d queries", r, len(qs))
	for _, m := range misses {
		t.Logf("miss: %s", m)
	}
	if r < 0.95 {
		t.Errorf("recall@5 = %.3f, want at least 0.95", r)
	}
}

func TestSearchRanks(t *testing.T) {
	_, ix := sampleIndex(t)
	for _, tc := range []struct {
		query string
		first string // the code that must come first
		via   string // and the synonym it matched by, if any
	}{
		{"jhdj", "MZ-0301", ""},
		{"结婚", "B-MARRY", ""},            // the bundle before its items
		{"JieHun DengJi", "MZ-0301", ""}, // capitals and spaces
		{"ｓｆｚ", "GA-0101", "身份证到期"},      // full-width letters from a Chinese keyboard
		{"换身份证", "GA-0101", "换身份证"},
		{"补身份证", "GA-0102", "补办身份证"},
		{"kaicanguan", "B-RESTAURANT", ""},
		{"xi'an", "", ""}, // nothing called 西安: no panic, no hit needed
		{"我要办理退休", "B-RETIRE", ""},
		{"残疾", "CL-1401", "残疾证"},
		{"80岁", "YL-0501", "80岁补贴"},
		{"chang", "", ""}, // 长 reads chang as well as zhang: must not panic
	} {
		hs := ix.Search(tc.query, 5)
		if tc.first == "" {
			continue
		}
		if len(hs) == 0 || hs[0].Code != tc.first || hs[0].Via != tc.via {
			t.Errorf("Search(%q) = %+v, want %s first (via %q)", tc.query, hs, tc.first, tc.via)
		}
	}
}

func TestSearchEdges(t *testing.T) {
	_, ix := sampleIndex(t)
	for _, q := range []string{"", " ", "，。", "!!!", "123456789", strings.Repeat("a", 200), strings.Repeat("身", 100), "\x00\xff"} {
		if hs := ix.Search(q, 5); len(hs) > 5 {
			t.Errorf("Search(%q) gave %d hits", q, len(hs))
		}
	}
	if hs := ix.Search("身份证", 0); hs != nil {
		t.Errorf("k=0 gave %v", hs)
	}
	if hs := ix.Search("身份证", 2); len(hs) != 2 {
		t.Errorf("k=2 gave %d hits", len(hs))
	}
	if ix.Len() != 86 {
		t.Errorf("Len = %d", ix.Len())
	}
}

// The kiosk searches on every key press: each prefix of a query typed
// letter by letter must answer, and once the word is complete the target is on top.
func TestAsYouType(t *testing.T) {
	_, ix := sampleIndex(t)
	for _, tc := range []struct{ typed, want string }{
		{"jiehundengji", "MZ-0301"},
		{"gongjijintiqu", "GJJ-0401"},
		{"shebaokadiule", "RS-0202"},
	} {
		for i := 1; i <= len(tc.typed); i++ {
			if hs := ix.Search(tc.typed[:i], 5); len(hs) == 0 {
				t.Errorf("%q: no hits", tc.typed[:i])
			}
		}
		if hs := ix.Search(tc.typed, 1); len(hs) != 1 || hs[0].Code != tc.want {
			t.Errorf("%q: %v", tc.typed, hs)
		}
	}
}

func TestMinSegment(t *testing.T) {
	for in, want := range map[string]string{
		"jiehundengji": "jie hun deng ji",
		"jhdj":         "j h d j",
		"xian":         "xian",
		"shenfz":       "shen f z",
		"iu":           "i u",
	} {
		if got := strings.Join(minSegment(in), " "); got != want {
			t.Errorf("minSegment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadings(t *testing.T) {
	for r, want := range map[rune]string{'长': "zhang chang", '行': "xing hang", '绿': "lv", 'A': "a", '7': "7", '，': ""} {
		if got := strings.Join(Readings(r), " "); got != want {
			t.Errorf("Readings(%c) = %q, want %q", r, got, want)
		}
	}
	for in, want := range map[string]string{"zheng": "zen", "lv": "nu", "shi": "si", "an": "an"} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}
