package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
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
	token, err := srv.Enrol(RoleKiosk, "hall", kiosk)
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := srv.PublishCatalog(sampleCatalog3); err != nil {
		f.Fatal(err)
	}
	held := []byte("held page")
	if err := st.PutBlob(context.Background(), kiosk, sum(held), bytes.NewReader(held)); err != nil {
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
	case 400, 403, 404, 409, 413, 422: // 403: not the sender's id; 404: a rejection of a case not held
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
	f.Add([]byte(mustJSON(manifest("kiosk-fuzz-c1", []byte("held page")))))
	f.Add([]byte(`{"id":"kiosk-fuzz-c1","created_at":"2025-03-01T09:30:00Z","materials":[{"code":"A","exempt":true}]}`))
	f.Add([]byte(`{"id":"kiosk-fuzz-c1","created_at":"0000-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"kiosk-fuzz-c1","materials":[{"code":"A","sha256":"` + sum([]byte("x")) + `"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveFuzz(srv, token, "PUT", "/v1/cases/kiosk-fuzz-c1", body)
		checkAnswer(t, rec)
		if rec.Code/100 != 2 {
			return
		}
		var answered wire.Manifest
		if err := json.Unmarshal(rec.Body.Bytes(), &answered); err != nil {
			t.Fatalf("answer %q: %v", rec.Body.Bytes(), err)
		}
		c, err := st.GetCase(context.Background(), "kiosk-fuzz-c1")
		if err != nil || !Equal(c.Manifest, answered) {
			t.Fatalf("stored %+v (%v), answered %+v", c.Manifest, err, answered)
		}
	})
}

// FuzzPutEvent does the same for PUT /v1/events/{id}.
func FuzzPutEvent(f *testing.F) {
	srv, st, token := fuzzServer(f)
	f.Add([]byte(`{"id":"kiosk-fuzz-e1","kind":"rating","at":"2025-03-01T09:30:00Z","case":"kiosk-fuzz-c1","level":5,"channel":"pad"}`))
	f.Add([]byte(`{"id":"kiosk-fuzz-e1","kind":"deferred_supplied","at":"2025-03-01T09:30:00Z","case":"kiosk-fuzz-c1","material":"M","sha256":"` + sum([]byte("held page")) + `"}`))
	f.Add([]byte(`{"id":"kiosk-fuzz-e1","kind":"rejection","at":"2025-03-01T09:30:00Z","case":"kiosk-fuzz-c1","material":"M","criterion":"M-1","reason":"模糊"}`))
	f.Add([]byte(`{"id":"kiosk-fuzz-e1","kind":"first_inquiry","at":"2025-03-01T09:30:00Z","clerk":"王丽","item":"GA-0101","reasons":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveFuzz(srv, token, "PUT", "/v1/events/kiosk-fuzz-e1", body)
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

// FuzzUploadPatch sends PATCH /v1/blobs/{sha256}/uploads with arbitrary
// Upload-Offset headers and bodies to an open upload of a known blob: the
// answer must be documented and say what happened to the upload's offset.
func FuzzUploadPatch(f *testing.F) {
	srv, st, token := fuzzServer(f)
	data := blobBytes(64)
	h := sum(data)
	f.Add("0", data[:10])
	f.Add("0", data)
	f.Add("10", data[10:])
	f.Add("0", append(data, 'x'))
	f.Add("-1", []byte{})
	f.Add("", data[:1])
	f.Add("99999999999999999999", data[:1])
	f.Add(" 0", data[:5])
	f.Fuzz(func(t *testing.T, offset string, body []byte) {
		ctx := context.Background()
		before, _, err := st.StartUpload(ctx, kiosk, h, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("PATCH", wire.UploadPath(h), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(wire.HeaderUploadOffset, offset)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		after, _, err := st.UploadOffset(ctx, kiosk, h)
		gone := errors.Is(err, ErrNotFound)
		if err != nil && !gone {
			t.Fatal(err)
		}
		answered := rec.Header().Get(wire.HeaderUploadOffset)
		var eb wire.ErrorBody
		if rec.Code != 204 && (json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error.Code == "") {
			t.Fatalf("%d with body %q", rec.Code, rec.Body.Bytes())
		}
		switch rec.Code {
		case 204:
			end := before + int64(len(body))
			if answered != strconv.FormatInt(end, 10) {
				t.Fatalf("204 with Upload-Offset %q after %d bytes from %d", answered, len(body), before)
			}
			if end == int64(len(data)) {
				if held, _ := st.HasBlob(ctx, h); !gone || !held {
					t.Fatalf("finished upload: gone %v, blob held %v", gone, held)
				}
			} else if after != end {
				t.Fatalf("204 at %d, upload at %d", end, after)
			}
		case 409:
			if eb.Error.Code != wire.CodeOffsetMismatch || eb.Error.Offset == nil || *eb.Error.Offset != before ||
				answered != strconv.FormatInt(before, 10) || after != before {
				t.Fatalf("409 %+v, Upload-Offset %q; upload was at %d, is at %d", eb.Error, answered, before, after)
			}
		case 400:
			if eb.Error.Code == wire.CodeHashMismatch {
				if !gone {
					t.Fatal("hash mismatch, upload still open")
				}
			} else if after != before {
				t.Fatalf("400 %s moved the upload from %d to %d", eb.Error.Code, before, after)
			}
		case 413:
			if after != before {
				t.Fatalf("413 moved the upload from %d to %d", before, after)
			}
		default:
			t.Fatalf("undocumented status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}
