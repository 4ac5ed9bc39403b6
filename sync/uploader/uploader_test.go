package uploader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yici/sync/platform"
	"yici/sync/store"
	"yici/sync/wire"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// content is a material's bytes, made from a seed so a test can make them
// again to compare with what reached the platform.
func content(seed string, size int) []byte {
	out := make([]byte, 0, size+32)
	h := sha256.Sum256([]byte(seed))
	for len(out) < size {
		out = append(out, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return out[:size]
}

// testPlatform is a platform on httptest that counts what it is sent.
type testPlatform struct {
	srv     *platform.Server
	st      *platform.BoltStorage
	url     string
	token   string
	session string // clerk 0007's at desk-07

	blobBytes atomic.Int64 // blob body bytes received, by PUT or PATCH
	mu        sync.Mutex
	casesMade map[string]int // 201 answers per case id: the commits
}

// newPlatform is a platform on httptest with one enrolled kiosk and
// catalogue revision 1, the one addCase names, published.
func newPlatform(t testing.TB, dir string) *testPlatform {
	t.Helper()
	p := newBarePlatform(t, dir)
	if _, _, err := p.srv.PublishCatalog([]byte(`{"revision":1,"items":[]}`)); err != nil {
		t.Fatal(err)
	}
	return p
}

// newBarePlatform is newPlatform with no catalogue published.
func newBarePlatform(t testing.TB, dir string) *testPlatform {
	t.Helper()
	st, err := platform.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &testPlatform{srv: platform.New(st, platform.Options{Clerks: platform.ClerkOptions{PIN: cheapPIN}}), st: st,
		casesMade: map[string]int{}}
	// A desk with a clerk signed in may send every kind of event.
	if p.token, err = p.srv.Enrol(platform.RoleDesk, "甘井子区政务服务中心", "desk-07"); err != nil {
		t.Fatal(err)
	}
	if err := p.srv.AddClerk("甘井子区政务服务中心", "0007", "王丽", "730461"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(p)
	t.Cleanup(hs.Close)
	p.url = hs.URL
	c := &Client{BaseURL: p.url, Token: p.token}
	if _, err := c.SignIn(context.Background(), "0007", "730461", "7"); err != nil {
		t.Fatal(err)
	}
	_, p.session = c.credentials()
	return p
}

// cheapPIN keeps sign-in fast in tests.
var cheapPIN = platform.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
func (c countingReader) Close() error { return c.r.Close() }

func (p *testPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isBlob := (r.Method == "PUT" || r.Method == "PATCH") && strings.HasPrefix(r.URL.Path, "/v1/blobs/")
	isCase := r.Method == "PUT" && strings.HasPrefix(r.URL.Path, "/v1/cases/")
	if isBlob {
		r.Body = countingReader{r.Body, &p.blobBytes}
	}
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	p.srv.ServeHTTP(rec, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if isCase && rec.status == 201 {
		p.casesMade[last]++
	}
}

func (p *testPlatform) client(rt http.RoundTripper) *Client {
	return &Client{BaseURL: p.url, Token: p.token, Session: p.session, HTTP: &http.Client{Transport: rt}}
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	s, err := store.OpenWithKeyFile(filepath.Join(dir, "store.db"), filepath.Join(dir, "store.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addCase makes, fills and submits a case with materials made from seeds.
func addCase(t testing.TB, s *store.Store, id string, sizes map[string]int) {
	t.Helper()
	m := wire.Manifest{ID: id, CatalogRevision: 1, Items: []string{"370100-001"},
		Applicant: wire.Applicant{Name: "李四", IDNumber: "210202199001011232"}}
	if err := s.SaveCase(m); err != nil {
		t.Fatal(err)
	}
	for seed, size := range sizes {
		if _, err := s.Capture(id, wire.MaterialRef{Code: seed, ContentType: "application/pdf"}, content(seed, size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Submit(id); err != nil {
		t.Fatal(err)
	}
}

var fast = Options{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, RequestTimeout: 5 * time.Second}

// checkDelivered checks that every case of ids is sent and committed on the
// platform once, with byte-identical blobs, and that the outbox is empty.
// A blob may be written twice when a request the uploader gave up on still
// completes on the platform while the retry asks again; content addressing
// makes that harmless, so the commit of the case is what counts.
func checkDelivered(t *testing.T, s *store.Store, p *testPlatform, ids []string) {
	t.Helper()
	if n, _, err := s.Pending(); n != 0 || err != nil {
		t.Errorf("outbox holds %d cases (%v)", n, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if st, err := s.CaseState(id); st != store.StateSent {
			t.Errorf("case %s is %s (%v), want sent", id, st, err)
		}
		if p.casesMade[id] != 1 {
			t.Errorf("case %s stored %d times on the platform", id, p.casesMade[id])
		}
		local, _ := s.Case(id)
		c, err := p.st.GetCase(context.Background(), id)
		if err != nil {
			t.Errorf("case %s: %v", id, err)
			continue
		}
		local.Terminal = "desk-07"
		if !platform.Equal(local, c.Manifest) {
			t.Errorf("case %s differs:\nlocal    %+v\nplatform %+v", id, local, c.Manifest)
		}
		for _, mr := range c.Manifest.Materials {
			if mr.Exempt {
				continue
			}
			rc, err := p.st.OpenBlob(context.Background(), mr.SHA256)
			if err != nil {
				t.Errorf("case %s blob %s: %v", id, mr.Code, err)
				continue
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, content(mr.Code, int(mr.Size))) {
				t.Errorf("case %s blob %s differs from what was captured", id, mr.Code)
			}
		}
	}
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	var events []Event
	opt := fast
	opt.OnEvent = func(e Event) { events = append(events, e) }
	u := New(s, p.client(http.DefaultTransport), opt)

	addCase(t, s, "desk-07-c1", map[string]int{"c1-id-card": 40 << 10, "c1-licence": 300 << 10, "stamp": 1000})
	addCase(t, s, "desk-07-c2", map[string]int{"c2-form": 10 << 10, "stamp": 1000}) // the stamp is shared: sent once
	// A case whose id the platform holds with other content: refused for good.
	addCase(t, s, "desk-07-dup", map[string]int{"dup-form": 500})
	_, err := p.st.PutCase(context.Background(), platform.Case{Manifest: wire.Manifest{ID: "desk-07-dup", Terminal: "kiosk-03"}})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := u.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, p, []string{"desk-07-c1", "desk-07-c2"})
	if st, _ := s.CaseState("desk-07-dup"); st != store.StateFailed {
		t.Errorf("conflicting case is %s, want failed", st)
	}
	want := 40<<10 + 300<<10 + 1000 + 10<<10 + 500
	if got := p.blobBytes.Load(); got != int64(want) {
		t.Errorf("platform received %d blob bytes, want %d (each blob once)", got, want)
	}
	var log []string
	for _, e := range events {
		switch e.Kind {
		case Sending:
			if e.Percent == 100 {
				log = append(log, e.Case+" 100%")
			}
		case Failed:
			if !strings.Contains(e.Reason, "409") || !strings.Contains(e.Reason, wire.CodeConflict) {
				t.Errorf("failure reason %q does not name the conflict", e.Reason)
			}
			log = append(log, e.Case+" failed")
		default:
			log = append(log, e.Case+" "+string(e.Kind))
		}
	}
	if got, want := strings.Join(log, ", "), "desk-07-c1 queued, desk-07-c2 queued, desk-07-dup queued, desk-07-c1 100%, desk-07-c1 sent, desk-07-c2 100%, desk-07-c2 sent, desk-07-dup 100%, desk-07-dup failed"; got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	evs, _ := s.Events(0, 100)
	if last := evs[len(evs)-1]; last.Kind != store.EventFailed || last.Case != "desk-07-dup" || !strings.Contains(last.Detail, "conflict") {
		t.Errorf("store's last event %+v", last)
	}
}

// A case whose blobs the platform already holds costs no blob bytes (D4).
func TestNoBytesTheyAlreadyHold(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	sizes := map[string]int{"scan-1": 200 << 10, "scan-2": 50 << 10}
	for seed, size := range sizes {
		if err := p.st.PutBlob(context.Background(), "desk-07", sum(content(seed, size)), bytes.NewReader(content(seed, size))); err != nil {
			t.Fatal(err)
		}
	}
	addCase(t, s, "desk-07-c1", sizes)
	if err := New(s, p.client(http.DefaultTransport), fast).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := p.blobBytes.Load(); got != 0 {
		t.Errorf("sent %d blob bytes for blobs the platform holds", got)
	}
	checkDelivered(t, s, p, []string{"desk-07-c1"})
}

// Run sends what is submitted after a Kick, without waiting for the poll.
func TestRunKick(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	opt := fast
	opt.PollInterval = time.Hour
	sent := make(chan string, 1)
	opt.OnEvent = func(e Event) {
		if e.Kind == Sent {
			sent <- e.Case
		}
	}
	u := New(s, p.client(http.DefaultTransport), opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- u.Run(ctx) }()
	time.Sleep(20 * time.Millisecond) // let Run find the outbox empty and wait
	addCase(t, s, "desk-07-c1", map[string]int{"page": 100})
	u.Kick()
	select {
	case id := <-sent:
		if id != "desk-07-c1" {
			t.Errorf("sent %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Error("Kick did not wake Run")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}

// faulty is an http.RoundTripper that breaks a share of requests in the
// ways a hall's network does.
type faulty struct {
	next http.RoundTripper
	rate float64
	mu   sync.Mutex
	rng  *rand.Rand
	seen map[string]int
}

const (
	faultRefused = "refused"
	fault500     = "500"
	faultReset   = "reset mid-body"
	faultLostAck = "lost ack"
)

func (f *faulty) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fault := ""
	if f.rng.Float64() < f.rate {
		fault = []string{faultRefused, fault500, faultReset, faultLostAck}[f.rng.IntN(4)]
		f.seen[fault]++
	}
	f.mu.Unlock()
	switch fault {
	case faultRefused:
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("dial tcp: connect: connection refused (injected)")
	case fault500:
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{StatusCode: 500, Header: http.Header{}, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"error":{"code":"internal","message":"injected"}}`))}, nil
	case faultReset:
		if req.ContentLength > 1 {
			r := req.Clone(req.Context())
			r.Body = &breaking{r: req.Body, left: req.ContentLength / 2}
			resp, err := f.next.RoundTrip(r)
			if err == nil { // the server answered before reading it all
				resp.Body.Close()
				err = errors.New("connection reset by peer (injected)")
			}
			return nil, err
		}
	case faultLostAck:
		resp, err := f.next.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			err = errors.New("read: connection reset by peer (injected after the platform answered)")
		}
		return nil, err
	}
	return f.next.RoundTrip(req)
}

// breaking reads left bytes of r, then fails as a dropped connection does.
type breaking struct {
	r    io.ReadCloser
	left int64
}

func (b *breaking) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset (injected)")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
func (b *breaking) Close() error { return b.r.Close() }

func TestFaults(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("desk-07-c%02d", i)
		ids = append(ids, id)
		sizes := map[string]int{id + "-a": 20<<10 + i, id + "-b": 100 << 10}
		if i%4 == 0 {
			sizes["shared-stamp"] = 3000
		}
		addCase(t, s, id, sizes)
	}
	rt := &faulty{next: http.DefaultTransport, rate: 0.35, rng: rand.New(rand.NewPCG(1, 2)), seen: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := New(s, p.client(rt), fast).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, s, p, ids)
	for _, f := range []string{faultRefused, fault500, faultReset, faultLostAck} {
		if rt.seen[f] == 0 {
			t.Errorf("fault %q was never injected", f)
		}
	}
	t.Logf("faults injected: %v", rt.seen)
}
