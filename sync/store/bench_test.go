package store

import (
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"yici/sync/wire"
)

const pageBytes = 300 << 10 // a scanned A4 page as JPEG

// BenchmarkCapture is one captured page: seal, then one bbolt transaction
// (blob, draft, outbox entry) committed with fsync. In the same loop, for
// a ratio measured under the same disk conditions, it times the floor
// under it: the same bytes written to a file and fsynced. It reports pages
// per second of both and the ratio.
func BenchmarkCapture(b *testing.B) {
	s, _, _ := openTemp(b)
	if err := s.SaveCase(draft("bench")); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	page := make([]byte, pageBytes)
	rand.Read(page)
	b.SetBytes(pageBytes)
	var tCapture, tFile time.Duration
	i := uint64(0)
	for b.Loop() {
		i++
		// New bytes each time, over eight codes: the draft stays the size of
		// a real case, and each capture replaces (and frees) an older page.
		binary.BigEndian.PutUint64(page, i)
		code := "M" + string(rune('0'+i%8))
		t0 := time.Now()
		if _, err := s.Capture("bench", wire.MaterialRef{Code: code}, page); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		writeFsync(b, filepath.Join(dir, code), page)
		tCapture, tFile = tCapture+t1.Sub(t0), tFile+time.Since(t1)
	}
	b.ReportMetric(float64(i)/tCapture.Seconds(), "pages/s")
	b.ReportMetric(float64(i)/tFile.Seconds(), "file-fsync-pages/s")
	b.ReportMetric(tFile.Seconds()/tCapture.Seconds(), "ratio-vs-file-fsync")
}

func writeFsync(b *testing.B, path string, data []byte) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}
