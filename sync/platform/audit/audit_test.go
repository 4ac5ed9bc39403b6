package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yici/sync/seal"
)

func testSealer(t testing.TB, b byte) seal.Sealer {
	t.Helper()
	s, err := seal.New(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func rec(i int) Record {
	return Record{
		At:       t0.Add(time.Duration(i) * time.Minute),
		Terminal: fmt.Sprintf("T%d", i%3),
		Hall:     "大连市民中心",
		Role:     "clerk",
		Clerk:    fmt.Sprintf("clerk%d", i%2),
		Action:   "GET /v1/cases/{id}",
		Object:   fmt.Sprintf("c%d", i%4),
		Status:   200,
	}
}

// newLog makes a log of n records (rec(1) … rec(n)), closed.
func newLog(t testing.TB, s seal.Sealer, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := l.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func listAll(t testing.TB, path string, s seal.Sealer, f Filter) []Record {
	t.Helper()
	var got []Record
	if err := List(path, s, f, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// eventually fails t unless cond holds within timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAppendReopenVerify(t *testing.T) {
	s := testSealer(t, 7)
	path := newLog(t, s, 3)
	if n, err := Verify(path, s); n != 3 || err != nil {
		t.Fatalf("Verify = %d, %v; want 3", n, err)
	}
	for _, p := range []string{path, headPath(path)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, fi.Mode().Perm())
		}
	}
	if data, _ := os.ReadFile(path); bytes.Contains(data, []byte("clerk1")) || bytes.Contains(data, []byte("GET /v1")) {
		t.Error("record in the clear in the log")
	}

	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	if l.Seq() != 3 || l.TornBytes() != 0 {
		t.Errorf("reopened: Seq %d, TornBytes %d; want 3, 0", l.Seq(), l.TornBytes())
	}
	for i := 4; i <= 5; i++ {
		if err := l.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	noTime := rec(6)
	noTime.At = time.Time{}
	before := time.Now()
	if err := l.Append(noTime); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(rec(7)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}

	got := listAll(t, path, s, Filter{})
	if len(got) != 6 {
		t.Fatalf("listed %d records, want 6", len(got))
	}
	for i, r := range got[:5] {
		want := rec(i + 1)
		want.Seq = uint64(i + 1)
		if !r.At.Equal(want.At) {
			t.Errorf("record %d at %v, want %v", i+1, r.At, want.At)
		}
		r.At = want.At
		if r != want {
			t.Errorf("record %d = %+v, want %+v", i+1, r, want)
		}
	}
	if at := got[5].At; at.Before(before.Add(-time.Second)) || at.After(time.Now()) {
		t.Errorf("record 6 with no time got At %v, want about now", at)
	}
}

func TestAppendTooLarge(t *testing.T) {
	s := testSealer(t, 7)
	l, err := Open(filepath.Join(t.TempDir(), "audit.log"), s)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rec(1)
	r.Reason = strings.Repeat("x", MaxRecord)
	if err := l.Append(r); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Append of %d bytes: %v", MaxRecord, err)
	}
	if err := l.Append(rec(1)); err != nil || l.Seq() != 1 {
		t.Errorf("Append after a refused one: %v, seq %d", err, l.Seq())
	}
}

func TestConcurrentAppend(t *testing.T) {
	s := testSealer(t, 7)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := rec(i)
				r.Terminal = fmt.Sprintf("W%d", w)
				if err := l.Append(r); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if err := l.Sync(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := Verify(path, s); n != writers*each || err != nil {
		t.Fatalf("Verify = %d, %v; want %d", n, err, writers*each)
	}
	perWriter := map[string]int{}
	for i, r := range listAll(t, path, s, Filter{}) {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i+1, r.Seq)
		}
		perWriter[r.Terminal]++
	}
	for w := range writers {
		if n := perWriter[fmt.Sprintf("W%d", w)]; n != each {
			t.Errorf("writer %d: %d records, want %d", w, n, each)
		}
	}
}

// The head follows the log without Sync, within FlushEvery.
func TestBackgroundFlush(t *testing.T) {
	s := testSealer(t, 7)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 1; i <= 3; i++ {
		if err := l.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*FlushEvery, "head at seq 3", func() bool {
		h, err := readHead(path, s)
		return err == nil && h.seq == 3
	})
}

// Verify in another goroutine (as in another process) while records are
// appended and flushed never sees a fault.
func TestVerifyWhileAppending(t *testing.T) {
	s := testSealer(t, 7)
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			if err := l.Append(rec(i)); err != nil {
				t.Error(err)
				return
			}
			if i%7 == 0 {
				l.Sync()
			}
		}
	}()
	var last uint64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		n, err := Verify(path, s)
		if err != nil {
			t.Fatalf("Verify while appending, after %d: %v", last, err)
		}
		last = n
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := Verify(path, s); n != 300 || err != nil {
		t.Fatalf("Verify = %d, %v; want 300", n, err)
	}
}

