package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yici/sync/wire"
)

// A whole blob is answered whole, on either side of the first chunk. A
// damaged blob file is never answered as a whole blob: a small one (read
// whole before the answer) gets a 500 with an ErrorBody, a large one's
// answer breaks off, so the reader gets an error.
func TestGetDamagedBlob(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		damage func(b []byte) []byte
	}{
		{"whole, empty", 0, nil},
		{"whole, small", 300_000, nil},
		{"whole, exactly one chunk", getChunk, nil},
		{"whole, one chunk and a byte", getChunk + 1, nil},
		{"small, flipped byte in the last record", 300_000, func(b []byte) []byte { b[len(b)-20] ^= 1; return b }},
		{"small, last record cut off", 300_000, func(b []byte) []byte { return b[:len(b)-1000] }},
		{"small, first record damaged", 1000, func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"large, flipped byte in the last record", getChunk + 300_000, func(b []byte) []byte { b[len(b)-20] ^= 1; return b }},
		{"large, last record cut off", getChunk + 300_000, func(b []byte) []byte { return b[:len(b)-1000] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			data := blobBytes(tc.size)
			h := sum(data)
			if code, b := f.do(http.MethodPut, "/v1/blobs/"+h, f.token, bytes.NewReader(data)); code != http.StatusCreated {
				t.Fatalf("PUT: %d %s", code, b)
			}
			m := manifest("kiosk-01-case-1", data)
			if code, b := f.do(http.MethodPut, "/v1/cases/"+m.ID, f.token, strings.NewReader(mustJSON(m))); code != http.StatusCreated {
				t.Fatalf("PUT case: %d %s", code, b)
			}
			if tc.damage == nil {
				if code, b := f.asClerk(http.MethodGet, "/v1/blobs/"+h+"?case="+m.ID, nil); code != http.StatusOK || !bytes.Equal(b, data) {
					t.Fatalf("GET of a whole blob: %d, %d of %d bytes, equal %v", code, len(b), len(data), bytes.Equal(b, data))
				}
				return
			}
			raw, err := os.ReadFile(f.st.blobPath(h))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.st.blobPath(h), tc.damage(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, f.url+"/v1/blobs/"+h+"?case="+m.ID, nil)
			req.Header.Set("Authorization", "Bearer "+f.desk)
			req.Header.Set(wire.HeaderSession, f.session)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if tc.size <= getChunk {
					t.Fatalf("GET of a damaged small blob got no status: %v", err)
				}
				return // broken off before the headers: also fine
			}
			got, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.size <= getChunk {
				var eb wire.ErrorBody
				if resp.StatusCode != http.StatusInternalServerError || rerr != nil ||
					json.Unmarshal(got, &eb) != nil || eb.Error.Code != wire.CodeInternal || !strings.Contains(eb.Error.Message, "damaged") {
					t.Fatalf("GET of a damaged small blob: %d %q %v; want 500 internal", resp.StatusCode, got, rerr)
				}
				return
			}
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
	if err := st.PutBlob(ctx, kiosk, h, bytes.NewReader(data)); err != nil {
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

// failAfter yields r's bytes, then fails instead of ending: a body whose
// last chunk never came, after all of its bytes did.
type failAfter struct{ r io.Reader }

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = errors.New("connection reset")
	}
	return n, err
}

// An upload whose last byte is in is finished, whatever came after it, and
// a restart finishes one the process stopped before finishing: never is
// one left whole, answering POST with its length, and not held.
func TestUploadWholeIsFinished(t *testing.T) {
	ctx := context.Background()
	data := blobBytes(200_000)
	h := sum(data)
	t.Run("body fails after its last byte", func(t *testing.T) {
		st, err := OpenBolt(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, _, err := st.StartUpload(ctx, kiosk, h, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendUpload(ctx, kiosk, h, 0, failAfter{bytes.NewReader(data)}); err != nil {
			t.Fatalf("append: %v", err)
		}
		if held, _ := st.HasBlob(ctx, h); !held {
			t.Fatal("whole upload not held")
		}
	})
	t.Run("process stopped before the finish", func(t *testing.T) {
		dir := t.TempDir()
		st, err := OpenBolt(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.StartUpload(ctx, kiosk, h, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		// What AppendUpload writes before it finishes, and no more.
		if end, _, _, err := st.appendAt(st.uploads[uploadKey{kiosk, h}], h, bytes.NewReader(data)); err != nil || end != int64(len(data)) {
			t.Fatalf("appendAt: %d, %v", end, err)
		}
		st.Close()
		if st, err = OpenBolt(dir); err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if held, _ := st.HasBlob(ctx, h); !held {
			t.Fatal("whole upload not held after a restart")
		}
		if _, _, err := st.UploadOffset(ctx, kiosk, h); !errors.Is(err, ErrNotFound) {
			t.Fatalf("upload still open after a restart finished it: %v", err)
		}
		if err := st.SyncBlobs(ctx, []string{h}); err != nil {
			t.Fatal(err)
		}
		r, err := st.OpenBlob(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blob after restart: %d bytes, %v", len(got), err)
		}
	})
}

// A SyncBlobs that fails after moving some blobs leaves their directories
// for the next call to fsync, even one that finds every blob in place.
func TestSyncBlobsAfterFailure(t *testing.T) {
	ctx := context.Background()
	st, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := []byte("first blob"), []byte("second blob")
	for _, d := range [][]byte{a, b} {
		if err := st.PutBlob(ctx, kiosk, sum(d), bytes.NewReader(d)); err != nil {
			t.Fatal(err)
		}
	}
	// A directory where b's file must go makes its rename fail.
	obstacle := st.blobPath(sum(b))
	if err := os.MkdirAll(filepath.Join(obstacle, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncBlobs(ctx, []string{sum(a), sum(b)}); err == nil {
		t.Fatal("SyncBlobs with b's place taken succeeded")
	}
	if !st.unsynced[filepath.Dir(st.blobPath(sum(a)))] {
		t.Fatalf("a's directory not left to sync: %v", st.unsynced)
	}
	if err := st.SyncBlobs(ctx, []string{sum(a)}); err != nil {
		t.Fatal(err)
	}
	if len(st.unsynced) != 0 {
		t.Fatalf("directories left unsynced after success: %v", st.unsynced)
	}
}
