package platform

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"yici/sync/wire"
)

// upload answers /v1/blobs/{sha256}/uploads: a large blob sent in pieces,
// by offset, after tus 1.0 (docs/sync-protocol.md, "Resumable upload").
func (s *Server) upload(w http.ResponseWriter, r *http.Request, c *Caller) {
	t := c.Terminal
	sum := r.PathValue("sha256")
	if !wire.ValidSHA256(sum) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a lowercase hex SHA-256", sum), nil)
		return
	}
	// An offset is only true for the moment it is answered.
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodPost:
		s.startUpload(w, r, t, sum)
	case http.MethodHead:
		offset, length, err := s.st.UploadOffset(r.Context(), t.Name, sum)
		if errors.Is(err, ErrNotFound) {
			writeError(w, http.StatusNotFound, wire.CodeNotFound, "no upload of "+sum+" is open", nil)
			return
		}
		if err != nil {
			s.internal(w, "look up upload", err)
			return
		}
		uploadHeaders(w, offset, length)
		w.WriteHeader(http.StatusOK)
	case http.MethodPatch:
		s.patchUpload(w, r, t, sum)
	}
}

func uploadHeaders(w http.ResponseWriter, offset, length int64) {
	w.Header().Set(wire.HeaderUploadOffset, strconv.FormatInt(offset, 10))
	w.Header().Set(wire.HeaderUploadLength, strconv.FormatInt(length, 10))
}

func (s *Server) startUpload(w http.ResponseWriter, r *http.Request, t Terminal, sum string) {
	length, err := wire.ParseOffset(r.Header.Get(wire.HeaderUploadLength))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, wire.HeaderUploadLength+": "+err.Error(), nil)
		return
	case length == 0:
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "an empty blob is put with PUT /v1/blobs/{sha256}, not uploaded", nil)
		return
	case length > s.opt.MaxBlobBytes:
		s.tooLarge(w, length)
		return
	}
	held, err := s.st.HasBlob(r.Context(), sum)
	if err != nil {
		s.internal(w, "look up blob", err)
		return
	}
	if held {
		// Nothing left to send: the answer a finished upload would give.
		uploadHeaders(w, length, length)
		w.WriteHeader(http.StatusOK)
		return
	}
	offset, created, err := s.st.StartUpload(r.Context(), t.Name, sum, length)
	var quota *QuotaError
	if errors.As(err, &quota) {
		s.quotaExceeded(w, quota)
		return
	}
	if errors.Is(err, ErrConflict) {
		writeError(w, http.StatusConflict, wire.CodeConflict, err.Error()+"; one of the two lengths is not the blob's", nil)
		return
	}
	if err != nil {
		s.internal(w, "open upload", err)
		return
	}
	uploadHeaders(w, offset, length)
	if created {
		w.Header().Set("Location", wire.UploadPath(sum))
		w.WriteHeader(http.StatusCreated)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) patchUpload(w http.ResponseWriter, r *http.Request, t Terminal, sum string) {
	offset, err := wire.ParseOffset(r.Header.Get(wire.HeaderUploadOffset))
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, wire.HeaderUploadOffset+": "+err.Error(), nil)
		return
	}
	current, length, err := s.st.UploadOffset(r.Context(), t.Name, sum)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound,
			"no upload of "+sum+" is open (finished, expired or never opened); POST to open one", nil)
		return
	}
	if err != nil {
		s.internal(w, "look up upload", err)
		return
	}
	if offset == current && r.ContentLength > length-offset {
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("%d bytes at offset %d pass the upload's length %d; nothing appended", r.ContentLength, offset, length), nil)
		return
	}
	body := &idleBody{r: r.Body, rc: http.NewResponseController(w), idle: s.opt.UploadIdleTimeout}
	end, err := s.st.AppendUpload(r.Context(), t.Name, sum, offset, body)
	if body.err != nil {
		// The connection is broken or silent: the rest of the body is not
		// waited for, and the connection is not kept.
		w.Header().Set("Connection", "close")
	} else if !body.noDeadline {
		body.rc.SetReadDeadline(time.Time{})
	}
	var off *OffsetError
	switch {
	case errors.As(err, &off):
		w.Header().Set(wire.HeaderUploadOffset, strconv.FormatInt(off.Want, 10))
		writeJSON(w, http.StatusConflict, wire.ErrorBody{Error: wire.Error{Code: wire.CodeOffsetMismatch,
			Message: fmt.Sprintf("upload of %s is at offset %d, not %d; send from there", sum, off.Want, off.Got), Offset: &off.Want}})
	case errors.Is(err, ErrLocked):
		writeError(w, http.StatusLocked, wire.CodeUploadLocked,
			"another request is appending to the upload of "+sum+"; ask its offset again in a while", nil)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no upload of "+sum+" is open; POST to open one", nil)
	case errors.Is(err, ErrTooLong):
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("body at offset %d passes the upload's length %d; nothing appended", offset, length), nil)
	case errors.Is(err, ErrHashMismatch):
		writeError(w, http.StatusBadRequest, wire.CodeHashMismatch, err.Error(), nil)
	case body.err != nil:
		w.Header().Set(wire.HeaderUploadOffset, strconv.FormatInt(end, 10))
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest,
			fmt.Sprintf("body ended early at offset %d (kept): %v", end, body.err), nil)
	case err != nil:
		s.internal(w, "append to upload", err)
	default:
		uploadHeaders(w, end, length)
		w.WriteHeader(http.StatusNoContent)
	}
}

// idleBody reads a PATCH body with a read deadline renewed before every
// read, and keeps the first failure of the body, to tell it from a
// failure of storage. Where the connection has no deadlines (a recorder in
// a test) it reads without.
type idleBody struct {
	r          io.Reader
	rc         *http.ResponseController
	idle       time.Duration
	noDeadline bool
	err        error
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.noDeadline && b.rc.SetReadDeadline(time.Now().Add(b.idle)) != nil {
		b.noDeadline = true
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}