// frames returns where each frame of a log lies: [start, end) offsets.
func frames(t testing.TB, data []byte) [][2]int {
	t.Helper()
	var out [][2]int
	for off := len(Magic); off < len(data); {
		n := int(binary.BigEndian.Uint32(data[off+8:]))
		end := off + headerLen + n + chainLen
		if end > len(data) {
			t.Fatalf("frame at %d runs past the end", off)
		}
		out = append(out, [2]int{off, end})
		off = end
	}
	return out
}

// rechain recomputes the chain values of all frames, as someone without
// the key can.
func rechain(t testing.TB, data []byte) {
	var prev chain
	for _, fr := range frames(t, data) {
		body := data[fr[0] : fr[1]-chainLen]
		prev = sha256.Sum256(append(bytes.Clone(prev[:]), body...))
		copy(data[fr[1]-chainLen:fr[1]], prev[:])
	}
}

func TestVerifyDetects(t *testing.T) {
	s := testSealer(t, 7)
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, data []byte, fr [][2]int) []byte
		seq     uint64
		message string
	}{
		{"byte flipped in record 3", func(t *testing.T, d []byte, fr [][2]int) []byte {
			d[fr[2][0]+30] ^= 1
			return d
		}, 3, "chain "},
		{"byte flipped in record 2's chain value", func(t *testing.T, d []byte, fr [][2]int) []byte {
			d[fr[1][1]-1] ^= 1
			return d
		}, 2, "chain "},
		{"byte flipped in record 3, chain recomputed", func(t *testing.T, d []byte, fr [][2]int) []byte {
			d[fr[2][0]+30] ^= 1
			rechain(t, d)
			return d
		}, 3, "does not open"},
		{"record 3 removed", func(t *testing.T, d []byte, fr [][2]int) []byte {
			return slices.Delete(d, fr[2][0], fr[2][1])
		}, 3, "frame holds seq 4"},
		{"record 3 removed, later renumbered and rechained", func(t *testing.T, d []byte, fr [][2]int) []byte {
			d = slices.Delete(d, fr[2][0], fr[2][1])
			for i, f := range frames(t, d)[2:] {
				binary.BigEndian.PutUint64(d[f[0]:], uint64(3+i))
			}
			rechain(t, d)
			return d
		}, 3, "does not open"},
		{"records 2 and 3 swapped", func(t *testing.T, d []byte, fr [][2]int) []byte {
			out := append(bytes.Clone(d[:fr[1][0]]), d[fr[2][0]:fr[2][1]]...)
			out = append(out, d[fr[1][0]:fr[1][1]]...)
			return append(out, d[fr[3][0]:]...)
		}, 2, "frame holds seq 3"},
		{"record 4 duplicated", func(t *testing.T, d []byte, fr [][2]int) []byte {
			return slices.Insert(d, fr[4][0], d[fr[3][0]:fr[3][1]]...)
		}, 5, "frame holds seq 4"},
		{"last two records cut off", func(t *testing.T, d []byte, fr [][2]int) []byte {
			return d[:fr[3][0]]
		}, 0, "head says 5 records, the log holds 3"},
		{"magic altered", func(t *testing.T, d []byte, fr [][2]int) []byte {
			d[0] = 'Y'
			return d
		}, 0, "not an audit log"},
		{"length out of range", func(t *testing.T, d []byte, fr [][2]int) []byte {
			binary.BigEndian.PutUint32(d[fr[1][0]+8:], 1<<30)
			return d
		}, 2, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := newLog(t, s, 5)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data = tc.change(t, data, frames(t, data))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = Verify(path, s)
			var b *BrokenError
			if !errors.As(err, &b) || b.Seq != tc.seq || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("Verify: %v; want a BrokenError at record %d saying %q", err, tc.seq, tc.message)
			}
			t.Log(err)
			if l, err := Open(path, s); !errors.As(err, &b) || !strings.Contains(err.Error(), "evidence") {
				t.Errorf("Open: %v; want a BrokenError", err)
				if err == nil {
					l.Close()
				}
			}
		})
	}
}

