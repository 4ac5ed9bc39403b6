package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"yici/sync/platform/audit"
	"yici/sync/wire"
)

// Role is what an enrolled terminal is for; it decides what it may call.
type Role string

// The roles (docs/sync-protocol.md §3).
const (
	// RoleKiosk: a self-service kiosk. It writes its own cases, blobs and
	// events, reads the catalogue, and asks the vault which material codes
	// are on file for the person at it: codes and dates, nothing else.
	RoleKiosk Role = "kiosk"
	// RoleDesk: a window's desk. Like a kiosk it sends; with a clerk signed
	// in it also reads the cases of its hall and their pages, and records
	// confirmations, verdicts and decisions in the clerk's name.
	RoleDesk Role = "desk"
	// RoleDisplay: a hall's call display. It reads the catalogue only.
	RoleDisplay Role = "display"
)

// Roles lists the roles a terminal may be enrolled with.
var Roles = []Role{RoleKiosk, RoleDesk, RoleDisplay}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("role %q is not kiosk, desk or display", s)
}

// Caller is who sent a request: an enrolled terminal and, at a desk, the
// clerk signed in there.
type Caller struct {
	Terminal Terminal
	Clerk    string // staff number of the signed-in clerk; "" without a session
	Window   string // the window the clerk signed in at
	// object is what the request read, named by the handler for the audit
	// record (a case id, a blob hash, an applicant key's first digits).
	object string
}

// Read names what this request reads of personal data, for its audit
// record.
func (c *Caller) Read(object string) { c.object = object }

// rule says who may call one method of one route.
type rule struct {
	roles []Role
	clerk bool // a clerk must be signed in at the desk
	// personal: the answer carries personal data, so every call (allowed or
	// not) is audited.
	personal bool
}

var (
	everyone  = rule{roles: Roles}
	senders   = rule{roles: []Role{RoleKiosk, RoleDesk}}
	vaultAsk  = rule{roles: []Role{RoleKiosk, RoleDesk}, personal: true}
	clerkRead = rule{roles: []Role{RoleDesk}, clerk: true, personal: true}
	clerkAct  = rule{roles: []Role{RoleDesk}, clerk: true}
	desks     = rule{roles: []Role{RoleDesk}}
	kiosks    = rule{roles: []Role{RoleKiosk}}
	boards    = rule{roles: Roles} // numbers and windows only: the kiosk prints how many wait ahead
)

// access is the whole authorisation table: "METHOD pattern" → rule. A
// method of a route that is not here is refused before its handler runs
// (405 from the table, so no handler can forget a check).
var access = map[string]rule{
	"POST /v1/blobs/missing":           senders,
	"HEAD /v1/blobs/{sha256}":          senders,
	"PUT /v1/blobs/{sha256}":           senders,
	"GET /v1/blobs/{sha256}":           clerkRead, // ?case= names the case it belongs to
	"POST /v1/blobs/{sha256}/uploads":  senders,
	"HEAD /v1/blobs/{sha256}/uploads":  senders,
	"PATCH /v1/blobs/{sha256}/uploads": senders,
	"PUT /v1/cases/{id}":               senders,
	"GET /v1/cases/{id}":               clerkRead,
	"GET /v1/cases":                    clerkRead,
	"POST /v1/cases/search":            clerkRead, // a person's cases in the hall, by the card's ID number
	"POST /v1/cases/{id}/confirm":      clerkAct,
	"POST /v1/vault/query":             vaultAsk, // a kiosk gets codes and dates only
	"PUT /v1/events/{id}":              senders,  // the kinds a kiosk may send: kioskEventKinds
	"GET /v1/events":                   clerkRead,
	"GET /v1/catalog":                  everyone,
	"GET /v1/catalog/{revision}":       everyone,
	"POST /v1/session":                 desks, // a clerk signs in
	"DELETE /v1/session":               desks,
	"GET /v1/whoami":                   everyone,
	"POST /v1/token":                   everyone,
	"GET /v1/appcode/key":              everyone, // public keys only (appcode.go)
	// The hall queue (queue.go): tickets of the caller's hall only.
	"PUT /v1/queue/tickets/{id}":           kiosks, // {id} begins with the kiosk's name
	"POST /v1/queue/tickets/{id}/printed":  kiosks,
	"POST /v1/queue/next":                  clerkAct,
	"POST /v1/queue/tickets/{id}/recall":   clerkAct,
	"POST /v1/queue/tickets/{id}/no_show":  clerkAct,
	"POST /v1/queue/tickets/{id}/hold":     clerkAct,
	"POST /v1/queue/tickets/{id}/transfer": clerkAct,
	"POST /v1/queue/tickets/{id}/finish":   clerkAct,
	"POST /v1/queue/tickets/{id}/priority": clerkAct,
	"GET /v1/queue/board":                  boards,
}

