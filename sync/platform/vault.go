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

func (s *Server) vaultQuery(w http.ResponseWriter, r *http.Request, _ Terminal) {
	if !allow(w, r, http.MethodPost) {
		return
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
	entries, err := s.st.VaultEntries(r.Context(), key)
	if err != nil {
		s.internal(w, "read vault", err)
		return
	}
	writeJSON(w, http.StatusOK, wire.VaultAnswer{Applicant: key, AsOf: time.Now().UTC(), Entries: entries})
}

// confirm makes confirmed materials of a held case vault entries. The
// entry of a material is named "<case>/<code>", so confirming again
// changes nothing but a corrected validity.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, t Terminal) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid case id", id), nil)
		return
	}
	var req wire.ConfirmRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Clerk == "" || len(req.Materials) == 0 {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "a confirmation names the clerk and at least one material", nil)
		return
	}
	ctx := r.Context()
	c, err := s.st.GetCase(ctx, id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "case "+id+" is not held; put it before confirming its materials", nil)
		return
	}
	if err != nil {
		s.internal(w, "read case", err)
		return
	}
	m := c.Manifest
	if !wire.ValidIDNumber(m.Applicant.IDNumber) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			"case "+id+" has no valid resident ID number, so its materials cannot be kept for the applicant", nil)
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
	now := time.Now().UTC()
	var out []wire.VaultEntry
	for _, cm := range req.Materials {
		i := slices.IndexFunc(m.Materials, func(mr wire.MaterialRef) bool { return mr.Code == cm.Code && !mr.Exempt })
		if i < 0 {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
				fmt.Sprintf("case %s has no handed-in material %q to confirm", id, cm.Code), nil)
			return
		}
		if !cm.ValidUntil.IsZero() && !cm.ValidUntil.After(now) {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
				fmt.Sprintf("material %s: valid_until %s is not in the future", cm.Code, cm.ValidUntil.Format(time.RFC3339)), nil)
			return
		}
		mr := m.Materials[i]
		e := wire.VaultEntry{Ref: id + "/" + mr.Code, Code: mr.Code, Name: mr.Name, Source: wire.SourceCase,
			Issuer: t.Hall, SHA256: mr.SHA256, Size: mr.Size, ContentType: mr.ContentType,
			ValidFrom: now, ValidUntil: cm.ValidUntil.UTC(), Case: id, ConfirmedBy: req.Clerk, ConfirmedAt: now}
		if j := slices.IndexFunc(held, func(h wire.VaultEntry) bool { return h.Ref == e.Ref }); j >= 0 {
			// Keep the first confirmation's who and when; a repeat only
			// corrects the validity.
			old := held[j]
			old.ValidUntil = e.ValidUntil
			e = old
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
