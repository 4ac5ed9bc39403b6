// Package platform is the central platform's side of the sync protocol
// (sync/wire, v1): an http.Handler over a Storage of blobs, cases and
// enrolled terminals. It verifies every blob against its address, refuses
// a manifest while any of its blobs is missing, and answers a repeated
// request as it answered the first, so appliances may retry anything.
package platform

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yici/sync/mask"
	"yici/sync/wire"
)

// Options tune a Server. Zero values take the defaults.
type Options struct {
	MaxBlobBytes     int64 // default wire.MaxBlobBytes
	MaxManifestBytes int64 // default 1 MiB
	MaxMissing       int   // most hashes in one MissingRequest; default 10000
	// TransferTimeout is the most a blob upload body may take to arrive,
	// and a blob download to be sent, whatever its pace; default 15 min.
	TransferTimeout time.Duration
	// ReadTimeout is the most any other request body (JSON) may take to
	// arrive whole; default 30 s.
	ReadTimeout time.Duration
	// WriteTimeout is the most an answer may take to be written, counted
	// from the end of the time allowed for the request's body; default 1 min.
	WriteTimeout time.Duration
	// UploadIdleTimeout cuts a blob upload body (PUT /v1/blobs/{sha256},
	// PATCH .../uploads) that sends nothing for this long, so a connection
	// that died silently, or a client that trickles, does not hold its
	// upload locked (423), its connection and its temporary file until TCP
	// gives up on it; default 30 s.
	UploadIdleTimeout time.Duration
	// TokenLifetime is how long a terminal token is valid from enrolment or
	// its last rotation; terminals rotate at a third of it left. Default
	// 90 days.
	TokenLifetime time.Duration
	// TokenGrace is how long the token before a rotation stays valid, so a
	// terminal that lost the answer can rotate again; default 10 minutes.
	TokenGrace time.Duration
	// TokenRenewWindow is how long after its expiry a terminal's token may
	// still rotate itself (POST /v1/token, nothing else), so a kiosk cut off
	// for days past its expiry renews and drains its queue; default 60
	// days. Past it the terminal must be enrolled again.
	TokenRenewWindow time.Duration
	// VaultPerMinute and VaultBurst limit a kiosk's vault queries (one per
	// person served, so a hall kiosk needs a few a minute); past them it
	// gets 429 rate_limited and the platform logs an alert. Defaults 30
	// and 10.
	VaultPerMinute, VaultBurst int
	// MaxListCases is the most cases one GET /v1/cases returns; default 200.
	MaxListCases int
	// MaxStagedBytesPerTerminal bounds what one terminal may hold staged:
	// blobs sent and not yet named by a commit, plus the whole length of
	// its open uploads. Past it a PUT or POST is refused (507
	// quota_exceeded); default DefaultMaxStagedBytes (256 MiB).
	MaxStagedBytesPerTerminal int64
	// StagedMaxAge: a sent blob no commit has named is dropped after this
	// long; default DefaultStagedMaxAge (1 h).
	StagedMaxAge time.Duration
	// UploadMaxAge: an upload nobody has appended to is dropped after this
	// long; default DefaultUploadMaxAge (6 h).
	UploadMaxAge time.Duration
	// MaxMaterials is the most materials one manifest may list (413
	// too_large above); default 200. MaxItems is the most service items;
	// default 50.
	MaxMaterials int
	MaxItems     int
	Logger       *log.Logger
	Clerks       ClerkOptions     // clerk sign-in and sessions (clerks.go)
	Audit        Auditor          // the audit log; nil records nothing (tests)
	Now          func() time.Time // default time.Now; tests set a clock
}

// Server answers the sync protocol. Build it with New.
type Server struct {
	st   Storage
	opt  Options
	mux  *http.ServeMux
	logf func(format string, args ...any)

	now        func() time.Time
	vaultLimit *limiter    // a kiosk's vault queries
	auth       authCache   // who tokens and sessions are, for a second
	auditDown  atomic.Bool // the last audit append failed

	secretMu sync.Mutex
	secret   []byte             // Storage.ApplicantSecret, read once
	codeKey  ed25519.PrivateKey // Storage.AppCodeKey, read once

	ck *clerkState // clerk sign-in and sessions (clerks.go)

	revs revisions // what is known of published catalogue revisions
}

