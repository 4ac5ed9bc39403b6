package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"testing"

	"yici/sync/platform"
	"yici/sync/wire"
)

// headerRecorder records the Yici-Session header of each request.
type headerRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get(wire.HeaderSession))
	h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestSignInOut(t *testing.T) {
	p := newPlatform(t, t.TempDir())
	desk, err := p.srv.Enrol(platform.RoleDesk, "甘井子区政务服务中心", "desk-03")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.srv.AddClerk("甘井子区政务服务中心", "0123", "李秀英", "482913"); err != nil {
		t.Fatal(err)
	}
	rec := &headerRecorder{}
	c := &Client{BaseURL: p.url, Token: desk, HTTP: &http.Client{Transport: rec}}
	ctx := context.Background()

	_, err = c.SignIn(ctx, "0123", "739105", "3号窗口")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 401 || se.Body.Code != wire.CodeSignInFailed || sessionOf(c) != "" {
		t.Fatalf("wrong PIN: %v, session %q", err, sessionOf(c))
	}
	ans, err := c.SignIn(ctx, "0123", "482913", "3号窗口")
	if err != nil {
		t.Fatal(err)
	}
	if sessionOf(c) != ans.Token || ans.Name != "李秀英" || ans.Window != "3号窗口" {
		t.Fatalf("answer %+v, session %q", ans, sessionOf(c))
	}
	if _, err := c.Missing(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	if sessionOf(c) != "" {
		t.Errorf("session %q after sign-out", sessionOf(c))
	}
	sum := sha256.Sum256([]byte(ans.Token))
	if _, err := p.st.SessionByHash(ctx, hex.EncodeToString(sum[:])); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("session still held after sign-out: %v", err)
	}
	if err := c.SignOut(ctx); err != nil { // none: nothing sent
		t.Fatal(err)
	}
	want := []string{
		"POST /v1/session ",
		"POST /v1/session ",
		"POST /v1/blobs/missing " + ans.Token,
		"DELETE /v1/session " + ans.Token,
	}
	if len(rec.seen) != len(want) {
		t.Fatalf("requests %q, want %q", rec.seen, want)
	}
	for i := range want {
		if rec.seen[i] != want[i] {
			t.Errorf("request %d: %q, want %q", i, rec.seen[i], want[i])
		}
	}
}

func sessionOf(c *Client) string {
	_, s := c.credentials()
	return s
}
