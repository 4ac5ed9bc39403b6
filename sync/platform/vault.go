package platform

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"yici/sync/wire"
)

// applicantKey names the applicant of idNumber in the vault: an HMAC under
// the platform's secret, so neither storage keys nor logs nor answers carry
// the number, and a table of hashed numbers cannot be built without the
// secret.
func (s *Server) applicantKey(ctx context.Context, idNumber string) (string, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.secret == nil {
		secret, err := s.st.ApplicantSecret(ctx)
		if err != nil {
			return "", err
		}
		s.secret = secret
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("yici applicant v1\x00" + idNumber))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// vaultQuery answers what is on file for one applicant. A kiosk, or a
// desk without a clerk signed in, learns only which material codes are on
// file and until when: no refs, hashes, cases or applicant key, nothing
// that leads to a page or a name; and a kiosk is rate-limited, so the
// vault is no ID-number oracle. A desk with a clerk signed in gets the
// whole entries, to show where each came from.
func (s *Server) vaultQuery(w http.ResponseWriter, r *http.Request, c *Caller) {
	full := c.Terminal.Role == RoleDesk && r.Header.Get(wire.HeaderSession) != ""
	if full && !s.needClerk(w, r, c) {
		return
	}
	if !full {
		if ok, wait, first := s.vaultLimit.allow(c.Terminal.Name); !ok {
			secs := int(wait.Seconds()) + 1
			if first {
				s.logf("platform: ALERT: terminal %s (hall %s) passed its vault query limit of %d a minute; further queries are refused until it slows down (a stolen token? revoke it: yici-platform revoke --name %s)",
					c.Terminal.Name, c.Terminal.Hall, s.opt.VaultPerMinute, c.Terminal.Name)
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, wire.CodeRateLimited,
				fmt.Sprintf("more than %d vault queries a minute from terminal %s; retry in %d s", s.opt.VaultPerMinute, c.Terminal.Name, secs), nil)
			return
		}
	}
	var q wire.VaultQuery
	if !s.decode(w, r, &q) {
		return
	}
	// The message never repeats the number: it is personal data.
	if !wire.ValidIDNumber(q.IDNumber) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			"id_number is not an 18-character resident ID number with a valid check digit", nil)
		return
	}
	key, err := s.applicantKey(r.Context(), q.IDNumber)
	if err != nil {
		s.internal(w, "key applicant", err)
		return
	}
	c.Read("vault of applicant " + key[:16])
	entries, err := s.st.VaultEntries(r.Context(), key)
	if err != nil {
		s.internal(w, "read vault", err)
		return
	}
	if full {
		writeJSON(w, http.StatusOK, wire.VaultAnswer{Applicant: key, AsOf: s.now().UTC(), Entries: entries})
		return
	}
	writeJSON(w, http.StatusOK, wire.VaultAnswer{AsOf: s.now().UTC(), Entries: codesAndDates(entries, q.Codes)})
}

// codesAndDates keeps of entries what a kiosk may know: for each entry of
// one of codes (all codes when none are given), its code, name, source and
// validity.
func codesAndDates(entries []wire.VaultEntry, codes []string) []wire.VaultEntry {
	out := []wire.VaultEntry{}
	for _, e := range entries {
		if len(codes) > 0 && !slices.Contains(codes, e.Code) {
			continue
		}
		out = append(out, wire.VaultEntry{Code: e.Code, Name: e.Name, Source: e.Source, ValidFrom: e.ValidFrom, ValidUntil: e.ValidUntil})
	}
	return out
}

// confirm makes confirmed materials of a held case of the caller's hall
// vault entries, in the name of the clerk signed in. Each stays valid as
// long as the catalogue revision of the case says for its material. The
// entry of a material is named "<case>/<code>", so confirming again
// changes nothing.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid case id", id), nil)
		return
	}
	var req wire.ConfirmRequest
	if !s.decode(w, r, &req) {
		return
	}
	if len(req.Materials) == 0 {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "a confirmation names at least one material", nil)
		return
	}
	ctx := r.Context()
	cs, ok := s.caseOfHall(w, r, c, id)
	if !ok {
		return
	}
	m := cs.Manifest
	if !wire.ValidIDNumber(m.Applicant.IDNumber) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			"case "+id+" has no valid resident ID number, so its materials cannot be kept for the applicant", nil)
		return
	}
	mats, err := s.materialsOf(ctx, m.CatalogRevision)
	if errors.Is(err, errNoRevision) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("case %s was made under catalogue revision %d, which this platform has not published, so no validity can be given", id, m.CatalogRevision), nil)
		return
	}
	if err != nil {
		s.internal(w, "read catalogue", err)
		return
	}
	key, err := s.applicantKey(ctx, m.Applicant.IDNumber)
	if err != nil {
		s.internal(w, "key applicant", err)
		return
	}
	held, err := s.st.VaultEntries(ctx, key)
	if err != nil {
		s.internal(w, "read vault", err)
		return
	}
	now := s.now().UTC()
	var out []wire.VaultEntry
	for _, cm := range req.Materials {
		i := slices.IndexFunc(m.Materials, func(mr wire.MaterialRef) bool { return mr.Code == cm.Code && !mr.Exempt })
		if i < 0 {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
				fmt.Sprintf("case %s has no handed-in material %q to confirm", id, cm.Code), nil)
			return
		}
		cm, ok := mats[cm.Code]
		if !ok {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
				fmt.Sprintf("material %q of case %s is not in its catalogue revision %d", m.Materials[i].Code, id, m.CatalogRevision), nil)
			return
		}
		mr := m.Materials[i]
		e := wire.VaultEntry{Ref: id + "/" + mr.Code, Code: mr.Code, Name: mr.Name, Source: wire.SourceCase,
			Issuer: c.Terminal.Hall, SHA256: mr.SHA256, Size: mr.Size, ContentType: mr.ContentType,
			ValidFrom: now, ValidUntil: now.Add(cm.Validity()), Case: id, ConfirmedBy: c.Clerk, ConfirmedAt: now}
		if j := slices.IndexFunc(held, func(h wire.VaultEntry) bool { return h.Ref == e.Ref }); j >= 0 {
			// Confirmed before: the first confirmation's who, when and
			// validity stand.
			e = held[j]
		}
		out = append(out, e)
	}
	if err := s.st.PutVaultEntries(ctx, key, out); err != nil {
		s.internal(w, "store vault entries", err)
		return
	}
	writeJSON(w, http.StatusOK, wire.ConfirmAnswer{Applicant: key, Entries: out})
}