// New returns a Server over st.
func New(st Storage, opt Options) *Server {
	if opt.MaxBlobBytes <= 0 {
		opt.MaxBlobBytes = wire.MaxBlobBytes
	}
	if opt.MaxManifestBytes <= 0 {
		opt.MaxManifestBytes = 1 << 20
	}
	if opt.MaxMissing <= 0 {
		opt.MaxMissing = 10000
	}
	if opt.UploadIdleTimeout <= 0 {
		opt.UploadIdleTimeout = 30 * time.Second
	}
	if opt.TokenLifetime <= 0 {
		opt.TokenLifetime = 90 * 24 * time.Hour
	}
	if opt.TokenGrace <= 0 {
		opt.TokenGrace = 10 * time.Minute
	}
	if opt.TokenRenewWindow <= 0 {
		opt.TokenRenewWindow = 60 * 24 * time.Hour
	}
	if opt.VaultPerMinute <= 0 {
		opt.VaultPerMinute = 30
	}
	if opt.VaultBurst <= 0 {
		opt.VaultBurst = 10
	}
	if opt.MaxListCases <= 0 {
		opt.MaxListCases = 200
	}
	// One clock for tokens, sessions and the caches of both.
	if opt.Now == nil {
		opt.Now = opt.Clerks.Now
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Clerks.Now = opt.Now
	if opt.MaxMaterials <= 0 {
		opt.MaxMaterials = 200
	}
	if opt.MaxItems <= 0 {
		opt.MaxItems = 50
	}
	if opt.TransferTimeout <= 0 {
		opt.TransferTimeout = defaultTransferTimeout
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = defaultReadTimeout
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = defaultWriteTimeout
	}
	st.SetStagingLimits(StagingLimits{MaxBytesPerTerminal: opt.MaxStagedBytesPerTerminal,
		StagedMaxAge: opt.StagedMaxAge, UploadMaxAge: opt.UploadMaxAge})
	s := &Server{st: st, opt: opt, mux: http.NewServeMux(), logf: log.Printf, now: opt.Now}
	s.vaultLimit = newLimiter(opt.VaultPerMinute, opt.VaultBurst, opt.Now)
	s.auth.ttl = time.Second
	if opt.Logger != nil {
		s.logf = opt.Logger.Printf
	}
	s.ck = newClerkState(&s.opt.Clerks)
	// Methods are dispatched by the access table and the handlers, not in
	// the patterns, so that a wrong method also gets an ErrorBody rather
	// than the mux's plain text.
	s.handle("/v1/blobs/missing", s.missing)
	s.handle("/v1/blobs/{sha256}", s.blob)
	s.handle("/v1/blobs/{sha256}/uploads", s.upload)
	s.handle("/v1/cases/{id}", s.caseByID)
	s.handle("/v1/cases", s.cases)
	s.handle("/v1/cases/search", s.searchCases)
	s.handle("/v1/cases/{id}/confirm", s.confirm)
	s.handle("/v1/vault/query", s.vaultQuery)
	s.handle("/v1/events/{id}", s.putEvent)
	s.handle("/v1/events", s.events)
	s.handle("/v1/catalog", s.catalogHead)
	s.handle("/v1/catalog/{revision}", s.catalog)
	s.handle("/v1/whoami", s.whoami)
	s.handle("/v1/token", s.rotateToken)
	s.handle(wire.SessionPath, s.session)
	s.handle(wire.AppCodeKeyPath, s.appCodeKeys)
	s.handle("/v1/queue/tickets/{id}", s.putTicket)
	s.handle("/v1/queue/tickets/{id}/printed", s.ticketPrinted)
	for _, a := range []string{wire.ActRecall, wire.ActNoShow, wire.ActHold, wire.ActTransfer, wire.ActFinish, wire.ActPriority} {
		s.handle("/v1/queue/tickets/{id}/"+a, s.ticketAct(a))
	}
	s.handle("/v1/queue/next", s.queueNext)
	s.handle("/v1/queue/board", s.queueBoard)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no such path: "+r.URL.Path, nil)
	})
	return s
}

// ServeHTTP serves r under the request deadlines (deadline.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.withDeadlines(w, r, s.mux) }

