package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"yici/sync/wire"
)

// fuzzServer is a platform holding one blob, for the fuzzers to name.
func fuzzServer(f *testing.F) (*Server, *BoltStorage, string) {
	st, err := OpenBolt(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	srv := New(st, Options{MaxManifestBytes: 64 << 10})
	token, err := srv.Enrol("hall", "kiosk-fuzz")
	if err != nil {
		f.Fatal(err)
	}
	held := []byte("held page")
	if err := st.PutBlob(context.Background(), sum(held), bytes.NewReader(held)); err != nil {
		f.Fatal(err)
	}
	return srv, st, token
}

func serveFuzz(srv *Server, token, method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// checkAnswer fails on a status the protocol does not document for a PUT
// of a JSON body, and on an error answer that is not an ErrorBody.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	switch rec.Code {
	case 200, 201:
	case 400, 409, 413, 422:
		var eb wire.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" {
			t.Fatalf("%d with body %q", rec.Code, rec.Body.Bytes())
		}
	default:
		t.Fatalf("undocumented status %d: %s", rec.Code, rec.Body.Bytes())
	}
}

// FuzzPutCase feeds arbitrary bodies to PUT /v1/cases/{id}; a stored case
// must read back equal to what the answer said was stored.
func FuzzPutCase(f *testing.F) {
	srv, st, token := fuzzServer(f)
	f.Add([]byte(mustJSON(manifest("c1", []byte("held page")))))
	f.Add([]byte(`{"id":"c1","created_at":"2025-03-01T09:30:00Z","materials":[{"code":"A","exempt":true}]}`))
	f.Add([]byte(`{"id":"c1","created_at":"0000-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"c1","materials":[{"code":"A","sha256":"` + sum([]byte("x")) + `"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveFuzz(srv, token, "PUT", "/v1/cases/c1", body)
		checkAnswer(t, rec)
		if rec.Code/100 != 2 {
			return
		}
		var answered wire.Manifest
		if err := json.Unmarshal(rec.Body.Bytes(), &answered); err != nil {
			t.Fatalf("answer %q: %v", rec.Body.Bytes(), err)
		}
		c, err := st.GetCase(context.Background(), "c1")
		if err != nil || !Equal(c.Manifest, answered) {
			t.Fatalf("stored %+v (%v), answered %+v", c.Manifest, err, answered)
		}
	})
}

// FuzzPutEvent does the same for PUT /v1/events/{id}.
func FuzzPutEvent(f *testing.F) {
	srv, st, token := fuzzServer(f)
	f.Add([]byte(`{"id":"e1","kind":"rating","at":"2025-03-01T09:30:00Z","case":"c1","level":5,"channel":"pad"}`))
	f.Add([]byte(`{"id":"e1","kind":"deferred_supplied","at":"2025-03-01T09:30:00Z","case":"c1","material":"M","sha256":"` + sum([]byte("held page")) + `"}`))
	f.Add([]byte(`{"id":"e1","kind":"rejection","at":"2025-03-01T09:30:00Z","case":"c1","material":"M","criterion":"M-1","reason":"模糊"}`))
	f.Add([]byte(`{"id":"e1","kind":"first_inquiry","at":"2025-03-01T09:30:00Z","clerk":"王丽","item":"GA-0101","reasons":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveFuzz(srv, token, "PUT", "/v1/events/e1", body)
		checkAnswer(t, rec)
		if rec.Code/100 != 2 {
			return
		}
		var answered wire.Event
		if err := json.Unmarshal(rec.Body.Bytes(), &answered); err != nil {
			t.Fatalf("answer %q: %v", rec.Body.Bytes(), err)
		}
		if err := answered.Check(); err != nil {
			t.Fatalf("stored an event that fails its check: %v", err)
		}
		if answered.Case == "" {
			return
		}
		evs, err := st.CaseEvents(context.Background(), answered.Case)
		if err != nil || len(evs) != 1 || !EqualEvent(evs[0], answered) {
			t.Fatalf("stored %+v (%v), answered %+v", evs, err, answered)
		}
	})
}
