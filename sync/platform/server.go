// Package platform is the central platform's side of the sync protocol
// (sync/wire, v1): an http.Handler over a Storage of blobs, cases and
// enrolled terminals. It verifies every blob against its address, refuses
// a manifest while any of its blobs is missing, and answers a repeated
// request as it answered the first, so appliances may retry anything.
package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
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
	Logger            *log.Logger
}

// Server answers the sync protocol. Build it with New.
type Server struct {
	st   Storage
	opt  Options
	mux  *http.ServeMux
	logf func(format string, args ...any)

	secretMu sync.Mutex
	secret   []byte // Storage.ApplicantSecret, read once
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
	if opt.TransferTimeout <= 0 {
		opt.TransferTimeout = defaultTransferTimeout
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = defaultReadTimeout
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = defaultWriteTimeout
	}
	s := &Server{st: st, opt: opt, mux: http.NewServeMux(), logf: log.Printf}
	if opt.Logger != nil {
		s.logf = opt.Logger.Printf
	}
	// Methods are dispatched in the handlers, not in the patterns, so that
	// a wrong method also gets an ErrorBody rather than the mux's plain text.
	s.mux.HandleFunc("/v1/blobs/missing", s.authed(s.missing))
	s.mux.HandleFunc("/v1/blobs/{sha256}", s.authed(s.blob))
	s.mux.HandleFunc("/v1/blobs/{sha256}/uploads", s.authed(s.upload))
	s.mux.HandleFunc("/v1/cases/{id}", s.authed(s.caseByID))
	s.mux.HandleFunc("/v1/cases", s.authed(s.cases))
	s.mux.HandleFunc("/v1/cases/{id}/confirm", s.authed(s.confirm))
	s.mux.HandleFunc("/v1/vault/query", s.authed(s.vaultQuery))
	s.mux.HandleFunc("/v1/events/{id}", s.authed(s.putEvent))
	s.mux.HandleFunc("/v1/events", s.authed(s.events))
	s.mux.HandleFunc("/v1/catalog", s.authed(s.catalogHead))
	s.mux.HandleFunc("/v1/catalog/{revision}", s.authed(s.catalog))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no such path: "+r.URL.Path, nil)
	})
	return s
}

// ServeHTTP serves r under the request deadlines (deadline.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.withDeadlines(w, r, s.mux) }

// Enrol enrols the terminal name of hall and returns its bearer token. The
// token is shown once; only its SHA-256 is kept. Enrolling a name again
// needs Revoke first, so a token cannot be replaced by accident.
func (s *Server) Enrol(hall, name string) (string, error) {
	if hall == "" || name == "" {
		return "", fmt.Errorf("enrol terminal: hall %q and name %q must both be given", hall, name)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("enrol terminal %s: %w", name, err)
	}
	token := hex.EncodeToString(raw)
	t := Terminal{Name: name, Hall: hall, TokenHash: tokenHash(token), EnrolledAt: time.Now().UTC()}
	if err := s.st.AddTerminal(context.Background(), t); err != nil {
		return "", fmt.Errorf("enrol terminal: %w", err)
	}
	return token, nil
}

// Revoke revokes the terminal name: its token is refused from now on.
func (s *Server) Revoke(name string) error {
	if err := s.st.RevokeTerminal(context.Background(), name); err != nil {
		return fmt.Errorf("revoke terminal: %w", err)
	}
	return nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type authedHandler func(w http.ResponseWriter, r *http.Request, t Terminal)

func (s *Server) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "missing bearer token", nil)
			return
		}
		t, err := s.st.TerminalByToken(r.Context(), tokenHash(token))
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "unknown token; enrol this terminal", nil)
			return
		}
		if err != nil {
			s.internal(w, "look up terminal", err)
			return
		}
		if t.Revoked {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "terminal "+t.Name+" is revoked; enrol it again", nil)
			return
		}
		h(w, r, t)
	}
}

func (s *Server) missing(w http.ResponseWriter, r *http.Request, _ Terminal) {
	if !allow(w, r, http.MethodPost) {
		return
	}
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

func (s *Server) blob(w http.ResponseWriter, r *http.Request, _ Terminal) {
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
		w.Header().Set("Content-Type", "application/octet-stream")
		// Checked again on the way out: a damaged file must not pass for a
		// whole blob, so the answer breaks off rather than ends cleanly.
		body := &verifyingReader{r: f, h: sha256.New(), want: sum}
		if _, err := io.Copy(w, body); err != nil {
			if body.err != nil {
				s.logf("platform: blob %s is damaged on disk: %v", sum, body.err)
			}
			panic(http.ErrAbortHandler)
		}
	case http.MethodPut:
		s.putBlob(w, r, sum)
	default:
		methodNotAllowed(w, r, "GET, HEAD, PUT")
	}
}

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

