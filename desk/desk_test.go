package desk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"yici/assets"
	"yici/sync/catalog"
	"yici/sync/platform"
	"yici/sync/uploader"
	"yici/sync/wire"
)

// TestReviewConfirmsAndRejects: a case with two scanned materials reaches
// the platform; the clerk passes one and fails the other citing one of its
// criteria. The passed one is then on file in the applicant's vault, and
// the rejection is recorded with its criterion.
func TestReviewConfirmsAndRejects(t *testing.T) {
	ctx := context.Background()
	st, err := platform.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := platform.New(st, platform.Options{Clerks: platform.ClerkOptions{PIN: platform.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}})
	// The platform refuses a case made under a revision it has not published.
	if _, _, err := srv.PublishCatalog(assets.SampleCatalog); err != nil {
		t.Fatal(err)
	}
	kioskTok, _ := srv.Enrol(platform.RoleKiosk, "DL01", "K01")
	deskTok, _ := srv.Enrol(platform.RoleDesk, "DL01", "W01")
	if err := srv.AddClerk("DL01", "0001", "王小明", "730461"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	kiosk := &uploader.Client{BaseURL: hs.URL, Token: kioskTok}
	cl := &uploader.Client{BaseURL: hs.URL, Token: deskTok}

	m := wire.Manifest{ID: "K01-20261127-090000-0001", CatalogRevision: 2, Items: []string{"GA-0101"},
		Applicant: wire.Applicant{Name: "张三", IDNumber: "21020219880504123X"}, CreatedAt: time.Now().UTC()}
	for _, c := range []struct{ code, page string }{{"M-ID-OLD", "old card"}, {"M-PHOTO", "photo receipt"}} {
		sum := sha256.Sum256([]byte(c.page))
		h := hex.EncodeToString(sum[:])
		if err := kiosk.PutBlob(ctx, h, []byte(c.page)); err != nil {
			t.Fatal(err)
		}
		m.Materials = append(m.Materials, wire.MaterialRef{Code: c.code, Name: c.code, SHA256: h, Size: int64(len(c.page))})
	}
	if err := kiosk.PutCase(ctx, m); err != nil {
		t.Fatal(err)
	}

	cat, err := catalog.Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	test.NewTempApp(t)
	d := New(cl, cat, test.NewTempWindow(t, nil))
	d.Refresh(ctx) // nobody signed in: nothing is read
	if len(d.cases) != 0 {
		t.Fatal("the desk listed cases before a clerk signed in")
	}
	if err := d.SignIn(ctx, "0001", "111111", "3"); err == nil || !strings.Contains(d.signin.message.Text, "工号或密码不对") {
		t.Fatalf("wrong PIN: %v, form says %q", err, d.signin.message.Text)
	}
	if err := d.SignIn(ctx, "0001", "730461", "3"); err != nil {
		t.Fatal(err)
	}
	d.SelectLatest()
	if d.current == nil || d.current.ID != m.ID {
		t.Fatalf("desk opened %v, want %s", d.current, m.ID)
	}
	if _, ok := d.verdicts["M-HUKOU"]; ok {
		t.Error("a material not handed in has a verdict")
	}
	sel := d.verdicts["M-PHOTO"]
	for _, o := range sel.Options {
		if strings.Contains(o, "[M-PHOTO-1]") {
			sel.SetSelected(o)
		}
	}
	test.Tap(d.record)
	if !strings.Contains(d.status.Text, "1 件材料确认入库") || !strings.Contains(d.status.Text, "1 件退回") {
		t.Fatalf("status %q", d.status.Text)
	}

	ans, err := cl.Vault(ctx, "21020219880504123X")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ans.OnFile("M-ID-OLD", time.Now()); !ok {
		t.Error("the passed material is not on file after the review")
	}
	if _, ok := ans.OnFile("M-PHOTO", time.Now()); ok {
		t.Error("the failed material is on file after the review")
	}
	evs, err := cl.CaseEvents(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != wire.EventRejection || evs[0].Criterion != "M-PHOTO-1" || evs[0].Clerk != "0001" || evs[0].Terminal != "W01" {
		t.Fatalf("events %+v, want one rejection citing M-PHOTO-1 by the clerk", evs)
	}

	d.SignOut(ctx)
	if d.SignedIn() || d.current != nil || len(d.cases) != 0 {
		t.Error("signing out left the clerk's cases on screen")
	}
	if _, err := cl.Cases(ctx); err == nil {
		t.Error("the desk reads cases after signing out")
	}
}
