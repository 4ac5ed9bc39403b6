package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"yici/assets"
	"yici/sync/wire"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// kiosk is the terminal newFixture enrols, and the owner of what the tests
// stage through the storage directly.
const kiosk = "kiosk-01"

type fixture struct {
	t     testing.TB
	srv   *Server
	st    *BoltStorage
	dir   string
	url   string
	token string // kiosk-01's
	// desk is desk-00's token, of kiosk-01's hall, and session the one of
	// clerk 0001 signed in there: the caller of clerk reads (asClerk).
	desk, session string
	display       string // a display of the hall, once token2display enrolled it
}

// sampleCatalog3 is the sample catalogue published as revision 3, the
// revision manifest() names.
var sampleCatalog3 = bytes.Replace(assets.SampleCatalog, []byte(`"revision": 2`), []byte(`"revision": 3`), 1)

// newFixture is a platform with one enrolled terminal and catalogue
// revision 3 published.
func newFixture(t testing.TB, opt Options) *fixture {
	t.Helper()
	f := newBareFixture(t, opt)
	if _, _, err := f.srv.PublishCatalog(sampleCatalog3); err != nil {
		t.Fatal(err)
	}
	return f
}

// newBareFixture is newFixture without a catalogue.
func newBareFixture(t testing.TB, opt Options) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opt.Clerks.PIN == (Argon2Params{}) {
		opt.Clerks.PIN = cheapArgon2
	}
	srv := New(st, opt)
	token, err := srv.Enrol(RoleKiosk, "中山区政务服务中心", kiosk)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := srv.Enrol(RoleDesk, "中山区政务服务中心", "desk-00")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddClerk("中山区政务服务中心", "0001", "王丽", "730461"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f := &fixture{t: t, srv: srv, st: st, dir: dir, url: hs.URL, token: token, desk: desk}
	f.session = f.signIn(desk, "0001", "730461")
	return f
}

// putCase puts m from kiosk-01, blobs first.
func (f *fixture) putCase(m wire.Manifest, blobs ...[]byte) {
	f.t.Helper()
	for _, b := range blobs {
		if code, body := f.do("PUT", "/v1/blobs/"+sum(b), f.token, bytes.NewReader(b)); code/100 != 2 {
			f.t.Fatalf("put blob: %d %s", code, body)
		}
	}
	if code, body := f.do("PUT", "/v1/cases/"+m.ID, f.token, strings.NewReader(mustJSON(m))); code/100 != 2 {
		f.t.Fatalf("put case: %d %s", code, body)
	}
}

// signIn signs clerk in at the desk of token and returns the session.
func (f *fixture) signIn(token, clerk, pin string) string {
	f.t.Helper()
	code, b := f.do("POST", wire.SessionPath, token, strings.NewReader(mustJSON(wire.SessionRequest{Clerk: clerk, PIN: pin, Window: "3"})))
	var a wire.SessionAnswer
	if code != 201 || json.Unmarshal(b, &a) != nil {
		f.t.Fatalf("sign in %s: %d %s", clerk, code, b)
	}
	return a.Token
}

// asClerk sends a request from desk-00 with clerk 0001 signed in.
func (f *fixture) asClerk(method, path string, body io.Reader) (int, []byte) {
	f.t.Helper()
	code, _, b := f.send(method, path, f.desk, map[string]string{wire.HeaderSession: f.session}, body)
	return code, b
}

func (f *fixture) do(method, path, token string, body io.Reader) (int, []byte) {
	f.t.Helper()
	code, _, b := f.send(method, path, token, nil, body)
	return code, b
}

// send sends one request with the given headers and returns the answer.
func (f *fixture) send(method, path, token string, hdr map[string]string, body io.Reader) (int, http.Header, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// state is what the platform holds, to show a refused request changed nothing.
func (f *fixture) state() []string {
	f.t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(f.dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, "blob "+d.Name())
		}
		return err
	})
	cs, err := f.st.ListCases(context.Background(), "中山区政务服务中心", 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range cs {
		b, _ := json.Marshal(c)
		out = append(out, "case "+string(b))
	}
	return out
}

