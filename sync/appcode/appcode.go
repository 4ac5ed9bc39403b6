// Package appcode is the app code (掌上办 identity code, S9): a short-lived
// code the platform signs for a person, shown as a QR code on a phone and
// read by the kiosk's code scanner as one line of ASCII. The kiosk checks
// it offline, with the platform's public key fetched while online, and
// refuses a code it has seen before.
//
// A code is
//
//	YC1.<payload>.<signature>
//
// where payload is the base64url (no padding) of a JSON object
//
//	{"v":1,"k":KEYID,"n":NAME,"i":IDNUMBER,"t":ISSUED,"e":EXPIRES,"r":NONCE}
//
// (times in Unix seconds, NONCE 16 random bytes in base64url, KEYID the
// KeyID of the signing key) and signature is the base64url of the Ed25519
// signature of the ASCII bytes "YC1.<payload>". A code is about 260
// characters: a version 10 QR code at level M.
//
// IMPORTANT: the seen-nonce memory is the Verifier's, in memory, of one
// kiosk. A code can be used once at each kiosk, and once more at the same
// kiosk after a restart, until it expires; codes are therefore short-lived
// (DefaultTTL, at most MaxTTL). The platform sees the same person's cases
// from every kiosk and is where a use at two kiosks would show.
package appcode

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"yici/sync/mask"
	"yici/sync/wire"
)

// Prefix begins every code of this format (version 1).
const Prefix = "YC1."

// Lifetimes and sizes.
const (
	DefaultTTL = 5 * time.Minute  // what Issue gives for a ttl of 0
	MaxTTL     = 10 * time.Minute // the longest lifetime Issue makes and Verify accepts
	MaxLen     = 512              // the longest code Verify parses, in bytes
	nonceLen   = 16
)

// Errors of Verify, each wrapped with the details. Append only.
var (
	ErrMalformed   = errors.New("appcode: malformed code")
	ErrUnknownKey  = errors.New("appcode: signed by an unknown key")
	ErrForged      = errors.New("appcode: bad signature")
	ErrExpired     = errors.New("appcode: expired")
	ErrNotYetValid = errors.New("appcode: not yet valid")
	ErrReplayed    = errors.New("appcode: already used")
	ErrInvalidID   = errors.New("appcode: invalid name or ID number")
	// ErrBusy: the seen-nonce memory is full of unexpired codes (MaxSeen
	// codes within their lifetime), so a new one cannot be remembered and
	// is refused rather than risk a replay.
	ErrBusy = errors.New("appcode: too many codes to remember")
)

// Person is who a code identifies.
type Person struct {
	Name     string
	IDNumber string // GB 11643 resident ID number
}

// payload is the signed content of a code; its JSON names are short to
// keep the QR code small.
type payload struct {
	V       int    `json:"v"`
	KeyID   string `json:"k"`
	Name    string `json:"n"`
	ID      string `json:"i"`
	Issued  int64  `json:"t"`
	Expires int64  `json:"e"`
	Nonce   string `json:"r"`
}

var b64 = base64.RawURLEncoding.Strict()

// KeyID names a public key: the base64url of the first 6 bytes of its
// SHA-256 (8 characters).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return b64.EncodeToString(sum[:6])
}

// Issue makes a code for p signed with priv, valid from now for ttl
// (DefaultTTL if 0, at most MaxTTL).
func Issue(priv ed25519.PrivateKey, p Person, now time.Time, ttl time.Duration) (string, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	switch {
	case len(priv) != ed25519.PrivateKeySize:
		return "", fmt.Errorf("appcode: issue: private key of %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	case ttl < time.Second || ttl > MaxTTL:
		return "", fmt.Errorf("appcode: issue: lifetime %v, want 1s to %v", ttl, MaxTTL)
	}
	if err := checkPerson(p); err != nil {
		return "", fmt.Errorf("appcode: issue: %w", err)
	}
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("appcode: issue: nonce: %w", err)
	}
	pl := payload{V: 1, KeyID: KeyID(priv.Public().(ed25519.PublicKey)), Name: p.Name, ID: p.IDNumber,
		Issued: now.Unix(), Expires: now.Add(ttl).Unix(), Nonce: b64.EncodeToString(nonce)}
	body, err := json.Marshal(pl)
	if err != nil {
		return "", fmt.Errorf("appcode: issue: %w", err)
	}
	signed := Prefix + b64.EncodeToString(body)
	return signed + "." + b64.EncodeToString(ed25519.Sign(priv, []byte(signed))), nil
}

// checkPerson checks the name and ID number a code carries; the error
// masks the number.
func checkPerson(p Person) error {
	if err := wire.ValidName(p.Name); err != nil {
		return fmt.Errorf("%w: name %w", ErrInvalidID, err)
	}
	if !wire.ValidIDNumber(p.IDNumber) {
		return fmt.Errorf("%w: %s is not a GB 11643 resident ID number", ErrInvalidID, mask.ID(p.IDNumber))
	}
	return nil
}

// Verifier checks codes offline and refuses each one's second use. Its
// methods are safe for concurrent use. The zero Verifier knows no key.
type Verifier struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Skew is how far the kiosk's clock may be from the platform's: a
	// code is accepted from Skew before its issue to Skew after its
	// expiry. Default 30 s.
	Skew time.Duration
	// MaxSeen bounds the seen-nonce memory; default 4096, far more than a
	// kiosk scans within MaxTTL.
	MaxSeen int

	mu   sync.Mutex
	keys map[string]ed25519.PublicKey // key id → key
	seen map[string]time.Time         // key id + nonce → when it may be forgotten
}

