package audit

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz/FuzzVerify from logs made with the test key")

// FuzzVerify feeds arbitrary bytes as a log (with a head of no records,
// sealed with the test key) to Verify, List and Open: none may panic (no Append: its fsyncs
// would slow the fuzzer tenfold), and
// they agree on how many records a good log holds. The seed corpus holds
// good logs made with the test key (see TestWriteSeeds), so that the
// fuzzer starts from frames that verify.
func FuzzVerify(f *testing.F) {
	s := testSealer(f, 7)
	emptyHead, err := head{}.seal(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte(Magic))
	f.Add([]byte(Magic + "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x1c"))
	f.Add([]byte(Magic + "\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(headPath(path), emptyHead, 0o600); err != nil {
			t.Fatal(err)
		}
		n, verr := Verify(path, s)
		var listed uint64
		lerr := List(path, s, Filter{}, func(Record) error { listed++; return nil })
		if (verr == nil) != (lerr == nil) || listed != n {
			t.Fatalf("Verify = %d, %v; List gave %d, %v", n, verr, listed, lerr)
		}
		l, oerr := Open(path, s)
		if (oerr == nil) != (verr == nil) {
			t.Fatalf("Verify: %v; Open: %v", verr, oerr)
		}
		if oerr != nil {
			return
		}
		defer l.Close()
		if l.Seq() != n {
			t.Fatalf("Verify counted %d records, Open %d", n, l.Seq())
		}
	})
}

// TestWriteSeeds writes FuzzVerify's seed corpus when run with
// -write-seeds: logs sealed with the test key.
func TestWriteSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to rewrite testdata/fuzz/FuzzVerify")
	}
	s := testSealer(t, 7)
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, seed := range []struct {
		name    string
		records int
		cut     int // bytes cut off the end: a torn last frame
	}{
		{"one_record", 1, 0},
		{"three_records", 3, 0},
		{"torn_last_frame", 2, 40},
	} {
		path := newLog(t, s, seed.records)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = data[:len(data)-seed.cut]
		corpus := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, seed.name), []byte(corpus), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
