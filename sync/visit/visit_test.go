package visit

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"yici/assets"
	"yici/drivers/printer/a4"
	"yici/sync/catalog"
	"yici/sync/wire"
)

// A small catalogue: items A and B share M-ID and M-CERT (S5); M-RENT is
// deferrable with its own deadline, M-CERT deferrable by the default one,
// M-PHOTO is required and not deferrable, M-OPT is optional; A's question
// may add M-GUARD.
const testCatalog = `{
  "revision": 7, "issuer": "测试中心",
  "materials": [
    {"code": "M-ID", "name": "居民身份证", "source": "licence:居民身份证", "form": "paper",
     "criteria": [{"id": "M-ID-1", "text": "在有效期内"}, {"id": "M-ID-2", "text": "字迹清晰"}]},
    {"code": "M-CERT", "name": "证明材料", "source": "applicant", "form": "paper",
     "criteria": [{"id": "M-CERT-1", "text": "加盖出具单位公章"}]},
    {"code": "M-RENT", "name": "租赁合同", "source": "applicant", "form": "paper", "defer_days": 15,
     "criteria": [{"id": "M-RENT-1", "text": "双方签字"}]},
    {"code": "M-GUARD", "name": "监护人身份证", "source": "applicant", "form": "paper",
     "criteria": [{"id": "M-GUARD-1", "text": "与监护关系一致"}]}
  ],
  "items": [
    {"code": "A", "name": "甲事项", "type": "公共服务", "body": "甲局", "legal_days": 5, "promised_days": 3,
     "conditions": [], "fees": "不收费", "place": "一楼", "contact": "0411-1",
     "materials": [
       {"code": "M-ID", "required": true},
       {"code": "M-PHOTO", "name": "相片", "source": "applicant", "form": "paper", "required": true,
        "criteria": [{"id": "M-PHOTO-1", "text": "六个月内正面免冠"}]},
       {"code": "M-CERT", "required": true, "deferrable": true}
     ],
     "questions": {"start": "Q1", "questions": [{"id": "Q1", "text": "是否未成年？", "choices": [
       {"id": "minor", "label": "是", "add_materials": [{"code": "M-GUARD", "required": true}]},
       {"id": "adult", "label": "否"}]}]}},
    {"code": "B", "name": "乙事项", "type": "公共服务", "body": "乙局", "legal_days": 5, "promised_days": 5,
     "conditions": [], "fees": "不收费", "place": "一楼", "contact": "0411-2",
     "materials": [
       {"code": "M-ID", "required": true},
       {"code": "M-RENT", "required": true, "deferrable": true},
       {"code": "M-CERT", "required": true, "deferrable": true},
       {"code": "M-OPT", "name": "其他材料", "source": "applicant", "form": "paper",
        "criteria": [{"id": "M-OPT-1", "text": "与申请事项相关"}]}
     ]}
  ],
  "bundles": [{"code": "AB", "name": "甲乙一件事", "items": ["A", "B"]}]
}`

