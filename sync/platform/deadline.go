package platform

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Every request gets read and write deadlines (docs/sync-protocol.md §13),
// so a client that sends slowly, or stops sending, or stops reading,
// holds its connection, its file descriptors and its temporary files for
// a bounded time only:
//
//   - a blob upload (PUT /v1/blobs/{sha256}, PATCH .../uploads) is cut
//     when nothing arrives for UploadIdleTimeout, and in any case
//     TransferTimeout after it began;
//   - any other body must have arrived whole within ReadTimeout;
//   - the answer must be written within WriteTimeout after that budget
//     (a blob download: within TransferTimeout).
//
// The header itself is bounded by the http.Server (NewHTTPServer).
//
// Deadlines are set through http.ResponseController; where the connection
// has none (a recorder in a test) the request is served without.

const (
	defaultReadTimeout     = 30 * time.Second
	defaultWriteTimeout    = time.Minute
	defaultTransferTimeout = 15 * time.Minute
)

// withDeadlines serves r through next with the deadlines above.
func (s *Server) withDeadlines(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rc := http.NewResponseController(w)
	now := time.Now()
	var write time.Time
	// The read deadline is set before the handler runs, not at its first
	// read: a request refused unread (401, 413) is drained or closed by the
	// server after the handler, under the same deadline.
	body := func(idle time.Duration, end time.Time, what string) {
		b := &deadlineBody{r: r.Body, rc: rc, idle: idle, end: end, what: what}
		b.noDeadline = rc.SetReadDeadline(b.next()) != nil
		r = withBody(r, b)
	}
	switch {
	case isUpload(r):
		end := now.Add(s.opt.TransferTimeout)
		body(s.opt.UploadIdleTimeout, end,
			fmt.Sprintf("blob upload (cut after %s without a byte, or %s in all)", s.opt.UploadIdleTimeout, s.opt.TransferTimeout))
		write = end.Add(s.opt.WriteTimeout)
	case r.Body != nil && r.Body != http.NoBody:
		end := now.Add(s.opt.ReadTimeout)
		body(0, end, fmt.Sprintf("request body (to arrive whole within %s)", s.opt.ReadTimeout))
		write = end.Add(s.opt.WriteTimeout)
	case r.Method == http.MethodGet && isBlobPath(r.URL.Path):
		// No body to read, so no read deadline: on HTTP/1 the server is
		// already reading the connection in the background, and a deadline
		// there would cancel the request's context.
		write = now.Add(s.opt.TransferTimeout)
	default:
		write = now.Add(s.opt.WriteTimeout)
	}
	rc.SetWriteDeadline(write)
	next.ServeHTTP(w, r)
}

// withBody is r with body in place of its own. r itself keeps the
// server's body, so that the server can still tell after the handler how
// much of it is left (and close rather than drain a large remainder).
func withBody(r *http.Request, body io.ReadCloser) *http.Request {
	r2 := r.WithContext(r.Context())
	r2.Body = body
	return r2
}

// isUpload tells whether r sends a blob: its body may be large and slow.
func isUpload(r *http.Request) bool {
	switch r.Method {
	case http.MethodPut:
		return isBlobPath(r.URL.Path)
	case http.MethodPatch:
		rest, ok := strings.CutSuffix(r.URL.Path, "/uploads")
		return ok && isBlobPath(rest)
	}
	return false
}

// isBlobPath tells whether path is /v1/blobs/{sha256} (not .../missing,
// which is JSON).
func isBlobPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/v1/blobs/")
	return ok && rest != "missing" && rest != "" && !strings.Contains(rest, "/")
}

// deadlineBody reads a request body under a read deadline: end, or, when
// idle is set, idle after the start of each read (but not past end). At
// the end of the body the deadline is lifted, since the server goes on
// reading the connection in the background while the handler works. A
// body cut by its deadline fails with an error that says which deadline.
type deadlineBody struct {
	r          io.ReadCloser
	rc         *http.ResponseController
	idle       time.Duration // 0: end only
	end        time.Time
	what       string
	noDeadline bool // the connection has no deadlines
	done       bool // EOF or an error was seen
}

// next is the read deadline for a read starting now.
func (b *deadlineBody) next() time.Time {
	if b.idle > 0 {
		if d := time.Now().Add(b.idle); d.Before(b.end) {
			return d
		}
	}
	return b.end
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	if b.idle > 0 && !b.noDeadline {
		b.rc.SetReadDeadline(b.next())
	}
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		if !b.noDeadline {
			b.rc.SetReadDeadline(time.Time{})
		}
	case err != nil:
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%s: %w", b.what, err)
		}
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.r.Close() }
