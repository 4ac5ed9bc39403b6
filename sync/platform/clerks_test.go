package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yici/sync/wire"
)

const (
	hallA = "中山区政务服务中心"
	hallB = "西岗区政务服务中心"
	pinOK = "482913"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type clerkFixture struct {
	*fixture
	clock *testClock
	desk  string // token of desk-01, hall A
	desk2 string // desk-02, hall A
	far   string // desk-09, hall B

	mu    sync.Mutex
	audit []SignInResult
}

// cheapArgon2 keeps the tests fast; BenchmarkPINHash measures the real cost.
var cheapArgon2 = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

func newClerkFixture(t *testing.T) *clerkFixture {
	t.Helper()
	cf := &clerkFixture{clock: &testClock{t: time.Date(2025, 3, 3, 8, 30, 0, 0, time.UTC)}}
	cf.fixture = newFixture(t, Options{Clerks: ClerkOptions{PIN: cheapArgon2, Now: cf.clock.Now,
		OnSignIn: func(_ Terminal, r SignInResult) {
			cf.mu.Lock()
			cf.audit = append(cf.audit, r)
			cf.mu.Unlock()
		}}})
	var err error
	for name, tok := range map[string]*string{"desk-01": &cf.desk, "desk-02": &cf.desk2} {
		if *tok, err = cf.srv.Enrol(RoleDesk, hallA, name); err != nil {
			t.Fatal(err)
		}
	}
	if cf.far, err = cf.srv.Enrol(RoleDesk, hallB, "desk-09"); err != nil {
		t.Fatal(err)
	}
	if err := cf.srv.AddClerk(hallA, "0123", "李秀英", pinOK); err != nil {
		t.Fatal(err)
	}
	if err := cf.srv.AddClerk(hallB, "0456", "王建国", pinOK); err != nil {
		t.Fatal(err)
	}
	return cf
}

// signIn posts a sign-in from the terminal of token and returns the status,
// the error code ("" on success), the answer and the Retry-After header.
func (cf *clerkFixture) signIn(token, clerk, pin string) (int, string, wire.SessionAnswer, string) {
	cf.t.Helper()
	body := mustJSON(wire.SessionRequest{Clerk: clerk, PIN: pin, Window: "3号窗口"})
	code, hdr, b := cf.send("POST", wire.SessionPath, token, nil, strings.NewReader(body))
	var ans wire.SessionAnswer
	if code == http.StatusCreated {
		if err := json.Unmarshal(b, &ans); err != nil {
			cf.t.Fatalf("sign-in answer %s: %v", b, err)
		}
		return code, "", ans, ""
	}
	var eb wire.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		cf.t.Fatalf("sign-in error %d %s: %v", code, b, err)
	}
	return code, eb.Error.Code, ans, hdr.Get("Retry-After")
}

func (cf *clerkFixture) mustSignIn(token, clerk string) wire.SessionAnswer {
	cf.t.Helper()
	code, ec, ans, _ := cf.signIn(token, clerk, pinOK)
	if code != http.StatusCreated {
		cf.t.Fatalf("sign in %s: %d %s", clerk, code, ec)
	}
	return ans
}

// check runs clerkSession for the terminal name with session token tok.
func (cf *clerkFixture) check(terminal, tok string) (Session, Clerk, error) {
	r := httptest.NewRequest("POST", "/v1/cases/x/confirm", nil)
	if tok != "" {
		r.Header.Set(wire.HeaderSession, tok)
	}
	return cf.srv.clerkSession(r, Terminal{Name: terminal, Hall: hallA})
}

func (cf *clerkFixture) lastAudit() SignInResult {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if len(cf.audit) == 0 {
		cf.t.Fatal("no sign-in was recorded")
	}
	return cf.audit[len(cf.audit)-1]
}

