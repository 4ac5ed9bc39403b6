package platform

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"yici/sync/wire"
)

// Clerk is a member of staff who signs in at a desk with a staff number and
// a PIN. Only an argon2id hash of the PIN is kept, and the whole record is
// sealed at rest.
type Clerk struct {
	ID        string    `json:"id"` // staff number, e.g. "0123"
	Name      string    `json:"name"`
	Hall      string    `json:"hall"`     // signs in only at terminals of this hall
	PINHash   string    `json:"pin_hash"` // PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Lockout
}

// Lockout counts wrong PINs in a row; at ClerkOptions.MaxFailures the
// name is locked until LockedUntil and the count starts again.
type Lockout struct {
	Failures    int       `json:"failures,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Updated     time.Time `json:"updated,omitzero"` // the last failure
}

// Session is a clerk signed in at a desk. Only the SHA-256 of its token is
// kept.
type Session struct {
	TokenHash string    `json:"token_hash"` // lowercase hex SHA-256 of the token
	Clerk     string    `json:"clerk"`
	Terminal  string    `json:"terminal"` // the desk it was opened at; refused elsewhere
	Window    string    `json:"window,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`   // absolute end
	LastUsed  time.Time `json:"last_used"` // refreshed at most once a minute
}

// expired reports whether ses has ended at now: past Expires, or unused
// for idle.
func (ses Session) expired(now time.Time, idle time.Duration) bool {
	return !now.Before(ses.Expires) || now.Sub(ses.LastUsed) >= idle
}

// Argon2Params are the cost of a PIN hash (argon2id, RFC 9106).
type Argon2Params struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// DefaultArgon2 costs about 60 ms and 32 MiB per hash on the reference
// machine (2 cores; BenchmarkPINHash), above OWASP's minimum (19 MiB, t=2).
// A stored hash keeps its own parameters, so changing these later leaves
// existing PINs valid.
var DefaultArgon2 = Argon2Params{Time: 3, MemoryKiB: 32 << 10, Threads: 1}

// ClerkOptions tune clerk sign-in and sessions. Zero values take the
// defaults.
type ClerkOptions struct {
	MaxFailures   int           // wrong PINs in a row that lock a clerk; default 5
	LockFor       time.Duration // how long; default 15 min
	SessionMaxAge time.Duration // a session's absolute lifetime; default 10 h
	SessionIdle   time.Duration // a session unused this long ends; default 30 min
	PIN           Argon2Params  // cost of new PIN hashes; default DefaultArgon2
	// OnSignIn, if set, is told of every sign-in attempt, failed or not,
	// after it is decided and before it is answered (the audit log).
	OnSignIn func(t Terminal, r SignInResult)
	Now      func() time.Time // the clock; default time.Now
}

// SignInResult is one sign-in attempt as OnSignIn is told of it.
type SignInResult struct {
	Clerk  string // the staff number asked for, as sent
	Window string
	OK     bool
	Reason string // why it was refused: one of the Reason constants; "" when OK
	// LockedUntil is set when the attempt was refused for a lock, or
	// caused one.
	LockedUntil time.Time
	At          time.Time
}

// Reasons of a refused sign-in, for the audit log; the desk is told only
// sign_in_failed or clerk_locked.
const (
	ReasonWrongPIN  = "wrong PIN"
	ReasonLocked    = "locked"
	ReasonUnknown   = "unknown clerk"
	ReasonDisabled  = "disabled"
	ReasonOtherHall = "other hall"
	ReasonMalformed = "malformed request"
	ReasonInternal  = "internal error"
)

// ErrSessionRequired is wrapped by the errors of clerkSession that mean the
// request has no valid clerk session (answered 401 session_required).
var ErrSessionRequired = errors.New("clerk session required")

// clerkState is the Server's clerk machinery.
type clerkState struct {
	opt ClerkOptions
	sem chan struct{} // bounds the PIN hashes running at once (CPU and memory)

	dummyOnce sync.Once
	dummy     string // a hash of no PIN, verified against for unknown clerks

	mu       sync.Mutex
	lastTidy time.Time
}

func newClerkState(opt *ClerkOptions) *clerkState {
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 5
	}
	if opt.LockFor <= 0 {
		opt.LockFor = 15 * time.Minute
	}
	if opt.SessionMaxAge <= 0 {
		opt.SessionMaxAge = 10 * time.Hour
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = 30 * time.Minute
	}
	if opt.PIN.Time == 0 || opt.PIN.MemoryKiB == 0 || opt.PIN.Threads == 0 {
		opt.PIN = DefaultArgon2
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &clerkState{opt: *opt, sem: make(chan struct{}, max(1, runtime.NumCPU()))}
}

