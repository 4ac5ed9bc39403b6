package uploader

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"yici/sync/store"
	"yici/sync/wire"
)

const (
	benchBlobs     = 200
	benchBlobBytes = 300 << 10
)

// replayOutbox lets one set of captured cases be uploaded again and again:
// Ack only hides a case from this benchmark instead of purging it.
type replayOutbox struct {
	*store.Store
	acked map[string]bool
}

func (o *replayOutbox) PendingCases() ([]wire.Manifest, error) {
	all, err := o.Store.PendingCases()
	var out []wire.Manifest
	for _, m := range all {
		if !o.acked[m.ID] {
			out = append(out, m)
		}
	}
	return out, err
}

func (o *replayOutbox) Ack(id string) error { o.acked[id] = true; return nil }

// BenchmarkUpload sends 200 pages of 300 KB in 10 cases through the whole
// protocol (missing, blob PUTs with hash checks and fsync on the platform,
// manifests) to an empty platform each time.
func BenchmarkUpload(b *testing.B) {
	dir := b.TempDir()
	s := openStore(b, dir)
	for c := range benchBlobs / 20 {
		sizes := map[string]int{}
		for i := range 20 {
			sizes[fmt.Sprintf("b%d-%d", c, i)] = benchBlobBytes
		}
		addCase(b, s, fmt.Sprintf("case-%d", c), sizes)
	}
	b.SetBytes(benchBlobs * benchBlobBytes)
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		p := newPlatform(b, filepath.Join(dir, fmt.Sprint("platform", round)))
		out := &replayOutbox{Store: s, acked: map[string]bool{}}
		u := New(out, p.client(http.DefaultTransport), Options{})
		b.StartTimer()
		if err := u.Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		if got := p.blobBytes.Load(); got != benchBlobs*benchBlobBytes {
			b.Fatalf("sent %d blob bytes", got)
		}
	}
}

// BenchmarkPlainPUT is the baseline: the same bytes PUT one after another to
// a handler that only reads them.
func BenchmarkPlainPUT(b *testing.B) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer hs.Close()
	blobs := make([][]byte, benchBlobs)
	for i := range blobs {
		blobs[i] = content(fmt.Sprint("plain", i), benchBlobBytes)
	}
	b.SetBytes(benchBlobs * benchBlobBytes)
	for b.Loop() {
		for i, blob := range blobs {
			req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/%d", hs.URL, i), bytes.NewReader(blob))
			if err != nil {
				b.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
}