func TestClerkAdminValidation(t *testing.T) {
	cf := newClerkFixture(t)
	for _, tc := range []struct {
		name, hall, id, who, pin string
		ok                       bool
	}{
		{"good", hallA, "0777", "赵敏", "482915", true},
		{"twelve digits", hallA, "A-12", "赵敏", "482915730164", true},
		{"no hall", "", "0778", "赵敏", pinOK, false},
		{"id with space", hallA, "07 78", "赵敏", pinOK, false},
		{"id too long", hallA, strings.Repeat("7", 33), "赵敏", pinOK, false},
		{"no name", hallA, "0778", "", pinOK, false},
		{"name with newline", hallA, "0778", "赵\n敏", pinOK, false},
		{"pin too short", hallA, "0778", "赵敏", "48291", false},
		{"pin too long", hallA, "0778", "赵敏", "4829134829134", false},
		{"pin with letter", hallA, "0778", "赵敏", "48291a", false},
		{"all zeros", hallA, "0778", "赵敏", "000000", false},
		{"all sevens", hallA, "0778", "赵敏", "77777777", false},
		{"run up", hallA, "0778", "赵敏", "123456", false},
		{"run up wrapping", hallA, "0778", "赵敏", "890123", false},
		{"run down", hallA, "0778", "赵敏", "987654", false},
		{"pair repeated", hallA, "0778", "赵敏", "121212", false},
		{"triple repeated", hallA, "0778", "赵敏", "123123", false},
		{"staff number", hallA, "778899", "赵敏", "778899", false},
		{"exists", hallA, "0123", "李秀英", "482915", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cf.srv.AddClerk(tc.hall, tc.id, tc.who, tc.pin)
			if (err == nil) != tc.ok {
				t.Fatalf("AddClerk(%q, %q, %q, %q) = %v, want ok=%v", tc.hall, tc.id, tc.who, tc.pin, err, tc.ok)
			}
			if tc.name == "exists" && !errors.Is(err, ErrExists) {
				t.Errorf("adding a clerk twice: %v, want ErrExists", err)
			}
		})
	}
	for _, tc := range []struct {
		name, id, pin string
		want          error // nil: ok; errAny: any error
	}{
		{"good", "0123", "739105", nil},
		{"trivial", "0123", "111111", errAny},
		{"unknown clerk", "9999", "739105", ErrNotFound},
	} {
		t.Run("SetClerkPIN "+tc.name, func(t *testing.T) {
			err := cf.srv.SetClerkPIN(tc.id, tc.pin)
			switch {
			case tc.want == nil && err != nil, tc.want != nil && err == nil:
				t.Fatalf("SetClerkPIN(%q, %q) = %v, want %v", tc.id, tc.pin, err, tc.want)
			case tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
				t.Fatalf("SetClerkPIN(%q, %q) = %v, want %v", tc.id, tc.pin, err, tc.want)
			}
		})
	}
	if code, ec, _, _ := cf.signIn(cf.desk, "0123", "739105"); code != http.StatusCreated {
		t.Fatalf("sign in with the new PIN: %d %s", code, ec)
	}
	if code, ec, _, _ := cf.signIn(cf.desk, "0123", pinOK); ec != wire.CodeSignInFailed {
		t.Fatalf("sign in with the old PIN: %d %s, want sign_in_failed", code, ec)
	}
	if err := cf.srv.DisableClerk("9999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DisableClerk(unknown) = %v, want ErrNotFound", err)
	}
	for range 2 { // disabling twice is not an error
		if err := cf.srv.DisableClerk("0123"); err != nil {
			t.Fatal(err)
		}
	}
}

var errAny = errors.New("any error")