func manifest(id string, blobs ...[]byte) wire.Manifest {
	m := wire.Manifest{ID: id, CatalogRevision: 3, Items: []string{"GA-0101"},
		Applicant: wire.Applicant{Name: "张三", IDNumber: "21020219880504123X"},
		CreatedAt: time.Date(2025, 3, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))}
	for i, b := range blobs {
		m.Materials = append(m.Materials, wire.MaterialRef{Code: string(rune('A' + i)), SHA256: sum(b), Size: int64(len(b))})
	}
	return m
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// asClerk, as a token in a table, sends the request as fixture.asClerk.
const asClerk = "desk-00 with clerk 0001"

func TestErrors(t *testing.T) {
	f := newFixture(t, Options{MaxBlobBytes: 1024, MaxManifestBytes: 4096, MaxMaterials: 3, MaxItems: 3})
	held, absent := []byte("held page"), []byte("absent page")
	if code, b := f.do("PUT", "/v1/blobs/"+sum(held), f.token, bytes.NewReader(held)); code != 201 {
		t.Fatalf("put blob: %d %s", code, b)
	}
	stored := manifest("kiosk-01-case-1", held)
	if code, b := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(mustJSON(stored))); code != 201 {
		t.Fatalf("put case: %d %s", code, b)
	}
	revoked, err := f.srv.Enrol(RoleKiosk, "中山区政务服务中心", "kiosk-02")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Revoke("kiosk-02"); err != nil {
		t.Fatal(err)
	}
	other := manifest("kiosk-01-case-1", held)
	other.Items = []string{"370100-002"}
	big := bytes.Repeat([]byte("x"), 2000)
	// bad is a manifest of case-2, held blob and all, changed by mod.
	bad := func(mod func(*wire.Manifest)) io.Reader {
		m := manifest("kiosk-01-case-2", held)
		mod(&m)
		return strings.NewReader(mustJSON(m))
	}
	exempt := func(n int) []wire.MaterialRef {
		out := make([]wire.MaterialRef, n)
		for i := range out {
			out[i] = wire.MaterialRef{Code: fmt.Sprintf("M-%d", i), Exempt: true}
		}
		return out
	}

	cases := []struct {
		name, method, path string
		token              string
		body               io.Reader
		status             int
		code               string
		missing            []string
	}{
		{"no token", "GET", "/v1/cases", "", nil, 401, wire.CodeUnauthorized, nil},
		{"unknown token", "GET", "/v1/cases", "0123", nil, 401, wire.CodeUnauthorized, nil},
		{"revoked token", "PUT", "/v1/blobs/" + sum(absent), revoked, bytes.NewReader(absent), 401, wire.CodeUnauthorized, nil},
		{"hash mismatch", "PUT", "/v1/blobs/" + sum(absent), f.token, strings.NewReader("other bytes"), 400, wire.CodeHashMismatch, nil},
		{"hash mismatch on a held blob", "PUT", "/v1/blobs/" + sum(held), f.token, strings.NewReader("other bytes"), 400, wire.CodeHashMismatch, nil},
		{"bad blob address", "PUT", "/v1/blobs/ABC", f.token, bytes.NewReader(absent), 400, wire.CodeBadRequest, nil},
		{"blob too large", "PUT", "/v1/blobs/" + sum(big), f.token, bytes.NewReader(big), 413, wire.CodeTooLarge, nil},
		{"blob too large, chunked", "PUT", "/v1/blobs/" + sum(big), f.token, io.MultiReader(bytes.NewReader(big)), 413, wire.CodeTooLarge, nil},
		{"malformed manifest", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(`{"id":"kiosk-01-case-2",`), 400, wire.CodeBadRequest, nil},
		{"data after manifest", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(mustJSON(manifest("kiosk-01-case-2")) + "{}"), 400, wire.CodeBadRequest, nil},
		{"manifest id differs", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(mustJSON(manifest("kiosk-01-case-3"))), 400, wire.CodeBadRequest, nil},
		{"bad case id", "PUT", "/v1/cases/..x", f.token, strings.NewReader(mustJSON(manifest("..x"))), 400, wire.CodeBadRequest, nil},
		{"material without hash", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(`{"id":"kiosk-01-case-2","created_at":"2025-03-01T09:30:00Z","materials":[{"code":"A"}]}`), 400, wire.CodeBadRequest, nil},
		{"manifest too large", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(`{"id":"kiosk-01-case-2","items":["` + strings.Repeat("x", 5000) + `"]}`), 413, wire.CodeTooLarge, nil},
		{"blob missing", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(mustJSON(manifest("kiosk-01-case-2", held, absent))), 422, wire.CodeBlobMissing, []string{sum(absent)}},
		{"conflict", "PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(mustJSON(other)), 409, wire.CodeConflict, nil},
		{"missing: malformed", "POST", "/v1/blobs/missing", f.token, strings.NewReader(`{"sha256":`), 400, wire.CodeBadRequest, nil},
		{"missing: bad hash", "POST", "/v1/blobs/missing", f.token, strings.NewReader(`{"sha256":["xyz"]}`), 400, wire.CodeBadRequest, nil},
		{"unknown case", "GET", "/v1/cases/kiosk-01-case-9", asClerk, nil, 404, wire.CodeNotFound, nil},
		{"blob of an unknown case", "GET", "/v1/blobs/" + sum(absent) + "?case=kiosk-01-case-9", asClerk, nil, 404, wire.CodeNotFound, nil},
		{"blob the case does not name", "GET", "/v1/blobs/" + sum(absent) + "?case=kiosk-01-case-1", asClerk, nil, 403, wire.CodeForbidden, nil},
		{"bad limit", "GET", "/v1/cases?limit=0", asClerk, nil, 400, wire.CodeBadRequest, nil},
		{"wrong method", "DELETE", "/v1/cases/kiosk-01-case-1", f.token, nil, 405, wire.CodeBadRequest, nil},
		{"unknown path", "GET", "/v2/cases", f.token, nil, 404, wire.CodeNotFound, nil},
		{"too many materials", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Materials = exempt(4) }), 413, wire.CodeTooLarge, nil},
		{"too many items", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Items = []string{"a", "b", "c", "d"} }), 413, wire.CodeTooLarge, nil},
		{"name empty", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = "" }), 400, wire.CodeBadRequest, nil},
		{"name with NUL", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = "张\x00三" }), 400, wire.CodeBadRequest, nil},
		{"name with RLO", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = "张\u202e三" }), 400, wire.CodeBadRequest, nil},
		{"name with a C1 control", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = "张\u009b三" }), 400, wire.CodeBadRequest, nil},
		{"name with a trailing space", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = "张三 " }), 400, wire.CodeBadRequest, nil},
		{"name too long", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.Name = strings.Repeat("张", 65) }), 400, wire.CodeBadRequest, nil},
		{"name of invalid UTF-8", "PUT", "/v1/cases/kiosk-01-case-2", f.token, strings.NewReader(strings.Replace(mustJSON(manifest("kiosk-01-case-2", held)), "张三", "张\xff三", 1)), 400, wire.CodeBadRequest, nil},
		{"id_number empty", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.IDNumber = "" }), 400, wire.CodeBadRequest, nil},
		{"id_number check digit", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.IDNumber = "210202198805041231" }), 400, wire.CodeBadRequest, nil},
		{"id_number lower-case x", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Applicant.IDNumber = "21020219880504123x" }), 400, wire.CodeBadRequest, nil},
		{"item with a newline", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Items = []string{"GA-0101\n"} }), 400, wire.CodeBadRequest, nil},
		{"material code with NUL", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Materials[0].Code = "A\x00" }), 400, wire.CodeBadRequest, nil},
		{"material name with RLO", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Materials[0].Name = "照片\u202e" }), 400, wire.CodeBadRequest, nil},
		{"material name too long", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Materials[0].Name = strings.Repeat("照", wire.MaxTextRunes+1) }), 400, wire.CodeBadRequest, nil},
		{"catalog_revision 0", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.CatalogRevision = 0 }), 400, wire.CodeBadRequest, nil},
		{"catalog_revision never published", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.CatalogRevision = 4 }), 400, wire.CodeBadRequest, nil},
		{"agent who is the applicant", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Agent = &wire.Applicant{Name: "张三", IDNumber: m.Applicant.IDNumber} }), 400, wire.CodeBadRequest, nil},
		{"agent without a valid ID number", "PUT", "/v1/cases/kiosk-01-case-2", f.token, bad(func(m *wire.Manifest) { m.Agent = &wire.Applicant{Name: "李梅", IDNumber: "210204199208170023"} }), 400, wire.CodeBadRequest, nil},
	}
	for _, c := range cases {
		before := f.state()
		var status int
		var body []byte
		if c.token == asClerk {
			status, body = f.asClerk(c.method, c.path, c.body)
		} else {
			status, body = f.do(c.method, c.path, c.token, c.body)
		}
		var eb wire.ErrorBody
		if err := json.Unmarshal(body, &eb); err != nil {
			t.Errorf("%s: body %q is not an ErrorBody: %v", c.name, body, err)
		}
		if status != c.status || eb.Error.Code != c.code || !slices.Equal(eb.Error.Missing, c.missing) || eb.Error.Message == "" {
			t.Errorf("%s: %d %+v; want %d %s missing %v", c.name, status, eb.Error, c.status, c.code, c.missing)
		}
		// Errors never repeat personal data.
		if strings.Contains(eb.Error.Message, "2102021988050412") || strings.Contains(eb.Error.Message, "张") {
			t.Errorf("%s: the message repeats the applicant: %s", c.name, eb.Error.Message)
		}
		if after := f.state(); !reflect.DeepEqual(before, after) {
			t.Errorf("%s changed the platform:\nbefore %v\nafter  %v", c.name, before, after)
		}
	}
}

