package wire

import "time"

// Roles and who may call what (docs/sync-protocol.md §3): every terminal is
// enrolled as a kiosk, a desk or a display; the platform refuses what its
// role may not do.
//
//	GET  /v1/whoami   WhoAmI: the caller's name, hall, role, token expiry
//	POST /v1/token    TokenAnswer: a new token; the old one stays valid for
//	                  a short grace, so a lost answer is not a lock-out

// Error codes of authorisation. Append only.
const (
	// CodeForbidden: the caller's role may not do this, or the thing asked
	// for belongs to another hall or terminal. Nothing was changed.
	CodeForbidden = "forbidden"
	// CodeTokenExpired: the token has passed its expiry; the terminal must
	// be enrolled again (a terminal rotates its token well before this).
	CodeTokenExpired = "token_expired"
	// CodeRateLimited: too many requests of this kind from this terminal;
	// retry after the Retry-After header's seconds.
	CodeRateLimited = "rate_limited"
)

// CaseSearch asks POST /v1/cases/search for the cases of the caller's hall
// whose applicant has this ID number (read from the card at the window);
// the answer is []CaseSummary, newest first. The number travels in the
// body, never in a URL.
type CaseSearch struct {
	IDNumber string `json:"id_number"`
}

// WhoAmI answers GET /v1/whoami.
type WhoAmI struct {
	Name      string    `json:"name"`
	Hall      string    `json:"hall"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TokenAnswer answers POST /v1/token: the terminal's new bearer token.
type TokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}
