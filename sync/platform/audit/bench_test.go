package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppend measures Append, and in the same run a plain write(2)
// of the record's JSON, unsealed and unchained, to a file: x-plain is
// how many times dearer Append is.
func BenchmarkAppend(b *testing.B) {
	s := testSealer(b, 7)
	dir := b.TempDir()
	l, err := Open(filepath.Join(dir, "audit.log"), s)
	if err != nil {
		b.Fatal(err)
	}
	r := rec(1)
	r.Object = "applicant:3fa29c01d2e4b5a6"
	b.ReportAllocs()
	n := 0
	start := time.Now()
	for b.Loop() {
		if err := l.Append(r); err != nil {
			b.Fatal(err)
		}
		n++
	}
	appendNs := float64(time.Since(start).Nanoseconds()) / float64(n)
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}

	r.Seq = 1
	plain, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "plain.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start = time.Now()
	for range n {
		if _, err := f.Write(plain); err != nil {
			b.Fatal(err)
		}
	}
	plainNs := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.ReportMetric(plainNs, "plain-ns/op")
	b.ReportMetric(appendNs/plainNs, "x-plain")
}

// BenchmarkAppendParallel measures Append from many goroutines at once,
// as the server's handlers call it.
func BenchmarkAppendParallel(b *testing.B) {
	s := testSealer(b, 7)
	l, err := Open(filepath.Join(b.TempDir(), "audit.log"), s)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := rec(1)
		for pb.Next() {
			if err := l.Append(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
