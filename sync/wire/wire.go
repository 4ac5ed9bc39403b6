// Package wire holds the records that cross between an appliance (kiosk or
// desk) and the platform, and the paths of the sync protocol, version 1.
// docs/sync-protocol.md is the prose form of this file.
//
// The protocol follows the OCI distribution model: blobs are addressed by
// the lowercase hex SHA-256 of their bytes and uploaded first; the case
// manifest is put last and is the commit point. Every request is idempotent.
//
//	POST /v1/blobs/missing   MissingRequest → MissingResponse
//	HEAD /v1/blobs/{sha256}  200 when held, 404 when not
//	PUT  /v1/blobs/{sha256}  raw bytes → 201 stored, 200 already held,
//	                          400 hash_mismatch, 413 too_large
//	GET  /v1/blobs/{sha256}  raw bytes, for the desk and the vault
//
//	POST  /v1/blobs/{sha256}/uploads  Upload-Length → 201 opened, 200 open
//	                                   or blob held; Upload-Offset tells where
//	                                   to go on (a large blob, resumably)
//	HEAD  /v1/blobs/{sha256}/uploads  200 Upload-Offset, 404 none open
//	PATCH /v1/blobs/{sha256}/uploads  Upload-Offset + the bytes from there →
//	                                   204 Upload-Offset, 409 offset_mismatch,
//	                                   423 upload_locked, 400 hash_mismatch at
//	                                   the last byte, 413 too_large
//
//	PUT  /v1/cases/{id}      Manifest → 201 stored, 200 same content already
//	                          stored, 409 conflict (same id, other content),
//	                          422 blob_missing (Error.Missing lists them)
//	GET  /v1/cases           []CaseSummary, newest first
//	GET  /v1/cases/{id}      Manifest
//
// Every request carries "Authorization: Bearer <terminal token>"; an unknown
// or revoked token gets 401 unauthorized. Every error body is ErrorBody.
package wire

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// Version is the protocol version, the first path segment.
const Version = "v1"

// MaxBlobBytes is the largest blob the platform accepts (a scanned
// multi-page PDF stays well below it).
const MaxBlobBytes = 64 << 20

// Manifest is one case as the appliance submits it.
type Manifest struct {
	ID              string   `json:"id"`               // made by the appliance, unique per terminal
	Terminal        string   `json:"terminal"`         // filled in by the platform from the credential
	CatalogRevision int      `json:"catalog_revision"` // the catalogue revision the case was made under (S3)
	Items           []string `json:"items"`            // service-item codes
	// Applied is the item or bundle applied for and Answers the choice ids
	// of its situational questions, in the order asked: with the catalogue
	// revision they give exactly the guide the case was made under
	// (catalog.Resolve), so the window reviews the same material list the
	// kiosk asked for. Empty for cases made before they were recorded.
	Applied   string    `json:"applied,omitempty"`
	Answers   []string  `json:"answers,omitempty"`
	Applicant Applicant `json:"applicant"`
	// Agent, when set, applies on the applicant's behalf (帮办代办, S18):
	// the case then needs the applicant's letter of authorisation.
	Agent     *Applicant    `json:"agent,omitempty"`
	Materials []MaterialRef `json:"materials"`
	CreatedAt time.Time     `json:"created_at"`
}

// Applicant is the person a case is for, as read from the ID card.
type Applicant struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// MaterialRef is one material of a case: either a blob handed in now, or a
// reference to something already on file (Exempt, with no blob).
type MaterialRef struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	SHA256      string `json:"sha256,omitempty"`
	Size        int64  `json:"size,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Exempt      bool   `json:"exempt,omitempty"`
}

// MissingRequest asks which of these blobs the platform lacks.
type MissingRequest struct {
	SHA256 []string `json:"sha256"`
}

// MissingResponse lists the ones it lacks, in request order.
type MissingResponse struct {
	Missing []string `json:"missing"`
}

// CaseSummary is a line of the platform's case list. Name and IDNumber are
// masked.
type CaseSummary struct {
	ID         string    `json:"id"`
	Terminal   string    `json:"terminal"`
	Hall       string    `json:"hall"`
	Items      []string  `json:"items"`
	Applicant  Applicant `json:"applicant"`
	Materials  int       `json:"materials"`
	ReceivedAt time.Time `json:"received_at"`
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error codes. Append only; a client may act on them.
const (
	CodeUnauthorized = "unauthorized"
	CodeBadRequest   = "bad_request"
	CodeHashMismatch = "hash_mismatch"
	CodeTooLarge     = "too_large"
	CodeConflict     = "conflict"
	CodeBlobMissing  = "blob_missing"
	CodeNotFound     = "not_found"
	CodeInternal     = "internal"
	// CodeOffsetMismatch answers a PATCH whose Upload-Offset is not the
	// upload's; Error.Offset is the one to go on from.
	CodeOffsetMismatch = "offset_mismatch"
	// CodeUploadLocked answers a PATCH while another is appending to the same
	// upload; retry after a while.
	CodeUploadLocked = "upload_locked"
	// CodeQuotaExceeded (507) refuses bytes that would take the sending
	// terminal past its quota of staged bytes (blobs sent and not yet named
	// by a commit, plus open uploads); retry after committing, or after
	// what it holds has been dropped.
	CodeQuotaExceeded = "quota_exceeded"
)

// Error says what went wrong, in a code a program can act on and a message
// a person can read.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Missing []string `json:"missing,omitempty"`
	Offset  *int64   `json:"offset,omitempty"` // with offset_mismatch: the upload's offset
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The headers of a resumable upload, after tus 1.0: both carry a byte count
// as ParseOffset reads it.
const (
	HeaderUploadOffset = "Upload-Offset" // bytes the platform holds of the upload
	HeaderUploadLength = "Upload-Length" // the blob's whole size
)

// UploadPath is the path of the resumable upload of the blob sha256.
func UploadPath(sha256 string) string { return "/" + Version + "/blobs/" + sha256 + "/uploads" }

// ParseOffset reads the value of an Upload-Offset or Upload-Length header:
// 1 to 18 decimal digits, nothing else (no sign, space or exponent), so
// every value fits an int64 and no two spellings mean different things to
// two implementations.
func ParseOffset(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("byte count %q is not 1 to 18 decimal digits", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("byte count %q is not 1 to 18 decimal digits", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// A case id is chosen by the appliance and travels in a URL path, so it is
// kept to characters that need no escaping.
var caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// NewCaseID makes a case id unique per terminal without a round trip: the
// terminal's name (with which the platform requires every id it takes from
// that terminal to begin), the time to the second and 4 random bytes.
func NewCaseID(terminal string, t time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", terminal, t.Format("20060102-150405"), hex.EncodeToString(b[:]))
}

// ValidCaseID reports whether id may name a case: 1 to 128 of A–Z, a–z,
// 0–9, '.', '_', '-', starting with a letter or digit.
func ValidCaseID(id string) bool { return caseIDPattern.MatchString(id) }

// ValidSHA256 reports whether s is a blob address: 64 lowercase hex digits.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
