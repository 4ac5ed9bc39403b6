package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"yici/sync/wire"
)

func TestEvents(t *testing.T) {
	f := newFixture(t, Options{MaxManifestBytes: 4096})
	supplied := []byte("the rental contract, supplied a week late")
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	// A rating comes from the kiosk; every other kind is a clerk's, from
	// desk-00 with clerk 0001 signed in, and its id is the desk's.
	ev := func(id, kind string, mod func(*wire.Event)) wire.Event {
		if kind != wire.EventRating {
			id = strings.Replace(id, "kiosk-01-", "desk-00-", 1)
		}
		e := wire.Event{ID: id, Kind: kind, At: at, Case: "kiosk-01-case-1"}
		if mod != nil {
			mod(&e)
		}
		return e
	}
	rating := ev("kiosk-01-ev-rate", wire.EventRating, func(e *wire.Event) { e.Level, e.Channel = 5, "pad" })
	// Rejections cite a held case's materials: case-1 under revision 3
	// (the sample catalogue) with a photo handed in and the household
	// register on file.
	photo := []byte("photo receipt")
	if code, b := f.do("PUT", "/v1/blobs/"+sum(photo), f.token, bytes.NewReader(photo)); code != 201 {
		t.Fatalf("put blob: %d %s", code, b)
	}
	m := manifest("kiosk-01-case-1", photo)
	m.Materials[0].Code = "M-PHOTO"
	m.Materials = append(m.Materials, wire.MaterialRef{Code: "M-HUKOU", Exempt: true})
	if code, b := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(mustJSON(m))); code != 201 {
		t.Fatalf("put case: %d %s", code, b)
	}
	// case-old was stored under a revision never published, as a case
	// stored before the revision was checked may be.
	old := manifest("kiosk-01-case-old")
	old.CatalogRevision = 9
	old.Materials = []wire.MaterialRef{{Code: "M-PHOTO", Exempt: true}}
	if _, err := f.st.PutCase(context.Background(), Case{Manifest: old, Hall: "中山区政务服务中心", ReceivedAt: at}); err != nil {
		t.Fatal(err)
	}
	reject := func(id, caseID, material, criterion string) wire.Event {
		return ev(id, wire.EventRejection, func(e *wire.Event) {
			e.Case, e.Material, e.Criterion, e.Reason, e.Clerk = caseID, material, criterion, "背景不是白色", "窗口3 王丽"
		})
	}
	otherRating := rating
	otherRating.Level = 4
	deferred := ev("kiosk-01-ev-def", wire.EventDeferredSupplied, func(e *wire.Event) { e.Material, e.SHA256 = "M-RENT", sum(supplied) })

	cases := []struct {
		name   string
		event  wire.Event
		path   string // default /v1/events/{id}
		body   string // default the event's JSON
		status int
		code   string
	}{
		{name: "first inquiry", event: ev("kiosk-01-ev-1", wire.EventFirstInquiry, func(e *wire.Event) { e.Case, e.Clerk, e.Item = "", "0001", "GA-0101" }), status: 201},
		{name: "started", event: ev("kiosk-01-ev-2", wire.EventHandlingStarted, nil), status: 201},
		{name: "started again", event: ev("kiosk-01-ev-2", wire.EventHandlingStarted, nil), status: 200},
		{name: "same instant, other zone", event: ev("kiosk-01-ev-2", wire.EventHandlingStarted, func(e *wire.Event) { e.At = at.In(time.FixedZone("CST", 8*3600)) }), status: 200},
		{name: "rating", event: rating, status: 201},
		{name: "rating changed", event: otherRating, status: 409, code: wire.CodeConflict},
		{name: "rejection", event: ev("kiosk-01-ev-rej", wire.EventRejection, func(e *wire.Event) {
			e.Material, e.Criterion, e.Reason = "M-PHOTO", "M-PHOTO-2", "背景不是白色"
		}), status: 201},
		{name: "rejection of another material's criterion", event: reject("kiosk-01-ev-rej3", "kiosk-01-case-1", "M-PHOTO", "M-HUKOU-1"), status: 400, code: wire.CodeBadRequest},
		{name: "rejection of an unpublished criterion", event: reject("kiosk-01-ev-rej4", "kiosk-01-case-1", "M-PHOTO", "M-PHOTO-9"), status: 400, code: wire.CodeBadRequest},
		{name: "rejection of a material not in the case", event: reject("kiosk-01-ev-rej5", "kiosk-01-case-1", "M-ID-OLD", "M-ID-OLD-1"), status: 400, code: wire.CodeBadRequest},
		{name: "rejection of a material not in the catalogue", event: reject("kiosk-01-ev-rej6", "kiosk-01-case-1", "A", "A-1"), status: 400, code: wire.CodeBadRequest},
		{name: "rejection of a case not held", event: reject("kiosk-01-ev-rej7", "kiosk-01-case-x", "M-PHOTO", "M-PHOTO-1"), status: 404, code: wire.CodeNotFound},
		{name: "rejection in a case of an unpublished revision", event: reject("kiosk-01-ev-rej8", "kiosk-01-case-old", "M-PHOTO", "M-PHOTO-1"), status: 400, code: wire.CodeBadRequest},
		{name: "rejection of an exempt material", event: reject("kiosk-01-ev-rej9", "kiosk-01-case-1", "M-HUKOU", "M-HUKOU-1"), status: 201},
		{name: "rejection by a clerk named with RLO", event: func() wire.Event {
			e := reject("kiosk-01-ev-rej10", "kiosk-01-case-1", "M-PHOTO", "M-PHOTO-1")
			e.Clerk = "王\u202e丽"
			return e
		}(), status: 400, code: wire.CodeBadRequest},
		{name: "rejection without criterion", event: ev("kiosk-01-ev-rej2", wire.EventRejection, func(e *wire.Event) { e.Material, e.Reason = "M-PHOTO", "不清楚" }), status: 400, code: wire.CodeBadRequest},
		{name: "poor rating without reason", event: ev("kiosk-01-ev-r2", wire.EventRating, func(e *wire.Event) { e.Level, e.Channel = 1, "qr" }), status: 400, code: wire.CodeBadRequest},
		{name: "finished without outcome", event: ev("kiosk-01-ev-f", wire.EventHandlingFinished, nil), status: 400, code: wire.CodeBadRequest},
		{name: "unknown kind", event: ev("kiosk-01-ev-u", "party", nil), status: 400, code: wire.CodeBadRequest},
		{name: "supplied before its blob", event: deferred, status: 422, code: wire.CodeBlobMissing},
		{name: "id differs from path", event: rating, path: "/v1/events/kiosk-01-ev-other", status: 400, code: wire.CodeBadRequest},
		{name: "malformed", path: "/v1/events/kiosk-01-ev-9", body: `{"id":"kiosk-01-ev-9",`, status: 400, code: wire.CodeBadRequest},
		{name: "too large", path: "/v1/events/kiosk-01-ev-9", body: `{"id":"kiosk-01-ev-9","reason":"` + strings.Repeat("长", 2000) + `"}`, status: 413, code: wire.CodeTooLarge},
		{name: "kiosk sends a clerk's kind", path: "/v1/events/kiosk-01-ev-k", body: mustJSON(wire.Event{ID: "kiosk-01-ev-k", Kind: wire.EventHandlingStarted, At: at, Case: "kiosk-01-case-1"}), status: 403, code: wire.CodeForbidden},
	}
	for _, c := range cases {
		path, body := c.path, c.body
		if path == "" {
			path = "/v1/events/" + c.event.ID
		}
		if body == "" {
			body = mustJSON(c.event)
		}
		caseID := c.event.Case
		if caseID == "" {
			caseID = "kiosk-01-case-1"
		}
		before := f.heldEvents(caseID)
		var code int
		var b []byte
		if strings.HasPrefix(path, "/v1/events/desk-00-") {
			code, b = f.asClerk("PUT", path, strings.NewReader(body))
		} else {
			code, b = f.do("PUT", path, f.token, strings.NewReader(body))
		}
		var eb wire.ErrorBody
		json.Unmarshal(b, &eb)
		if code != c.status || eb.Error.Code != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.name, code, b, c.status, c.code)
		}
		if code >= 300 && f.heldEvents(caseID) != before {
			t.Errorf("%s: refused, yet the events changed", c.name)
		}
	}
	if code, b := f.do("PUT", "/v1/blobs/"+sum(supplied), f.token, bytes.NewReader(supplied)); code != 201 {
		t.Fatalf("put blob: %d %s", code, b)
	}
	if code, b := f.asClerk("PUT", "/v1/events/"+deferred.ID, strings.NewReader(mustJSON(deferred))); code != 201 {
		t.Errorf("supplied after its blob: %d %s", code, b)
	}
	var kinds []string
	for _, e := range f.caseEvents("kiosk-01-case-1") {
		sender, clerk, window := "desk-00", "0001", "3"
		if e.Kind == wire.EventRating {
			sender, clerk, window = "kiosk-01", "", ""
		}
		if e.Terminal != sender || e.Clerk != clerk || e.Window != window {
			t.Errorf("event %s from terminal %q clerk %q window %q, want %s %q %q", e.ID, e.Terminal, e.Clerk, e.Window, sender, clerk, window)
		}
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, " "); got != "handling_started rating rejection rejection deferred_supplied" {
		t.Errorf("events of case-1: %s", got)
	}
	if code, _ := f.asClerk("GET", "/v1/events?case=..", nil); code != 400 {
		t.Errorf("events of a bad case id: %d", code)
	}
}