func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, sum string) {
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
		// Read it anyway: the answer to a body that is not the blob must not
		// depend on whether the blob happens to be held.
		_, err = io.Copy(io.Discard, body)
		status = http.StatusOK
	} else {
		err = s.st.PutBlob(r.Context(), sum, body)
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(body.err, ErrHashMismatch):
		writeError(w, http.StatusBadRequest, wire.CodeHashMismatch,
			fmt.Sprintf("body has SHA-256 %x, not %s; nothing stored", body.h.Sum(nil), sum), nil)
	case errors.As(body.err, &tooBig):
		s.tooLarge(w, -1)
	case body.err != nil:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "blob body ended early: "+body.err.Error(), nil)
	case err != nil:
		s.internal(w, "store blob", err)
	default:
		w.WriteHeader(status)
	}
}

func (s *Server) tooLarge(w http.ResponseWriter, n int64) {
	msg := fmt.Sprintf("blob is larger than the %d bytes accepted", s.opt.MaxBlobBytes)
	if n >= 0 {
		msg = fmt.Sprintf("blob of %d bytes is larger than the %d accepted", n, s.opt.MaxBlobBytes)
	}
	writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, msg, nil)
}

func (s *Server) caseByID(w http.ResponseWriter, r *http.Request, t Terminal) {
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid case id", id), nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c, err := s.st.GetCase(r.Context(), id)
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusNotFound, wire.CodeNotFound, "case "+id+" is not held", nil)
			return
		}
		if err != nil {
			s.internal(w, "read case", err)
			return
		}
		writeJSON(w, http.StatusOK, c.Manifest)
	case http.MethodPut:
		s.putCase(w, r, t, id)
	default:
		methodNotAllowed(w, r, "GET, PUT")
	}
}

func (s *Server) putCase(w http.ResponseWriter, r *http.Request, t Terminal, id string) {
	var m wire.Manifest
	if !s.decode(w, r, &m) {
		return
	}
	if msg := checkManifest(m, id); msg != "" {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, msg, nil)
		return
	}
	m.Terminal = t.Name // the credential says who sent it, not the body
	ctx := r.Context()

	// An id already held is answered before the blobs are looked at: a
	// conflict stays a conflict whatever the platform holds.
	old, err := s.st.GetCase(ctx, id)
	switch {
	case err == nil && Equal(old.Manifest, m):
		writeJSON(w, http.StatusOK, m)
		return
	case err == nil:
		s.conflict(w, id, old.Manifest.Terminal)
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
	stored, err := s.st.PutCase(ctx, Case{Manifest: m, ReceivedAt: time.Now().UTC()})
	switch {
	case errors.Is(err, ErrConflict):
		s.conflict(w, id, "")
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

func (s *Server) conflict(w http.ResponseWriter, id, from string) {
	msg := "case " + id + " is held with other content"
	if from != "" {
		msg += " (sent by terminal " + from + ")"
	}
	writeError(w, http.StatusConflict, wire.CodeConflict, msg+"; a case id must not be reused", nil)
}

// checkManifest returns what is wrong with m put under id, or "".
func checkManifest(m wire.Manifest, id string) string {
	if m.ID != id {
		return fmt.Sprintf("manifest id %q differs from the path's %q", m.ID, id)
	}
	// JSON can carry years a time cannot marshal back; keep to sane ones.
	if y := m.CreatedAt.UTC().Year(); y < 2000 || y > 9000 {
		return fmt.Sprintf("created_at %v is out of range", m.CreatedAt)
	}
	for i, mr := range m.Materials {
		if mr.Code == "" {
			return fmt.Sprintf("material %d has no code", i)
		}
		if !mr.Exempt && !wire.ValidSHA256(mr.SHA256) {
			return fmt.Sprintf("material %s: sha256 %q is not a lowercase hex SHA-256", mr.Code, mr.SHA256)
		}
	}
	return ""
}

func (s *Server) cases(w http.ResponseWriter, r *http.Request, _ Terminal) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("limit %q is not a number from 1 to 1000", v), nil)
			return
		}
		limit = n
	}
	cs, err := s.st.ListCases(r.Context(), limit)
	if err != nil {
		s.internal(w, "list cases", err)
		return
	}
	out := make([]wire.CaseSummary, 0, len(cs))
	for _, c := range cs {
		m := c.Manifest
		a := m.Applicant
		a.IDNumber = mask.ID(a.IDNumber)
		out = append(out, wire.CaseSummary{ID: m.ID, Terminal: m.Terminal, Items: m.Items, Applicant: a,
			Materials: len(m.Materials), ReceivedAt: c.ReceivedAt})
	}
	writeJSON(w, http.StatusOK, out)
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

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	methodNotAllowed(w, r, method)
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
