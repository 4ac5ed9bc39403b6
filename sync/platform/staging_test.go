package platform

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"yici/sync/wire"
)

// useClock makes st go by a clock the test moves.
func useClock(st *BoltStorage) *testClock {
	c := &testClock{t: time.Now()}
	st.mu.Lock()
	st.now = c.Now
	st.mu.Unlock()
	return c
}

// stagedFiles lists the blob files in tmp/ (not the uploads).
func stagedFiles(t *testing.T, st *BoltStorage) []string {
	t.Helper()
	entries, err := os.ReadDir(st.tmp)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func partFiles(t *testing.T, st *BoltStorage) []string {
	t.Helper()
	entries, err := os.ReadDir(st.partial)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func (f *fixture) enrol(name string) string {
	f.t.Helper()
	token, err := f.srv.Enrol(RoleKiosk, "中山区政务服务中心", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return token
}

func lengthHdr(n int) map[string]string {
	return map[string]string{wire.HeaderUploadLength: strconv.Itoa(n)}
}
func offsetHdr(n int) map[string]string {
	return map[string]string{wire.HeaderUploadOffset: strconv.Itoa(n)}
}

// Issue 9, item 4: a second terminal that knows a blob's hash opens its
// upload first with another length, and holds a PATCH of its own open
// meanwhile. Neither touches the first terminal's upload: that one opens,
// appends and finishes, and its case commits. When the squatter finishes
// the same blob too, it is held once.
func TestUploadNotSquatted(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	other := f.enrol("kiosk-02")
	data := blobBytes(3000)
	h := sum(data)
	path := wire.UploadPath(h)

	if status, _, e := f.doUpload("POST", path, other, lengthHdr(len(data)+1), nil); status != 201 {
		t.Fatalf("squatter's POST with another length: %d %v", status, e)
	}
	if status, hdr, e := f.doUpload("POST", path, f.token, lengthHdr(len(data)), nil); status != 201 || hdr.Get(wire.HeaderUploadOffset) != "0" {
		t.Fatalf("real POST after the squatter's: %d %v, want 201 at offset 0", status, e)
	}
	// The squatter's PATCH to its upload streams and holds it busy.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := f.st.AppendUpload(ctx, "kiosk-02", h, 0, pr)
		done <- err
	}()
	if _, err := pw.Write(data[:1000]); err != nil {
		t.Fatal(err)
	}
	// Nor can it see or move the real upload's offset.
	if status, _, e := f.doUpload("PATCH", path, other, offsetHdr(0), bytes.NewReader(data[:10])); status != 423 {
		t.Errorf("squatter's second PATCH: %d %v, want 423 on its own upload", status, e)
	}
	if status, _, e := f.doUpload("PATCH", path, f.token, offsetHdr(0), bytes.NewReader(data[:1200])); status != 204 {
		t.Fatalf("real PATCH while the squatter's streams: %d %v, want 204", status, e)
	}
	if status, hdr, _ := f.doUpload("HEAD", path, f.token, nil, nil); status != 200 || hdr.Get(wire.HeaderUploadOffset) != "1200" || hdr.Get(wire.HeaderUploadLength) != "3000" {
		t.Errorf("real HEAD: %d offset %s length %s, want 200 1200 3000", status, hdr.Get(wire.HeaderUploadOffset), hdr.Get(wire.HeaderUploadLength))
	}
	if status, _, e := f.doUpload("PATCH", path, f.token, offsetHdr(1200), bytes.NewReader(data[1200:])); status != 204 {
		t.Fatalf("real last PATCH: %d %v, want 204", status, e)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("squatter's append: %v", err)
	}
	if held, _ := f.st.HasBlob(ctx, h); !held {
		t.Fatal("the real upload finished but the blob is not held")
	}
	m := manifest("kiosk-01-2025-0301-00a1", data)
	if status, b := f.do("PUT", "/v1/cases/"+m.ID, f.token, strings.NewReader(mustJSON(m))); status != 201 {
		t.Fatalf("commit of the uploaded blob: %d %s", status, b)
	}

	// Two terminals sending one blob each finish it; it is held once.
	data2 := blobBytes(2500)[1:]
	h2 := sum(data2)
	for _, tok := range []string{f.token, other} {
		if status, _, e := f.doUpload("POST", wire.UploadPath(h2), tok, lengthHdr(len(data2)), nil); status != 201 {
			t.Fatalf("POST: %d %v", status, e)
		}
	}
	for _, tok := range []string{f.token, other} {
		if status, _, e := f.doUpload("PATCH", wire.UploadPath(h2), tok, offsetHdr(0), bytes.NewReader(data2)); status != 204 {
			t.Fatalf("PATCH: %d %v", status, e)
		}
	}
	if got := stagedFiles(t, f.st); len(got) != 1 {
		t.Errorf("staged files after two uploads of one blob: %v, want one", got)
	}
	// The squatter's upload of the wrong length is its own to finish or
	// let expire; it holds nothing of anyone else's.
	if got := partFiles(t, f.st); len(got) != 1 || !strings.HasPrefix(got[0], h+"."+strconv.Itoa(len(data)+1)+".") {
		t.Errorf("parts left: %v, want only the squatter's", got)
	}
}

// Issue 9, item 7: a terminal cannot stage past its quota, by PUT or by
// opening uploads; the refusal keeps nothing, says what is held and the
// limit, and a commit frees the quota. Another terminal's quota is its own.
func TestStagingQuota(t *testing.T) {
	f := newFixture(t, Options{MaxStagedBytesPerTerminal: 10000})
	ctx := context.Background()
	a, b := blobBytes(6000), blobBytes(6001)
	if status, body := f.do("PUT", "/v1/blobs/"+sum(a), f.token, bytes.NewReader(a)); status != 201 {
		t.Fatalf("PUT within the quota: %d %s", status, body)
	}
	if got := f.st.StagedBytes(kiosk); got != 6000 {
		t.Errorf("staged bytes %d, want 6000", got)
	}
	before := stagedFiles(t, f.st)
	for _, body := range []io.Reader{bytes.NewReader(b), chunked{bytes.NewReader(b)}} {
		status, _, e := f.doUpload("PUT", "/v1/blobs/"+sum(b), f.token, nil, body)
		if status != 507 || e.Code != wire.CodeQuotaExceeded || !strings.Contains(e.Message, "6000") || !strings.Contains(e.Message, "10000") {
			t.Errorf("PUT past the quota: %d %v, want 507 %s naming 6000 held and the limit 10000", status, e, wire.CodeQuotaExceeded)
		}
	}
	if status, _, e := f.doUpload("POST", wire.UploadPath(sum(b)), f.token, lengthHdr(len(b)), nil); status != 507 || e.Code != wire.CodeQuotaExceeded {
		t.Errorf("POST past the quota: %d %v, want 507 %s", status, e, wire.CodeQuotaExceeded)
	}
	if got := stagedFiles(t, f.st); !slicesEqual(got, before) {
		t.Errorf("refusals left files: %v, had %v", got, before)
	}
	if got := partFiles(t, f.st); len(got) != 0 {
		t.Errorf("a refused POST left parts: %v", got)
	}
	if held, _ := f.st.HasBlob(ctx, sum(b)); held {
		t.Error("a refused blob is held")
	}
	if got := f.st.StagedBytes(kiosk); got != 6000 {
		t.Errorf("staged bytes after refusals %d, want 6000", got)
	}

	// Another terminal has a quota of its own.
	other := f.enrol("kiosk-02")
	if status, body := f.do("PUT", "/v1/blobs/"+sum(b), other, bytes.NewReader(b)); status != 201 {
		t.Fatalf("another terminal's PUT: %d %s", status, body)
	}
	if err := f.srv.DropStaging("kiosk-02"); err != nil {
		t.Fatal(err)
	}

	// A commit frees the quota.
	m := manifest("kiosk-01-2025-0301-00a2", a)
	if status, body := f.do("PUT", "/v1/cases/"+m.ID, f.token, strings.NewReader(mustJSON(m))); status != 201 {
		t.Fatalf("commit: %d %s", status, body)
	}
	if got := f.st.StagedBytes(kiosk); got != 0 {
		t.Errorf("staged bytes after the commit %d, want 0", got)
	}
	if status, _, e := f.doUpload("POST", wire.UploadPath(sum(b)), f.token, lengthHdr(len(b)), nil); status != 201 {
		t.Fatalf("POST after the commit: %d %v", status, e)
	}
	if got := f.st.StagedBytes(kiosk); got != 6001 {
		t.Errorf("staged bytes with an upload open %d, want its length 6001", got)
	}
	if status, _, e := f.doUpload("PATCH", wire.UploadPath(sum(b)), f.token, offsetHdr(0), bytes.NewReader(b)); status != 204 {
		t.Fatalf("PATCH: %d %v", status, e)
	}
	if got := f.st.StagedBytes(kiosk); got != 6001 {
		t.Errorf("staged bytes after the upload finished %d, want 6001", got)
	}
	// A PUT that fails (not the blob) frees what it took.
	c := blobBytes(3000)
	if status, _ := f.do("PUT", "/v1/blobs/"+sum(blobBytes(3001)), f.token, bytes.NewReader(c)); status != 400 {
		t.Errorf("PUT of other bytes: %d, want 400", status)
	}
	if got := f.st.StagedBytes(kiosk); got != 6001 {
		t.Errorf("staged bytes after a refused body %d, want 6001", got)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A staged blob no commit names is dropped after StagedMaxAge, an idle
// upload after UploadMaxAge, by the tidy pass, with their quota.
func TestStagingExpiry(t *testing.T) {
	f := newFixture(t, Options{StagedMaxAge: 10 * time.Minute, UploadMaxAge: 30 * time.Minute})
	clock := useClock(f.st)
	ctx := context.Background()
	old, young, part := blobBytes(1000), blobBytes(1001), blobBytes(1002)
	if status, body := f.do("PUT", "/v1/blobs/"+sum(old), f.token, bytes.NewReader(old)); status != 201 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	if status, _, e := f.doUpload("POST", wire.UploadPath(sum(part)), f.token, lengthHdr(len(part)), nil); status != 201 {
		t.Fatalf("POST: %d %v", status, e)
	}
	clock.Add(6 * time.Minute)
	if status, body := f.do("PUT", "/v1/blobs/"+sum(young), f.token, bytes.NewReader(young)); status != 201 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	clock.Add(5 * time.Minute) // old is 11 min, young 5
	// Any staging call a minute after the last tidy runs the next.
	f.doUpload("HEAD", wire.UploadPath(sum(part)), f.token, nil, nil)
	if held, _ := f.st.HasBlob(ctx, sum(old)); held {
		t.Error("a blob staged 11 min ago, unnamed, is still held")
	}
	if held, _ := f.st.HasBlob(ctx, sum(young)); !held {
		t.Error("a blob staged 5 min ago is dropped")
	}
	if got := stagedFiles(t, f.st); len(got) != 1 {
		t.Errorf("staged files: %v, want the young blob's only", got)
	}
	if got := f.st.StagedBytes(kiosk); got != 1001+1002 {
		t.Errorf("staged bytes %d, want %d", got, 1001+1002)
	}
	clock.Add(20 * time.Minute) // the upload is idle 31 min
	if status, _, _ := f.doUpload("HEAD", wire.UploadPath(sum(part)), f.token, nil, nil); status != 404 {
		t.Errorf("HEAD of an upload idle past UploadMaxAge: %d, want 404", status)
	}
	if got := partFiles(t, f.st); len(got) != 0 {
		t.Errorf("parts left: %v", got)
	}
	if got := f.st.StagedBytes(kiosk); got != 0 {
		t.Errorf("staged bytes %d, want 0", got)
	}

	// Without traffic, the tidy pass on the timer does the same.
	if status, body := f.do("PUT", "/v1/blobs/"+sum(old), f.token, bytes.NewReader(old)); status != 201 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	f.st.mu.Lock()
	stale := f.st.tidy(clock.Now().Add(11 * time.Minute)) // as tidyLoop calls it
	f.st.mu.Unlock()
	removeAll(stale)
	if got := stagedFiles(t, f.st); len(got) != 0 {
		t.Errorf("staged files after the timer's tidy: %v", got)
	}
}

// DropStaging discards a terminal's uploads and its share of the staged
// blobs, frees its quota, and leaves another terminal's alone.
func TestDropStaging(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	other := f.enrol("kiosk-02")
	shared, own, whole, part := blobBytes(1000), blobBytes(1001), blobBytes(1002), blobBytes(1003)
	for _, tok := range []string{f.token, other} {
		if status, body := f.do("PUT", "/v1/blobs/"+sum(shared), tok, bytes.NewReader(shared)); status/100 != 2 {
			t.Fatalf("PUT shared: %d %s", status, body)
		}
	}
	if status, body := f.do("PUT", "/v1/blobs/"+sum(own), f.token, bytes.NewReader(own)); status != 201 {
		t.Fatalf("PUT own: %d %s", status, body)
	}
	if status, _, e := f.doUpload("POST", wire.UploadPath(sum(whole)), f.token, lengthHdr(len(whole)), nil); status != 201 {
		t.Fatalf("POST: %d %v", status, e)
	}
	if status, _, e := f.doUpload("PATCH", wire.UploadPath(sum(whole)), f.token, offsetHdr(0), bytes.NewReader(whole)); status != 204 {
		t.Fatalf("PATCH: %d %v", status, e)
	}
	for _, tok := range []string{f.token, other} {
		if status, _, e := f.doUpload("POST", wire.UploadPath(sum(part)), tok, lengthHdr(len(part)), nil); status != 201 {
			t.Fatalf("POST: %d %v", status, e)
		}
		if status, _, e := f.doUpload("PATCH", wire.UploadPath(sum(part)), tok, offsetHdr(0), bytes.NewReader(part[:500])); status != 204 {
			t.Fatalf("PATCH: %d %v", status, e)
		}
	}
	if got, want := f.st.StagedBytes(kiosk), int64(1000+1001+1002+1003); got != want {
		t.Errorf("staged bytes %d, want %d", got, want)
	}
	otherHeld := f.st.StagedBytes("kiosk-02")

	if err := f.srv.DropStaging(kiosk); err != nil {
		t.Fatal(err)
	}
	if got := f.st.StagedBytes(kiosk); got != 0 {
		t.Errorf("staged bytes after DropStaging %d, want 0", got)
	}
	if got := f.st.StagedBytes("kiosk-02"); got != otherHeld {
		t.Errorf("the other terminal's staged bytes %d, want %d as before", got, otherHeld)
	}
	for _, b := range [][]byte{own, whole} {
		if held, _ := f.st.HasBlob(ctx, sum(b)); held {
			t.Errorf("blob of %d bytes staged by the dropped terminal alone is still held", len(b))
		}
	}
	if held, _ := f.st.HasBlob(ctx, sum(shared)); !held {
		t.Error("a blob the other terminal staged too is dropped")
	}
	if got := stagedFiles(t, f.st); len(got) != 1 {
		t.Errorf("staged files: %v, want the shared blob's only", got)
	}
	if status, _, _ := f.doUpload("HEAD", wire.UploadPath(sum(part)), f.token, nil, nil); status != 404 {
		t.Errorf("HEAD of a dropped upload: %d, want 404", status)
	}
	if status, hdr, _ := f.doUpload("HEAD", wire.UploadPath(sum(part)), other, nil, nil); status != 200 || hdr.Get(wire.HeaderUploadOffset) != "500" {
		t.Errorf("HEAD of the other terminal's upload: %d at %s, want 200 at 500", status, hdr.Get(wire.HeaderUploadOffset))
	}
	if got := partFiles(t, f.st); len(got) != 1 {
		t.Errorf("parts: %v, want the other terminal's only", got)
	}
	if err := f.srv.DropStaging("kiosk-02"); err != nil {
		t.Fatal(err)
	}
	if got := stagedFiles(t, f.st); len(got) != 0 {
		t.Errorf("staged files after both are dropped: %v", got)
	}
	if got := partFiles(t, f.st); len(got) != 0 {
		t.Errorf("parts after both are dropped: %v", got)
	}
}

// DropStaging during an append: the append ends not found and its part
// goes.
func TestDropStagingDuringAppend(t *testing.T) {
	st, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	data := blobBytes(2000)
	if _, _, err := st.StartUpload(ctx, kiosk, sum(data), 2000); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := st.AppendUpload(ctx, kiosk, sum(data), 0, pr)
		done <- err
	}()
	pw.Write(data[:500])
	if err := st.DropStaging(ctx, kiosk); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-done; !errors.Is(err, ErrNotFound) {
		t.Errorf("append to a dropped upload: %v, want ErrNotFound", err)
	}
	if got := partFiles(t, st); len(got) != 0 {
		t.Errorf("parts: %v", got)
	}
	if got := st.StagedBytes(kiosk); got != 0 {
		t.Errorf("staged bytes %d", got)
	}
}

// A part file's name holds its owner so that no owner escapes
// tmp/uploads, and gives it back; parts of the naming before owners are
// dropped at start.
func TestPartNames(t *testing.T) {
	h := sum([]byte("x"))
	for _, owner := range []string{kiosk, "../../etc", "a/b", ".", "..", "中山-01", "a.b.part", strings.Repeat("z", maxOwnerBytes)} {
		name := partName(owner, h, 42)
		if strings.ContainsAny(name, "/\\") || filepath.Base(name) != name || strings.Count(name, ".") != 3 {
			t.Errorf("owner %q: unsafe part name %q", owner, name)
		}
		if len(name) > 255 {
			t.Errorf("owner %q: part name of %d bytes", owner, len(name))
		}
		o, s, n, ok := parsePartName(name)
		if !ok || o != owner || s != h || n != 42 {
			t.Errorf("owner %q: parsed %q %q %d %v", owner, o, s, n, ok)
		}
	}
	for _, owner := range []string{"", strings.Repeat("z", maxOwnerBytes+1)} {
		if _, _, err := (&BoltStorage{}).StartUpload(context.Background(), owner, h, 1); !errors.Is(err, ErrOwner) {
			t.Errorf("owner %q: %v, want ErrOwner", owner, err)
		}
	}

	dir := t.TempDir()
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	oldPart := filepath.Join(dir, "blobs", "tmp", "uploads", h+".42.part")
	if err := os.WriteFile(oldPart, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = OpenBolt(dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := os.Stat(oldPart); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a part of the old naming is kept: %v", err)
	}
}