func TestIdempotentAndTerminalFromCredential(t *testing.T) {
	f := newFixture(t, Options{})
	page := []byte("scan of the household register")
	for _, want := range []int{201, 200} {
		if code, b := f.do("PUT", "/v1/blobs/"+sum(page), f.token, bytes.NewReader(page)); code != want {
			t.Fatalf("put blob: %d %s, want %d", code, b, want)
		}
	}
	m := manifest("kiosk-01-case-1", page)
	m.Materials = append(m.Materials, wire.MaterialRef{Code: "LIC", Name: "营业执照", Exempt: true})
	for i, want := range []int{201, 200, 200} {
		m.Terminal = []string{"spoofed", "other", ""}[i] // the body's terminal never counts
		if i == 2 {
			m.CreatedAt = m.CreatedAt.UTC() // the same instant, written otherwise
		}
		code, b := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(mustJSON(m)))
		if code != want {
			t.Fatalf("put case #%d: %d %s, want %d", i, code, b, want)
		}
	}
	c, err := f.st.GetCase(context.Background(), "kiosk-01-case-1")
	if err != nil || c.Manifest.Terminal != "kiosk-01" {
		t.Errorf("stored terminal %q, %v; want kiosk-01", c.Manifest.Terminal, err)
	}

	code, b := f.do("POST", "/v1/blobs/missing", f.token, strings.NewReader(mustJSON(wire.MissingRequest{SHA256: []string{sum([]byte("x")), sum(page)}})))
	var mr wire.MissingResponse
	if json.Unmarshal(b, &mr); code != 200 || !slices.Equal(mr.Missing, []string{sum([]byte("x"))}) {
		t.Errorf("missing: %d %s", code, b)
	}
	for _, c := range []struct {
		blob []byte
		want int
	}{{page, 200}, {[]byte("x"), 404}} {
		if code, _ := f.do("HEAD", "/v1/blobs/"+sum(c.blob), f.token, nil); code != c.want {
			t.Errorf("HEAD %q: %d, want %d", c.blob, code, c.want)
		}
	}
	if code, b := f.asClerk("GET", "/v1/blobs/"+sum(page)+"?case=kiosk-01-case-1", nil); code != 200 || !bytes.Equal(b, page) {
		t.Errorf("GET blob: %d %q", code, b)
	}
	code, b = f.asClerk("GET", "/v1/cases", nil)
	var list []wire.CaseSummary
	if err := json.Unmarshal(b, &list); code != 200 || err != nil || len(list) != 1 {
		t.Fatalf("list: %d %s %v", code, b, err)
	}
	if got := list[0]; got.Applicant.IDNumber != "2102**********123X" || got.Applicant.Name != "张*" || got.Terminal != "kiosk-01" || got.Materials != 2 {
		t.Errorf("summary %+v", got)
	}
}

