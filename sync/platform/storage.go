package platform

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"yici/sync/wire"
)

// Storage errors. Backends wrap them so the server can answer in codes.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict: same id, other content")
	ErrExists   = errors.New("already exists")
	// ErrHashMismatch: bytes that do not hash to the address they were sent
	// under; nothing of them is kept.
	ErrHashMismatch = errors.New("hash mismatch")
	// ErrLocked: another append to the same upload is under way.
	ErrLocked = errors.New("upload locked by another append")
	// ErrTooLong: an append would take an upload past its length.
	ErrTooLong = errors.New("bytes past the upload's length")
)

// Queue errors (Storage.PutTicket).
var (
	// ErrNumberTaken: an offline number given already that day in the
	// hall, or of a band another kiosk of the hall used that day.
	ErrNumberTaken = errors.New("queue number taken")
	// ErrExhausted: the platform's numbers of a category are used up for
	// the day.
	ErrExhausted = errors.New("queue numbers used up for the day")
)

// ErrQuota: the bytes would take their sender past its staging quota.
var ErrQuota = errors.New("staging quota exceeded")

// QuotaError refuses bytes that would take owner past its quota of staged
// bytes (blobs received and not yet synced, plus open uploads' lengths).
type QuotaError struct {
	Owner   string
	Held    int64 // staged for owner already, in bytes
	Want    int64 // asked for on top
	AtLeast bool  // Want is what had arrived of a body of unknown length
	Limit   int64
}

func (e *QuotaError) Error() string {
	atLeast := ""
	if e.AtLeast {
		atLeast = "at least "
	}
	return fmt.Sprintf("terminal %s holds %d staged bytes and asks %s%d more; the limit is %d", e.Owner, e.Held, atLeast, e.Want, e.Limit)
}

func (e *QuotaError) Unwrap() error { return ErrQuota }

// StagingLimits bound what a terminal may keep staged (received, not yet
// named by a commit) and for how long. Zero fields take the defaults.
type StagingLimits struct {
	// MaxBytesPerTerminal: staged blobs plus open uploads' lengths, per
	// terminal; default DefaultMaxStagedBytes.
	MaxBytesPerTerminal int64
	// StagedMaxAge: a received blob no commit has named is dropped after
	// this long; default DefaultStagedMaxAge.
	StagedMaxAge time.Duration
	// UploadMaxAge: an upload nobody has appended to is dropped after this
	// long; default DefaultUploadMaxAge.
	UploadMaxAge time.Duration
}

// Staging defaults.
const (
	DefaultMaxStagedBytes = 256 << 20
	DefaultStagedMaxAge   = time.Hour
	DefaultUploadMaxAge   = 6 * time.Hour
)

func (l StagingLimits) withDefaults() StagingLimits {
	if l.MaxBytesPerTerminal <= 0 {
		l.MaxBytesPerTerminal = DefaultMaxStagedBytes
	}
	if l.StagedMaxAge <= 0 {
		l.StagedMaxAge = DefaultStagedMaxAge
	}
	if l.UploadMaxAge <= 0 {
		l.UploadMaxAge = DefaultUploadMaxAge
	}
	return l
}

// OffsetError refuses an append at an offset that is not the upload's.
type OffsetError struct {
	Want, Got int64 // the upload's offset; the one asked for
}

func (e *OffsetError) Error() string {
	return fmt.Sprintf("upload is at offset %d, not %d", e.Want, e.Got)
}

// Case is a case as the platform holds it.
type Case struct {
	Manifest   wire.Manifest // Terminal is the sender's enrolled name
	Hall       string        // the sender's hall: who may read the case
	Applicant  string        // the applicant's key (Server.applicantKey), to find their cases
	ReceivedAt time.Time
}

// Terminal is an enrolled appliance. Only the SHA-256 of its token is kept.
// A rotated token stays valid until PrevExpiresAt, so a terminal that lost
// the answer to its rotation can still rotate again with the old one.
type Terminal struct {
	Name          string    `json:"name"`
	Hall          string    `json:"hall"`
	Role          Role      `json:"role,omitempty"` // empty: enrolled before roles; refused until given one
	TokenHash     string    `json:"token_hash"`     // lowercase hex SHA-256 of the bearer token
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	PrevTokenHash string    `json:"prev_token_hash,omitempty"`
	PrevExpiresAt time.Time `json:"prev_expires_at,omitzero"`
	EnrolledAt    time.Time `json:"enrolled_at"`
	Revoked       bool      `json:"revoked,omitempty"`
}