// Licence is one electronic licence in the file LoadLicences reads: the
// stand-in for the licence registry (电子证照库).
type Licence struct {
	IDNumber   string    `json:"id_number"`
	Holder     string    `json:"holder"` // for the people who edit the file; not kept
	LicenceNo  string    `json:"licence_no"`
	Code       string    `json:"code"` // the material it stands for
	Name       string    `json:"name"`
	Issuer     string    `json:"issuer"`
	SHA256     string    `json:"sha256,omitempty"` // of the electronic document, if the registry gives it
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// LicenceFile is the JSON form of the licences file (`--licences FILE`).
type LicenceFile struct {
	Licences []Licence `json:"licences"`
}

// LoadLicences reads the licences file at path and puts each licence into
// its holder's vault, replacing an entry of the same licence number. A
// licence left out of a later file stays; to withdraw one, load it with a
// past valid_until. It returns how many licences it loaded. A bad line
// stops the load before anything is stored, and the error names it by its
// index in the file and the field at fault, never by a value: licence
// numbers carry ID numbers.
func (s *Server) LoadLicences(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("load licences: %w", err)
	}
	var f LicenceFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return 0, fmt.Errorf("load licences from %s: %s", path, licenceDecodeError(err, dec.InputOffset()))
	}
	ctx := context.Background()
	byApplicant := map[string][]wire.VaultEntry{}
	for i, l := range f.Licences {
		if field, msg := checkLicence(l); field != "" {
			return 0, fmt.Errorf("load licences from %s: licence %d: %s %s", path, i, field, msg)
		}
		key, err := s.applicantKey(ctx, l.IDNumber)
		if err != nil {
			return 0, fmt.Errorf("load licences: %w", err)
		}
		byApplicant[key] = append(byApplicant[key], wire.VaultEntry{Ref: "licence:" + l.LicenceNo, Code: l.Code, Name: l.Name,
			Source: wire.SourceLicence, Issuer: l.Issuer, SHA256: l.SHA256, ValidFrom: l.ValidFrom.UTC(), ValidUntil: l.ValidUntil.UTC()})
	}
	for key, entries := range byApplicant {
		if err := s.st.PutVaultEntries(ctx, key, entries); err != nil {
			return 0, fmt.Errorf("load licences: %w", err)
		}
	}
	return len(f.Licences), nil
}

// checkLicence returns the field of l at fault and what is wrong with it,
// without its value, or "".
func checkLicence(l Licence) (field, msg string) {
	switch {
	case l.IDNumber == "":
		return "id_number", "is required"
	case !wire.ValidIDNumber(l.IDNumber):
		return "id_number", "is not an 18-character resident ID number with a valid check digit"
	case l.SHA256 != "" && !wire.ValidSHA256(l.SHA256):
		return "sha256", "is not a lowercase hex SHA-256"
	case !l.ValidUntil.IsZero() && !l.ValidUntil.After(l.ValidFrom):
		return "valid_until", "is not after valid_from"
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"licence_no", l.LicenceNo, wire.MaxNameRunes}, {"code", l.Code, wire.MaxNameRunes},
		{"name", l.Name, wire.MaxTextRunes}, {"issuer", l.Issuer, wire.MaxTextRunes}} {
		if f.v == "" {
			return f.name, "is required"
		}
		if err := wire.CheckText(f.v, f.max); err != nil {
			return f.name, err.Error()
		}
	}
	return "", ""
}

// licenceDecodeError says where and how the licences file fails to decode
// without quoting it: encoding/json and time quote the values they cannot
// read, and a value may be an ID or licence number.
func licenceDecodeError(err error, offset int64) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tm *time.ParseError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		// Value is "number" or "string", but "number 123…" for a number
		// out of range: keep its first word only.
		kind, _, _ := strings.Cut(typ.Value, " ")
		return fmt.Sprintf("field %s at byte %d is a JSON %s, not a %s", typ.Field, typ.Offset, kind, typ.Type)
	case errors.As(err, &tm):
		return fmt.Sprintf("a time near byte %d is not RFC 3339 (2016-05-04T00:00:00+08:00)", offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return err.Error() + " (a field name from the file, not a value)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the file ends before its JSON value does"
	}
	return fmt.Sprintf("cannot be read as a licences file near byte %d", offset)
}
