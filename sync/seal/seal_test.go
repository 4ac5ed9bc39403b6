package seal

import (
	"bytes"
	crand "crypto/rand"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testSealer(t testing.TB) Sealer {
	t.Helper()
	c, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSealOpen(t *testing.T) {
	c := testSealer(t)
	sealed, err := c.Seal([]byte("张三 21020219880504123X"), []byte("cases/c1"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(sealed)) != c.SealedLen(len("张三 21020219880504123X")) {
		t.Errorf("sealed %d bytes, SealedLen says %d", len(sealed), c.SealedLen(len("张三 21020219880504123X")))
	}
	if p, err := c.Open(sealed, []byte("cases/c1")); err != nil || string(p) != "张三 21020219880504123X" {
		t.Errorf("Open = %q, %v", p, err)
	}
	for name, bad := range map[string]func() ([]byte, []byte){
		"other place": func() ([]byte, []byte) { return sealed, []byte("cases/c2") },
		"flipped bit": func() ([]byte, []byte) {
			b := bytes.Clone(sealed)
			b[20] ^= 1
			return b, []byte("cases/c1")
		},
		"too short": func() ([]byte, []byte) { return sealed[:10], []byte("cases/c1") },
	} {
		s, ad := bad()
		if _, err := c.Open(s, ad); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("New took a 16-byte key")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if k2, err := LoadOrCreateKey(path); err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second load: %v, same key %v", err, bytes.Equal(k1, k2))
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "holds 5 bytes") {
		t.Errorf("short key file: %v", err)
	}
}

// Processes starting at once on a new directory agree on one key, and no
// temporary file is left.
func TestKeyFileCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("creators got different keys")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the key's directory, want 1", len(entries))
	}
}

func sealStream(t testing.TB, c Sealer, data []byte, ad []byte, rng *rand.Rand) []byte {
	t.Helper()
	var out bytes.Buffer
	w := c.NewWriter(&out, ad)
	for p := data; len(p) > 0; {
		n := min(len(p), 1+rng.IntN(3*RecordSize/2))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestStreamRoundTrip(t *testing.T) {
	c := testSealer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, RecordSize - 1, RecordSize, RecordSize + 1, 3*RecordSize + 5, 300 << 10} {
		data := make([]byte, n)
		crand.Read(data)
		stream := sealStream(t, c, data, []byte("blob/x"), rng)
		records := max(1, (n+RecordSize-1)/RecordSize)
		if want := n + records*(headerLen+28); len(stream) != want {
			t.Errorf("%d bytes: stream of %d, want %d", n, len(stream), want)
		}
		r := c.NewReader(bytes.NewReader(stream), []byte("blob/x"))
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read back %d, %v", n, len(got), err)
		}
		if recs, size, plain, last := r.Records(); recs != uint64(records) || size != int64(len(stream)) || plain != int64(n) || !last {
			t.Errorf("%d bytes: Records() = %d %d %d %v", n, recs, size, plain, last)
		}
		if bytes.Contains(stream, data[:min(n, 64)]) && n >= 16 {
			t.Errorf("%d bytes: plaintext in the stream", n)
		}
	}
}

// Every way of damaging a stream is refused, and says where.
func TestStreamDamage(t *testing.T) {
	c := testSealer(t)
	data := make([]byte, 3*RecordSize+100)
	crand.Read(data)
	stream := sealStream(t, c, data, []byte("blob/x"), rand.New(rand.NewPCG(3, 4)))
	rec := headerLen + int(c.SealedLen(RecordSize))
	swapped := bytes.Clone(stream)
	copy(swapped[:rec], stream[rec:2*rec])
	copy(swapped[rec:2*rec], stream[:rec])
	lastBitCleared := bytes.Clone(stream)
	lastBitCleared[3*rec] &^= 0x80
	tests := []struct {
		name   string
		stream []byte
		ad     string
		want   string
		is     error
	}{
		{"cut at a record boundary", stream[:2*rec], "blob/x", "ends before its last record", ErrTruncated},
		{"cut inside a record", stream[:2*rec+100], "blob/x", "record 2 at", ErrTruncated},
		{"cut inside a header", stream[:rec+2], "blob/x", "ends before", ErrTruncated},
		{"empty", nil, "blob/x", "0 records", ErrTruncated},
		{"bytes after the last", append(bytes.Clone(stream), 0, 1), "blob/x", "after the last record", nil},
		{"records swapped", swapped, "blob/x", "record 0 at 0 does not open", nil},
		{"last bit cleared", lastBitCleared, "blob/x", "record 3 at", nil},
		{"other blob", stream, "blob/y", "record 0 at 0 does not open", nil},
		{"huge length", append([]byte{0x7f, 0xff, 0xff, 0xff}, stream[4:]...), "blob/x", "claims 2147483647 bytes", nil},
	}
	for _, tc := range tests {
		_, err := io.ReadAll(c.NewReader(bytes.NewReader(tc.stream), []byte(tc.ad)))
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// An upload sealed piece by piece, each piece flushed, reads back whole;
// the stream before Close is refused as cut short.
func TestStreamResumed(t *testing.T) {
	c := testSealer(t)
	data := make([]byte, 200<<10)
	crand.Read(data)
	var out bytes.Buffer
	records, sent := uint64(0), 0
	for i, piece := range [][]byte{data[:1000], data[1000:150000], data[150000:]} {
		w := c.ResumeWriter(&out, []byte("blob/x"), records)
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
		sent += len(piece)
		if i < 2 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r := c.NewReader(bytes.NewReader(out.Bytes()), []byte("blob/x"))
			if _, err := io.ReadAll(r); !errors.Is(err, ErrTruncated) {
				t.Fatalf("unfinished stream: %v", err)
			}
			n, size, plain, last := r.Records()
			if n != w.Records() || size != int64(out.Len()) || plain != int64(sent) || last {
				t.Fatalf("piece %d: Records() = %d %d %d %v", i, n, size, plain, last)
			}
			records = n
		} else if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := io.ReadAll(c.NewReader(bytes.NewReader(out.Bytes()), []byte("blob/x")))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("resumed stream: %d bytes, %v", len(got), err)
	}
}

// Whatever the bytes, the reader neither panics nor returns bytes that
// were not sealed under the key.
func FuzzReader(f *testing.F) {
	c := testSealer(f)
	rng := rand.New(rand.NewPCG(5, 6))
	f.Add(sealStream(f, c, []byte("a sealed page"), []byte("blob/x"), rng))
	f.Add(sealStream(f, c, nil, []byte("blob/x"), rng))
	f.Add([]byte{0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := io.ReadAll(c.NewReader(bytes.NewReader(b), []byte("blob/x")))
		if err == nil && !bytes.Equal(got, []byte("a sealed page")) && len(got) != 0 {
			t.Errorf("forged stream read as %q", got)
		}
	})
}
