package platform

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"time"

	"yici/sync/appcode"
	"yici/sync/wire"
)

// appCodeKey is the app code signing key, read from the storage once.
func (s *Server) appCodeKey(ctx context.Context) (ed25519.PrivateKey, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.codeKey == nil {
		k, err := s.st.AppCodeKey(ctx)
		if err != nil {
			return nil, err
		}
		s.codeKey = k
	}
	return s.codeKey, nil
}

// appCodeKeys answers GET /v1/appcode/key with the public key app codes
// are signed with; a kiosk keeps it to verify codes offline.
func (s *Server) appCodeKeys(w http.ResponseWriter, r *http.Request, _ *Caller) {
	k, err := s.appCodeKey(r.Context())
	if err != nil {
		s.internal(w, "app code key", err)
		return
	}
	pub := k.Public().(ed25519.PublicKey)
	writeJSON(w, http.StatusOK, wire.AppCodeKeys{Keys: []wire.AppCodeKey{{ID: appcode.KeyID(pub), Ed25519: pub}}})
}

// IssueAppCode signs an app code for the person of name and idNumber,
// valid for ttl (appcode.DefaultTTL if 0). This is what the platform's
// sign-in for citizens' phones would call; here it serves tests and the
// demo (yici-platform appcode issue).
func (s *Server) IssueAppCode(name, idNumber string, ttl time.Duration) (string, error) {
	k, err := s.appCodeKey(context.Background())
	if err != nil {
		return "", fmt.Errorf("issue app code: %w", err)
	}
	return appcode.Issue(k, appcode.Person{Name: name, IDNumber: idNumber}, s.now(), ttl)
}
