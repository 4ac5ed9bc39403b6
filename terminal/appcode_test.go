package terminal

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"yici/drivers/sim"
	"yici/sync/appcode"
)

// TestAppCode: the platform's app code, read by the code scanner over a
// serial port, starts a visit as the card does; an expired, a replayed,
// a forged code and a code of another kind are refused on the welcome
// screen with the reason in plain words, and start nothing.
func TestAppCode(t *testing.T) {
	h := newHall(t, t.TempDir())
	h.run(t)
	valid, err := h.srv.IssueAppCode(sim.SampleCard.Name, sim.SampleCard.IDNumber, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := h.pst.AppCodeKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	person := appcode.Person{Name: sim.SampleCard.Name, IDNumber: sim.SampleCard.IDNumber}
	expired, err := appcode.Issue(key, person, time.Now().Add(-10*time.Minute), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Forged: the platform's code with another person's name put in, the
	// signature left as it was.
	forged := strings.Replace(valid, strings.Split(valid, ".")[1], strings.Split(mustIssue(t, key, "李四"), ".")[1], 1)
	// Signed with a key the platform never published.
	_, stranger, _ := ed25519.GenerateKey(nil)

	if err := h.code.Scan(valid); err != nil {
		t.Fatal(err)
	}
	h.waitScreen(t, "find")
	h.ui(func() {
		if got, want := h.k.greeting.Text, "您好，张*（2102**********123X）"; got != want {
			t.Errorf("greeting %q, want %q", got, want)
		}
		if s := h.k.sess; s.card.IDNumber != sim.SampleCard.IDNumber || s.card.Name != sim.SampleCard.Name {
			t.Errorf("visit of %s, want %s's", s.card.Name, sim.SampleCard.Name)
		}
		if s := h.k.sess; s.vaultErr != nil || !s.vaultFresh {
			t.Errorf("the vault was not asked for the code's person: %v", s.vaultErr)
		}
		h.k.wipe()
	})

	for _, tt := range []struct {
		name, code, want string
	}{
		{"expired", expired, "已过期"},
		{"replayed", valid, "已使用"},
		{"forged", forged, "二维码无效"},
		{"unknown key", mustIssue(t, stranger, "张三"), "无法核验"},
		{"another kind of code", "91210200MA0XXXXX1K", "二维码无效"},
	} {
		if err := h.code.Scan(tt.code); err != nil {
			t.Fatal(err)
		}
		var msg, screen string
		if !h.uiEventually(func() bool {
			msg, screen = h.k.message.Text, h.k.Screen()
			return strings.Contains(msg, tt.want)
		}) {
			t.Fatalf("%s code: message %q, want %q", tt.name, msg, tt.want)
		}
		if screen != "welcome" {
			t.Errorf("%s code: the %s screen, want welcome", tt.name, screen)
		}
		if !strings.Contains(msg, "刷新二维码") && !strings.Contains(msg, "身份证") {
			t.Errorf("%s code: message %q says nothing of what to do", tt.name, msg)
		}
	}
	h.ui(func() {
		if h.k.sess != nil {
			t.Error("a refused code left a visit")
		}
	})
}

// mustIssue is a fresh code for 张三's number under name, signed by key.
func mustIssue(t *testing.T, key ed25519.PrivateKey, name string) string {
	t.Helper()
	c, err := appcode.Issue(key, appcode.Person{Name: name, IDNumber: sim.SampleCard.IDNumber}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
