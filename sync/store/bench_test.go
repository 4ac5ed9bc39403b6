package store

import (
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"yici/sync/wire"
)

const pageBytes = 300 << 10 // a scanned A4 page as JPEG

// BenchmarkCapture is one captured page: seal, then one bbolt transaction
// (blob, draft, outbox entry) committed with fsync.
func BenchmarkCapture(b *testing.B) {
	s, _, _ := openTemp(b)
	if err := s.SaveCase(draft("bench")); err != nil {
		b.Fatal(err)
	}
	page := make([]byte, pageBytes)
	rand.Read(page)
	b.SetBytes(pageBytes)
	i := uint64(0)
	for b.Loop() {
		i++
		// New bytes each time, over eight codes: the draft stays the size of
		// a real case, and each capture replaces (and frees) an older page.
		binary.BigEndian.PutUint64(page, i)
		code := "M" + string(rune('0'+i%8))
		if _, err := s.Capture("bench", wire.MaterialRef{Code: code}, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileWriteFsync is the floor under BenchmarkCapture: the same
// bytes written to a new file and fsynced.
func BenchmarkFileWriteFsync(b *testing.B) {
	dir := b.TempDir()
	page := make([]byte, pageBytes)
	rand.Read(page)
	b.SetBytes(pageBytes)
	i := 0
	for b.Loop() {
		i++
		f, err := os.Create(filepath.Join(dir, "page"+string(rune('a'+i%26))))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(page); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
