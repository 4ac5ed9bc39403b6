package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"yici/sync/wire"
)

// Client speaks the sync protocol (sync/wire, v1) to the platform.
type Client struct {
	BaseURL string       // e.g. https://platform.example.gov.cn, without /v1
	Token   string       // the terminal's bearer token from enrolment
	HTTP    *http.Client // nil means http.DefaultClient
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
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", contentType)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err // *url.Error already names the method and URL
	}
	defer resp.Body.Close()
	// Drain what is left so the connection can be reused.
	defer io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Method: method, Path: path, Status: resp.StatusCode}
		var eb wire.ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&eb) == nil {
			se.Body = eb.Error
		} else {
			se.Body.Message = http.StatusText(resp.StatusCode)
		}
		return se
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