// kioskEventKinds are the events a kiosk may send; every other kind is a
// clerk's and needs a desk with a clerk signed in.
var kioskEventKinds = []string{wire.EventRating}

// allowedMethods lists the methods the table allows on pattern.
func allowedMethods(pattern string) string {
	var out []string
	for k := range access {
		if m, p, _ := strings.Cut(k, " "); p == pattern {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

type callerHandler func(w http.ResponseWriter, r *http.Request, c *Caller)

// handle registers h for pattern behind authentication and the access
// table.
func (s *Server) handle(pattern string, h callerHandler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ru, ok := access[r.Method+" "+pattern]
		if !ok {
			methodNotAllowed(w, r, allowedMethods(pattern))
			return
		}
		c, ok := s.authenticate(w, r, r.Method+" "+pattern == "POST /v1/token")
		if !ok {
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		if ru.personal {
			if s.opt.Audit != nil && s.auditDown.Load() {
				// Try once more: a record of the refusal is itself a test.
				s.auditRead(r, pattern, c, http.StatusServiceUnavailable)
				if s.auditDown.Load() {
					writeError(w, http.StatusServiceUnavailable, wire.CodeInternal, "the audit log cannot be written, so no personal data is read; hall IT must look at the platform's log", nil)
					return
				}
			}
			defer func() { s.auditRead(r, pattern, c, rec.status()) }()
		}
		if !slices.Contains(ru.roles, c.Terminal.Role) {
			forbidden(rec, fmt.Sprintf("a %s may not %s %s", c.Terminal.Role, r.Method, pattern))
			return
		}
		if ru.clerk && !s.needClerk(rec, r, c) {
			return
		}
		h(rec, r, c)
	})
}

// authenticate finds the terminal of the request's bearer token and
// answers 401 itself when there is none, it is revoked or expired, or it
// has no role yet. renewing: the request rotates the token, which an
// expired token may still do for TokenRenewWindow, so a kiosk that was
// offline past its token's expiry renews and sends its queue rather than
// stranding it (D5); a revoked token never may.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, renewing bool) (*Caller, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "missing bearer token", nil)
		return nil, false
	}
	h := tokenHash(token)
	t, ok := s.auth.terminal(h, s.now())
	if !ok {
		var err error
		t, err = s.st.TerminalByToken(r.Context(), h)
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "unknown token; enrol this terminal", nil)
			return nil, false
		}
		if err != nil {
			s.internal(w, "look up terminal", err)
			return nil, false
		}
		s.auth.putTerminal(h, t, s.now())
	}
	expires := t.ExpiresAt
	if h != t.TokenHash {
		expires = t.PrevExpiresAt // the token before a rotation, for its grace
	}
	switch {
	case t.Revoked:
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "terminal "+t.Name+" is revoked; enrol it again", nil)
		return nil, false
	case t.Role == "":
		// 401, not 403: enrolment mends it, so the terminal keeps what it
		// has queued and retries.
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "terminal "+t.Name+
			" was enrolled before roles and has none; give it one: yici-platform role --name "+t.Name+" --role kiosk|desk|display", nil)
		return nil, false
	case !s.now().Before(expires) && renewing && s.now().Before(expires.Add(s.opt.TokenRenewWindow)) && h == t.TokenHash:
		s.logf("platform: terminal %s renews a token that expired at %s (offline meanwhile?)", t.Name, expires.UTC().Format(time.RFC3339))
	case !s.now().Before(expires):
		writeError(w, http.StatusUnauthorized, wire.CodeTokenExpired, "the token of terminal "+t.Name+
			" expired at "+expires.UTC().Format(time.RFC3339)+"; enrol it again (yici-platform revoke, then enrol)", nil)
		return nil, false
	}
	return &Caller{Terminal: t}, true
}

