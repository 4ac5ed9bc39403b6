package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"yici/assets"
)

func sample(t testing.TB) *Catalog {
	t.Helper()
	c, err := Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSampleDecodes(t *testing.T) {
	c := sample(t)
	it, ok := c.Item("GA-0101")
	if !ok || it.Name != "居民身份证换领" {
		t.Fatalf("Item(GA-0101) = %v, %v", it, ok)
	}
	var codes []string
	for _, m := range it.Materials {
		codes = append(codes, m.Code)
		if m.Name == "" || len(m.Criteria) == 0 {
			t.Errorf("GA-0101 material %s not resolved from the library: %+v", m.Code, m)
		}
	}
	if want := []string{"M-ID-OLD", "M-PHOTO", "M-HUKOU"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("GA-0101 materials %v, want %v", codes, want)
	}
	if len(c.Items) < 60 || len(c.Bundles) < 10 {
		t.Errorf("sample has %d items and %d bundles, want at least 60 and 10", len(c.Items), len(c.Bundles))
	}
}

// The issue names these; the sample must keep them.
func TestSampleHasNamedItemsAndBundles(t *testing.T) {
	c := sample(t)
	names := map[string]bool{}
	for _, it := range c.Items {
		names[it.Name] = true
	}
	for _, b := range c.Bundles {
		names[b.Name] = true
	}
	for _, n := range []string{"居民身份证换领", "居民身份证补领", "新生儿出生登记（入户）", "户口迁移", "居住证办理",
		"结婚登记", "离婚登记", "生育登记", "社会保障卡申领", "社会保障卡补换", "城乡居民养老保险参保登记",
		"职工退休申请", "失业登记", "失业保险金申领", "异地就医备案", "住房公积金提取", "住房公积金贷款",
		"不动产转移登记", "机动车驾驶证换证", "义务教育入学登记", "残疾人证办理", "高龄津贴申领", "死亡户口注销",
		"丧葬补助金申领", "企业设立登记", "公章刻制备案", "发票申领", "企业变更登记", "企业注销登记", "食品经营许可",
		"公共场所卫生许可", "建设工程规划许可", "建筑工程施工许可",
		"出生一件事", "入学一件事", "结婚一件事", "退休一件事", "身后一件事", "企业开办一件事", "企业注销一件事",
		"开餐馆一件事", "二手房买卖一件事", "社会投资小型仓库厂房开工前一件事"} {
		if !names[n] {
			t.Errorf("sample lacks %s", n)
		}
	}
	for _, want := range []string{"出生", "入学", "就业", "婚育", "住房", "出行", "退休", "身后", "开办", "经营", "变更", "注销", "工程建设"} {
		found := false
		for _, th := range c.Themes {
			found = found || th.Name == want
		}
		if !found {
			t.Errorf("sample lacks theme %s", want)
		}
	}
	if got := c.ThemesOf("B-BIRTH"); !reflect.DeepEqual(got, []string{"T-BIRTH"}) {
		t.Errorf("ThemesOf(B-BIRTH) = %v", got)
	}
	if got := len(c.OnList("秒批秒办")); got == 0 {
		t.Error("no item on 秒批秒办")
	}
}

// base is a small valid catalogue that each rejection case breaks in one way.
func base() *Catalog {
	crit := func(code string) []Criterion { return []Criterion{{ID: code + "-1", Text: "清晰可辨"}} }
	return &Catalog{
		Revision:  3,
		Fields:    []Field{{Code: "F-NAME", Label: "姓名", Kind: "name"}, {Code: "F-SEX", Label: "性别", Kind: "choice", Options: []string{"男", "女"}}},
		Materials: []Material{{Code: "M-ID", Name: "身份证", Source: "licence:居民身份证", Form: "electronic", Criteria: crit("M-ID")}},
		Items: []Item{
			{Code: "A", Name: "甲事项", Type: "行政确认", Body: "某局", LegalDays: 5, PromisedDays: 1, Fields: []string{"F-NAME"},
				Materials: []Material{{Code: "M-ID", Required: true}, {Code: "M-X", Name: "乙材料", Source: "applicant", Form: "paper", Copies: 1, Criteria: crit("M-X")}},
				Questions: &Tree{Start: "Q1", Questions: []Question{
					{ID: "Q1", Text: "问一", Choices: []Choice{{ID: "a", Label: "甲", Next: "Q2"}, {ID: "b", Label: "乙", Switch: "B"}}},
					{ID: "Q2", Text: "问二", Choices: []Choice{{ID: "a", Label: "甲", RemoveMaterials: []string{"M-X"}}, {ID: "b", Label: "乙", AddFields: []string{"F-SEX"}}}},
				}}},
			{Code: "B", Name: "乙事项", Type: "公共服务", Body: "某局", Materials: []Material{{Code: "M-ID", Required: true}}},
		},
		Bundles: []Bundle{{Code: "BB", Name: "一件事", Items: []string{"A", "B"}}},
		Themes:  []Theme{{Code: "T", Name: "出生", Audience: "person", Members: []string{"BB", "A"}}},
	}
}

func parseCat(c *Catalog) error {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	_, err = Parse(b)
	return err
}

func TestBaseIsValid(t *testing.T) {
	if err := parseCat(base()); err != nil {
		t.Fatal(err)
	}
}

func TestWindowGroup(t *testing.T) {
	c := base()
	c.Items[1].Window = "C"
	if err := parseCat(c); err != nil {
		t.Fatal(err)
	}
	if g := c.Items[0].WindowGroup(); g != "A" {
		t.Errorf("no window: group %q, want A", g)
	}
	if g := c.Items[1].WindowGroup(); g != "C" {
		t.Errorf("window C: group %q, want C", g)
	}
}

func TestCheckRejects(t *testing.T) {
	q := func(c *Catalog) *Tree { return c.Items[0].Questions }
	for _, tc := range []struct {
		name   string
		break_ func(c *Catalog)
		want   string
	}{
		{"no revision", func(c *Catalog) { c.Revision = 0 }, "catalog: revision 0"},
		{"duplicate item", func(c *Catalog) { c.Items[1].Code = "A" }, "catalog: item A: duplicate code"},
		{"bundle code clashes with item", func(c *Catalog) { c.Bundles[0].Code = "B" }, "catalog: bundle B: duplicate code"},
		{"bad type", func(c *Catalog) { c.Items[0].Type = "许可" }, "item A: type \"许可\""},
		{"promise beyond law", func(c *Catalog) { c.Items[0].PromisedDays = 9 }, "item A: promised_days 9 exceeds legal_days 5"},
		{"window group of two letters", func(c *Catalog) { c.Items[0].Window = "AB" }, "item A: window \"AB\", want one upper-case letter"},
		{"window group lower-case", func(c *Catalog) { c.Items[0].Window = "b" }, "item A: window \"b\""},
		{"unknown list", func(c *Catalog) { c.Items[1].Lists = []string{"马上办"} }, "item B: special list \"马上办\""},
		{"material without criteria", func(c *Catalog) { c.Items[0].Materials[1].Criteria = nil }, "item A material M-X: no review criteria"},
		{"negative validity", func(c *Catalog) { c.Items[0].Materials[1].ValidDays = -1 }, "item A material M-X: valid_days -1"},
		{"negative deferral", func(c *Catalog) { c.Items[0].Materials[1].DeferDays = -3 }, "item A material M-X: defer_days -3"},
		{"negative page limit", func(c *Catalog) { c.Items[0].Materials[1].MaxPages = -2 }, "item A material M-X: max_pages -2"},
		{"duplicate material", func(c *Catalog) { c.Items[0].Materials[1].Code = "M-ID" }, "item A material M-ID: duplicate code"},
		{"unresolvable material", func(c *Catalog) { c.Items[1].Materials[0].Code = "M-NONE" }, "item B material M-NONE: name is required"},
		{"one code two names", func(c *Catalog) {
			c.Items[1].Materials = []Material{{Code: "M-X", Name: "别名", Source: "applicant", Form: "paper", Criteria: []Criterion{{ID: "M-X-1", Text: "清晰可辨"}}}}
		}, "item B material M-X: named \"别名\", but item A material M-X names"},
		{"criterion id prefix", func(c *Catalog) { c.Items[0].Materials[1].Criteria[0].ID = "X-1" }, "material M-X criterion X-1: id does not start with"},
		{"criterion text differs", func(c *Catalog) {
			c.Items[1].Materials = append(c.Items[1].Materials, Material{Code: "M-X", Name: "乙材料", Source: "applicant", Form: "paper", Criteria: []Criterion{{ID: "M-X-1", Text: "别的"}}})
		}, "item B material M-X criterion M-X-1: text \"别的\" differs"},
		{"bad source", func(c *Catalog) { c.Items[0].Materials[1].Source = "licence:" }, "material M-X: source \"licence:\""},
		{"bad form", func(c *Catalog) { c.Items[0].Materials[1].Form = "fax" }, "material M-X: form \"fax\""},
		{"dangling field", func(c *Catalog) { c.Items[1].Fields = []string{"F-NONE"} }, "item B field F-NONE: not in the field dictionary"},
		{"choice without options", func(c *Catalog) { c.Fields[1].Options = nil }, "field F-SEX: options are for"},
		{"bundle of one", func(c *Catalog) { c.Bundles[0].Items = []string{"A"} }, "bundle BB: a bundle combines at least two items"},
		{"dangling bundle item", func(c *Catalog) { c.Bundles[0].Items[1] = "Z" }, "bundle BB item Z: no such item"},
		{"dangling theme member", func(c *Catalog) { c.Themes[0].Members = append(c.Themes[0].Members, "Z") }, "theme T member Z: no such item or bundle"},
		{"bad audience", func(c *Catalog) { c.Themes[0].Audience = "dog" }, "theme T: audience \"dog\""},
		{"missing start", func(c *Catalog) { q(c).Start = "Q9" }, "item A questions: start \"Q9\""},
		{"dangling next", func(c *Catalog) { q(c).Questions[0].Choices[0].Next = "Q9" }, "item A question Q1 choice a: next \"Q9\""},
		{"unreachable", func(c *Catalog) { q(c).Questions[0].Choices[0].Next = "" }, "item A question Q2: unreachable from the start"},
		{"cycle", func(c *Catalog) { q(c).Questions[1].Choices[1].Next = "Q1" }, "item A question Q2 choice b: next \"Q1\" leads back"},
		{"one choice", func(c *Catalog) { q(c).Questions[1].Choices = q(c).Questions[1].Choices[:1] }, "item A question Q2: has 1 choices"},
		{"dangling switch", func(c *Catalog) { q(c).Questions[0].Choices[1].Switch = "Z" }, "choice b: switch to \"Z\": no such item or bundle"},
		{"switch to itself", func(c *Catalog) { q(c).Questions[0].Choices[1].Switch = "A" }, "choice b: switches to itself"},
		{"next and switch", func(c *Catalog) { q(c).Questions[0].Choices[1].Next = "Q2" }, "choice b: has both next and switch"},
		{"items in an item tree", func(c *Catalog) { q(c).Questions[1].Choices[0].AddItems = []string{"B"} }, "choice a: add_items and remove_items are for bundles"},
		{"removes what is not asked", func(c *Catalog) { q(c).Questions[1].Choices[0].RemoveMaterials = []string{"M-NONE"} }, "choice a material M-NONE: removes a material that is not asked for"},
		{"removes a field not asked", func(c *Catalog) { q(c).Questions[1].Choices[0].RemoveFields = []string{"F-SEX2"} }, "choice a field F-SEX2: removes a field"},
		{"duplicate choice", func(c *Catalog) { q(c).Questions[1].Choices[1].ID = "a" }, "question Q2 choice a: duplicate id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.break_(c)
			err := parseCat(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestProblemsAreAllReported(t *testing.T) {
	c := base()
	c.Revision = -1
	c.Items[1].Type = ""
	c.Themes[0].Members = []string{"Z"}
	var ps Problems
	if err := parseCat(c); !errors.As(err, &ps) || len(ps) != 3 {
		t.Fatalf("err = %v, want 3 problems", err)
	}
	if got := ps[2].Where(); got != "theme T member Z" {
		t.Errorf("Where = %q", got)
	}
	if !strings.Contains(ps.Error(), "(and 2 more problems)") {
		t.Errorf("Problems.Error() = %q", ps.Error())
	}
}

func TestDecodeErrorsAreLocated(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{"{\n  \"revision\": 1,\n  \"items\": [\n    {\"code\": \"X\",, }\n  ]\n}", "line 4 column 19"},
		{"{\"revision\": \"one\"}", "line 1 column"},
		{"{\"revision\": 1, \"itemz\": []}", "unknown field \"itemz\""},
		{"{\"revision\": 1, \"items\": []} {}", "more than one JSON value"},
	} {
		_, err := Parse([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.json, err, tc.want)
		}
	}
}
