package uploader

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yici/sync/platform"
	"yici/sync/store"
	"yici/sync/wire"
)

// Events travel through the outbox after cases, a supplied material's blob
// with them, and each reaches the platform once.
func TestEventsThroughOutbox(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	addCase(t, s, "desk-07-c1", map[string]int{"c1-form": 5000})
	at := time.Now()
	contract := content("rent", 40<<10)
	events := []struct {
		e    wire.Event
		data []byte
	}{
		{wire.Event{ID: "desk-07-ev-1", Kind: wire.EventFirstInquiry, At: at, Clerk: "王丽", Item: "GA-0101"}, nil},
		{wire.Event{ID: "desk-07-ev-2", Kind: wire.EventHandlingStarted, At: at, Case: "desk-07-c1", Clerk: "王丽"}, nil},
		{wire.Event{ID: "desk-07-ev-3", Kind: wire.EventDeferredSupplied, At: at, Case: "desk-07-c1", Material: "M-RENT"}, contract},
		{wire.Event{ID: "desk-07-ev-4", Kind: wire.EventRating, At: at, Case: "desk-07-c1", Level: 5, Channel: "pad"}, nil},
	}
	for _, e := range events {
		if err := s.QueueEvent(e.e, e.data); err != nil {
			t.Fatal(err)
		}
	}
	// One the platform already holds with other content fails for good.
	clash := wire.Event{ID: "desk-07-ev-5", Kind: wire.EventRating, At: at, Case: "desk-07-c2", Level: 3, Channel: "qr"}
	if _, err := p.st.PutEvent(context.Background(), wire.Event{ID: "desk-07-ev-5", Kind: wire.EventRating, At: at, Case: "desk-07-c2", Level: 4, Channel: "qr"}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueEvent(clash, nil); err != nil {
		t.Fatal(err)
	}
	var told []string
	opt := fast
	opt.OnEvent = func(e Event) {
		if e.Event != "" {
			told = append(told, e.Event+" "+string(e.Kind))
		}
	}
	if err := New(s, p.client(http.DefaultTransport), opt).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, p, []string{"desk-07-c1"})
	if left, _ := s.PendingEvents(); len(left) != 0 {
		t.Errorf("events left in the outbox: %+v", left)
	}
	if got := strings.Join(told, ", "); got != "desk-07-ev-1 sent, desk-07-ev-2 sent, desk-07-ev-3 sent, desk-07-ev-4 sent, desk-07-ev-5 failed" {
		t.Errorf("told %s", got)
	}
	evs, err := p.st.CaseEvents(context.Background(), "desk-07-c1")
	if err != nil || len(evs) != 3 || evs[1].SHA256 != sum(contract) {
		t.Errorf("platform's events of c1: %+v, %v", evs, err)
	}
	if want := int64(5000 + 40<<10); p.blobBytes.Load() != want {
		t.Errorf("blob bytes %d, want %d", p.blobBytes.Load(), want)
	}
}

// The vault answer is cached; offline, the cached one comes back with its
// age, and a refusal by the platform is not papered over with it.
func TestLookupVaultOffline(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	if _, err := p.srv.LoadLicences("../platform/testdata/licences.json"); err != nil {
		t.Fatal(err)
	}
	const zhangSan = "21020219880504123X"
	c := p.client(http.DefaultTransport)
	a, fetched, fresh, err := LookupVault(context.Background(), c, s, zhangSan)
	if err != nil || !fresh || len(a.Entries) != 2 || time.Since(fetched) > time.Minute {
		t.Fatalf("online lookup: %+v %v %v %v", a, fetched, fresh, err)
	}
	if _, ok := a.OnFile("M-HUKOU", time.Now()); !ok {
		t.Error("户口簿 not on file")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ln.Close() // nothing listens here now: the platform is unreachable
	offline := &Client{BaseURL: "http://" + ln.Addr().String(), Token: p.token}
	cached, at, fresh, err := LookupVault(context.Background(), offline, s, zhangSan)
	if err != nil || fresh || at.Sub(fetched).Abs() > time.Second || len(cached.Entries) != 2 {
		t.Errorf("offline lookup: %+v %v %v %v", cached, at, fresh, err)
	}
	if _, _, _, err := LookupVault(context.Background(), offline, s, "210211196503020043"); err == nil {
		t.Error("offline lookup of someone never asked about succeeded")
	}
	var se *StatusError
	if _, _, _, err := LookupVault(context.Background(), c, s, "210202198805041231"); !errors.As(err, &se) || se.Status != 400 {
		t.Errorf("bad number: %v", err)
	}
}

func TestSyncCatalog(t *testing.T) {
	dir := t.TempDir()
	p := newBarePlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	c := p.client(http.DefaultTransport)
	if rev, err := SyncCatalog(context.Background(), c, s); rev != 0 || err != nil {
		t.Errorf("nothing published: %d %v", rev, err)
	}
	for _, doc := range []string{`{"revision":3,"items":[]}`, `{"revision":4,"items":[]}`} {
		if _, _, err := p.srv.PublishCatalog([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	if rev, err := SyncCatalog(context.Background(), c, s); rev != 4 || err != nil {
		t.Errorf("sync: %d %v", rev, err)
	}
	if doc, rev, _, err := s.Catalog(); rev != 4 || string(doc) != `{"revision":4,"items":[]}` || err != nil {
		t.Errorf("cached %d %s %v", rev, doc, err)
	}
	offline := &Client{BaseURL: "http://127.0.0.1:1", Token: p.token}
	if rev, err := SyncCatalog(context.Background(), offline, s); rev != 4 || err == nil {
		t.Errorf("offline sync: %d %v", rev, err)
	}
}

// Over TLS, a terminal trusts exactly the pinned certificate.
func TestPinnedTLS(t *testing.T) {
	dir := t.TempDir()
	st, err := platform.OpenBolt(filepath.Join(dir, "platform"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := platform.New(st, platform.Options{})
	token, _ := srv.Enrol(platform.RoleKiosk, "甘井子区政务服务中心", "desk-07")
	if _, _, err := srv.PublishCatalog([]byte(`{"revision":1,"items":[]}`)); err != nil { // the revision addCase names
		t.Fatal(err)
	}
	cfg, info, err := platform.LoadTLS(platform.TLSOptions{Dir: filepath.Join(dir, "platform")})
	if err != nil {
		t.Fatal(err)
	}
	url := serveTLS(t, srv, cfg)
	ctx := t.Context()

	s := openStore(t, dir)
	addCase(t, s, "desk-07-c1", map[string]int{"page": 30 << 10})
	pinned, err := PinnedTransport(info.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(s, &Client{BaseURL: url, Token: token, HTTP: &http.Client{Transport: pinned}}, fast).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.CaseState("desk-07-c1"); st != store.StateSent {
		t.Errorf("case over TLS is %s", st)
	}

	_, otherInfo, err := platform.LoadTLS(platform.TLSOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := PinnedTransport(otherInfo.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{BaseURL: url, Token: token, HTTP: &http.Client{Transport: wrong}}
	if _, err := c.Cases(ctx); err == nil || !strings.Contains(err.Error(), "not the pinned one") {
		t.Errorf("a platform with another certificate was trusted: %v", err)
	}
	plain := &Client{BaseURL: url, Token: token}
	if _, err := plain.Cases(ctx); err == nil {
		t.Error("the system roots trusted a self-signed certificate")
	}
	if _, err := PinnedTransport(filepath.Join(dir, "store.key")); err == nil {
		t.Error("a file without a certificate was accepted as a pin")
	}
}