// needClerk finds the clerk signed in at the caller's desk (the request's
// Yici-Session) and puts them in c, or answers 401 session_required itself.
func (s *Server) needClerk(w http.ResponseWriter, r *http.Request, c *Caller) bool {
	key := c.Terminal.Name + "\x00" + r.Header.Get(wire.HeaderSession)
	if e, ok := s.auth.session(key, s.now()); ok {
		c.Clerk, c.Window = e.clerk, e.window
		return true
	}
	ses, clerk, err := s.clerkSession(r, c.Terminal)
	if err != nil {
		s.sessionFailed(w, err)
		return false
	}
	c.Clerk, c.Window = clerk.ID, ses.Window
	s.auth.putSession(key, cachedSession{clerk: clerk.ID, window: ses.Window, at: s.now()})
	return true
}

func forbidden(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusForbidden, wire.CodeForbidden, msg, nil)
}

// statusRecorder remembers the status a handler answered, for the audit
// record.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// sameHall answers 403 unless the case c is of the caller's hall. The
// message does not say whose it is.
func sameHall(w http.ResponseWriter, c *Caller, cs Case) bool {
	if cs.Hall == c.Terminal.Hall {
		return true
	}
	forbidden(w, "case "+cs.Manifest.ID+" is not a case of hall "+c.Terminal.Hall)
	return false
}

// ownID reports whether id was made by the terminal name: ids of cases,
// events and uploads begin with their sender's name and a '-', so no
// terminal can take another's id first.
func ownID(name, id string) bool {
	return strings.HasPrefix(id, name+"-") && len(id) > len(name)+1
}

// newToken returns a fresh bearer token.
func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw), nil
}

// limiter is a token bucket per terminal: rate per minute, up to burst at
// once.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	at      time.Time
	limited bool // refused since it last allowed one
}

func newLimiter(perMinute, burst int, now func() time.Time) *limiter {
	return &limiter{rate: float64(perMinute) / 60, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes one token of name's bucket; when none is left it returns
// false, how long until one is, and whether this is the first refusal
// since the last allowed request (the one worth an alert).
func (l *limiter) allow(name string) (ok bool, wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[name]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[name] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		b.limited = false
		return true, 0, false
	}
	first = !b.limited
	b.limited = true
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), first
}

// whoami tells a terminal what the platform knows of it, so it can rotate
// its token before expiry.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request, c *Caller) {
	t := c.Terminal
	writeJSON(w, http.StatusOK, wire.WhoAmI{Name: t.Name, Hall: t.Hall, Role: string(t.Role), ExpiresAt: t.ExpiresAt})
}

// rotateToken gives the caller a new token; the one it called with stays
// valid for TokenGrace.
func (s *Server) rotateToken(w http.ResponseWriter, r *http.Request, c *Caller) {
	tok, t, err := s.rotate(r.Context(), c.Terminal)
	if err != nil {
		s.internal(w, "rotate token", err)
		return
	}
	s.logf("platform: terminal %s rotated its token (expires %s)", t.Name, t.ExpiresAt.Format(time.RFC3339))
	writeJSON(w, http.StatusOK, wire.TokenAnswer{Token: tok, ExpiresAt: t.ExpiresAt})
}