func TestHeadFaults(t *testing.T) {
	s := testSealer(t, 7)
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, path string)
		message string
	}{
		{"head removed", func(t *testing.T, path string) {
			os.Remove(headPath(path))
		}, "missing"},
		{"head of another log", func(t *testing.T, path string) {
			other := newLog(t, s, 2)
			data, _ := os.ReadFile(headPath(other))
			os.WriteFile(headPath(path), data, 0o600)
		}, "record 2: chain"},
		{"head altered", func(t *testing.T, path string) {
			data, _ := os.ReadFile(headPath(path))
			data[20] ^= 1
			os.WriteFile(headPath(path), data, 0o600)
		}, "does not open"},
		{"log removed", func(t *testing.T, path string) {
			os.Remove(path)
		}, "is missing, its head says 3 records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := newLog(t, s, 3)
			tc.change(t, path)
			_, verr := Verify(path, s)
			l, oerr := Open(path, s)
			if oerr == nil {
				l.Close()
			}
			var b *BrokenError
			if !errors.As(oerr, &b) || !strings.Contains(oerr.Error(), tc.message) {
				t.Errorf("Open: %v; want a BrokenError saying %q", oerr, tc.message)
			}
			if !strings.Contains(tc.name, "log removed") && (!errors.As(verr, &b) || !strings.Contains(verr.Error(), tc.message)) {
				t.Errorf("Verify: %v; want a BrokenError saying %q", verr, tc.message)
			}
		})
	}
}

// A process killed in the middle of writing a frame leaves part of it; Open
// cuts it off and goes on, Verify stops before it.
func TestTornFrameRecovered(t *testing.T) {
	s := testSealer(t, 7)
	// A log of 3 records synced, then a 4th written but not synced: the
	// head is the one of 3 records.
	path := newLog(t, s, 3)
	headAt3, err := os.ReadFile(headPath(path))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(rec(4)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fr := frames(t, whole)[3]
	size := fr[1] - fr[0]
	for _, cut := range []int{1, 8, headerLen - 1, headerLen, headerLen + 20, size - chainLen, size - 1} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "audit.log")
			os.WriteFile(p, whole[:fr[0]+cut], 0o600)
			os.WriteFile(headPath(p), headAt3, 0o600)
			if n, err := Verify(p, s); n != 3 || err != nil {
				t.Errorf("Verify = %d, %v; want 3", n, err)
			}
			l, err := Open(p, s)
			if err != nil {
				t.Fatal(err)
			}
			if l.TornBytes() != int64(cut) || l.Seq() != 3 {
				t.Errorf("TornBytes %d, Seq %d; want %d, 3", l.TornBytes(), l.Seq(), cut)
			}
			if err := l.Append(rec(5)); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got := listAll(t, p, s, Filter{})
			if len(got) != 4 || got[3].Seq != 4 || got[3].Object != rec(5).Object {
				t.Errorf("after recovery: %d records, last %+v", len(got), got[len(got)-1])
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	s := testSealer(t, 7)
	path := newLog(t, s, 2)
	other := testSealer(t, 8)
	if _, err := Verify(path, other); err == nil || !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("Verify with another key: %v", err)
	}
	if l, err := Open(path, other); err == nil || !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("Open with another key: %v", err)
		if err == nil {
			l.Close()
		}
	}
	// With the right head but records sealed under another key.
	os.WriteFile(headPath(path), must(head{}.seal(other)), 0o600)
	if _, err := Verify(path, other); err == nil || !strings.Contains(err.Error(), "record 1: does not open with this key (wrong key") {
		t.Errorf("Verify of records with another key: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestListFilter(t *testing.T) {
	s := testSealer(t, 7)
	path := newLog(t, s, 12) // rec(i): T i%3, clerk i%2, c i%4, t0 + i min
	for _, tc := range []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"all", Filter{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"since", Filter{Since: t0.Add(10 * time.Minute)}, []uint64{10, 11, 12}},
		{"until", Filter{Until: t0.Add(3 * time.Minute)}, []uint64{1, 2}},
		{"since and until", Filter{Since: t0.Add(4 * time.Minute), Until: t0.Add(6 * time.Minute)}, []uint64{4, 5}},
		{"terminal", Filter{Terminal: "T0"}, []uint64{3, 6, 9, 12}},
		{"clerk", Filter{Clerk: "clerk1"}, []uint64{1, 3, 5, 7, 9, 11}},
		{"object", Filter{Object: "c2"}, []uint64{2, 6, 10}},
		{"terminal and clerk", Filter{Terminal: "T0", Clerk: "clerk0"}, []uint64{6, 12}},
		{"none", Filter{Object: "c9"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint64
			for _, r := range listAll(t, path, s, tc.f) {
				got = append(got, r.Seq)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
	stop := errors.New("stop")
	if err := List(path, s, Filter{}, func(Record) error { return stop }); err != stop {
		t.Errorf("List with fn failing: %v, want fn's error", err)
	}
}
