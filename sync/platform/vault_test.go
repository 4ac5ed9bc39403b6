package platform

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"yici/sync/wire"
)

const zhangSan = "21020219880504123X"

// vault asks the vault for id as clerk 0001 at desk-00: the whole entries.
func (f *fixture) vault(id string) (int, wire.VaultAnswer, []byte) {
	f.t.Helper()
	code, b := f.asClerk("POST", "/v1/vault/query", strings.NewReader(mustJSON(wire.VaultQuery{IDNumber: id})))
	var a wire.VaultAnswer
	if code == 200 {
		if err := json.Unmarshal(b, &a); err != nil {
			f.t.Fatalf("vault answer %s: %v", b, err)
		}
	}
	return code, a, b
}

func refs(a wire.VaultAnswer) []string {
	var out []string
	for _, e := range a.Entries {
		out = append(out, e.Ref)
	}
	return out
}

func TestVault(t *testing.T) {
	f := newFixture(t, Options{})
	n, err := f.srv.LoadLicences("testdata/licences.json")
	if err != nil || n != 4 {
		t.Fatalf("load licences: %d, %v", n, err)
	}
	// Loading again replaces, it does not add.
	if _, err := f.srv.LoadLicences("testdata/licences.json"); err != nil {
		t.Fatal(err)
	}
	page := []byte("scan of a two-inch photo")
	if code, b := f.do("PUT", "/v1/blobs/"+sum(page), f.token, bytes.NewReader(page)); code != 201 {
		t.Fatalf("put blob: %d %s", code, b)
	}
	m := manifest("kiosk-01-case-v1", page)
	m.Materials[0].Code, m.Materials[0].Name = "M-PHOTO", "两寸照片"
	m.Materials = append(m.Materials, wire.MaterialRef{Code: "M-HUKOU", Name: "居民户口簿", Exempt: true})
	if code, b := f.do("PUT", "/v1/cases/kiosk-01-case-v1", f.token, strings.NewReader(mustJSON(m))); code != 201 {
		t.Fatalf("put case: %d %s", code, b)
	}

	code, before, body := f.vault(zhangSan)
	if code != 200 || !slices.Equal(refs(before), []string{"licence:210202198805041230-SFZ-2018", "licence:2102021988HK0001"}) {
		t.Fatalf("vault of 张三: %d %s", code, body)
	}
	if bytes.Contains(body, []byte(zhangSan)) || before.Applicant == "" {
		t.Errorf("vault answer names the ID number or no applicant key: %s", body)
	}
	// The kiosk learns codes and dates, nothing that leads to a page, a
	// case or the applicant key.
	code, kb := f.do("POST", "/v1/vault/query", f.token, strings.NewReader(mustJSON(wire.VaultQuery{IDNumber: zhangSan, Codes: []string{"M-HUKOU", "M-PHOTO"}})))
	var ka wire.VaultAnswer
	if err := json.Unmarshal(kb, &ka); code != 200 || err != nil || ka.Applicant != "" || len(ka.Entries) != 1 ||
		ka.Entries[0] != (wire.VaultEntry{Code: "M-HUKOU", Name: "居民户口簿", Source: wire.SourceLicence, ValidFrom: before.Entries[1].ValidFrom}) {
		t.Errorf("kiosk's vault answer: %d %s", code, kb)
	}
	at := time.Now().Add(time.Minute)
	if e, ok := before.OnFile("M-HUKOU", at); !ok || e.Source != wire.SourceLicence {
		t.Errorf("户口簿 not on file for 张三: %+v", e)
	}
	if _, ok := before.OnFile("M-PHOTO", at); ok {
		t.Error("a photo is on file before any was confirmed")
	}

	confirm := func(req wire.ConfirmRequest, caseID string) (int, wire.ConfirmAnswer, []byte) {
		code, b := f.asClerk("POST", "/v1/cases/"+caseID+"/confirm", strings.NewReader(mustJSON(req)))
		var a wire.ConfirmAnswer
		json.Unmarshal(b, &a)
		return code, a, b
	}
	// The desk's clerk and validity are not believed: the session says who,
	// the catalogue how long (M-PHOTO: the default of a year).
	req := wire.ConfirmRequest{Clerk: "someone else", Materials: []wire.ConfirmMaterial{{Code: "M-PHOTO", ValidUntil: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	code, first, b := confirm(req, "kiosk-01-case-v1")
	if code != 200 || len(first.Entries) != 1 || first.Applicant != before.Applicant {
		t.Fatalf("confirm: %d %s", code, b)
	}
	e := first.Entries[0]
	until := e.ConfirmedAt.AddDate(0, 0, 365)
	if e.Ref != "kiosk-01-case-v1/M-PHOTO" || e.SHA256 != sum(page) || e.Case != "kiosk-01-case-v1" || e.Source != wire.SourceCase ||
		!e.ValidUntil.Equal(until) || e.ConfirmedBy != "0001" {
		t.Errorf("confirmed entry %+v", e)
	}
	time.Sleep(2 * time.Millisecond)
	if code, again, _ := confirm(req, "kiosk-01-case-v1"); code != 200 || mustJSON(again) != mustJSON(first) {
		t.Errorf("repeated confirm: %d %+v, want %+v", code, again, first)
	}
	_, after, _ := f.vault(zhangSan)
	if got, ok := after.OnFile("M-PHOTO", at); !ok || got.Ref != "kiosk-01-case-v1/M-PHOTO" {
		t.Errorf("photo not on file after confirmation: %+v", after)
	}
	if _, ok := after.OnFile("M-PHOTO", until); ok {
		t.Error("photo on file after its validity")
	}

	// 李梅's identity-card licence ran out in 2022: listed, but not on file.
	_, li, _ := f.vault("210204199208170022")
	if len(li.Entries) != 1 {
		t.Errorf("李梅's vault %+v", li)
	}
	if _, ok := li.OnFile("M-IDCARD", at); ok {
		t.Error("an expired licence counts as on file")
	}
	if _, none, _ := f.vault("210211196503020043"); len(none.Entries) != 1 || none.Applicant == li.Applicant {
		t.Errorf("赵强's vault %+v", none)
	}

	for _, c := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"bad check digit", "/v1/vault/query", `{"id_number":"210202198805041231"}`, 400, wire.CodeBadRequest},
		{"no number", "/v1/vault/query", `{}`, 400, wire.CodeBadRequest},
		{"malformed query", "/v1/vault/query", `{"id_number":`, 400, wire.CodeBadRequest},
		{"confirm unknown case", "/v1/cases/kiosk-01-case-x/confirm", mustJSON(req), 404, wire.CodeNotFound},
		{"confirm exempt material", "/v1/cases/kiosk-01-case-v1/confirm", `{"clerk":"c","materials":[{"code":"M-HUKOU"}]}`, 400, wire.CodeBadRequest},
		{"confirm unknown material", "/v1/cases/kiosk-01-case-v1/confirm", `{"clerk":"c","materials":[{"code":"M-X"}]}`, 400, wire.CodeBadRequest},
		{"confirm no material", "/v1/cases/kiosk-01-case-v1/confirm", `{"materials":[]}`, 400, wire.CodeBadRequest},
	} {
		code, b := f.asClerk("POST", c.path, strings.NewReader(c.body))
		var eb wire.ErrorBody
		json.Unmarshal(b, &eb)
		if code != c.status || eb.Error.Code != c.code {
			t.Errorf("%s: %d %s", c.name, code, b)
		}
		if bytes.Contains(b, []byte("21020219880504123")) {
			t.Errorf("%s: the error repeats the ID number: %s", c.name, b)
		}
	}
	if _, again, _ := f.vault(zhangSan); mustJSON(again.Entries) != mustJSON(after.Entries) {
		t.Errorf("refused requests changed the vault:\n%+v\n%+v", after.Entries, again.Entries)
	}
}

func TestLoadLicencesRefusesBadFiles(t *testing.T) {
	f := newFixture(t, Options{})
	dir := t.TempDir()
	// Licence numbers carry ID numbers, so no error may name a licence by
	// its number, nor repeat any value of the file.
	const lic = `"licence_no":"210202198805041230-SFZ-2018","code":"M-HUKOU","name":"户口簿","issuer":"公安"`
	const id = `"id_number":"21020219880504123X"`
	for _, c := range []struct{ name, body, want string }{
		{"bad number", `{"licences":[{"id_number":"210202198805041231",` + lic + `}]}`, "licence 0: id_number is not"},
		{"no number", `{"licences":[{` + lic + `}]}`, "licence 0: id_number is required"},
		{"no issuer", `{"licences":[{` + id + `,"licence_no":"210202198805041230-SFZ-2018","code":"M-HUKOU","name":"户口簿"}]}`, "licence 0: issuer is required"},
		{"second bad", `{"licences":[{` + id + `,` + lic + `},{` + id + `,` + lic + `,"sha256":"zz"}]}`, "licence 1: sha256"},
		{"name with RLO", `{"licences":[{` + id + `,"licence_no":"210202198805041230-SFZ-2018","code":"M-HUKOU","name":"户口\u202e簿","issuer":"公安"}]}`, "licence 0: name has the bidirectional"},
		{"licence number with NUL", `{"licences":[{` + id + `,"licence_no":"210202198805041230\u0000","code":"M-HUKOU","name":"户口簿","issuer":"公安"}]}`, "licence 0: licence_no has the control"},
		{"unknown field", `{"licences":[{"id":"x"}]}`, "unknown field"},
		{"number in a time field", `{"licences":[{` + id + `,` + lic + `,"valid_from":"210202198805041230"}]}`, "not RFC 3339"},
		{"number as a JSON number", `{"licences":[{"id_number":210202198805041230,` + lic + `}]}`, "licences.id_number at byte"},
		{"not JSON", `{"licences":[{"id_number":"210202198805041230" ` + lic + `}]}`, "not valid JSON at byte"},
		{"validity backwards", `{"licences":[{` + id + `,` + lic + `,"valid_from":"2020-01-01T00:00:00Z","valid_until":"2019-01-01T00:00:00Z"}]}`, "licence 0: valid_until"},
	} {
		p := filepath.Join(dir, c.name+".json")
		os.WriteFile(p, []byte(c.body), 0o600)
		_, err := f.srv.LoadLicences(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "2102021988050412") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, a, _ := f.vault(zhangSan); len(a.Entries) != 0 {
		t.Errorf("a refused file left entries: %+v", a.Entries)
	}
}