func TestSignIn(t *testing.T) {
	cf := newClerkFixture(t)
	now := cf.clock.Now()
	ans := cf.mustSignIn(cf.desk, "0123")
	want := wire.SessionAnswer{Token: ans.Token, Clerk: "0123", Name: "李秀英", Hall: hallA, Window: "3号窗口",
		ExpiresAt: now.Add(10 * time.Hour), IdleSeconds: 1800}
	if !wire.ValidSHA256(ans.Token) || ans != want {
		t.Fatalf("answer %+v, want %+v with a 64-hex token", ans, want)
	}
	ctx := context.Background()
	if _, err := cf.st.SessionByHash(ctx, ans.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("the token itself is a key of the sessions: %v", err)
	}
	ses, err := cf.st.SessionByHash(ctx, tokenHash(ans.Token))
	if err != nil {
		t.Fatal(err)
	}
	if ses.Clerk != "0123" || ses.Terminal != "desk-01" || ses.Window != "3号窗口" || !ses.Created.Equal(now) {
		t.Errorf("stored session %+v", ses)
	}
	got, c, err := cf.check("desk-01", ans.Token)
	if err != nil || got.Clerk != "0123" || c.Name != "李秀英" {
		t.Fatalf("clerkSession = %+v, %+v, %v", got, c, err)
	}
	if a := cf.lastAudit(); !a.OK || a.Clerk != "0123" || a.Reason != "" || a.Window != "3号窗口" {
		t.Errorf("audit %+v", a)
	}

	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"not JSON", "{", 400},
		{"bad staff number", `{"clerk":"../0123","pin":"482913"}`, 400},
		{"no PIN", `{"clerk":"0123"}`, 400},
		{"window with control", `{"clerk":"0123","pin":"482913","window":"3\u0007"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := cf.do("POST", wire.SessionPath, cf.desk, strings.NewReader(tc.body))
			if code != tc.want {
				t.Fatalf("%d %s, want %d", code, b, tc.want)
			}
			if a := cf.lastAudit(); a.OK || a.Reason != ReasonMalformed {
				t.Errorf("audit %+v", a)
			}
		})
	}
	if code, b := cf.do("GET", wire.SessionPath, cf.desk, nil); code != 405 {
		t.Errorf("GET /v1/session: %d %s", code, b)
	}
	if code, b := cf.do("POST", wire.SessionPath, "", strings.NewReader(`{"clerk":"0123","pin":"482913"}`)); code != 401 {
		t.Errorf("sign-in without a terminal token: %d %s", code, b)
	}
}

func TestSignInLockout(t *testing.T) {
	cf := newClerkFixture(t)
	for i := 1; i <= 4; i++ {
		if code, ec, _, _ := cf.signIn(cf.desk, "0123", "739105"); code != 401 || ec != wire.CodeSignInFailed {
			t.Fatalf("wrong PIN %d: %d %s", i, code, ec)
		}
		if a := cf.lastAudit(); a.Reason != ReasonWrongPIN {
			t.Fatalf("audit %+v", a)
		}
	}
	// A success clears the count: four more wrong ones do not lock.
	cf.mustSignIn(cf.desk, "0123")
	for i := 1; i <= 4; i++ {
		if _, ec, _, _ := cf.signIn(cf.desk, "0123", "739105"); ec != wire.CodeSignInFailed {
			t.Fatalf("wrong PIN %d after a success: %s", i, ec)
		}
	}
	code, ec, _, retry := cf.signIn(cf.desk, "0123", "739105")
	if code != http.StatusTooManyRequests || ec != wire.CodeClerkLocked || retry != "900" {
		t.Fatalf("fifth wrong PIN: %d %s Retry-After %q, want 429 clerk_locked 900", code, ec, retry)
	}
	if a := cf.lastAudit(); a.Reason != ReasonWrongPIN || !a.LockedUntil.Equal(cf.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("audit of the locking attempt %+v", a)
	}
	cf.clock.Add(14 * time.Minute)
	for _, desk := range []string{cf.desk, cf.desk2} {
		code, ec, _, retry := cf.signIn(desk, "0123", pinOK)
		if code != http.StatusTooManyRequests || ec != wire.CodeClerkLocked || retry != "60" {
			t.Fatalf("right PIN while locked: %d %s Retry-After %q", code, ec, retry)
		}
		if a := cf.lastAudit(); a.Reason != ReasonLocked || a.OK {
			t.Fatalf("audit %+v", a)
		}
	}
	cf.clock.Add(time.Minute)
	cf.mustSignIn(cf.desk, "0123")

	// SetClerkPIN lifts a lock.
	for range 5 {
		cf.signIn(cf.desk, "0123", "739105")
	}
	if _, ec, _, _ := cf.signIn(cf.desk, "0123", pinOK); ec != wire.CodeClerkLocked {
		t.Fatalf("not locked: %s", ec)
	}
	if err := cf.srv.SetClerkPIN("0123", "593017"); err != nil {
		t.Fatal(err)
	}
	if code, ec, _, _ := cf.signIn(cf.desk, "0123", "593017"); code != 201 {
		t.Fatalf("after SetClerkPIN: %d %s", code, ec)
	}
}

// An unknown staff number, a wrong PIN, a disabled clerk and one of another
// hall get the same answer, and an unknown number locks like a clerk's.
func TestSignInLooksAlike(t *testing.T) {
	cf := newClerkFixture(t)
	if err := cf.srv.AddClerk(hallA, "0999", "周芳", pinOK); err != nil {
		t.Fatal(err)
	}
	if err := cf.srv.DisableClerk("0999"); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, tc := range []struct {
		name, clerk, pin, reason string
	}{
		{"unknown clerk", "0124", pinOK, ReasonUnknown},
		{"wrong PIN", "0123", "739105", ReasonWrongPIN},
		{"disabled", "0999", pinOK, ReasonDisabled},
		{"other hall", "0456", pinOK, ReasonOtherHall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mustJSON(wire.SessionRequest{Clerk: tc.clerk, PIN: tc.pin})
			code, hdr, b := cf.send("POST", wire.SessionPath, cf.desk, nil, strings.NewReader(body))
			if code != 401 || hdr.Get("Retry-After") != "" {
				t.Fatalf("%d %s", code, b)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Errorf("answer %s differs from %s", b, first)
			}
			if a := cf.lastAudit(); a.OK || a.Reason != tc.reason || a.Clerk != tc.clerk {
				t.Errorf("audit %+v, want reason %q", a, tc.reason)
			}
		})
	}
	for _, clerk := range []string{"0124", "0999", "0123"} {
		var ec string
		for range 4 { // one try was made above
			_, ec, _, _ = cf.signIn(cf.desk, clerk, "739105")
		}
		if ec != wire.CodeClerkLocked {
			t.Errorf("clerk %s after five failures: %s, want clerk_locked", clerk, ec)
		}
	}
	// The unknown number is locked for hall A only; another hall's desk
	// counts its own.
	if _, ec, _, _ := cf.signIn(cf.far, "0124", "739105"); ec != wire.CodeSignInFailed {
		t.Errorf("unknown clerk at hall B: %s", ec)
	}
}

// A desk of another hall cannot sign a clerk in, nor lock one out.
func TestSignInOtherHall(t *testing.T) {
	cf := newClerkFixture(t)
	for range 6 {
		if code, ec, _, _ := cf.signIn(cf.far, "0123", pinOK); code == 201 {
			t.Fatalf("clerk of hall A signed in at hall B: %d %s", code, ec)
		}
	}
	if a := cf.lastAudit(); a.Reason != ReasonOtherHall {
		t.Errorf("audit %+v", a)
	}
	cf.mustSignIn(cf.desk, "0123")
	cf.mustSignIn(cf.far, "0456")
}

func TestSessionBoundToDesk(t *testing.T) {
	cf := newClerkFixture(t)
	ans := cf.mustSignIn(cf.desk, "0123")
	for _, tc := range []struct {
		name, terminal, token string
		ok                    bool
	}{
		{"own desk", "desk-01", ans.Token, true},
		{"other desk of the hall", "desk-02", ans.Token, false},
		{"no header", "desk-01", "", false},
		{"not a token", "desk-01", "x" + ans.Token[1:], false},
		{"unknown token", "desk-01", strings.Repeat("ab", 32), false},
		{"upper case", "desk-01", strings.ToUpper(ans.Token), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := cf.check(tc.terminal, tc.token)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrSessionRequired) {
				t.Fatalf("clerkSession = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// Another desk cannot end it either.
	code, _, b := cf.send("DELETE", wire.SessionPath, cf.desk2, map[string]string{wire.HeaderSession: ans.Token}, nil)
	if code != 401 || !strings.Contains(string(b), wire.CodeSessionRequired) {
		t.Fatalf("sign-out from another desk: %d %s", code, b)
	}
	if _, _, err := cf.check("desk-01", ans.Token); err != nil {
		t.Fatalf("session gone after another desk's sign-out: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	cf := newClerkFixture(t)
	ctx := context.Background()
	ans := cf.mustSignIn(cf.desk, "0123")
	h := tokenHash(ans.Token)
	lastUsed := func() time.Time {
		ses, err := cf.st.SessionByHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		return ses.LastUsed
	}
	start := cf.clock.Now()

	// LastUsed is written at most once a minute.
	cf.clock.Add(30 * time.Second)
	if _, _, err := cf.check("desk-01", ans.Token); err != nil {
		t.Fatal(err)
	}
	if !lastUsed().Equal(start) {
		t.Errorf("LastUsed written after 30 s: %v", lastUsed())
	}
	cf.clock.Add(31 * time.Second)
	ses, _, err := cf.check("desk-01", ans.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !lastUsed().Equal(cf.clock.Now()) || !ses.LastUsed.Equal(cf.clock.Now()) {
		t.Errorf("LastUsed %v after 61 s, want %v", lastUsed(), cf.clock.Now())
	}

	// Used every 29 minutes, it lives 10 hours and no longer.
	for cf.clock.Now().Add(29 * time.Minute).Before(start.Add(10 * time.Hour)) {
		cf.clock.Add(29 * time.Minute)
		if _, _, err := cf.check("desk-01", ans.Token); err != nil {
			t.Fatalf("at %v: %v", cf.clock.Now().Sub(start), err)
		}
	}
	cf.clock.Add(start.Add(10 * time.Hour).Sub(cf.clock.Now()))
	_, _, err = cf.check("desk-01", ans.Token)
	if !errors.Is(err, ErrSessionRequired) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("at 10 h: %v, want expired", err)
	}
	if _, err := cf.st.SessionByHash(ctx, h); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}

	// Unused for 30 minutes, it ends.
	ans = cf.mustSignIn(cf.desk, "0123")
	cf.clock.Add(29*time.Minute + 59*time.Second)
	if _, _, err := cf.check("desk-01", ans.Token); err != nil {
		t.Fatal(err)
	}
	cf.clock.Add(30 * time.Minute)
	_, _, err = cf.check("desk-01", ans.Token)
	if !errors.Is(err, ErrSessionRequired) || !strings.Contains(err.Error(), "idle") {
		t.Fatalf("after 30 min idle: %v, want idle", err)
	}

	// Expired sessions nobody asks for again are removed at a later sign-in.
	idle := cf.mustSignIn(cf.desk2, "0123")
	cf.clock.Add(11 * time.Hour)
	cf.mustSignIn(cf.desk, "0123")
	if _, err := cf.st.SessionByHash(ctx, tokenHash(idle.Token)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session not removed: %v", err)
	}
}

func TestDisableEndsSessions(t *testing.T) {
	cf := newClerkFixture(t)
	a, b := cf.mustSignIn(cf.desk, "0123"), cf.mustSignIn(cf.desk2, "0123")
	if err := cf.srv.DisableClerk("0123"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ desk, tok string }{{"desk-01", a.Token}, {"desk-02", b.Token}} {
		if _, _, err := cf.check(s.desk, s.tok); !errors.Is(err, ErrSessionRequired) {
			t.Errorf("session at %s after disable: %v", s.desk, err)
		}
		if _, err := cf.st.SessionByHash(context.Background(), tokenHash(s.tok)); !errors.Is(err, ErrNotFound) {
			t.Errorf("session at %s still stored: %v", s.desk, err)
		}
	}
	if _, ec, _, _ := cf.signIn(cf.desk, "0123", pinOK); ec != wire.CodeSignInFailed {
		t.Errorf("disabled clerk signing in: %s", ec)
	}
}

func TestSignOut(t *testing.T) {
	cf := newClerkFixture(t)
	ans := cf.mustSignIn(cf.desk, "0123")
	hdr := map[string]string{wire.HeaderSession: ans.Token}
	for i := range 2 { // a second sign-out finds it ended, and is fine
		if code, _, b := cf.send("DELETE", wire.SessionPath, cf.desk, hdr, nil); code != 204 {
			t.Fatalf("sign-out %d: %d %s", i, code, b)
		}
	}
	if _, _, err := cf.check("desk-01", ans.Token); !errors.Is(err, ErrSessionRequired) {
		t.Fatalf("session after sign-out: %v", err)
	}
	if code, _, b := cf.send("DELETE", wire.SessionPath, cf.desk, nil, nil); code != 401 {
		t.Errorf("sign-out without a session: %d %s", code, b)
	}
}

func TestSessionFailedAnswer(t *testing.T) {
	cf := newClerkFixture(t)
	_, _, err := cf.check("desk-01", "")
	rec := httptest.NewRecorder()
	cf.srv.sessionFailed(rec, err)
	var eb wire.ErrorBody
	if rec.Code != 401 || json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error.Code != wire.CodeSessionRequired ||
		strings.Contains(eb.Error.Message, ErrSessionRequired.Error()) || !strings.Contains(eb.Error.Message, wire.HeaderSession) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	cf.srv.logf = func(string, ...any) {}
	cf.srv.sessionFailed(rec, errors.New("disk on fire"))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), wire.CodeInternal) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// Neither the PIN, its hash nor the clerk's name is in the bbolt file in
// the clear, nor a session token.
func TestClerkAtRest(t *testing.T) {
	cf := newClerkFixture(t)
	ans := cf.mustSignIn(cf.desk, "0123")
	c, err := cf.st.GetClerk(context.Background(), "0123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.PINHash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(c.PINHash, pinOK) {
		t.Fatalf("PIN hash %q", c.PINHash)
	}
	cf.signIn(cf.desk, "0124", "739105") // a miss record, keyed
	if err := cf.st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(cf.dir, "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"name": "李秀英", "PIN": pinOK, "PIN hash": c.PINHash,
		"hash salt": strings.Split(c.PINHash, "$")[4], "token": ans.Token, "unknown clerk number": "0124"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the %s %q is in platform.db in the clear", what, s)
		}
	}
}

func TestPINHash(t *testing.T) {
	k := newClerkState(&ClerkOptions{PIN: cheapArgon2})
	h, err := k.hashPIN(pinOK)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := k.hashPIN(pinOK)
	if h == h2 {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		hash, pin string
		ok, err   bool
	}{
		{h, pinOK, true, false},
		{h, "482914", false, false},
		{h, "", false, false},
		{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", pinOK, false, true},
		{"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", pinOK, false, true},
		{"plain", pinOK, false, true},
	} {
		ok, err := k.verifyPIN(ctx, tc.hash, tc.pin)
		if ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("verifyPIN(%q, %q) = %v, %v", tc.hash, tc.pin, ok, err)
		}
	}
}

// BenchmarkPINHash is the cost of one PIN hash at DefaultArgon2, which
// a sign-in pays once.
func BenchmarkPINHash(b *testing.B) {
	k := newClerkState(&ClerkOptions{})
	h, err := k.hashPIN(pinOK)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if ok, _ := k.verifyPIN(ctx, h, pinOK); !ok {
			b.Fatal("PIN not verified")
		}
	}
}