// Enrol enrols the terminal name of hall with role and returns its bearer
// token. The token is shown once; only its SHA-256 is kept. Enrolling a
// name again needs Revoke first, so a token cannot be replaced by accident.
func (s *Server) Enrol(role Role, hall, name string) (string, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", fmt.Errorf("enrol terminal %s: %w", name, err)
	}
	if !validTerminalName(name) || hall == "" || strings.ContainsRune(hall, 0) {
		return "", fmt.Errorf("enrol terminal: name %q must be 1 to 64 of a–z, A–Z, 0–9, '_', '-' starting with a letter or digit, and hall %q given", name, hall)
	}
	token, err := newToken()
	if err != nil {
		return "", fmt.Errorf("enrol terminal %s: %w", name, err)
	}
	now := s.now().UTC()
	t := Terminal{Name: name, Hall: hall, Role: role, TokenHash: tokenHash(token), EnrolledAt: now, ExpiresAt: now.Add(s.opt.TokenLifetime)}
	if err := s.st.AddTerminal(context.Background(), t); err != nil {
		return "", fmt.Errorf("enrol terminal: %w", err)
	}
	return token, nil
}

// validTerminalName: a terminal name begins every id the terminal makes
// and names its staging files, so it is kept to a safe alphabet (no '.').
func validTerminalName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '-' || name[0] == '_' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Revoke revokes the terminal name: its token is refused from the next
// request on (its clerk sessions with it), and what it had staged and not
// committed is dropped, so a stolen token leaves nothing behind.
func (s *Server) Revoke(name string) error {
	if err := s.st.RevokeTerminal(context.Background(), name); err != nil {
		return fmt.Errorf("revoke terminal: %w", err)
	}
	s.auth.forget()
	return s.DropStaging(name)
}

// SetRole gives the terminal name a role: the upgrade path for terminals
// enrolled before roles, which are refused until they have one. Its token
// then expires TokenLifetime from now, like a new one.
func (s *Server) SetRole(name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return fmt.Errorf("set role of %s: %w", name, err)
	}
	ctx := context.Background()
	ts, err := s.st.Terminals(ctx)
	if err != nil {
		return fmt.Errorf("set role of %s: %w", name, err)
	}
	i := slices.IndexFunc(ts, func(t Terminal) bool { return t.Name == name })
	if i < 0 {
		return fmt.Errorf("set role of %s: terminal %w", name, ErrNotFound)
	}
	t := ts[i]
	t.Role, t.ExpiresAt = role, s.now().UTC().Add(s.opt.TokenLifetime)
	if err := s.st.UpdateTerminal(ctx, t); err != nil {
		return fmt.Errorf("set role of %s: %w", name, err)
	}
	s.auth.forget()
	return nil
}

// DropStaging discards everything the terminal name has staged (its open
// uploads and the blobs it sent that no commit has named yet) and frees its
// quota. Call it when the terminal is revoked.
func (s *Server) DropStaging(name string) error {
	if err := s.st.DropStaging(context.Background(), name); err != nil {
		return fmt.Errorf("drop staging of terminal %s: %w", name, err)
	}
	return nil
}

// RotateToken issues the terminal name a new token, as POST /v1/token
// does; an administrator's way to re-key a terminal without revoking it.
func (s *Server) RotateToken(name string) (string, time.Time, error) {
	ctx := context.Background()
	ts, err := s.st.Terminals(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("rotate token of %s: %w", name, err)
	}
	i := slices.IndexFunc(ts, func(t Terminal) bool { return t.Name == name && !t.Revoked })
	if i < 0 {
		return "", time.Time{}, fmt.Errorf("rotate token of %s: no such enrolled terminal: %w", name, ErrNotFound)
	}
	tok, t, err := s.rotate(ctx, ts[i])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("rotate token of %s: %w", name, err)
	}
	return tok, t.ExpiresAt, nil
}