// A new case is answered in the form a repeat and GET answer it: lists
// never null, times in UTC.
func TestPutCaseAnswersCanonicalForm(t *testing.T) {
	f := newFixture(t, Options{})
	m := manifest("kiosk-01-case-1")
	m.Items, m.Materials = nil, nil
	body := mustJSON(m)
	if !strings.Contains(body, `"items":null`) {
		t.Fatalf("the request should send null items: %s", body)
	}
	code, created := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(body))
	if code != 201 || !strings.Contains(string(created), `"items":[]`) || !strings.Contains(string(created), `"materials":[]`) {
		t.Fatalf("201: %d %s", code, created)
	}
	code, repeated := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(body))
	if code != 200 || !bytes.Equal(repeated, created) {
		t.Errorf("repeat: %d %s\nfirst: %s", code, repeated, created)
	}
	code, got := f.asClerk("GET", "/v1/cases/kiosk-01-case-1", nil)
	if code != 200 || !bytes.Equal(got, created) {
		t.Errorf("GET: %d %s\n201: %s", code, got, created)
	}
}

func TestEnrol(t *testing.T) {
	f := newFixture(t, Options{})
	if _, err := f.srv.Enrol(RoleKiosk, "hall", "kiosk-01"); err == nil || !strings.Contains(err.Error(), "revoke it first") {
		t.Errorf("second enrolment of an active name: %v", err)
	}
	if err := f.srv.Revoke("kiosk-01"); err != nil {
		t.Fatal(err)
	}
	token, err := f.srv.Enrol(RoleKiosk, "hall", "kiosk-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token string
		want  int
	}{{f.token, 401}, {token, 200}} {
		if code, _ := f.do("GET", "/v1/whoami", c.token, nil); code != c.want {
			t.Errorf("token after re-enrolment: %d, want %d", code, c.want)
		}
	}
	if err := f.srv.Revoke("nobody"); err == nil {
		t.Error("revoked an unknown terminal")
	}
	// Only the hash of a token is stored.
	tm, err := f.st.TerminalByToken(context.Background(), tokenHash(token))
	if err != nil || tm.TokenHash == token || strings.Contains(mustJSON(tm), token) {
		t.Errorf("stored terminal %+v, %v", tm, err)
	}
}