// NewVerifier returns a Verifier that trusts keys.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{}
	v.SetKeys(keys...)
	return v
}

// SetKeys replaces the keys trusted, as fetched from the platform. What
// was seen is kept.
func (v *Verifier) SetKeys(keys ...ed25519.PublicKey) {
	m := make(map[string]ed25519.PublicKey, len(keys))
	for _, k := range keys {
		m[KeyID(k)] = bytes.Clone(k)
	}
	v.mu.Lock()
	v.keys = m
	v.mu.Unlock()
}

// KeyCount is how many keys v trusts.
func (v *Verifier) KeyCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.keys)
}

// parse checks a code's form and signature with keys, and returns its
// payload, without looking at times or nonces. Errors wrap ErrMalformed,
// ErrUnknownKey, ErrForged or ErrInvalidID.
func parse(code string, keys map[string]ed25519.PublicKey) (payload, error) {
	var pl payload
	if len(code) > MaxLen {
		return pl, fmt.Errorf("%w: %d bytes, over %d", ErrMalformed, len(code), MaxLen)
	}
	rest, ok := strings.CutPrefix(code, Prefix)
	if !ok {
		return pl, fmt.Errorf("%w: does not start with %q", ErrMalformed, Prefix)
	}
	body64, sig64, ok := strings.Cut(rest, ".")
	if !ok {
		return pl, fmt.Errorf("%w: no signature after the payload", ErrMalformed)
	}
	body, err := b64.DecodeString(body64)
	if err != nil {
		return pl, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	sig, err := b64.DecodeString(sig64)
	if err != nil {
		return pl, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return pl, fmt.Errorf("%w: signature of %d bytes, want %d", ErrMalformed, len(sig), ed25519.SignatureSize)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pl); err != nil {
		return pl, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if dec.More() {
		return pl, fmt.Errorf("%w: payload: data after the JSON object", ErrMalformed)
	}
	if pl.V != 1 {
		return pl, fmt.Errorf("%w: version %d, want 1", ErrMalformed, pl.V)
	}
	if n, err := b64.DecodeString(pl.Nonce); err != nil || len(n) != nonceLen {
		return pl, fmt.Errorf("%w: nonce is not %d bytes of base64url", ErrMalformed, nonceLen)
	}
	if life := time.Duration(pl.Expires-pl.Issued) * time.Second; pl.Expires <= pl.Issued || life > MaxTTL {
		return pl, fmt.Errorf("%w: lifetime %ds, want up to %v", ErrMalformed, pl.Expires-pl.Issued, MaxTTL)
	}
	key, ok := keys[pl.KeyID]
	if !ok {
		return pl, fmt.Errorf("%w: key id %q (%d keys known; the kiosk fetches them from the platform while online)", ErrUnknownKey, pl.KeyID, len(keys))
	}
	if !ed25519.Verify(key, []byte(code[:len(Prefix)+len(body64)]), sig) {
		return pl, fmt.Errorf("%w: key %s", ErrForged, pl.KeyID)
	}
	return pl, checkPerson(Person{Name: pl.Name, IDNumber: pl.ID})
}

// Verify checks code and, if it is good, remembers it as used and
// returns whom it identifies. Errors wrap, in the order checked:
// 1. ErrMalformed: not a code of this format (or too long, or a lifetime
// over MaxTTL). 2. ErrUnknownKey: signed by a key v does not trust.
// 3. ErrForged: the signature does not match. 4. ErrInvalidID: signed,
// but the name or ID number is not valid. 5. ErrNotYetValid, ErrExpired:
// outside its lifetime, give or take Skew. 6. ErrReplayed: used before.
// 7. ErrBusy: see its doc. Errors mask the ID number.
func (v *Verifier) Verify(code string) (Person, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pl, err := parse(code, v.keys)
	if err != nil {
		return Person{}, err
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.Skew
	if skew == 0 {
		skew = 30 * time.Second
	}
	issued, expires := time.Unix(pl.Issued, 0), time.Unix(pl.Expires, 0)
	switch {
	case now.Before(issued.Add(-skew)):
		return Person{}, fmt.Errorf("%w: issued %s, %v ahead of this clock", ErrNotYetValid, issued.UTC().Format(time.RFC3339), issued.Sub(now).Round(time.Second))
	case now.After(expires.Add(skew)):
		return Person{}, fmt.Errorf("%w: at %s, %v ago", ErrExpired, expires.UTC().Format(time.RFC3339), now.Sub(expires).Round(time.Second))
	}
	id := pl.KeyID + "." + pl.Nonce
	if _, ok := v.seen[id]; ok {
		return Person{}, fmt.Errorf("%w: nonce %s", ErrReplayed, pl.Nonce)
	}
	if err := v.remember(id, expires.Add(skew), now); err != nil {
		return Person{}, err
	}
	return Person{Name: pl.Name, IDNumber: pl.ID}, nil
}

// remember records id as used until forget; past MaxSeen entries the
// expired ones are dropped first. Call with mu held.
func (v *Verifier) remember(id string, forget, now time.Time) error {
	max := v.MaxSeen
	if max <= 0 {
		max = 4096
	}
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	if len(v.seen) >= max {
		for k, t := range v.seen {
			if now.After(t) {
				delete(v.seen, k)
			}
		}
	}
	if len(v.seen) >= max {
		return fmt.Errorf("%w: %d unexpired codes remembered", ErrBusy, len(v.seen))
	}
	v.seen[id] = forget
	return nil
}

// Seen is how many codes v remembers as used.
func (v *Verifier) Seen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.seen)
}
