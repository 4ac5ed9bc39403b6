package platform

import (
	"net/http"

	"yici/sync/wire"
)

// needClerk finds the clerk signed in at the caller's desk and puts them in
// c, or answers 401 itself. Interim: clerk sessions arrive with the clerk
// accounts.
func (s *Server) needClerk(w http.ResponseWriter, r *http.Request, c *Caller) bool {
	writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "no clerk is signed in at desk "+c.Terminal.Name, nil)
	return false
}

// auditRead records a read of personal data. Interim: the audit log
// arrives with its package.
func (s *Server) auditRead(r *http.Request, pattern string, c *Caller, status int) {}