func testCat(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idNumber is an invented resident ID number with a valid check character.
func idNumber(t *testing.T, first17 string) string {
	t.Helper()
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	id := first17 + string("10X98765432"[sum%11])
	if !wire.ValidIDNumber(id) {
		t.Fatalf("made an invalid ID number %s", id)
	}
	return id
}

var (
	t0   = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	sha1 = strings.Repeat("a1", 32)
	sha2 = strings.Repeat("b2", 32)
	sha3 = strings.Repeat("c3", 32)
	sha4 = strings.Repeat("d4", 32)
)

func blob(code, sha string) wire.MaterialRef {
	return wire.MaterialRef{Code: code, Name: code, SHA256: sha, Size: 2048, ContentType: "image/png"}
}

func manifest(t *testing.T, refs ...wire.MaterialRef) wire.Manifest {
	return wire.Manifest{ID: "kiosk-01-20250303-090000-0a1b2c3d", CatalogRevision: 7, Items: []string{"A", "B"},
		Applicant: wire.Applicant{Name: "张三", IDNumber: idNumber(t, "11010519491231002")},
		Materials: refs, CreatedAt: t0.Add(-time.Hour)}
}

// everything is a case with every required material handed in.
func everything(t *testing.T) wire.Manifest {
	return manifest(t, blob("M-ID", sha1), blob("M-PHOTO", sha2), blob("M-CERT", sha3), blob("M-RENT", sha4))
}

func newVisit(t *testing.T, m wire.Manifest, vault wire.VaultAnswer) *Visit {
	t.Helper()
	v, err := New(testCat(t), m, vault, t0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func codes(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Code)
	}
	return out
}

func row(t *testing.T, v *Visit, code string) Row {
	t.Helper()
	for _, r := range v.Checklist() {
		if r.Code == code {
			return r
		}
	}
	t.Fatalf("%s not on the checklist %v", code, codes(v.Checklist()))
	return Row{}
}

func TestChecklistOncePerMaterial(t *testing.T) {
	m := manifest(t, blob("M-ID", sha1), blob("M-GUARD", sha2), blob("M-STRAY", sha3))
	v := newVisit(t, m, wire.VaultAnswer{})
	if got, want := codes(v.Checklist()), []string{"M-ID", "M-PHOTO", "M-CERT", "M-RENT", "M-OPT", "M-GUARD"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("checklist %v, want %v", got, want)
	}
	id := row(t, v, "M-ID")
	if !reflect.DeepEqual(id.For, []string{"A", "B"}) || !id.Required || len(id.Criteria) != 2 {
		t.Errorf("M-ID = %+v, want it once, for A and B, required, with its 2 criteria", id)
	}
	if r := row(t, v, "M-RENT"); !r.Deferrable || r.Deferral() != 15 {
		t.Errorf("M-RENT deferrable %v in %d days, want true, 15", r.Deferrable, r.Deferral())
	}
	if r := row(t, v, "M-CERT"); !r.Deferrable || r.Deferral() != catalog.DefaultDeferDays {
		t.Errorf("M-CERT deferrable %v in %d days, want true, %d", r.Deferrable, r.Deferral(), catalog.DefaultDeferDays)
	}
	if r := row(t, v, "M-GUARD"); !r.Situational || r.Status != Received || !r.Required {
		t.Errorf("M-GUARD = %+v, want a situational, required, received material", r)
	}
	if r := row(t, v, "M-OPT"); r.Required || r.Status != Missing {
		t.Errorf("M-OPT = %+v, want optional and missing", r)
	}
	if ex := v.Extra(); len(ex) != 1 || ex[0].Code != "M-STRAY" {
		t.Errorf("Extra() = %+v, want M-STRAY reported", ex)
	}
}

// A bundle of the sample whose items share materials: 结婚一件事 asks for the
// ID card of three items once.
func TestSampleBundleOnce(t *testing.T) {
	cat, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := cat.Bundle("B-MARRY")
	if !ok {
		t.Fatal("sample has no B-MARRY")
	}
	m := wire.Manifest{ID: "kiosk-02-x", CatalogRevision: cat.Revision, Items: b.Items, CreatedAt: t0}
	v, err := New(cat, m, wire.VaultAnswer{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range v.Checklist() {
		seen[r.Code]++
	}
	for code, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", code, n)
		}
	}
	for _, r := range v.Checklist() {
		if r.Code == "M-IDCARD" && len(r.For) != 3 {
			t.Errorf("M-IDCARD is for %v, want the 3 items of the bundle", r.For)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(m *wire.Manifest)
		want   string
	}{
		{"other revision", func(m *wire.Manifest) { m.CatalogRevision = 6 }, "made under catalogue revision 6, the catalogue given is revision 7"},
		{"unknown item", func(m *wire.Manifest) { m.Items = []string{"A", "Z"} }, `"Z": no such item in revision 7`},
		{"no item", func(m *wire.Manifest) { m.Items = nil }, "names no item"},
		{"material twice", func(m *wire.Manifest) { m.Materials = append(m.Materials, blob("M-ID", sha2)) }, "lists material M-ID twice"},
		{"no blob", func(m *wire.Manifest) { m.Materials[0].SHA256 = "" }, "M-ID is neither exempt nor a blob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := everything(t)
			tc.break_(&m)
			_, err := New(testCat(t), m, wire.VaultAnswer{}, t0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	licence := wire.VaultEntry{Ref: "L-1", Code: "M-ID", Name: "居民身份证", Source: wire.SourceLicence, Issuer: "大连市公安局",
		ValidFrom: t0.AddDate(-1, 0, 0), ValidUntil: t0.AddDate(9, 0, 0)}
	expired := licence
	expired.ValidUntil = t0.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		ref    *wire.MaterialRef
		vault  []wire.VaultEntry
		status Status
		entry  bool
	}{
		{"exempt in the manifest only", &wire.MaterialRef{Code: "M-ID", Exempt: true}, nil, OnFile, false},
		{"in force in the vault", nil, []wire.VaultEntry{licence}, OnFile, true},
		{"exempt and in the vault", &wire.MaterialRef{Code: "M-ID", Exempt: true}, []wire.VaultEntry{licence}, OnFile, true},
		{"expired in the vault", nil, []wire.VaultEntry{expired}, Missing, false},
		{"handed in", &wire.MaterialRef{Code: "M-ID", SHA256: sha1, Size: 9, ContentType: "image/png"}, nil, Received, false},
		{"nothing", nil, nil, Missing, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := manifest(t)
			if tc.ref != nil {
				m.Materials = []wire.MaterialRef{*tc.ref}
			}
			v := newVisit(t, m, wire.VaultAnswer{Entries: tc.vault})
			r := row(t, v, "M-ID")
			if r.Status != tc.status || (r.Entry != nil) != tc.entry {
				t.Fatalf("status %v entry %+v, want %v with entry %v", r.Status, r.Entry, tc.status, tc.entry)
			}
			if tc.entry && (r.Entry.Issuer != "大连市公安局" || r.Entry.Source != wire.SourceLicence || !r.Entry.ValidUntil.Equal(licence.ValidUntil)) {
				t.Errorf("entry %+v lost its source, issuer or dates", r.Entry)
			}
			if tc.status == Received && (r.Blob.SHA256 != sha1 || r.Blob.Size != 9 || r.Blob.ContentType != "image/png") {
				t.Errorf("blob %+v", r.Blob)
			}
		})
	}
}

func TestSetVerdict(t *testing.T) {
	m := manifest(t, blob("M-ID", sha1), wire.MaterialRef{Code: "M-CERT", Exempt: true})
	for _, tc := range []struct {
		name string
		code string
		v    Verdict
		want string // "" for accepted
	}{
		{"pass", "M-ID", Verdict{Pass: true}, ""},
		{"fail citing its criterion", "M-ID", Verdict{Criterion: "M-ID-2", Note: "复印件模糊"}, ""},
		{"fail citing another material's", "M-ID", Verdict{Criterion: "M-PHOTO-1"}, "must cite one of its criteria (M-ID-1, M-ID-2), not \"M-PHOTO-1\""},
		{"fail citing nothing", "M-ID", Verdict{}, "must cite one of its criteria"},
		{"pass citing a criterion", "M-ID", Verdict{Pass: true, Criterion: "M-ID-1"}, "a passing verdict cites no criterion"},
		{"missing material", "M-PHOTO", Verdict{Pass: true}, "M-PHOTO is missing; only a received material gets a verdict"},
		{"on-file material", "M-CERT", Verdict{Criterion: "M-CERT-1"}, "M-CERT is on file; only a received"},
		{"not on the checklist", "M-NONE", Verdict{Pass: true}, "M-NONE is not on its checklist"},
		{"note with a control character", "M-ID", Verdict{Criterion: "M-ID-1", Note: "坏\x07"}, "note has the control character"},
		{"note too long for the reason", "M-ID", Verdict{Criterion: "M-ID-1", Note: strings.Repeat("长", 252)}, "shorten the note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisit(t, m, wire.VaultAnswer{})
			err := v.SetVerdict(tc.code, tc.v)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := row(t, v, tc.code).Verdict; got == nil || *got != tc.v {
					t.Fatalf("verdict %+v, want %+v", got, tc.v)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

var pass = Verdict{Pass: true}

func TestDecisions(t *testing.T) {
	all := func(t *testing.T) wire.Manifest { return everything(t) }
	without := func(code string) func(t *testing.T) wire.Manifest {
		return func(t *testing.T) wire.Manifest {
			m := everything(t)
			var keep []wire.MaterialRef
			for _, r := range m.Materials {
				if r.Code != code {
					keep = append(keep, r)
				}
			}
			m.Materials = keep
			return m
		}
	}
	at := t0.Add(30 * time.Minute)
	for _, tc := range []struct {
		name           string
		manifest       func(t *testing.T) wire.Manifest
		verdicts       map[string]Verdict
		accept, gaps   bool
		ret            bool
		decide         Kind
		wantGaps       map[string]time.Time
		wantRejections []string // material:criterion
		outcome        string
	}{
		{name: "all passing", manifest: all,
			verdicts: map[string]Verdict{"M-ID": pass, "M-PHOTO": pass, "M-CERT": pass, "M-RENT": pass},
			accept:   true, decide: Accept, outcome: "approved"},
		{name: "an optional one failing still accepts", manifest: func(t *testing.T) wire.Manifest {
			m := everything(t)
			m.Materials = append(m.Materials, blob("M-OPT", sha1))
			return m
		},
			verdicts: map[string]Verdict{"M-ID": pass, "M-PHOTO": pass, "M-CERT": pass, "M-RENT": pass, "M-OPT": {Criterion: "M-OPT-1"}},
			accept:   true, ret: true, decide: Accept, wantRejections: []string{"M-OPT:M-OPT-1"}, outcome: "approved"},
		{name: "a deferrable one missing", manifest: without("M-RENT"),
			verdicts: map[string]Verdict{"M-ID": pass, "M-PHOTO": pass, "M-CERT": pass},
			gaps:     true, ret: true, decide: AcceptWithGaps,
			wantGaps: map[string]time.Time{"M-RENT": at.AddDate(0, 0, 15)}, outcome: "approved"},
		{name: "a deferrable one failing", manifest: all,
			verdicts: map[string]Verdict{"M-ID": pass, "M-PHOTO": pass, "M-CERT": {Criterion: "M-CERT-1", Note: "无公章"}, "M-RENT": pass},
			gaps:     true, ret: true, decide: AcceptWithGaps,
			wantGaps: map[string]time.Time{"M-CERT": at.AddDate(0, 0, 30)}, wantRejections: []string{"M-CERT:M-CERT-1"}, outcome: "approved"},
		{name: "a non-deferrable one failing", manifest: all,
			verdicts: map[string]Verdict{"M-ID": pass, "M-PHOTO": {Criterion: "M-PHOTO-1"}, "M-CERT": pass, "M-RENT": pass},
			ret:      true, decide: Return, wantRejections: []string{"M-PHOTO:M-PHOTO-1"}, outcome: "refused"},
		{name: "a non-deferrable one missing", manifest: without("M-PHOTO"),
			verdicts: map[string]Verdict{"M-ID": pass, "M-CERT": pass, "M-RENT": pass},
			ret:      true, decide: Return, outcome: "refused"},
		{name: "one not reviewed", manifest: without("M-PHOTO"),
			verdicts: map[string]Verdict{"M-ID": pass, "M-CERT": pass}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisit(t, tc.manifest(t), wire.VaultAnswer{})
			for code, vd := range tc.verdicts {
				if err := v.SetVerdict(code, vd); err != nil {
					t.Fatal(err)
				}
			}
			a := v.Options()
			if a.Accept.Open != tc.accept || a.AcceptWithGaps.Open != tc.gaps || a.Return.Open != tc.ret {
				t.Fatalf("open: accept %v, with gaps %v, return %v; want %v, %v, %v\n%+v", a.Accept.Open, a.AcceptWithGaps.Open, a.Return.Open,
					tc.accept, tc.gaps, tc.ret, a)
			}
			for _, k := range []Kind{Accept, AcceptWithGaps, Return} {
				open := map[Kind]bool{Accept: tc.accept, AcceptWithGaps: tc.gaps, Return: tc.ret}[k]
				if open || k == tc.decide {
					continue
				}
				if _, err := v.Decide(k, at); err == nil || !strings.Contains(err.Error(), "is not open") {
					t.Errorf("Decide(%s) = %v, want it refused as not open", k, err)
				}
			}
			if tc.decide == "" {
				return
			}
			d, err := v.Decide(tc.decide, at)
			if err != nil {
				t.Fatal(err)
			}
			gaps := map[string]time.Time{}
			for _, g := range d.Gaps {
				gaps[g.Code] = g.Due
			}
			if len(gaps) != len(tc.wantGaps) {
				t.Errorf("gaps %v, want %v", gaps, tc.wantGaps)
			}
			for code, due := range tc.wantGaps {
				if !gaps[code].Equal(due) {
					t.Errorf("gap %s due %v, want %v", code, gaps[code], due)
				}
			}
			var rej []string
			var outcome string
			for _, e := range d.Events("desk-03") {
				if err := e.Check(); err != nil {
					t.Errorf("event fails Check: %v", err)
				}
				switch e.Kind {
				case wire.EventRejection:
					rej = append(rej, e.Material+":"+e.Criterion)
				case wire.EventHandlingFinished:
					outcome = e.Outcome
				}
			}
			if !reflect.DeepEqual(rej, tc.wantRejections) || outcome != tc.outcome {
				t.Errorf("rejections %v outcome %q, want %v %q", rej, outcome, tc.wantRejections, tc.outcome)
			}
		})
	}
}

func TestChangeFreezeAndCorrect(t *testing.T) {
	v := newVisit(t, everything(t), wire.VaultAnswer{})
	for _, code := range []string{"M-ID", "M-CERT", "M-RENT"} {
		if err := v.SetVerdict(code, pass); err != nil {
			t.Fatal(err)
		}
	}
	// The clerk first fails the photo, then looks again.
	if err := v.SetVerdict("M-PHOTO", Verdict{Criterion: "M-PHOTO-1"}); err != nil {
		t.Fatal(err)
	}
	if v.Options().Accept.Open {
		t.Fatal("accept open with the photo failing")
	}
	if err := v.SetVerdict("M-PHOTO", pass); err != nil {
		t.Fatal(err)
	}
	first, err := v.Decide(Accept, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 {
		t.Errorf("first decision seq %d", first.Seq)
	}
	if err := v.SetVerdict("M-PHOTO", Verdict{Criterion: "M-PHOTO-1"}); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("SetVerdict after the decision = %v, want frozen", err)
	}
	if _, err := v.Decide(Return, t0.Add(2*time.Minute)); err == nil {
		t.Error("a second Decide without Reopen succeeded")
	}
	// The correction: the photo was not right after all.
	if err := v.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := v.SetVerdict("M-PHOTO", Verdict{Criterion: "M-PHOTO-1", Note: "背景非白色"}); err != nil {
		t.Fatal(err)
	}
	second, err := v.Decide(Return, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if second.Seq != 2 {
		t.Errorf("correction seq %d, want 2", second.Seq)
	}
	if first.Rows[1].Verdict.Pass != true {
		t.Error("the correction changed the first decision's record")
	}
	ids := func(d Decision) map[string]wire.Event {
		out := map[string]wire.Event{}
		for _, e := range d.Events("desk-03") {
			out[e.ID] = e
		}
		return out
	}
	a, b := ids(first), ids(second)
	started := "desk-03-" + first.Case + "-started"
	if !reflect.DeepEqual(a[started], b[started]) || a[started].ID == "" {
		t.Errorf("handling_started differs between decisions: %+v vs %+v", a[started], b[started])
	}
	for id := range b {
		if _, again := a[id]; again && id != started {
			t.Errorf("the correction reuses id %s", id)
		}
	}
	if e := b["desk-03-"+first.Case+"-2-finished"]; e.Outcome != "refused" {
		t.Errorf("correction's finished event %+v", e)
	}
	if e := b["desk-03-"+first.Case+"-2-rejection-M-PHOTO"]; e.Reason != "六个月内正面免冠；背景非白色" {
		t.Errorf("rejection reason %q", e.Reason)
	}

	// A desk that restarted resumes from the correction; the next one is 3.
	w := newVisit(t, everything(t), wire.VaultAnswer{})
	if err := w.Resume(second); err != nil {
		t.Fatal(err)
	}
	if err := w.SetVerdict("M-PHOTO", pass); err == nil {
		t.Error("verdicts not frozen after Resume")
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := w.SetVerdict("M-PHOTO", pass); err != nil {
		t.Fatal(err)
	}
	third, err := w.Decide(Accept, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if third.Seq != 3 || !third.Began.Equal(first.Began) {
		t.Errorf("after Resume: seq %d began %v, want 3 and %v", third.Seq, third.Began, first.Began)
	}
}

func TestEventIDs(t *testing.T) {
	long := everything(t)
	long.ID = "kiosk-01-" + strings.Repeat("x", 110)
	for _, tc := range []struct {
		name string
		m    wire.Manifest
	}{{"usual case id", everything(t)}, {"long case id", long}} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisit(t, tc.m, wire.VaultAnswer{})
			v.SetVerdict("M-ID", Verdict{Criterion: "M-ID-1"})
			v.SetVerdict("M-PHOTO", Verdict{Criterion: "M-PHOTO-1"})
			v.SetVerdict("M-CERT", pass)
			v.SetVerdict("M-RENT", pass)
			d, err := v.Decide(Return, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			evs := d.Events("desk-03")
			if !reflect.DeepEqual(evs, d.Events("desk-03")) {
				t.Error("two calls give different events")
			}
			if len(evs) != 4 {
				t.Errorf("%d events, want started, 2 rejections, finished", len(evs))
			}
			seen := map[string]bool{}
			for _, e := range evs {
				if err := e.Check(); err != nil {
					t.Error(err)
				}
				if !strings.HasPrefix(e.ID, "desk-03-") || seen[e.ID] {
					t.Errorf("id %s: not the terminal's or repeated", e.ID)
				}
				seen[e.ID] = true
				if e.Case != tc.m.ID || e.Clerk != "" {
					t.Errorf("event %s: case %q clerk %q", e.ID, e.Case, e.Clerk)
				}
			}
		})
	}
	if a, b := eventID("d", "c", "1", "rejection", "材料甲"), eventID("d", "c", "1", "rejection", "材料乙"); a == b || !wire.ValidCaseID(a) {
		t.Errorf("ids for codes an id cannot hold: %s, %s", a, b)
	}
}

func TestDocuments(t *testing.T) {
	vault := wire.VaultAnswer{Entries: []wire.VaultEntry{{Ref: "L-1", Code: "M-ID", Name: "居民身份证", Source: wire.SourceLicence,
		ValidFrom: t0.AddDate(-1, 0, 0)}}}
	m := manifest(t, blob("M-PHOTO", sha2), blob("M-CERT", sha3), blob("M-OPT", sha4))
	at := t0.Add(10 * time.Minute)
	h := a4.Header{Hall: "测试区政务服务中心", Applicant: "张*", IDNumber: "1101**********002X"}

	v := newVisit(t, m, vault)
	v.SetVerdict("M-PHOTO", pass)
	v.SetVerdict("M-CERT", Verdict{Criterion: "M-CERT-1"})
	v.SetVerdict("M-OPT", Verdict{Criterion: "M-OPT-1"})
	d, err := v.Decide(AcceptWithGaps, at)
	if err != nil {
		t.Fatal(err)
	}
	acc := d.AcceptanceNotice(h)
	if !reflect.DeepEqual(acc.Received, []string{"相片"}) || !reflect.DeepEqual(acc.Exempt, []string{"居民身份证"}) {
		t.Errorf("acceptance received %v exempt %v", acc.Received, acc.Exempt)
	}
	var deferred []string
	for _, x := range acc.Deferred {
		deferred = append(deferred, x.Name+"@"+x.Due.Format("2006-01-02"))
	}
	if want := []string{"证明材料@2025-04-02", "租赁合同@2025-03-18"}; !reflect.DeepEqual(deferred, want) {
		t.Errorf("deferred %v, want %v", deferred, want)
	}
	if acc.CaseNo != m.ID || !reflect.DeepEqual(acc.Items, []string{"甲事项", "乙事项"}) || !acc.Date.Equal(m.CreatedAt) {
		t.Errorf("header not filled from the decision: %+v", acc.Header)
	}
	com := d.CommitmentLetter(h)
	if len(com.Deferred) != 2 || !strings.HasPrefix(com.Deferred[0].Criteria, "不符合：加盖出具单位公章") {
		t.Errorf("commitment %+v", com.Deferred)
	}
	if _, err := a4.CommitmentLetter(com); err != nil {
		t.Errorf("a4 refuses the commitment letter: %v", err)
	}
	note := d.OneTimeNotice(h)
	var listed []string
	for _, x := range note.Missing {
		listed = append(listed, x.Name+"|"+x.Criteria)
	}
	want := []string{"证明材料|不符合：加盖出具单位公章", "租赁合同|双方签字", "其他材料|不符合：与申请事项相关"}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("one-time notice lists\n%v\nwant\n%v", listed, want)
	}
	if !note.Deadline.Equal(at.AddDate(0, 0, 15)) {
		t.Errorf("notice deadline %v, want the earliest gap's", note.Deadline)
	}
	if got := d.Confirmations(); !reflect.DeepEqual(got, []wire.ConfirmMaterial{{Code: "M-PHOTO"}}) {
		t.Errorf("confirmations %v, want M-PHOTO only", got)
	}
	if _, err := a4.AcceptanceNotice(acc); err != nil {
		t.Errorf("a4 refuses the acceptance notice: %v", err)
	}
}

// A case that records what was applied for and the answers gets exactly
// the kiosk's guide: a material an answer adds is asked for even when not
// handed in, one an answer leaves out is not.
func TestAnswersGiveTheGuide(t *testing.T) {
	cat := testCat(t)
	base := func(answers ...string) wire.Manifest {
		return wire.Manifest{ID: "kiosk-01-x", CatalogRevision: 7, Items: []string{"A"}, Applied: "A", Answers: answers,
			Applicant: wire.Applicant{Name: "张三", IDNumber: idNumber(t, "21020219880504123")}}
	}
	for _, c := range []struct {
		name    string
		m       wire.Manifest
		guard   bool
		wantErr string
	}{
		{"a minor: the guardian's card is asked for", base("minor"), true, ""},
		{"an adult: it is not", base("adult"), false, ""},
		{"unanswered", base(), false, "unanswered"},
		{"unknown choice", base("child"), false, "child"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := New(cat, c.m, wire.VaultAnswer{}, time.Now())
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var guard *Row
			for _, r := range v.Checklist() {
				if r.Code == "M-GUARD" {
					guard = &r
				}
			}
			if (guard != nil) != c.guard || guard != nil && (guard.Status != Missing || !guard.Required) {
				t.Errorf("M-GUARD on the checklist: %+v, want %v and missing", guard, c.guard)
			}
		})
	}
}

// An agent applying on the applicant's behalf (帮办代办) makes the letter
// of authorisation a required material of the case, once.
func TestAgentNeedsAuthorisation(t *testing.T) {
	m := everything(t)
	m.Agent = &wire.Applicant{Name: "李梅", IDNumber: idNumber(t, "21020419920817002")}
	v, err := New(testCat(t), m, wire.VaultAnswer{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range v.Checklist() {
		if r.Code == catalog.AuthorisationCode {
			n++
			if !r.Required || r.Status != Missing || len(r.Criteria) == 0 {
				t.Errorf("letter of authorisation %+v", r)
			}
		}
	}
	if n != 1 {
		t.Fatalf("letter of authorisation on the checklist %d times", n)
	}
	if a := v.Options(); a.Accept.Open {
		t.Error("accept open without the letter of authorisation")
	}
}
