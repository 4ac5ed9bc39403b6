package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"yici/sync/wire"
)

// Client speaks the sync protocol (sync/wire, v1) to the platform.
type Client struct {
	BaseURL string       // e.g. https://platform.example.gov.cn, without /v1
	Token   string       // the terminal's bearer token; SetToken changes it while in use
	HTTP    *http.Client // nil means http.DefaultClient
	// Session, when set, is a clerk session's token (SignIn), sent as the
	// Yici-Session header on every request. SignIn and SignOut change it
	// while in use.
	Session string

	mu sync.Mutex // Token and Session
}

// StatusError is an answer of the platform other than 2xx.
type StatusError struct {
	Method, Path string
	Status       int
	Body         wire.Error // Code is empty when the body was not an ErrorBody
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Body.Code, e.Body.Message)
}

// Missing asks which of hashes the platform lacks.
func (c *Client) Missing(ctx context.Context, hashes []string) ([]string, error) {
	body, err := json.Marshal(wire.MissingRequest{SHA256: hashes})
	if err != nil {
		return nil, err
	}
	var resp wire.MissingResponse
	if err := c.do(ctx, http.MethodPost, "/v1/blobs/missing", body, "application/json", &resp); err != nil {
		return nil, err
	}
	return resp.Missing, nil
}

// PutBlob uploads data as the blob sha256.
func (c *Client) PutBlob(ctx context.Context, sha256 string, data []byte) error {
	return c.do(ctx, http.MethodPut, "/v1/blobs/"+sha256, data, "application/octet-stream", nil)
}

// PutCase puts the manifest, the commit point of a case.
func (c *Client) PutCase(ctx context.Context, m wire.Manifest) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/v1/cases/"+m.ID, body, "application/json", nil)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, contentType string, out any) error {
	resp, err := c.roundTrip(ctx, method, path, bytes.NewReader(body), int64(len(body)), http.Header{"Content-Type": {contentType}})
	if err != nil {
		return err
	}
	defer drain(resp)
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// roundTrip sends one request of size bytes from body and returns a 2xx
// answer for the caller to drain, or the error: a *StatusError for any
// other answer.
func (c *Client) roundTrip(ctx context.Context, method, path string, body io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	token, session := c.credentials()
	req.Header.Set("Authorization", "Bearer "+token)
	if session != "" {
		req.Header.Set(wire.HeaderSession, session)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err // *url.Error already names the method and URL
	}
	if resp.StatusCode/100 != 2 {
		defer drain(resp)
		se := &StatusError{Method: method, Path: path, Status: resp.StatusCode}
		var eb wire.ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&eb) == nil {
			se.Body = eb.Error
		} else {
			se.Body.Message = http.StatusText(resp.StatusCode)
		}
		return nil, se
	}
	return resp, nil
}

// drain reads what is left of an answer, so the connection can be reused,
// and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// StartUpload opens, or finds open, the resumable upload of the blob
// sha256 of length bytes and returns the offset to send from; length means
// the platform holds the blob.
func (c *Client) StartUpload(ctx context.Context, sha256 string, length int64) (int64, error) {
	path := wire.UploadPath(sha256)
	resp, err := c.roundTrip(ctx, http.MethodPost, path, nil, 0,
		http.Header{wire.HeaderUploadLength: {strconv.FormatInt(length, 10)}})
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	return uploadOffset(resp, path, length)
}

// PatchBlob sends data[offset:] to the upload of sha256 and returns the
// offset the platform answers; len(data) means the blob is held. sent, if
// set, is told the offset reached by the bytes handed to the connection so
// far: a progress figure, not what the platform holds.
func (c *Client) PatchBlob(ctx context.Context, sha256 string, offset int64, data []byte, sent func(int64)) (int64, error) {
	path := wire.UploadPath(sha256)
	var body io.Reader = bytes.NewReader(data[offset:])
	if sent != nil {
		body = &progressReader{r: body, at: offset, sent: sent}
	}
	resp, err := c.roundTrip(ctx, http.MethodPatch, path, body, int64(len(data))-offset, http.Header{
		"Content-Type":          {"application/offset+octet-stream"},
		wire.HeaderUploadOffset: {strconv.FormatInt(offset, 10)},
	})
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	return uploadOffset(resp, path, int64(len(data)))
}

// uploadOffset reads the Upload-Offset of an answer about an upload of
// length bytes.
func uploadOffset(resp *http.Response, path string, length int64) (int64, error) {
	v := resp.Header.Get(wire.HeaderUploadOffset)
	n, err := wire.ParseOffset(v)
	if err != nil {
		return 0, fmt.Errorf("%s %s: answer's %s: %w", resp.Request.Method, path, wire.HeaderUploadOffset, err)
	}
	if n > length {
		return 0, fmt.Errorf("%s %s: answer's %s %d passes the blob's length %d", resp.Request.Method, path, wire.HeaderUploadOffset, n, length)
	}
	return n, nil
}

type progressReader struct {
	r    io.Reader
	at   int64
	sent func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.at += int64(n)
		p.sent(p.at)
	}
	return n, err
}
