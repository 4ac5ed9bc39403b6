package uploader

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"yici/sync/platform"
	"yici/sync/wire"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A kiosk cut off for a week past its token's expiry (D5): its queue is
// refused while the token is stale and kept, the token renews itself when
// the link returns, and the queue drains, each case once.
func TestExpiredTokenDoesNotStrandTheQueue(t *testing.T) {
	clk := &clock{t: time.Now()}
	st, err := platform.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := platform.New(st, platform.Options{Now: clk.now, TokenLifetime: 3 * 24 * time.Hour})
	if _, _, err := srv.PublishCatalog([]byte(`{"revision":1,"items":[]}`)); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Enrol(platform.RoleKiosk, "甘井子区政务服务中心", "desk-07")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &Client{BaseURL: hs.URL, Token: tok}

	s := openStore(t, t.TempDir())
	for _, id := range []string{"desk-07-c1", "desk-07-c2"} {
		addCase(t, s, id, map[string]int{id + "-page": 20 << 10})
	}
	clk.add(7 * 24 * time.Hour) // a week offline: the 3-day token expired

	u := New(s, c, fast)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err = u.Drain(ctx)
	cancel()
	var se *StatusError
	if !errors.As(err, &se) || se.Body.Code != wire.CodeTokenExpired {
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("drain with an expired token: %v, want it refused and kept", err)
		}
	}
	if n, _, _ := s.Pending(); n != 2 {
		t.Fatalf("%d cases pending after the refused drain, want both kept", n)
	}

	var saved string
	if err := renewToken(context.Background(), c, func(t string) error { saved = t; return nil }, 30*24*time.Hour); err != nil {
		t.Fatalf("renew an expired token: %v", err)
	}
	if saved == "" || saved == tok {
		t.Fatal("no new token saved")
	}
	if err := New(s, c, fast).Drain(context.Background()); err != nil {
		t.Fatalf("drain after renewal: %v", err)
	}
	for _, id := range []string{"desk-07-c1", "desk-07-c2"} {
		if _, err := st.GetCase(context.Background(), id); err != nil {
			t.Errorf("case %s not on the platform: %v", id, err)
		}
	}
}