// A desk finds the hall's cases of the person whose card it read; another
// hall's desk finds none of them, and a kiosk may not search.
func TestCaseSearch(t *testing.T) {
	f := newFixture(t, Options{})
	page := []byte("a page")
	f.putCase(manifest("kiosk-01-case-1", page), page)
	f.putCase(manifest("kiosk-01-case-2", page), page)
	other := manifest("kiosk-01-case-3", page)
	other.Applicant = wire.Applicant{Name: "李梅", IDNumber: "210204199208170022"}
	f.putCase(other, page)
	search := func(token string, hdr map[string]string, id string) (int, []wire.CaseSummary) {
		code, _, b := f.send("POST", "/v1/cases/search", token, hdr, strings.NewReader(`{"id_number":"`+id+`"}`))
		var out []wire.CaseSummary
		json.Unmarshal(b, &out)
		return code, out
	}
	code, got := search(f.desk, map[string]string{wire.HeaderSession: f.session}, "21020219880504123X")
	if code != 200 || len(got) != 2 || got[0].ID != "kiosk-01-case-2" || got[1].ID != "kiosk-01-case-1" || got[0].Applicant.Name != "张*" {
		t.Errorf("张三's cases: %d %+v", code, got)
	}
	far, err := f.srv.Enrol(RoleDesk, "西岗区政务服务中心", "desk-09")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.AddClerk("西岗区政务服务中心", "0909", "赵敏", "584062"); err != nil {
		t.Fatal(err)
	}
	if code, got := search(far, map[string]string{wire.HeaderSession: f.signIn(far, "0909", "584062")}, "21020219880504123X"); code != 200 || len(got) != 0 {
		t.Errorf("another hall's desk found %d: %d %+v", len(got), code, got)
	}
	if code, _ := search(f.token, nil, "21020219880504123X"); code != 403 {
		t.Errorf("a kiosk searched: %d", code)
	}
	if code, _ := search(f.desk, map[string]string{wire.HeaderSession: f.session}, "210202198805041231"); code != 400 {
		t.Errorf("a bad check digit: %d", code)
	}
}
