// Package platform is the central platform's side of the sync protocol
// (sync/wire, v1): an http.Handler over a Storage of blobs, cases and
// enrolled terminals. It verifies every blob against its address, refuses
// a manifest while any of its blobs is missing, and answers a repeated
// request as it answered the first, so appliances may retry anything.
package platform

import (
	"bytes"
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
	// UploadIdleTimeout cuts a PATCH body that sends nothing for this long,
	// so a connection that died silently does not hold its upload locked
	// (423) until TCP gives up on it; default 30 s.
	UploadIdleTimeout time.Duration
	// MaxMaterials is the most materials one manifest may list (413
	// too_large above); default 200. MaxItems is the most service items;
	// default 50.
	MaxMaterials int
	MaxItems     int
	Logger       *log.Logger
}

// Server answers the sync protocol. Build it with New.
type Server struct {
	st   Storage
	opt  Options
	mux  *http.ServeMux
	logf func(format string, args ...any)

	secretMu sync.Mutex
	secret   []byte // Storage.ApplicantSecret, read once

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
	if opt.MaxMaterials <= 0 {
		opt.MaxMaterials = 200
	}
	if opt.MaxItems <= 0 {
		opt.MaxItems = 50
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

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
		s.putBlob(w, r, sum)
	default:
		methodNotAllowed(w, r, "GET, HEAD, PUT")
	}
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
// answers 400 or 413 itself when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
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
