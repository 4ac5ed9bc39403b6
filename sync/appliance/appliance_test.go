package appliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yici/assets"
	"yici/sync/appcode"
	"yici/sync/catalog"
	"yici/sync/platform"
	"yici/sync/wire"
)

// testPlatform is the platform as the demo runs it: bbolt storage in a
// temporary directory, the sample catalogue published, served over TLS
// with its generated certificate, which the appliance pins.
type testPlatform struct {
	srv  *platform.Server
	pst  *platform.BoltStorage
	url  string
	cert string // the certificate file to pin
}

func startPlatform(t *testing.T) *testPlatform {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "platform")
	pst, err := platform.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pst.Close() })
	srv := platform.New(pst, platform.Options{})
	if _, _, err := srv.PublishCatalog(assets.SampleCatalog); err != nil {
		t.Fatal(err)
	}
	cfg, info, err := platform.LoadTLS(platform.TLSOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- platform.Serve(ctx, ln, srv, cfg) }()
	t.Cleanup(func() { cancel(); <-served })
	return &testPlatform{srv: srv, pst: pst, url: "https://" + ln.Addr().String(), cert: info.CertFile}
}

// open enrols a kiosk named name and opens its appliance in dir.
func (p *testPlatform) open(t *testing.T, dir, name string) *Appliance {
	t.Helper()
	tok, err := p.srv.Enrol(platform.RoleKiosk, "DL01", name)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := Open(dir, p.url, tok, p.cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ap.Close() })
	return ap
}

// A case made in the appliance's store is sent by its uploader over the
// pinned connection and lands on the platform once, byte for byte.
func TestCaseEndToEnd(t *testing.T) {
	p := startPlatform(t)
	ap := p.open(t, filepath.Join(t.TempDir(), "kiosk"), "K01")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	rev := ap.Catalog.Current().Revision
	id := wire.NewCaseID("K01", time.Now())
	m := wire.Manifest{ID: id, CatalogRevision: rev, Items: []string{"RS-0201"},
		Applicant: wire.Applicant{Name: "张三", IDNumber: "21020219880504123X"}}
	if err := ap.Store.SaveCase(m); err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat([]byte("a scanned photo receipt "), 500)
	if _, err := ap.Store.Capture(id, wire.MaterialRef{Code: "M-PHOTO", ContentType: "image/png"}, page); err != nil {
		t.Fatal(err)
	}
	if err := ap.Store.Submit(id); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second drain finds nothing more to send
		if err := ap.Uploader.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := ap.Store.Pending(); n != 0 || err != nil {
		t.Errorf("%d cases still pending (%v)", n, err)
	}
	cases, err := p.pst.ListCases(ctx, "DL01", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].ID != id {
		t.Fatalf("platform holds %+v, want exactly %s", cases, id)
	}
	c, err := p.pst.GetCase(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(page)
	if got := c.Manifest; got.Applicant.IDNumber != m.Applicant.IDNumber || got.CatalogRevision != rev ||
		len(got.Materials) != 1 || got.Materials[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("platform holds manifest %+v", got)
	}
	rc, err := p.pst.OpenBlob(ctx, hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, page) {
		t.Error("the platform's page differs from the one captured")
	}
}

// A revision the platform publishes reaches the appliance's catalogue
// watchers while it runs, and is the one it starts with after a restart.
func TestCatalogSync(t *testing.T) {
	p := startPlatform(t)
	dir := filepath.Join(t.TempDir(), "kiosk")
	ap := p.open(t, dir, "K01")
	built := ap.Catalog.Current().Revision
	doc := bytes.Replace(assets.SampleCatalog, []byte(`"revision": 2`), []byte(`"revision": 3`), 1)
	if next, err := catalog.Parse(doc); err != nil || next.Revision != built+1 {
		t.Fatalf("test catalogue: %v (built-in revision %d)", err, built)
	}
	if _, _, err := p.srv.PublishCatalog(doc); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	ap.Catalog.OnUpdate(func(c *catalog.Catalog) { got <- c.Revision })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ap.SyncCatalog(ctx, 50*time.Millisecond) }()
	select {
	case rev := <-got:
		if rev != built+1 {
			t.Errorf("watchers told of revision %d, want %d", rev, built+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the new revision never reached the watchers")
	}
	cancel()
	<-done
	ap.Close()

	again, err := Open(dir, p.url, "", p.cert) // offline: no token
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if rev := again.Catalog.Current().Revision; rev != built+1 {
		t.Errorf("restarted with revision %d, want the cached %d", rev, built+1)
	}
}

// The client trusts the pinned certificate only: pinned to another
// platform's certificate it does not talk to this one.
func TestPinRefusesAnotherCertificate(t *testing.T) {
	p := startPlatform(t)
	_, other, err := platform.LoadTLS(platform.TLSOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.srv.Enrol(platform.RoleKiosk, "DL01", "K01")
	if err != nil {
		t.Fatal(err)
	}
	ap, err := Open(t.TempDir(), p.url, tok, other.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	if _, err := ap.Client.WhoAmI(context.Background()); err == nil {
		t.Fatal("a client pinned to another certificate reached the platform")
	}
	if _, err := Open(t.TempDir(), p.url, tok, filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("opened with a pinned certificate that does not exist")
	}
}

// ReadToken trims the token file and says how to enrol without one.
func TestReadToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "terminal.token")
	if _, err := ReadToken(path); err == nil || !strings.Contains(err.Error(), "yici-platform enrol") {
		t.Errorf("no token file: %v, want how to enrol", err)
	}
	if err := writeFileAtomic(path, []byte("tok-1\n")); err != nil {
		t.Fatal(err)
	}
	if tok, err := ReadToken(path); tok != "tok-1" || err != nil {
		t.Errorf("read %q, %v", tok, err)
	}
	if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

// The platform's app code key is fetched while online and kept, so an
// appliance restarted offline verifies the platform's codes.
func TestAppCodeKeysKept(t *testing.T) {
	p := startPlatform(t)
	dir := filepath.Join(t.TempDir(), "kiosk")
	ap := p.open(t, dir, "K01")
	code, err := p.srv.IssueAppCode("张三", "21020219880504123X", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ap.AppCodes.Verify(code); !errors.Is(err, appcode.ErrUnknownKey) {
		t.Fatalf("before the keys are fetched: %v, want ErrUnknownKey", err)
	}
	if err := ap.SyncAppCodeKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	ap.Close()

	again, err := Open(dir, "https://127.0.0.1:1", "", p.cert) // offline
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.SyncAppCodeKeys(t.Context()); err == nil {
		t.Fatal("fetched keys from nowhere")
	}
	if who, err := again.AppCodes.Verify(code); err != nil || who.Name != "张三" {
		t.Fatalf("offline, with the kept key: %+v, %v", who, err)
	}
}