func (s *Server) rotate(ctx context.Context, t Terminal) (string, Terminal, error) {
	tok, err := newToken()
	if err != nil {
		return "", t, err
	}
	now := s.now()
	t.PrevTokenHash, t.PrevExpiresAt = t.TokenHash, now.Add(s.opt.TokenGrace)
	if t.ExpiresAt.Before(t.PrevExpiresAt) {
		t.PrevExpiresAt = t.ExpiresAt
	}
	t.TokenHash, t.ExpiresAt = tokenHash(tok), now.Add(s.opt.TokenLifetime)
	err = s.st.UpdateTerminal(ctx, t)
	s.auth.forget()
	return tok, t, err
}

// Auditor keeps the audit log (*audit.Log): every read of personal data
// and every sign-in, allowed or not (S19).
type Auditor interface {
	Append(audit.Record) error
}

// auditRead records the request r to pattern by c, answered status. A log
// that cannot be written stops personal reads (503) until it can: a read
// that leaves no record must not happen twice.
func (s *Server) auditRead(r *http.Request, pattern string, c *Caller, status int) {
	rec := audit.Record{Terminal: c.Terminal.Name, Hall: c.Terminal.Hall, Role: string(c.Terminal.Role),
		Clerk: c.Clerk, Action: r.Method + " " + pattern, Object: c.object, Status: status}
	s.appendAudit(rec)
}

// auditSignIn records a sign-in attempt at desk t.
func (s *Server) auditSignIn(t Terminal, res SignInResult) {
	rec := audit.Record{At: res.At, Terminal: t.Name, Hall: t.Hall, Role: string(t.Role), Clerk: res.Clerk,
		Action: "POST " + wire.SessionPath, Object: "window " + res.Window, Status: http.StatusCreated}
	if !res.OK {
		rec.Status, rec.Reason = http.StatusUnauthorized, "sign-in refused: "+res.Reason
	}
	s.appendAudit(rec)
}

func (s *Server) appendAudit(rec audit.Record) {
	if s.opt.Audit == nil {
		return
	}
	if err := s.opt.Audit.Append(rec); err != nil {
		if s.auditDown.CompareAndSwap(false, true) {
			s.logf("platform: ALERT: audit log not written, personal reads refused until it is: %v", err)
		}
		return
	}
	if s.auditDown.CompareAndSwap(true, false) {
		s.logf("platform: audit log written again; personal reads resume")
	}
}

// authCache keeps who a token and a session are for up to a second, so a
// request costs no storage reads to authenticate: the limit the issue
// sets for a revocation to take effect. Every change this server makes
// itself (revoke, role, rotate, clerk disabled, sign-out) clears it at
// once; a change made by another node sharing the storage holds within
// the second.
type authCache struct {
	mu       sync.Mutex
	ttl      time.Duration
	terms    map[string]cachedTerminal // token hash → terminal
	sessions map[string]cachedSession  // terminal name, 0, session token → clerk
}

type cachedTerminal struct {
	t  Terminal
	at time.Time
}

type cachedSession struct {
	clerk, window string
	at            time.Time
}

func (a *authCache) terminal(h string, now time.Time) (Terminal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.terms[h]
	if !ok || now.Sub(e.at) >= a.ttl || now.Before(e.at) {
		return Terminal{}, false
	}
	return e.t, true
}

func (a *authCache) putTerminal(h string, t Terminal, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.terms == nil || len(a.terms) > 10000 {
		a.terms = map[string]cachedTerminal{}
	}
	a.terms[h] = cachedTerminal{t, now}
}

func (a *authCache) session(key string, now time.Time) (cachedSession, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.sessions[key]
	if !ok || now.Sub(e.at) >= a.ttl || now.Before(e.at) {
		return cachedSession{}, false
	}
	return e, true
}

func (a *authCache) putSession(key string, e cachedSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions == nil || len(a.sessions) > 10000 {
		a.sessions = map[string]cachedSession{}
	}
	a.sessions[key] = e
}

// forget clears the cache, after a change of who may do what.
func (a *authCache) forget() {
	a.mu.Lock()
	a.terms, a.sessions = nil, nil
	a.mu.Unlock()
}