// Terminals lists the enrolled terminals, for administration.
func (s *Server) Terminals() ([]Terminal, error) { return s.st.Terminals(context.Background()) }

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Server) missing(w http.ResponseWriter, r *http.Request, _ *Caller) {
	var req wire.MissingRequest
	if !s.decode(w, r, &req) {
		return
	}
	if len(req.SHA256) > s.opt.MaxMissing {
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("%d hashes asked, at most %d per request", len(req.SHA256), s.opt.MaxMissing), nil)
		return
	}
	resp := wire.MissingResponse{Missing: []string{}}
	for _, h := range req.SHA256 {
		if !wire.ValidSHA256(h) {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a lowercase hex SHA-256", h), nil)
			return
		}
		held, err := s.st.HasBlob(r.Context(), h)
		if err != nil {
			s.internal(w, "look up blob", err)
			return
		}
		if !held {
			resp.Missing = append(resp.Missing, h)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) blob(w http.ResponseWriter, r *http.Request, c *Caller) {
	sum := r.PathValue("sha256")
	if !wire.ValidSHA256(sum) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a lowercase hex SHA-256", sum), nil)
		return
	}
	switch r.Method {
	case http.MethodHead:
		held, err := s.st.HasBlob(r.Context(), sum)
		if err != nil {
			s.internal(w, "look up blob", err)
			return
		}
		if !held {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		if !s.blobOfHall(w, r, c, sum) {
			return
		}
		f, err := s.st.OpenBlob(r.Context(), sum)
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusNotFound, wire.CodeNotFound, "blob "+sum+" is not held", nil)
			return
		}
		if err != nil {
			s.internal(w, "open blob", err)
			return
		}
		defer f.Close()
		// Checked again on the way out: a damaged file must not pass for a
		// whole blob. A blob of up to getChunk bytes is read and checked
		// whole before the status, so a damaged one is a clean 500; a larger
		// one is sent as it is read, and its answer breaks off instead.
		body := &verifyingReader{r: f, h: sha256.New(), want: sum}
		var first bytes.Buffer
		n, err := io.CopyN(&first, body, getChunk+1)
		switch {
		case err == io.EOF: // all of it, and it verified
			w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		case err != nil:
			s.logf("platform: blob %s cannot be read whole: %v", sum, err)
			writeError(w, http.StatusInternalServerError, wire.CodeInternal,
				"blob "+sum+" is damaged in the platform's storage and is not served", nil)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		w.Write(first.Bytes())
		if err == io.EOF {
			return
		}
		if _, err := io.Copy(w, body); err != nil {
			if body.err != nil || errors.Is(err, ErrHashMismatch) {
				s.logf("platform: blob %s is damaged on disk: %v", sum, err)
			}
			panic(http.ErrAbortHandler)
		}
	case http.MethodPut:
		s.putBlob(w, r, c.Terminal, sum)
	}
}

// blobOfHall answers for a GET of blob sum unless the case its ?case=
// names is of the caller's hall and names the blob, as a material or as a
// material supplied later. A page is read as part of a case, never by hash
// alone: a hash from a vault answer or a log must not open a page of
// another hall.
func (s *Server) blobOfHall(w http.ResponseWriter, r *http.Request, c *Caller, sum string) bool {
	id := r.URL.Query().Get("case")
	c.Read("blob " + sum + " of case " + id)
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("case %q is not a valid case id; a blob is read as part of its case: ?case=ID", id), nil)
		return false
	}
	cs, ok := s.caseOfHall(w, r, c, id)
	if !ok {
		return false
	}
	if slices.ContainsFunc(cs.Manifest.Materials, func(m wire.MaterialRef) bool { return !m.Exempt && m.SHA256 == sum }) {
		return true
	}
	evs, err := s.st.CaseEvents(r.Context(), id)
	if err != nil {
		s.internal(w, "list events", err)
		return false
	}
	if slices.ContainsFunc(evs, func(e wire.Event) bool { return e.Kind == wire.EventDeferredSupplied && e.SHA256 == sum }) {
		return true
	}
	forbidden(w, "case "+id+" names no blob "+sum)
	return false
}

// caseOfHall reads the case id for the caller, answering 404 or 403 itself
// when it is not held or not of the caller's hall.
func (s *Server) caseOfHall(w http.ResponseWriter, r *http.Request, c *Caller, id string) (Case, bool) {
	cs, err := s.st.GetCase(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "case "+id+" is not held", nil)
		return cs, false
	}
	if err != nil {
		s.internal(w, "read case", err)
		return cs, false
	}
	return cs, sameHall(w, c, cs)
}

// getChunk is the most of a blob a GET reads and checks before it answers:
// the size of the blobs a client sends by a single PUT.
const getChunk = 1 << 20