// heldEvents is what the storage holds of case id's events, as JSON: the
// state a refused request must leave alone.
func (f *fixture) heldEvents(id string) string {
	f.t.Helper()
	evs, err := f.st.CaseEvents(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return mustJSON(evs)
}

func (f *fixture) caseEvents(id string) []wire.Event {
	f.t.Helper()
	code, b := f.asClerk("GET", "/v1/events?case="+id, nil)
	var out []wire.Event
	if err := json.Unmarshal(b, &out); code != 200 || err != nil {
		f.t.Fatalf("events of %s: %d %s", id, code, b)
	}
	return out
}

func TestCatalogRevisions(t *testing.T) {
	f := newBareFixture(t, Options{})
	if code, b := f.do("GET", "/v1/catalog", f.token, nil); code != 404 || !strings.Contains(string(b), wire.CodeNoCatalog) {
		t.Errorf("no catalogue yet: %d %s", code, b)
	}
	doc3 := `{"revision": 3, "issuer": "大连市营商环境建设局", "items": []}`
	for _, c := range []struct {
		doc    string
		rev    int
		stored bool
		err    string
	}{
		{doc3, 3, true, ""},
		{`{"issuer":"大连市营商环境建设局","items":[],"revision":3}`, 3, false, "other content"}, // other bytes, same revision
		{"{\"revision\":3,\n \"issuer\":\"大连市营商环境建设局\",\"items\":[]}", 3, false, ""},   // the same, spaced otherwise
		{`{"revision": 2}`, 2, false, "not above"},
		{`{"issuer": "x"}`, 0, false, "no positive"},
		{`{"revision": 4`, 0, false, "catalogue document"},
		{`{"revision": 4, "items": []}`, 4, true, ""},
	} {
		rev, stored, err := f.srv.PublishCatalog([]byte(c.doc))
		if rev != c.rev || stored != c.stored || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("publish %s: %d %v %v; want %d %v %q", c.doc, rev, stored, err, c.rev, c.stored, c.err)
		}
	}
	if code, b := f.do("GET", "/v1/catalog", f.token, nil); code != 200 || string(bytes.TrimSpace(b)) != `{"revision":4}` {
		t.Errorf("head: %d %s", code, b)
	}
	if code, b := f.do("GET", "/v1/catalog/3", f.token, nil); code != 200 || string(b) != `{"revision":3,"issuer":"大连市营商环境建设局","items":[]}` {
		t.Errorf("revision 3: %d %s", code, b)
	}
	for path, want := range map[string]int{"/v1/catalog/5": 404, "/v1/catalog/03": 400, "/v1/catalog/x": 400, "/v1/catalog/0": 400} {
		if code, _ := f.do("GET", path, f.token, nil); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
	if code, _ := f.do("PUT", "/v1/catalog/5", f.token, strings.NewReader(`{"revision":5}`)); code != 405 {
		t.Errorf("a terminal may not publish a catalogue: %d", code)
	}
}
