package platform

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// A damaged blob file breaks the GET off: the reader gets an error, never
// a clean answer of the wrong bytes.
func TestGetDamagedBlob(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"flipped byte in the last record", func(b []byte) []byte { b[len(b)-20] ^= 1; return b }},
		{"last record cut off", func(b []byte) []byte { return b[:len(b)-1000] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			data := blobBytes(300_000)
			h := sum(data)
			if code, b := f.do(http.MethodPut, "/v1/blobs/"+h, f.token, bytes.NewReader(data)); code != http.StatusCreated {
				t.Fatalf("PUT: %d %s", code, b)
			}
			if err := f.st.SyncBlobs(context.Background(), []string{h}); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(f.st.blobPath(h))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.st.blobPath(h), tc.damage(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, f.url+"/v1/blobs/"+h, nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // broken off before the headers: also fine
			}
			got, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil {
				t.Fatalf("GET of a damaged blob ended cleanly: %d, %d of %d bytes", resp.StatusCode, len(got), len(data))
			}
		})
	}
}

// A second OpenBolt of a directory in use fails on the lock, and before
// touching anything: the first one's staged blobs stay.
func TestSecondOpenLeavesStagedBlobs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data := []byte("staged, not yet synced")
	h := sum(data)
	if err := st.PutBlob(ctx, h, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	_, err = OpenBolt(dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second open: %v, want in use by another process", err)
	}
	if err := st.SyncBlobs(ctx, []string{h}); err != nil {
		t.Fatalf("SyncBlobs after a second open: %v", err)
	}
}