func (k *clerkState) now() time.Time { return k.opt.Now().UTC() }

// hashPIN returns pin's argon2id hash as a PHC string, under a new salt.
func (k *clerkState) hashPIN(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := k.opt.PIN
	k.sem <- struct{}{}
	sum := argon2.IDKey([]byte(pin), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	<-k.sem
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// verifyPIN reports whether pin hashes to encoded, comparing in constant
// time. A malformed encoded costs a dummy hash all the same.
func (k *clerkState) verifyPIN(ctx context.Context, encoded, pin string) (bool, error) {
	p, salt, want, err := parsePINHash(encoded)
	if err != nil {
		k.verifyPIN(ctx, k.dummyHash(), pin)
		return false, err
	}
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	got := argon2.IDKey([]byte(pin), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	<-k.sem
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is a hash no PIN is known for, made once: a sign-in for an
// unknown clerk verifies against it, to cost what one for a known clerk
// does.
func (k *clerkState) dummyHash() string {
	k.dummyOnce.Do(func() {
		raw := make([]byte, 16)
		rand.Read(raw)
		h, err := k.hashPIN(hex.EncodeToString(raw))
		if err != nil {
			panic("platform: hash dummy PIN: " + err.Error())
		}
		k.dummy = h
	})
	return k.dummy
}

func parsePINHash(s string) (p Argon2Params, salt, sum []byte, err error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errors.New("not an argon2id v19 hash")
	}
	var m, t, th uint32
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil {
		return p, nil, nil, fmt.Errorf("argon2id parameters %q: %w", f[3], err)
	}
	if m < 8 || m > 1<<21 || t < 1 || t > 100 || th < 1 || th > 64 {
		return p, nil, nil, fmt.Errorf("argon2id parameters %q out of range", f[3])
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(f[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("argon2id salt is malformed")
	}
	if sum, err = b64.DecodeString(f[5]); err != nil || len(sum) < 16 {
		return p, nil, nil, errors.New("argon2id hash is malformed")
	}
	return Argon2Params{Time: t, MemoryKiB: m, Threads: uint8(th)}, salt, sum, nil
}

// fail counts a wrong PIN against l and reports whether it locked l.
func (k *clerkState) fail(l *Lockout, now time.Time) bool {
	l.Failures++
	l.Updated = now
	if l.Failures < k.opt.MaxFailures {
		return false
	}
	l.Failures = 0
	l.LockedUntil = now.Add(k.opt.LockFor)
	return true
}

var clerkIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// ValidClerkID reports whether id may be a staff number: 1 to 32 of A–Z,
// a–z, 0–9, '.', '_', '-', starting with a letter or digit.
func ValidClerkID(id string) bool { return clerkIDPattern.MatchString(id) }

// CheckPIN returns what is wrong with pin as a clerk's PIN, or nil: it is 6
// to 12 digits, not one digit repeated, not a run up or down (123456,
// 987654, 890123), not a shorter block repeated (121212, 123123), and not
// the staff number.
func CheckPIN(id, pin string) error {
	if len(pin) < 6 || len(pin) > 12 {
		return errors.New("a PIN is 6 to 12 digits")
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return errors.New("a PIN is 6 to 12 digits")
		}
	}
	up, down := true, true
	for i := 1; i < len(pin); i++ {
		d := (int(pin[i]) - int(pin[i-1]) + 10) % 10
		up = up && d == 1
		down = down && d == 9
	}
	if up || down {
		return errors.New("a PIN must not be a run of digits up or down")
	}
	for n := 1; n <= len(pin)/2; n++ {
		if len(pin)%n == 0 && strings.Repeat(pin[:n], len(pin)/n) == pin {
			return errors.New("a PIN must not be one digit or block repeated")
		}
	}
	if pin == id {
		return errors.New("a PIN must not be the staff number")
	}
	return nil
}

func validName(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max || strings.TrimSpace(s) != s {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// AddClerk adds the clerk id (a staff number) of hall, named name, with
// pin (see CheckPIN).
func (s *Server) AddClerk(hall, id, name, pin string) error {
	switch {
	case !validName(hall, 128):
		return fmt.Errorf("add clerk: hall %q is empty or not printable", hall)
	case !ValidClerkID(id):
		return fmt.Errorf("add clerk: %q is not a staff number (1 to 32 of A-Z a-z 0-9 . _ -)", id)
	case !validName(name, 64):
		return fmt.Errorf("add clerk %s: name %q is empty, longer than 64 characters or not printable", id, name)
	}
	if err := CheckPIN(id, pin); err != nil {
		return fmt.Errorf("add clerk %s: %w", id, err)
	}
	h, err := s.ck.hashPIN(pin)
	if err != nil {
		return fmt.Errorf("add clerk %s: %w", id, err)
	}
	c := Clerk{ID: id, Name: name, Hall: hall, PINHash: h, CreatedAt: s.ck.now()}
	if err := s.st.AddClerk(context.Background(), c); err != nil {
		return fmt.Errorf("add clerk: %w", err)
	}
	return nil
}

// DisableClerk disables the clerk id and ends its sessions: it signs in no
// more. Disabling a disabled clerk is not an error.
func (s *Server) DisableClerk(id string) error {
	ctx := context.Background()
	_, err := s.st.UpdateClerk(ctx, id, func(c *Clerk) bool {
		if c.Disabled {
			return false
		}
		c.Disabled = true
		return true
	})
	if err != nil {
		return fmt.Errorf("disable clerk: %w", err)
	}
	if _, err := s.st.DeleteClerkSessions(ctx, id); err != nil {
		return fmt.Errorf("disable clerk %s: end its sessions: %w", id, err)
	}
	s.auth.forget()
	return nil
}

// SetClerkPIN gives the clerk id a new PIN (see CheckPIN) and lifts a
// lockout. Its open sessions go on.
func (s *Server) SetClerkPIN(id, pin string) error {
	if err := CheckPIN(id, pin); err != nil {
		return fmt.Errorf("set PIN of clerk %s: %w", id, err)
	}
	h, err := s.ck.hashPIN(pin)
	if err != nil {
		return fmt.Errorf("set PIN of clerk %s: %w", id, err)
	}
	_, err = s.st.UpdateClerk(context.Background(), id, func(c *Clerk) bool {
		c.PINHash = h
		c.Lockout = Lockout{}
		return true
	})
	if err != nil {
		return fmt.Errorf("set PIN: %w", err)
	}
	return nil
}

// session serves /v1/session: POST signs a clerk in, DELETE signs out.
// Only desks call it (the access table).
func (s *Server) session(w http.ResponseWriter, r *http.Request, c *Caller) {
	switch r.Method {
	case http.MethodPost:
		s.signIn(w, r, c.Terminal)
	case http.MethodDelete:
		s.signOut(w, r, c.Terminal)
	}
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, t Terminal) {
	ctx := r.Context()
	res := SignInResult{At: s.ck.now()}
	var req wire.SessionRequest
	if !s.decode(w, r, &req) {
		res.Reason = ReasonMalformed
		s.noteSignIn(t, res)
		return
	}
	res.Clerk, res.Window = req.Clerk, req.Window
	if !ValidClerkID(req.Clerk) || req.PIN == "" || len(req.PIN) > 64 ||
		(req.Window != "" && !validName(req.Window, 32)) {
		res.Reason = ReasonMalformed
		s.noteSignIn(t, res)
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			"clerk must be a staff number, pin 1 to 64 characters, window at most 32 printable characters", nil)
		return
	}
	now := res.At
	// Made at the first sign-in, whatever its outcome, so that it is not
	// the first unknown number that pays for it.
	dummy := s.ck.dummyHash()
	c, err := s.st.GetClerk(ctx, req.Clerk)
	known := err == nil && c.Hall == t.Hall
	switch {
	case err == nil && !known:
		res.Reason = ReasonOtherHall
	case errors.Is(err, ErrNotFound):
		res.Reason = ReasonUnknown
	case err != nil:
		s.signInInternal(w, t, res, "read clerk", err)
		return
	}

	if !known {
		// Alike in answer and cost to a wrong PIN: one hash, one write, and
		// a lock after as many tries.
		if _, err := s.ck.verifyPIN(ctx, dummy, req.PIN); err != nil {
			s.signInInternal(w, t, res, "verify PIN", err)
			return
		}
		l, err := s.st.UpdateSignInMiss(ctx, t.Hall+"/"+req.Clerk, func(l *Lockout) bool {
			if l.LockedUntil.After(now) {
				return false
			}
			s.ck.fail(l, now)
			return true
		})
		if err != nil {
			s.signInInternal(w, t, res, "count sign-in failure", err)
			return
		}
		if l.LockedUntil.After(now) {
			res.LockedUntil = l.LockedUntil
		}
		s.refuseSignIn(w, t, res)
		return
	}

	ok, err := s.ck.verifyPIN(ctx, c.PINHash, req.PIN)
	if err != nil && ctx.Err() != nil {
		s.signInInternal(w, t, res, "verify PIN", err)
		return
	}
	if err != nil {
		s.logf("platform: clerk %s: stored PIN hash: %v", c.ID, err) // and the PIN is wrong
	}
	c, err = s.st.UpdateClerk(ctx, c.ID, func(c *Clerk) bool {
		switch {
		case c.LockedUntil.After(now):
			res.Reason, res.LockedUntil = ReasonLocked, c.LockedUntil
			return false
		case c.Disabled || !ok || c.Hall != t.Hall:
			res.Reason = ReasonWrongPIN
			if c.Disabled {
				res.Reason = ReasonDisabled // counted all the same, to look alike
			}
			if c.Hall != t.Hall {
				res.Reason = ReasonOtherHall // moved meanwhile
				return false
			}
			if s.ck.fail(&c.Lockout, now) {
				res.LockedUntil = c.LockedUntil
			}
			return true
		}
		res.OK, res.Reason = true, ""
		if c.Lockout == (Lockout{}) {
			return false
		}
		c.Lockout = Lockout{}
		return true
	})
	if err != nil {
		res.OK, res.Reason, res.LockedUntil = false, "", time.Time{}
		s.signInInternal(w, t, res, "update clerk", err)
		return
	}
	if !res.OK {
		s.refuseSignIn(w, t, res)
		return
	}

	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		res.OK = false
		s.signInInternal(w, t, res, "make session token", err)
		return
	}
	token := hex.EncodeToString(raw)
	ses := Session{TokenHash: tokenHash(token), Clerk: c.ID, Terminal: t.Name, Window: req.Window,
		Created: now, Expires: now.Add(s.ck.opt.SessionMaxAge), LastUsed: now}
	if err := s.st.PutSession(ctx, ses); err != nil {
		res.OK = false
		s.signInInternal(w, t, res, "store session", err)
		return
	}
	s.noteSignIn(t, res)
	s.tidySessions(ctx, now)
	writeJSON(w, http.StatusCreated, wire.SessionAnswer{Token: token, Clerk: c.ID, Name: c.Name, Hall: c.Hall,
		Window: req.Window, ExpiresAt: ses.Expires, IdleSeconds: int(s.ck.opt.SessionIdle / time.Second)})
}

func (s *Server) noteSignIn(t Terminal, res SignInResult) {
	s.auditSignIn(t, res)
	if s.ck.opt.OnSignIn != nil {
		s.ck.opt.OnSignIn(t, res)
	}
}

func (s *Server) signInInternal(w http.ResponseWriter, t Terminal, res SignInResult, what string, err error) {
	if res.Reason == "" {
		res.Reason = ReasonInternal
	}
	s.noteSignIn(t, res)
	s.internal(w, what, err)
}

// refuseSignIn answers a refused sign-in: clerk_locked while res is locked,
// sign_in_failed otherwise, the same for every reason.
func (s *Server) refuseSignIn(w http.ResponseWriter, t Terminal, res SignInResult) {
	s.noteSignIn(t, res)
	if !res.LockedUntil.IsZero() {
		wait := res.LockedUntil.Sub(res.At)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, wire.CodeClerkLocked,
			fmt.Sprintf("too many wrong PINs: sign-in is locked for %d minutes; or have the PIN reset", int((wait+time.Minute-1)/time.Minute)), nil)
		return
	}
	writeError(w, http.StatusUnauthorized, wire.CodeSignInFailed, "unknown staff number or wrong PIN", nil)
}

// tidySessions removes expired sessions and stale miss records, at most
// every ten minutes; a failure is only logged.
func (s *Server) tidySessions(ctx context.Context, now time.Time) {
	s.ck.mu.Lock()
	due := now.Sub(s.ck.lastTidy) >= 10*time.Minute
	if due {
		s.ck.lastTidy = now
	}
	s.ck.mu.Unlock()
	if !due {
		return
	}
	if _, err := s.st.DeleteExpiredSessions(ctx, now, s.ck.opt.SessionIdle); err != nil {
		s.logf("platform: remove expired sessions: %v", err)
	}
	if err := s.st.DeleteSignInMisses(ctx, now.Add(-24*time.Hour)); err != nil {
		s.logf("platform: remove old sign-in failures: %v", err)
	}
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, t Terminal) {
	token := r.Header.Get(wire.HeaderSession)
	if !wire.ValidSHA256(token) {
		writeError(w, http.StatusUnauthorized, wire.CodeSessionRequired, "no valid "+wire.HeaderSession+" header", nil)
		return
	}
	h := tokenHash(token)
	ses, err := s.st.SessionByHash(r.Context(), h)
	switch {
	case errors.Is(err, ErrNotFound):
		w.WriteHeader(http.StatusNoContent) // ended already
		return
	case err != nil:
		s.internal(w, "read session", err)
		return
	case ses.Terminal != t.Name:
		writeError(w, http.StatusUnauthorized, wire.CodeSessionRequired, "the session was opened at another terminal", nil)
		return
	}
	if err := s.st.DeleteSession(r.Context(), h); err != nil {
		s.internal(w, "end session", err)
		return
	}
	s.auth.forget()
	w.WriteHeader(http.StatusNoContent)
}

// clerkSession returns the clerk session r carries in its Yici-Session
// header, and its clerk, for a handler of terminal t that acts for a clerk
// (confirm, verdicts, decisions): the clerk is the session's, never the
// body's. The session must exist, be unexpired and not idle, have been
// opened at t, and its clerk must not be disabled; an error wrapping
// ErrSessionRequired says which is not so. Other errors are the storage's.
// A session in use has its LastUsed refreshed at most once a minute.
// Answer an error with sessionFailed.
func (s *Server) clerkSession(r *http.Request, t Terminal) (Session, Clerk, error) {
	ctx := r.Context()
	token := r.Header.Get(wire.HeaderSession)
	if token == "" {
		return Session{}, Clerk{}, fmt.Errorf("no %s header; a clerk must sign in: %w", wire.HeaderSession, ErrSessionRequired)
	}
	if !wire.ValidSHA256(token) { // the same shape: 64 lowercase hex digits
		return Session{}, Clerk{}, fmt.Errorf("%s is not a session token: %w", wire.HeaderSession, ErrSessionRequired)
	}
	h := tokenHash(token)
	ses, err := s.st.SessionByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Session{}, Clerk{}, fmt.Errorf("the session has ended; sign in again: %w", ErrSessionRequired)
	}
	if err != nil {
		return Session{}, Clerk{}, fmt.Errorf("read session: %w", err)
	}
	if ses.Terminal != t.Name {
		return Session{}, Clerk{}, fmt.Errorf("the session was opened at another terminal: %w", ErrSessionRequired)
	}
	now := s.ck.now()
	if ses.expired(now, s.ck.opt.SessionIdle) {
		if err := s.st.DeleteSession(ctx, h); err != nil {
			s.logf("platform: remove expired session: %v", err)
		}
		why := "the session has expired"
		if now.Before(ses.Expires) {
			why = "the session was idle too long"
		}
		return Session{}, Clerk{}, fmt.Errorf("%s; sign in again: %w", why, ErrSessionRequired)
	}
	c, err := s.st.GetClerk(ctx, ses.Clerk)
	if errors.Is(err, ErrNotFound) {
		return Session{}, Clerk{}, fmt.Errorf("clerk %s is no more: %w", ses.Clerk, ErrSessionRequired)
	}
	if err != nil {
		return Session{}, Clerk{}, fmt.Errorf("read clerk: %w", err)
	}
	if c.Disabled {
		return Session{}, Clerk{}, fmt.Errorf("clerk %s is disabled: %w", c.ID, ErrSessionRequired)
	}
	if now.Sub(ses.LastUsed) >= time.Minute {
		err := s.st.TouchSession(ctx, h, now)
		if errors.Is(err, ErrNotFound) {
			return Session{}, Clerk{}, fmt.Errorf("the session has ended; sign in again: %w", ErrSessionRequired)
		}
		if err != nil {
			return Session{}, Clerk{}, fmt.Errorf("refresh session: %w", err)
		}
		ses.LastUsed = now
	}
	return ses, c, nil
}

// sessionFailed answers an error of clerkSession: 401 session_required, or
// 500 when the storage failed.
func (s *Server) sessionFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrSessionRequired) {
		msg, _ := strings.CutSuffix(err.Error(), ": "+ErrSessionRequired.Error())
		writeError(w, http.StatusUnauthorized, wire.CodeSessionRequired, msg, nil)
		return
	}
	s.internal(w, "check clerk session", err)
}
