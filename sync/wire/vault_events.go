package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// Protocol v1 beyond blobs and cases (docs/sync-protocol.md):
//
//	POST /v1/vault/query          VaultQuery → VaultAnswer (the ID number
//	                              travels in the body, never in a URL)
//	POST /v1/cases/{id}/confirm   ConfirmRequest → ConfirmAnswer: confirmed
//	                              materials of a held case enter the vault
//	PUT  /v1/events/{id}          Event → 201 stored, 200 same content already
//	                              stored, 409 conflict, 422 blob_missing
//	GET  /v1/events?case={id}     []Event of one case, in order of receipt
//	GET  /v1/catalog              CatalogHead: the latest revision
//	GET  /v1/catalog/{revision}   the catalogue document of that revision

// Error codes added after the first pass. Append only.
const (
	CodeNoCatalog = "no_catalog" // the platform has no catalogue revision yet
)

// IDNumberLen is the length of a resident ID number (GB 11643-1999).
const IDNumberLen = 18

// ValidIDNumber reports whether s is a GB 11643-1999 resident ID number:
// 17 digits and a check character (0–9 or upper-case X) that matches them.
func ValidIDNumber(s string) bool {
	if len(s) != IDNumberLen {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * w
	}
	return s[17] == "10X98765432"[sum%11]
}

// VaultQuery asks what is on file for one applicant.
type VaultQuery struct {
	IDNumber string `json:"id_number"`
	// Codes, if given, are the material codes asked about; a kiosk's
	// answer holds entries of these codes only.
	Codes []string `json:"codes,omitempty"`
}

// Vault entry sources.
const (
	SourceLicence = "licence" // an electronic licence from the licence registry
	SourceCase    = "case"    // a material handed in and confirmed in an earlier case
)

// VaultEntry is one thing on file for an applicant (S13). Entries are
// identified by Ref within one applicant: a licence number for a licence,
// "<case id>/<material code>" for a confirmed material.
type VaultEntry struct {
	Ref         string    `json:"ref"`
	Code        string    `json:"code"`   // material code of the catalogue (M-HUKOU, …)
	Name        string    `json:"name"`   // what it is, for people
	Source      string    `json:"source"` // SourceLicence or SourceCase
	Issuer      string    `json:"issuer,omitempty"`
	SHA256      string    `json:"sha256,omitempty"` // the document's bytes; a blob on the platform for SourceCase
	Size        int64     `json:"size,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	ValidFrom   time.Time `json:"valid_from,omitzero"`
	ValidUntil  time.Time `json:"valid_until,omitzero"` // zero: no end
	Case        string    `json:"case,omitempty"`       // SourceCase: the case it was handed in with
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
}

// ValidAt reports whether the entry is in force at t.
func (e VaultEntry) ValidAt(t time.Time) bool {
	return !t.Before(e.ValidFrom) && (e.ValidUntil.IsZero() || t.Before(e.ValidUntil))
}

// VaultAnswer is what the platform has on file for an applicant. Applicant
// is an opaque key (an HMAC of the ID number under a platform secret) that
// names the applicant without the number; it is stable for one platform.
type VaultAnswer struct {
	Applicant string       `json:"applicant"`
	AsOf      time.Time    `json:"as_of"`
	Entries   []VaultEntry `json:"entries"`
}

// OnFile returns the entry that exempts material code at t, if any: one in
// force, preferring a licence to a confirmed copy and then the latest
// validity. The terminal marks such a material 免提交 (S13).
func (a VaultAnswer) OnFile(code string, t time.Time) (VaultEntry, bool) {
	var best VaultEntry
	found := false
	for _, e := range a.Entries {
		if e.Code != code || !e.ValidAt(t) {
			continue
		}
		if !found || better(e, best) {
			best, found = e, true
		}
	}
	return best, found
}

func better(a, b VaultEntry) bool {
	if (a.Source == SourceLicence) != (b.Source == SourceLicence) {
		return a.Source == SourceLicence
	}
	if a.ValidUntil.IsZero() != b.ValidUntil.IsZero() {
		return a.ValidUntil.IsZero()
	}
	return a.ValidUntil.After(b.ValidUntil)
}

// ConfirmRequest confirms materials of a case the platform holds: a clerk
// reviewed them and they pass, so they enter the applicant's vault.
type ConfirmRequest struct {
	// Clerk is ignored: the platform takes the clerk from the session.
	Clerk     string            `json:"clerk,omitempty"`
	Materials []ConfirmMaterial `json:"materials"` // non-exempt materials of the case, by code
}

// ConfirmMaterial is one material to confirm and how long it stays valid.
type ConfirmMaterial struct {
	Code string `json:"code"`
	// ValidUntil is ignored: the platform takes the validity from the
	// catalogue (Material.ValidDays).
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// ConfirmAnswer lists the vault entries the confirmation made or kept.
type ConfirmAnswer struct {
	Applicant string       `json:"applicant"`
	Entries   []VaultEntry `json:"entries"`
}

// Event kinds (S16, S17, S18, S6).
const (
	EventFirstInquiry     = "first_inquiry"     // 首问登记: Clerk took the first inquiry (Item, optional Case)
	EventHandlingStarted  = "handling_started"  // 开始办理 of Case
	EventHandlingFinished = "handling_finished" // 办结 of Case: Outcome
	EventRating           = "rating"            // 好差评: Level 1–5, Reasons for 1–2, Channel
	EventRejection        = "rejection"         // 否定备案: Material failed Criterion, Reason
	EventDeferredSupplied = "deferred_supplied" // 容缺补正: Material supplied later as blob SHA256
)

// Rating levels, 5 the best (非常满意) to 1 (非常不满意).
const (
	RatingMin = 1
	RatingMax = 5
)

// Event is one thing that happened in handling, sent once through the
// outbox like a case. ID is made by the appliance and is the dedup key: the
// platform stores an id once and answers a repeat as it answered the first.
type Event struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	Terminal  string    `json:"terminal"` // filled in by the platform from the credential
	Case      string    `json:"case,omitempty"`
	Item      string    `json:"item,omitempty"`
	Clerk     string    `json:"clerk,omitempty"`   // filled in by the platform from the clerk's session
	Window    string    `json:"window,omitempty"`  // the window that session was opened at, likewise
	Outcome   string    `json:"outcome,omitempty"` // handling_finished: approved, refused, withdrawn
	Level     int       `json:"level,omitempty"`
	Reasons   []string  `json:"reasons,omitempty"`
	Channel   string    `json:"channel,omitempty"` // rating: pad or qr
	Material  string    `json:"material,omitempty"`
	Criterion string    `json:"criterion,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Size      int64     `json:"size,omitempty"`
}

