package wire

import "time"

// Clerk sessions (docs/sync-protocol.md, "Clerk sessions"): a clerk signs
// in at a desk with a staff number and PIN; the desk then sends the session
// token beside its own bearer token on the requests that act for the clerk
// (confirm, verdicts, decisions).
//
//	POST   /v1/session  SessionRequest → 201 SessionAnswer; 401
//	                    sign_in_failed, 429 clerk_locked (Retry-After)
//	DELETE /v1/session  with Yici-Session → 204 signed out (also when the
//	                    session had ended already)

// SessionPath is the path of sign-in (POST) and sign-out (DELETE).
const SessionPath = "/" + Version + "/session"

// HeaderSession carries a clerk session's token; it is bound to the
// terminal whose bearer token signed it in and is refused beside another.
const HeaderSession = "Yici-Session"

// Error codes of clerk sessions. Append only.
const (
	// CodeSessionRequired (401) answers a request that needs a clerk
	// session and has none that is valid: no Yici-Session header, an
	// unknown, ended, expired or idle session, one signed in at another
	// terminal, or the clerk disabled since. Sign in again.
	CodeSessionRequired = "session_required"
	// CodeSignInFailed (401) answers a sign-in with an unknown clerk, a
	// wrong PIN, a disabled clerk or a clerk of another hall, all alike so
	// staff numbers cannot be told apart. Do not retry by program: each
	// attempt counts towards the lockout.
	CodeSignInFailed = "sign_in_failed"
	// CodeClerkLocked (429, with Retry-After in seconds) answers every
	// sign-in of a clerk locked after too many wrong PINs in a row, even
	// with the right PIN, until the lock runs out.
	CodeClerkLocked = "clerk_locked"
)

// SessionRequest signs a clerk in at a desk.
type SessionRequest struct {
	Clerk  string `json:"clerk"`  // staff number, e.g. "0123"
	PIN    string `json:"pin"`    // 6 to 12 digits
	Window string `json:"window"` // the counter the clerk sits at, e.g. "3号窗口"; may be empty
}

// SessionAnswer is a session just opened. Token is shown this once; the
// platform keeps only its SHA-256.
type SessionAnswer struct {
	Token     string    `json:"token"` // 64 hex digits; send as Yici-Session
	Clerk     string    `json:"clerk"`
	Name      string    `json:"name"`
	Hall      string    `json:"hall"`
	Window    string    `json:"window"`
	ExpiresAt time.Time `json:"expires_at"` // at the latest; it ends sooner when idle
	// IdleSeconds is how long the session may go unused before it ends.
	IdleSeconds int `json:"idle_seconds"`
}
