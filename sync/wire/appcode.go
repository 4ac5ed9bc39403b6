package wire

// AppCodeKeyPath is where a terminal fetches the public keys app codes
// (掌上办 identity codes, sync/appcode) are signed with: GET, any role;
// the answer is AppCodeKeys. A kiosk fetches it while online and keeps it,
// to verify codes offline.
const AppCodeKeyPath = "/v1/appcode/key"

// AppCodeKeys answers GET /v1/appcode/key: every key a code the platform
// issues now may be signed with.
type AppCodeKeys struct {
	Keys []AppCodeKey `json:"keys"`
}

// AppCodeKey is one Ed25519 public key and its id (appcode.KeyID), which
// each code names.
type AppCodeKey struct {
	ID      string `json:"id"`
	Ed25519 []byte `json:"ed25519"` // 32 bytes; base64 in JSON
}