// verifyingReader passes the body through and, at its end, reports
// ErrHashMismatch instead of io.EOF when the bytes are not the ones
// addressed, so Storage.PutBlob keeps nothing. err keeps the first failure
// of the body, to tell it from a failure of storage.
type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(v.h.Sum(nil)) != v.want {
		err = ErrHashMismatch
	}
	if err != nil && err != io.EOF && v.err == nil {
		v.err = err
	}
	return n, err
}

func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, t Terminal, sum string) {
	if r.ContentLength > s.opt.MaxBlobBytes {
		s.tooLarge(w, r.ContentLength)
		return
	}
	body := &verifyingReader{r: http.MaxBytesReader(w, r.Body, s.opt.MaxBlobBytes), h: sha256.New(), want: sum}
	held, err := s.st.HasBlob(r.Context(), sum)
	if err != nil {
		s.internal(w, "look up blob", err)
		return
	}
	status := http.StatusCreated
	if held {
		status = http.StatusOK
	}
	// Put even when held: the answer to a body that is not the blob must
	// not depend on whether the blob happens to be held, and a blob another
	// terminal staged is staged for this one too (durable ones are only
	// read).
	err = s.st.PutBlob(r.Context(), t.Name, sum, body)
	var tooBig *http.MaxBytesError
	var quota *QuotaError
	switch {
	case errors.Is(body.err, ErrHashMismatch):
		writeError(w, http.StatusBadRequest, wire.CodeHashMismatch,
			fmt.Sprintf("body has SHA-256 %x, not %s; nothing stored", body.h.Sum(nil), sum), nil)
	case errors.As(body.err, &tooBig):
		s.tooLarge(w, -1)
	case body.err != nil:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "blob body ended early: "+body.err.Error(), nil)
	case errors.As(err, &quota):
		s.quotaExceeded(w, quota)
	case err != nil:
		s.internal(w, "store blob", err)
	default:
		w.WriteHeader(status)
	}
}

// quotaExceeded answers 507 quota_exceeded; nothing of the request is
// kept.
func (s *Server) quotaExceeded(w http.ResponseWriter, q *QuotaError) {
	w.Header().Set("Connection", "close") // the rest of the body is not read
	writeError(w, http.StatusInsufficientStorage, wire.CodeQuotaExceeded,
		q.Error()+"; nothing of this request is kept; commit the cases that name the blobs sent, or retry once unnamed ones have been dropped", nil)
}

func (s *Server) tooLarge(w http.ResponseWriter, n int64) {
	msg := fmt.Sprintf("blob is larger than the %d bytes accepted", s.opt.MaxBlobBytes)
	if n >= 0 {
		msg = fmt.Sprintf("blob of %d bytes is larger than the %d accepted", n, s.opt.MaxBlobBytes)
	}
	writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, msg, nil)
}

func (s *Server) caseByID(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid case id", id), nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.Read("case " + id)
		if cs, ok := s.caseOfHall(w, r, c, id); ok {
			writeJSON(w, http.StatusOK, cs.Manifest)
		}
	case http.MethodPut:
		s.putCase(w, r, c.Terminal, id)
	}
}