// Storage is what the server keeps: blobs, cases and terminals. BoltStorage
// is the single-node backend; a PostgreSQL + S3 backend implements the same.
// Each method's outcomes are numbered in its comment.
type Storage interface {
	// HasBlob reports whether the blob sha256 is held, durable or not yet.
	HasBlob(ctx context.Context, sha256 string) (bool, error)
	// PutBlob stores the bytes read from r under sha256, staged for owner
	// (the sending terminal's name) until SyncBlobs. 1. r reads to EOF:
	// the blob is held, and durable once SyncBlobs has returned for it; a
	// blob not yet durable is forgotten (HasBlob false) by a restart, never
	// held damaged. A blob durable already is read and not stored again; one
	// staged already by another owner is staged for owner too and held
	// once. 2. Reading r fails (the server's verifying reader fails on a
	// hash mismatch): nothing is stored and the read error is returned,
	// wrapped. 3. The bytes would take owner past its staging quota: nothing
	// is stored, *QuotaError (wraps ErrQuota).
	PutBlob(ctx context.Context, owner, sha256 string, r io.Reader) error
	// SyncBlobs makes the held blobs hashes durable, together, so the cost
	// of flushing is paid once per commit and not once per blob. The server
	// calls it before it stores anything that names them. A hash not held
	// is an error wrapping ErrNotFound. A synced blob no longer counts
	// against any owner's quota.
	SyncBlobs(ctx context.Context, hashes []string) error
	// OpenBlob opens the blob sha256 for reading; ErrNotFound if not held.
	OpenBlob(ctx context.Context, sha256 string) (io.ReadCloser, error)

	// An upload receives one blob in pieces, by offset, over requests that
	// may break; there is at most one per owner and hash, and an owner sees
	// only its own: two terminals sending the same blob each have theirs,
	// and neither can lock, conflict with or append to the other's (the
	// blob is held once, whoever finishes first). It is not held until its
	// last byte is in and verified. An upload nobody has appended to for a
	// while (StagingLimits.UploadMaxAge) is discarded.
	//
	// StartUpload opens owner's upload of sha256, length bytes long. 1.
	// None open: it is opened, (0, true, nil). 2. One of that length is
	// open: (its offset, false, nil). 3. One of another length:
	// ErrConflict. 4. length would take owner past its staging quota
	// (an open upload counts for its whole length): *QuotaError.
	StartUpload(ctx context.Context, owner, sha256 string, length int64) (offset int64, created bool, err error)
	// UploadOffset returns the offset and length of owner's open upload of
	// sha256; ErrNotFound if none is open.
	UploadOffset(ctx context.Context, owner, sha256 string) (offset, length int64, err error)
	// AppendUpload appends the bytes r reads to owner's upload of sha256 at
	// offset and returns the new offset. 1. r reads to EOF: (new offset,
	// nil). 2. Reading r fails: the bytes read before are kept, (new offset,
	// the read error wrapped). 3. No upload open: ErrNotFound. 4. Another
	// append is under way: ErrLocked. 5. offset is not the upload's:
	// *OffsetError. 6. r holds more than length−offset bytes: none of this
	// append is kept, ErrTooLong. 7. Storing the bytes fails: none of this
	// append is kept, the error wrapped. When the offset reaches the length
	// (even if r failed after that) the bytes are verified: if they hash to
	// sha256 the blob is held as after PutBlob, the upload closed and the
	// answer (length, nil); if not, the upload is discarded and the error
	// wraps ErrHashMismatch; if they cannot be read back, it is discarded
	// too. An upload is never left whole and open.
	AppendUpload(ctx context.Context, owner, sha256 string, offset int64, r io.Reader) (int64, error)
	// SetStagingLimits sets the quota and ages of staging; the server calls
	// it once, before it serves. Zero fields take the defaults.
	SetStagingLimits(l StagingLimits)
	// DropStaging discards all owner has staged: its open uploads and its
	// share of the blobs received and not yet synced (a blob another owner
	// staged too stays held for that one). Called when a terminal is
	// revoked; its quota is free again after. A PUT of owner's still
	// streaming when it is called may stage its blob after; that one goes
	// by age like any other (a revoked terminal's requests are refused
	// from the revocation on).
	DropStaging(ctx context.Context, owner string) error

	// PutCase stores c unless a case of its id exists. 1. Stored: (true,
	// nil). 2. A case of that id with Equal content exists: (false, nil),
	// nothing changes. 3. One with other content exists: ErrConflict.
	PutCase(ctx context.Context, c Case) (stored bool, err error)
	// GetCase returns the case id; ErrNotFound if not held.
	GetCase(ctx context.Context, id string) (Case, error)
	// ListCases returns the summaries of up to limit cases of hall, the
	// most recently received first. A summary is stored beside its case when
	// the case is put (names and ID numbers masked), so a list decrypts no
	// manifest.
	ListCases(ctx context.Context, hall string, limit int) ([]wire.CaseSummary, error)
	// CasesOf returns the summaries of up to limit cases of hall whose
	// applicant has key applicant, the most recently received first.
	// Cases stored before applicants were indexed are not found.
	CasesOf(ctx context.Context, hall, applicant string, limit int) ([]wire.CaseSummary, error)

	// AddTerminal enrols t. ErrExists if a terminal of that name is
	// enrolled and not revoked; a revoked one is replaced.
	AddTerminal(ctx context.Context, t Terminal) error
	// RevokeTerminal revokes the terminal name; ErrNotFound if none.
	RevokeTerminal(ctx context.Context, name string) error
	// TerminalByToken returns the terminal whose token (current or the one
	// before a rotation) hashes to tokenHash, revoked or not; ErrNotFound if
	// none.
	TerminalByToken(ctx context.Context, tokenHash string) (Terminal, error)
	// UpdateTerminal stores t over the terminal of its name and keeps the
	// token index in step with its TokenHash and PrevTokenHash; ErrNotFound
	// if no terminal has that name.
	UpdateTerminal(ctx context.Context, t Terminal) error
	// Terminals lists every enrolled terminal, revoked ones too, by name.
	Terminals(ctx context.Context) ([]Terminal, error)

	// ApplicantSecret returns the platform's secret for keying applicants
	// (an HMAC key of 32 bytes), made at random on first use and the same
	// ever after: the vault is keyed by it.
	ApplicantSecret(ctx context.Context) ([]byte, error)
	// AppCodeKey returns the platform's Ed25519 key for signing app codes
	// (sync/appcode), made at random on first use and the same ever
	// after; backends keep it sealed at rest.
	AppCodeKey(ctx context.Context) (ed25519.PrivateKey, error)
	// PutVaultEntries adds the entries to the applicant's vault, replacing
	// those of the same Ref.
	PutVaultEntries(ctx context.Context, applicant string, entries []wire.VaultEntry) error
	// VaultEntries returns the applicant's entries ordered by Ref; none is
	// not an error.
	VaultEntries(ctx context.Context, applicant string) ([]wire.VaultEntry, error)

	// PutEvent stores e unless an event of its id exists. 1. Stored: (true,
	// nil). 2. One with EqualEvent content exists: (false, nil). 3. One
	// with other content exists: ErrConflict.
	PutEvent(ctx context.Context, e wire.Event, receivedAt time.Time) (stored bool, err error)
	// CaseEvents returns the events naming caseID, in order of receipt.
	CaseEvents(ctx context.Context, caseID string) ([]wire.Event, error)

	// PutCatalog stores doc, compact JSON, as catalogue revision rev.
	// 1. Stored: (true, nil). 2. The same bytes are that revision: (false,
	// nil). 3. Other bytes are: ErrConflict. 4. rev is not above the latest
	// revision: ErrConflict.
	PutCatalog(ctx context.Context, rev int, doc []byte) (stored bool, err error)
	// LatestCatalog returns the highest revision stored; 0 when none.
	LatestCatalog(ctx context.Context) (int, error)
	// GetCatalog returns revision rev; ErrNotFound if not stored.
	GetCatalog(ctx context.Context, rev int) ([]byte, error)

	// Clerks (clerks.go). A clerk record names a person: backends keep it
	// sealed at rest.
	//
	// AddClerk stores c; ErrExists if a clerk of that ID exists.
	AddClerk(ctx context.Context, c Clerk) error
	// GetClerk returns the clerk id; ErrNotFound if none.
	GetClerk(ctx context.Context, id string) (Clerk, error)
	// UpdateClerk calls f on the clerk id and stores what f made of it if
	// f returns true, atomically (no other update of the clerk in between),
	// and returns the clerk as it stands after. ErrNotFound if none.
	UpdateClerk(ctx context.Context, id string, f func(*Clerk) bool) (Clerk, error)
	// UpdateSignInMiss is UpdateClerk for the lockout of a name no clerk
	// of that hall has (key is hall + "/" + clerk id), so such a name
	// locks as a clerk's does; a record not there starts out zero. Keys
	// are clerk numbers typed at a desk (sometimes a PIN typed into the
	// wrong field): backends keep them keyed, not in the clear.
	UpdateSignInMiss(ctx context.Context, key string, f func(*Lockout) bool) (Lockout, error)
	// DeleteSignInMisses removes the miss records last updated before
	// before and not locked at that time.
	DeleteSignInMisses(ctx context.Context, before time.Time) error

	// Sessions of clerks, shared by all platform nodes.
	//
	// PutSession stores s under s.TokenHash, replacing one there.
	PutSession(ctx context.Context, s Session) error
	// SessionByHash returns the session whose token hashes to tokenHash;
	// ErrNotFound if none.
	SessionByHash(ctx context.Context, tokenHash string) (Session, error)
	// TouchSession sets the LastUsed of the session tokenHash to at;
	// ErrNotFound if none (it is never made again).
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	// DeleteSession removes the session tokenHash; none is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteClerkSessions removes every session of the clerk and returns
	// how many there were.
	DeleteClerkSessions(ctx context.Context, clerk string) (int, error)
	// DeleteExpiredSessions removes the sessions expired at now: past
	// their Expires, or unused (LastUsed) for idle or more. It returns how
	// many it removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)

	// The hall queue (queue.go). A ticket may name a case: backends keep
	// tickets sealed at rest. Numbers are kept per hall, day and category,
	// and a number is given at most once per hall and day.
	//
	// PutTicket stores q, a ticket a kiosk issued, unless a ticket of its
	// id exists. A ticket without a Number is given the next of its hall,
	// day and category (wire.OnlineNumber); one with a Number (offline)
	// keeps it. 1. Stored: (q as stored, true, nil). 2. A ticket of that id
	// issued alike (sameIssue) exists: (it, false, nil), nothing changes.
	// 3. One issued otherwise: ErrConflict. 4. q's Number is given already
	// that day in the hall, or its band is another kiosk's that day:
	// ErrNumberTaken. 5. The category's numbers are used up: ErrExhausted.
	PutTicket(ctx context.Context, q QueueTicket) (QueueTicket, bool, error)
	// GetTicket returns the ticket id; ErrNotFound if none.
	GetTicket(ctx context.Context, id string) (QueueTicket, error)
	// NextTicket takes, atomically, the first waiting ticket of hall on
	// day in one of categories (priority first, then QueuedAt, then id),
	// marks it called by clerk at window at at and returns it: no two
	// calls ever get the same ticket. ErrNotFound if none is waiting.
	NextTicket(ctx context.Context, hall, day string, categories []string, window, clerk string, at time.Time) (QueueTicket, error)
	// UpdateTicket calls f on the ticket id and, if f returns nil, stores
	// what f made of it, atomically, the queue's indexes in step; f's
	// error is returned as it is and nothing changes. ErrNotFound if none.
	UpdateTicket(ctx context.Context, id string, f func(*QueueTicket) error) (QueueTicket, error)
	// QueueBoard returns the board of hall on day, with up to last of its
	// last calls.
	QueueBoard(ctx context.Context, hall, day string, last int) (wire.Board, error)
}

// Equal reports whether two manifests have the same content, which is what
// makes a repeated PUT of a case idempotent. It compares their canonical
// JSON, so an unset list equals an empty one and times compare as instants.
func Equal(a, b wire.Manifest) bool {
	return bytes.Equal(canonical(a), canonical(b))
}

// EqualEvent reports whether two events have the same content, which is
// what makes a repeated PUT of an event idempotent.
func EqualEvent(a, b wire.Event) bool {
	return bytes.Equal(canonicalEvent(a), canonicalEvent(b))
}

func canonicalEvent(e wire.Event) []byte {
	e.At = e.At.UTC()
	if len(e.Reasons) == 0 {
		e.Reasons = nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic("platform: marshal event: " + err.Error()) // an Event always marshals
	}
	return b
}

func canonical(m wire.Manifest) []byte {
	m.CreatedAt = m.CreatedAt.UTC()
	if m.Items == nil {
		m.Items = []string{}
	}
	if m.Materials == nil {
		m.Materials = []wire.MaterialRef{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("platform: marshal manifest: " + err.Error()) // a Manifest always marshals
	}
	return b
}
