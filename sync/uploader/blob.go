package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"yici/sync/wire"
)

// ErrDamagedBlob means the bytes that arrived for a blob are not the blob:
// the answer broke off, or its SHA-256 is not the address.
var ErrDamagedBlob = errors.New("blob damaged in transit")

// Blob fetches the blob sha256, a scanned page of case caseID, for the
// desk to show (GET /v1/blobs/{sha256}?case=ID, sync protocol §5). It needs
// a clerk signed in; the platform answers only for a case of the desk's
// hall that names the blob.
//
// Its outcomes:
//  1. The blob's bytes, checked against sha256.
//  2. A *StatusError: 403 when the case does not name the blob (or is of
//     another hall), 404 when the platform does not hold the case or the
//     blob, 401 without a clerk, 500 when it holds the blob damaged.
//  3. An error when the blob is longer than max bytes; nothing more than
//     max+1 bytes is read.
//  4. ErrDamagedBlob, naming both hashes, when the answer broke off or
//     what arrived hashes otherwise.
//  5. Any other error of the request (connection, ctx).
func (c *Client) Blob(ctx context.Context, caseID, sha256 string, max int64) ([]byte, error) {
	if !wire.ValidSHA256(sha256) {
		return nil, fmt.Errorf("blob of case %s: %q is not a lowercase hex SHA-256", caseID, sha256)
	}
	path := "/v1/blobs/" + sha256 + "?case=" + url.QueryEscape(caseID)
	resp, err := c.roundTrip(ctx, http.MethodGet, path, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() // not drained: a body past max is not worth reading
	if resp.ContentLength > max {
		return nil, fmt.Errorf("GET %s: blob of %d bytes is larger than the %d accepted", path, resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if int64(len(data)) > max {
		return nil, fmt.Errorf("GET %s: blob is larger than the %d bytes accepted", path, max)
	}
	got := hashOf(data)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w: the answer broke off after %d bytes (SHA-256 %s, want %s): %v", path, ErrDamagedBlob, len(data), got, sha256, err)
	}
	if got != sha256 {
		return nil, fmt.Errorf("GET %s: %w: %d bytes arrived with SHA-256 %s, want %s", path, ErrDamagedBlob, len(data), got, sha256)
	}
	return data, nil
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
