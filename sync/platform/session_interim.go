package platform

import "net/http"

// auditRead records a read of personal data. Interim: the audit log
// arrives with its package.
func (s *Server) auditRead(r *http.Request, pattern string, c *Caller, status int) {}
