package platform

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"yici/sync/appcode"
	"yici/sync/wire"
)

// TestAppCodeKey: every enrolled terminal gets the public key; a code the
// platform issues verifies with it alone; the key is the same after a
// restart and its seed is not in the database in the clear; an
// unauthenticated caller gets nothing.
func TestAppCodeKey(t *testing.T) {
	f := newFixture(t, Options{})
	keys := func(token string) []ed25519.PublicKey {
		t.Helper()
		code, b := f.do("GET", wire.AppCodeKeyPath, token, nil)
		var a wire.AppCodeKeys
		if code != 200 || json.Unmarshal(b, &a) != nil || len(a.Keys) != 1 {
			t.Fatalf("GET %s: %d %s", wire.AppCodeKeyPath, code, b)
		}
		k := a.Keys[0]
		if len(k.Ed25519) != ed25519.PublicKeySize || k.ID != appcode.KeyID(k.Ed25519) {
			t.Fatalf("key %+v: not an Ed25519 key under its id", k)
		}
		return []ed25519.PublicKey{k.Ed25519}
	}
	kioskKeys := keys(f.token)
	if !bytes.Equal(keys(f.desk)[0], kioskKeys[0]) {
		t.Fatal("a desk and a kiosk get different keys")
	}
	if code, _ := f.do("GET", wire.AppCodeKeyPath, "", nil); code != 401 {
		t.Errorf("GET without a token: %d, want 401", code)
	}

	code, err := f.srv.IssueAppCode("张三", "21020219880504123X", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := appcode.NewVerifier(kioskKeys...).Verify(code)
	if err != nil || p.IDNumber != "21020219880504123X" || p.Name != "张三" {
		t.Fatalf("the platform's code: %+v, %v", p, err)
	}
	if _, err := f.srv.IssueAppCode("张三", "21020219880504123", 0); !errors.Is(err, appcode.ErrInvalidID) {
		t.Errorf("issue for a bad ID number: %v, want ErrInvalidID", err)
	}

	priv, err := f.st.AppCodeKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.st.Close()
	db, err := os.ReadFile(filepath.Join(f.dir, "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, priv.Seed()) {
		t.Error("the signing key's seed is in platform.db in the clear")
	}
	st, err := OpenBolt(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	again, err := st.AppCodeKey(t.Context())
	if err != nil || !again.Equal(priv) {
		t.Fatalf("key after reopening: %v (same: %v)", err, again.Equal(priv))
	}
}

// TestAdminIssuesAppCode: yici-platform appcode issue reaches a serving
// platform through the admin socket, and the log line names no person.
func TestAdminIssuesAppCode(t *testing.T) {
	f := newFixture(t, Options{})
	var mu sync.Mutex
	var logged bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- ServeAdmin(ctx, f.dir, f.srv, func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&logged, format+"\n", args...)
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	var c *AdminClient
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for c == nil {
		var err error
		if c, err = DialAdmin(f.dir); err != nil {
			select {
			case <-deadline:
				t.Fatalf("admin socket never came up: %v", err)
			case <-tick.C:
			}
		}
	}
	code, err := c.IssueAppCode("张三", "21020219880504123X", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := f.st.AppCodeKey(t.Context())
	if _, err := appcode.NewVerifier(priv.Public().(ed25519.PublicKey)).Verify(code); err != nil {
		t.Fatalf("code over the socket: %v", err)
	}
	if _, err := c.IssueAppCode("张三", "21020219880504123X", time.Hour); err == nil {
		t.Error("issued a code of an hour over the socket")
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Contains(logged.Bytes(), []byte("appcode/issue")) {
		t.Errorf("admin log has no issue: %q", logged.String())
	}
	if bytes.Contains(logged.Bytes(), []byte("张三")) || bytes.Contains(logged.Bytes(), []byte("123X")) {
		t.Errorf("admin log names the person: %s", logged.String())
	}
}