func (s *Server) putCase(w http.ResponseWriter, r *http.Request, t Terminal, id string) {
	if !ownID(t.Name, id) {
		forbidden(w, fmt.Sprintf("case id %q does not begin with this terminal's name %q and a '-'; a terminal names its own cases", id, t.Name))
		return
	}
	var m wire.Manifest
	if !s.decode(w, r, &m) {
		return
	}
	if status, msg := checkManifest(m, id, s.opt); msg != "" {
		code := wire.CodeBadRequest
		if status == http.StatusRequestEntityTooLarge {
			code = wire.CodeTooLarge
		}
		writeError(w, status, code, msg, nil)
		return
	}
	ctx := r.Context()
	if ok, err := s.publishedRevision(ctx, m.CatalogRevision); err != nil {
		s.internal(w, "read catalogue", err)
		return
	} else if !ok {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf(
			"catalog_revision %d is not a catalogue revision this platform has published (S3)", m.CatalogRevision), nil)
		return
	}
	m.Terminal = t.Name // the credential says who sent it, not the body
	// Answer every PUT, first or repeated, in the form GET gives: lists
	// never null, times in UTC.
	m = canonicalManifest(m)

	// An id already held is answered before the blobs are looked at: a
	// conflict stays a conflict whatever the platform holds.
	old, err := s.st.GetCase(ctx, id)
	switch {
	case err == nil && Equal(old.Manifest, m):
		writeJSON(w, http.StatusOK, m)
		return
	case err == nil:
		s.conflict(w, id)
		return
	case !errors.Is(err, ErrNotFound):
		s.internal(w, "read case", err)
		return
	}
	var missing []string
	for _, mr := range m.Materials {
		if mr.Exempt {
			continue
		}
		held, err := s.st.HasBlob(ctx, mr.SHA256)
		if err != nil {
			s.internal(w, "look up blob", err)
			return
		}
		if !held {
			missing = append(missing, mr.SHA256)
		}
	}
	if len(missing) > 0 {
		writeError(w, http.StatusUnprocessableEntity, wire.CodeBlobMissing,
			fmt.Sprintf("case %s names %d blobs the platform does not hold; upload them first", id, len(missing)), missing)
		return
	}
	if err := s.st.SyncBlobs(ctx, blobsOf(m)); err != nil {
		s.internal(w, "make blobs durable", err)
		return
	}
	key, err := s.applicantKey(ctx, m.Applicant.IDNumber)
	if err != nil {
		s.internal(w, "key applicant", err)
		return
	}
	stored, err := s.st.PutCase(ctx, Case{Manifest: m, Hall: t.Hall, Applicant: key, ReceivedAt: s.now().UTC()})
	switch {
	case errors.Is(err, ErrConflict):
		s.conflict(w, id)
	case err != nil:
		s.internal(w, "store case", err)
	case stored:
		writeJSON(w, http.StatusCreated, m)
	default:
		writeJSON(w, http.StatusOK, m)
	}
}

func blobsOf(m wire.Manifest) []string {
	var out []string
	for _, mr := range m.Materials {
		if !mr.Exempt {
			out = append(out, mr.SHA256)
		}
	}
	return out
}

func (s *Server) conflict(w http.ResponseWriter, id string) {
	writeError(w, http.StatusConflict, wire.CodeConflict, "case "+id+" is held with other content; a case id must not be reused", nil)
}

// checkManifest returns what is wrong with m put under id, and the status
// to answer (400, or 413 for too many materials or items), or "". No
// message repeats the applicant's name or ID number.
func checkManifest(m wire.Manifest, id string, opt Options) (int, string) {
	bad := func(format string, args ...any) (int, string) {
		return http.StatusBadRequest, fmt.Sprintf(format, args...)
	}
	if m.ID != id {
		return bad("manifest id %q differs from the path's %q", m.ID, id)
	}
	// JSON can carry years a time cannot marshal back; keep to sane ones.
	if y := m.CreatedAt.UTC().Year(); y < 2000 || y > 9000 {
		return bad("created_at %v is out of range", m.CreatedAt)
	}
	if len(m.Materials) > opt.MaxMaterials {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("%d materials listed, at most %d per case", len(m.Materials), opt.MaxMaterials)
	}
	if len(m.Items) > opt.MaxItems {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("%d items listed, at most %d per case", len(m.Items), opt.MaxItems)
	}
	if err := wire.ValidName(m.Applicant.Name); err != nil {
		return bad("applicant name %v", err)
	}
	switch {
	case m.Applicant.IDNumber == "":
		return bad("applicant id_number is required")
	case !wire.ValidIDNumber(m.Applicant.IDNumber):
		return bad("applicant id_number is not an 18-character resident ID number with a valid check digit")
	}
	for i, it := range m.Items {
		if err := wire.ValidName(it); err != nil {
			return bad("item %d: code %v", i, err)
		}
	}
	if a := m.Agent; a != nil {
		if err := wire.ValidName(a.Name); err != nil {
			return bad("agent name %v", err)
		}
		if !wire.ValidIDNumber(a.IDNumber) {
			return bad("agent id_number is not an 18-character resident ID number with a valid check digit")
		}
		if a.IDNumber == m.Applicant.IDNumber {
			return bad("the agent is the applicant; leave agent out when applicants apply for themselves")
		}
	}
	if m.Applied != "" {
		if err := wire.ValidName(m.Applied); err != nil {
			return bad("applied: code %v", err)
		}
	}
	if len(m.Answers) > opt.MaxItems {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("%d answers given, at most %d per case", len(m.Answers), opt.MaxItems)
	}
	for i, a := range m.Answers {
		if err := wire.ValidName(a); err != nil {
			return bad("answer %d: choice %v", i, err)
		}
	}
	for i, mr := range m.Materials {
		if mr.Code == "" {
			return bad("material %d has no code", i)
		}
		if err := wire.ValidName(mr.Code); err != nil {
			return bad("material %d: code %v", i, err)
		}
		if mr.Name != "" {
			if err := wire.CheckText(mr.Name, wire.MaxTextRunes); err != nil {
				return bad("material %s: name %v", mr.Code, err)
			}
		}
		if !mr.Exempt && !wire.ValidSHA256(mr.SHA256) {
			return bad("material %s: sha256 %q is not a lowercase hex SHA-256", mr.Code, mr.SHA256)
		}
	}
	return 0, ""
}