// Outcomes of handling_finished.
var outcomes = map[string]bool{"approved": true, "refused": true, "withdrawn": true}

// Check returns what is wrong with e, or nil. Both sides use it: the
// appliance before queueing, the platform before storing.
func (e Event) Check() error {
	if !ValidCaseID(e.ID) {
		return fmt.Errorf("event id %q is not valid (the case id rules apply)", e.ID)
	}
	if y := e.At.UTC().Year(); y < 2000 || y > 9000 {
		return fmt.Errorf("event %s: at %v is out of range", e.ID, e.At)
	}
	if e.Case != "" && !ValidCaseID(e.Case) {
		return fmt.Errorf("event %s: case %q is not a valid case id", e.ID, e.Case)
	}
	for _, f := range []struct{ name, v string }{{"clerk", e.Clerk}, {"item", e.Item}, {"material", e.Material}, {"criterion", e.Criterion}} {
		if f.v == "" {
			continue
		}
		if err := ValidName(f.v); err != nil {
			return fmt.Errorf("event %s: %s %v", e.ID, f.name, err)
		}
	}
	if e.Reason != "" {
		if err := CheckText(e.Reason, MaxTextRunes); err != nil {
			return fmt.Errorf("event %s: reason %v", e.ID, err)
		}
	}
	for i, r := range e.Reasons {
		if err := CheckText(r, MaxTextRunes); err != nil {
			return fmt.Errorf("event %s: reason %d %v", e.ID, i, err)
		}
	}
	needCase := func() error {
		if e.Case == "" {
			return fmt.Errorf("event %s: %s needs a case", e.ID, e.Kind)
		}
		return nil
	}
	switch e.Kind {
	case EventFirstInquiry:
		if e.Clerk == "" || e.Item == "" {
			return fmt.Errorf("event %s: first_inquiry needs the clerk and the item asked about", e.ID)
		}
	case EventHandlingStarted:
		return needCase()
	case EventHandlingFinished:
		if !outcomes[e.Outcome] {
			return fmt.Errorf("event %s: outcome %q is not approved, refused or withdrawn", e.ID, e.Outcome)
		}
		return needCase()
	case EventRating:
		if e.Level < RatingMin || e.Level > RatingMax {
			return fmt.Errorf("event %s: rating level %d is not %d to %d", e.ID, e.Level, RatingMin, RatingMax)
		}
		if e.Level <= 2 && len(e.Reasons) == 0 {
			return fmt.Errorf("event %s: a rating of %d needs a reason", e.ID, e.Level)
		}
		if e.Channel != "pad" && e.Channel != "qr" {
			return fmt.Errorf("event %s: rating channel %q is not pad or qr", e.ID, e.Channel)
		}
		return needCase()
	case EventRejection:
		if e.Material == "" || e.Criterion == "" || e.Reason == "" {
			return fmt.Errorf("event %s: a rejection cites the material, the criterion and a reason", e.ID)
		}
		return needCase()
	case EventDeferredSupplied:
		if e.Material == "" || !ValidSHA256(e.SHA256) {
			return fmt.Errorf("event %s: deferred_supplied needs the material and its blob's sha256", e.ID)
		}
		return needCase()
	default:
		return fmt.Errorf("event %s: unknown kind %q", e.ID, e.Kind)
	}
	return nil
}

// CatalogHead answers GET /v1/catalog.
type CatalogHead struct {
	Revision int `json:"revision"`
}

// CatalogRevision reads the "revision" field of a catalogue document, which
// the protocol otherwise treats as opaque JSON.
func CatalogRevision(doc []byte) (int, error) {
	var head struct {
		Revision *int `json:"revision"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return 0, fmt.Errorf("catalogue document: %w", err)
	}
	if head.Revision == nil || *head.Revision < 1 {
		return 0, fmt.Errorf("catalogue document has no positive \"revision\"")
	}
	return *head.Revision, nil
}
