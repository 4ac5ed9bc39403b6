package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"yici/sync/wire"
)

func TestVaultCache(t *testing.T) {
	s, path, key := openTemp(t)
	if _, _, err := s.Vault(testID); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty cache: %v", err)
	}
	a := wire.VaultAnswer{Applicant: "abc", AsOf: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		Entries: []wire.VaultEntry{{Ref: "licence:L1", Code: "M-HUKOU", Name: "居民户口簿", Source: wire.SourceLicence}}}
	before := time.Now()
	if err := s.PutVault(testID, a); err != nil {
		t.Fatal(err)
	}
	const other = "210204199208170022"
	if err := s.PutVault(other, wire.VaultAnswer{Applicant: "def"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path, key) // the cache outlives a restart
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, fetched, err := s.Vault(testID)
	if err != nil || got.Applicant != "abc" || len(got.Entries) != 1 || fetched.Before(before) || time.Since(fetched) > time.Minute {
		t.Errorf("cached answer %+v fetched %v, %v", got, fetched, err)
	}
	if n, err := s.PurgeVault(time.Now(), time.Hour); n != 0 || err != nil {
		t.Errorf("purged %d fresh answers (%v)", n, err)
	}
	if n, err := s.PurgeVault(time.Now().Add(31*24*time.Hour), 30*24*time.Hour); n != 2 || err != nil {
		t.Errorf("purged %d of 2 old answers (%v)", n, err)
	}
	if _, _, err := s.Vault(testID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after purge: %v", err)
	}
}

func TestCatalogCache(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, _, _, err := s.Catalog(); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty cache: %v", err)
	}
	for _, c := range []struct {
		doc     string
		rev     int
		err     string
		holding int
	}{
		{`{"revision": 3, "items": []}`, 3, "", 3},
		{`{"revision": 5, "items": [1]}`, 5, "", 5},
		{`{"revision": 4}`, 4, "", 5}, // older than the cached one: kept out
		{`{"items": []}`, 0, "no positive", 5},
		{`{"revision": 6`, 0, "catalogue document", 5},
	} {
		rev, err := s.PutCatalog([]byte(c.doc))
		if rev != c.rev || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("put %s: %d, %v", c.doc, rev, err)
		}
		if _, rev, _, err := s.Catalog(); rev != c.holding || err != nil {
			t.Errorf("after %s the cache holds %d (%v), want %d", c.doc, rev, err, c.holding)
		}
	}
	if doc, _, _, _ := s.Catalog(); string(doc) != `{"revision":5,"items":[1]}` {
		t.Errorf("cached document %s", doc)
	}
}

func TestEventOutbox(t *testing.T) {
	s, path, key := openTemp(t)
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	first := wire.Event{ID: "ev-1", Kind: wire.EventFirstInquiry, At: at, Clerk: "王丽", Item: "GA-0101"}
	rating := wire.Event{ID: "ev-2", Kind: wire.EventRating, At: at, Case: "c1", Level: 2, Reasons: []string{"等候太久"}, Channel: "pad"}
	supplied := wire.Event{ID: "ev-3", Kind: wire.EventDeferredSupplied, At: at, Case: "c1", Material: "M-RENT"}
	contract := []byte("rental contract of " + testName)
	for _, c := range []struct {
		e    wire.Event
		data []byte
		err  string
	}{
		{first, nil, ""},
		{rating, nil, ""},
		{supplied, contract, ""},
		{rating, nil, ""}, // a repeat does nothing
		{wire.Event{ID: "ev-2", Kind: wire.EventRating, At: at, Case: "c1", Level: 5, Channel: "pad"}, nil, "other content"},
		{wire.Event{ID: "ev-4", Kind: wire.EventRating, At: at, Case: "c1", Level: 9, Channel: "pad"}, nil, "rating level 9"},
		{wire.Event{ID: "ev-5", Kind: wire.EventDeferredSupplied, At: at, Case: "c1", Material: "M-RENT"}, nil, "sha256"},
	} {
		err := s.QueueEvent(c.e, c.data)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("queue %s: %v, want %q", c.e.ID, err, c.err)
		}
	}
	s.Close()
	s, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending, err := s.PendingEvents()
	var ids []string
	for _, e := range pending {
		ids = append(ids, e.ID)
	}
	if err != nil || !slices.Equal(ids, []string{"ev-1", "ev-2", "ev-3"}) {
		t.Fatalf("pending events %v, %v", ids, err)
	}
	if e := pending[2]; e.SHA256 != sum(contract) || e.Size != int64(len(contract)) {
		t.Errorf("supplied material's event %+v", e)
	}
	if b, err := s.Blob(sum(contract)); err != nil || !bytes.Equal(b, contract) {
		t.Errorf("supplied material's blob %q, %v", b, err)
	}
	if err := s.AckEvent("ev-3"); err != nil {
		t.Fatal(err)
	}
	if err := s.AckEvent("ev-3"); err != nil {
		t.Errorf("second ack: %v", err)
	}
	if _, err := s.Blob(sum(contract)); !errors.Is(err, ErrNotFound) {
		t.Errorf("blob of an acknowledged event is kept: %v", err)
	}
	if err := s.FailEvent("ev-2", "409 conflict"); err != nil {
		t.Fatal(err)
	}
	if err := s.AckEvent("ev-2"); err == nil {
		t.Error("acknowledged a failed event")
	}
	pending, _ = s.PendingEvents()
	if len(pending) != 1 || pending[0].ID != "ev-1" {
		t.Errorf("pending after ack and fail: %+v", pending)
	}
	log, _ := s.Events(0, 100)
	if last := log[len(log)-1]; last.Kind != EventFailed || last.Case != "!ev-2" || last.Detail != "409 conflict" {
		t.Errorf("log %+v", last)
	}
	// Cases and events share the outbox without seeing each other.
	if n, _, err := s.Pending(); n != 0 || err != nil {
		t.Errorf("Pending counts events as cases: %d %v", n, err)
	}
}