// canonicalManifest is m as Storage keeps it and GET answers it.
func canonicalManifest(m wire.Manifest) wire.Manifest {
	var out wire.Manifest
	if err := json.Unmarshal(canonical(m), &out); err != nil {
		panic("platform: canonical manifest: " + err.Error()) // canonical always reads back
	}
	return out
}

// cases lists the cases of the caller's hall, from the summaries stored
// beside them: no manifest is decrypted for a list.
func (s *Server) cases(w http.ResponseWriter, r *http.Request, c *Caller) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.opt.MaxListCases {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("limit %q is not a number from 1 to %d", v, s.opt.MaxListCases), nil)
			return
		}
		limit = n
	}
	c.Read("case list of hall " + c.Terminal.Hall)
	out, err := s.st.ListCases(r.Context(), c.Terminal.Hall, limit)
	if err != nil {
		s.internal(w, "list cases", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// searchCases lists the cases of the caller's hall whose applicant has the
// ID number in the body (read from the card at the window): a person's
// pre-applications, found without typing a name.
func (s *Server) searchCases(w http.ResponseWriter, r *http.Request, c *Caller) {
	var q wire.CaseSearch
	if !s.decode(w, r, &q) {
		return
	}
	if !wire.ValidIDNumber(q.IDNumber) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "id_number is not an 18-character resident ID number with a valid check digit", nil)
		return
	}
	key, err := s.applicantKey(r.Context(), q.IDNumber)
	if err != nil {
		s.internal(w, "key applicant", err)
		return
	}
	c.Read("cases of applicant " + key[:16])
	out, err := s.st.CasesOf(r.Context(), c.Terminal.Hall, key, s.opt.MaxListCases)
	if err != nil {
		s.internal(w, "list cases", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// Summary is the list line of c: its names and ID number masked.
func Summary(c Case) wire.CaseSummary {
	m := c.Manifest
	items := m.Items
	if items == nil {
		items = []string{}
	}
	return wire.CaseSummary{ID: m.ID, Terminal: m.Terminal, Hall: c.Hall, Items: items,
		Applicant: wire.Applicant{Name: mask.Name(m.Applicant.Name), IDNumber: mask.ID(m.Applicant.IDNumber)},
		Materials: len(m.Materials), ReceivedAt: c.ReceivedAt}
}

// decode reads one JSON value from a body of at most MaxManifestBytes, and
// answers 400 or 413 itself when it cannot. A body announced larger is
// refused before a byte of it is read; a body that stops arriving is cut
// by the request's read deadline (ReadTimeout).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength > s.opt.MaxManifestBytes {
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("body of %d bytes is larger than the %d accepted", r.ContentLength, s.opt.MaxManifestBytes), nil)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.opt.MaxManifestBytes))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("body is larger than the %d bytes accepted", s.opt.MaxManifestBytes), nil)
	case err != nil:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "malformed JSON: "+err.Error(), nil)
	default:
		return true
	}
	return false
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, wire.CodeBadRequest, r.Method+" is not allowed on "+r.URL.Path, nil)
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.logf("platform: %s: %v", what, err)
	writeError(w, http.StatusInternalServerError, wire.CodeInternal, what+" failed; the request may be retried", nil)
}

func writeError(w http.ResponseWriter, status int, code, msg string, missing []string) {
	writeJSON(w, status, wire.ErrorBody{Error: wire.Error{Code: code, Message: msg, Missing: missing}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
