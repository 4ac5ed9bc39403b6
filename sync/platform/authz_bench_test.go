package platform

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"yici/sync/platform/audit"
	"yici/sync/seal"
	"yici/sync/wire"
)

// BenchmarkAuthzAudit measures what roles, the clerk session and the audit
// log cost a personal read: GET /v1/cases/{id} by a desk with a clerk
// signed in, the audit record written to a real log file, against a
// baseline that reads and answers the same case with no authorisation and
// no audit, in the same run. "ratio" is the first over the second; it is
// reported in-process (the handler alone, the strictest view) and over
// loopback HTTP (what a desk's request costs).
func BenchmarkAuthzAudit(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		b.Fatal(err)
	}
	alog, err := audit.Open(filepath.Join(b.TempDir(), "audit.log"), sealer)
	if err != nil {
		b.Fatal(err)
	}
	defer alog.Close()
	f := newFixture(b, Options{Audit: alog})
	page := []byte("page")
	f.putCase(manifest("kiosk-01-case-1", page), page)

	// The baseline: the same storage read and answer, nothing else.
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := f.st.GetCase(r.Context(), r.PathValue("id"))
		if err != nil {
			f.srv.internal(w, "read case", err)
			return
		}
		writeJSON(w, http.StatusOK, c.Manifest)
	})
	baseMux := http.NewServeMux()
	baseMux.Handle("/v1/cases/{id}", baseline)

	req := func(url string) *http.Request {
		r, _ := http.NewRequestWithContext(context.Background(), "GET", url+"/v1/cases/kiosk-01-case-1", nil)
		r.Header.Set("Authorization", "Bearer "+f.desk)
		r.Header.Set(wire.HeaderSession, f.session)
		return r
	}
	inProcess := func(h http.Handler) func() {
		r := req("http://platform")
		return func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
	overHTTP := func(h http.Handler) func() {
		hs := httptest.NewServer(h)
		b.Cleanup(hs.Close)
		return func() {
			resp, err := http.DefaultClient.Do(req(hs.URL))
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v %v", resp, err)
			}
			resp.Body.Close()
		}
	}
	for _, c := range []struct {
		name        string
		full, plain func()
	}{
		{"in-process", inProcess(f.srv), inProcess(baseMux)},
		{"loopback-http", overHTTP(f.srv), overHTTP(baseMux)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var full, plain float64
			for i := 0; b.Loop(); i++ {
				// Alternate, so both see the same machine load.
				full += timed(c.full)
				plain += timed(c.plain)
			}
			n := float64(b.N)
			b.ReportMetric(full/n, "ns-authz+audit/op")
			b.ReportMetric(plain/n, "ns-baseline/op")
			b.ReportMetric(full/plain, "ratio")
		})
	}
}

func timed(f func()) float64 {
	start := time.Now()
	f()
	return float64(time.Since(start).Nanoseconds())
}
