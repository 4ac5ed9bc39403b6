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
	"slices"
	"strconv"
	"testing"
	"time"

	"yici/sync/wire"
)

// doUpload sends one request with the given headers; a nil body is none, a
// body that is not a *bytes.Reader goes chunked, without Content-Length.
func (f *fixture) doUpload(method, path, token string, hdr map[string]string, body io.Reader) (int, http.Header, wire.Error) {
	f.t.Helper()
	code, h, b := f.send(method, path, token, hdr, body)
	var eb wire.ErrorBody
	if len(b) > 0 {
		if err := json.Unmarshal(b, &eb); err != nil {
			f.t.Fatalf("%s %s: answer %q is not an ErrorBody: %v", method, path, b, err)
		}
	}
	return code, h, eb.Error
}

// chunked hides a reader's length from http.NewRequest.
type chunked struct{ io.Reader }

func blobBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestUploadSteps(t *testing.T) {
	f := newFixture(t, Options{MaxBlobBytes: 4096})
	data := blobBytes(3000)
	h := sum(data)
	path := wire.UploadPath(h)
	off := func(n int) map[string]string { return map[string]string{wire.HeaderUploadOffset: strconv.Itoa(n)} }
	length := func(v string) map[string]string { return map[string]string{wire.HeaderUploadLength: v} }
	steps := []struct {
		name       string
		method     string
		token      string // "" means f.token; "-" none
		hdr        map[string]string
		body       io.Reader
		status     int
		code       string
		offset     string // the Upload-Offset answered, when not ""
		errOffset  int64  // Error.Offset answered with offset_mismatch
		wantLength string
	}{
		{name: "patch before post", method: "PATCH", hdr: off(0), body: bytes.NewReader(data[:10]), status: 404, code: wire.CodeNotFound},
		{name: "head before post", method: "HEAD", status: 404},
		{name: "post without length", method: "POST", status: 400, code: wire.CodeBadRequest},
		{name: "post with bad length", method: "POST", hdr: length("3e3"), status: 400, code: wire.CodeBadRequest},
		{name: "post with signed length", method: "POST", hdr: length("+3000"), status: 400, code: wire.CodeBadRequest},
		{name: "post empty", method: "POST", hdr: length("0"), status: 400, code: wire.CodeBadRequest},
		{name: "post overlong", method: "POST", hdr: length("4097"), status: 413, code: wire.CodeTooLarge},
		{name: "post unauthenticated", method: "POST", token: "-", hdr: length("3000"), status: 401, code: wire.CodeUnauthorized},
		{name: "post unknown token", method: "POST", token: "0000", hdr: length("3000"), status: 401, code: wire.CodeUnauthorized},
		{name: "post", method: "POST", hdr: length("3000"), status: 201, offset: "0", wantLength: "3000"},
		{name: "post again", method: "POST", hdr: length("3000"), status: 200, offset: "0", wantLength: "3000"},
		{name: "post other length", method: "POST", hdr: length("2999"), status: 409, code: wire.CodeConflict},
		{name: "head", method: "HEAD", status: 200, offset: "0", wantLength: "3000"},
		{name: "first part", method: "PATCH", hdr: off(0), body: bytes.NewReader(data[:1000]), status: 204, offset: "1000", wantLength: "3000"},
		{name: "first part again", method: "PATCH", hdr: off(0), body: bytes.NewReader(data[:1000]), status: 409, code: wire.CodeOffsetMismatch, offset: "1000", errOffset: 1000},
		{name: "ahead of the offset", method: "PATCH", hdr: off(1500), body: bytes.NewReader(data[1500:]), status: 409, code: wire.CodeOffsetMismatch, offset: "1000", errOffset: 1000},
		{name: "no offset", method: "PATCH", body: bytes.NewReader(data[1000:]), status: 400, code: wire.CodeBadRequest},
		{name: "negative offset", method: "PATCH", hdr: map[string]string{wire.HeaderUploadOffset: "-1"}, status: 400, code: wire.CodeBadRequest},
		{name: "overlong body", method: "PATCH", hdr: off(1000), body: bytes.NewReader(append(data[1000:], 0)), status: 413, code: wire.CodeTooLarge},
		{name: "overlong chunked body", method: "PATCH", hdr: off(1000), body: chunked{bytes.NewReader(append(data[1000:], 0))}, status: 413, code: wire.CodeTooLarge},
		{name: "patch unauthenticated", method: "PATCH", token: "-", hdr: off(1000), body: bytes.NewReader(data[1000:]), status: 401, code: wire.CodeUnauthorized},
		{name: "head after refusals", method: "HEAD", status: 200, offset: "1000", wantLength: "3000"},
		{name: "second part chunked", method: "PATCH", hdr: off(1000), body: chunked{bytes.NewReader(data[1000:2000])}, status: 204, offset: "2000"},
		{name: "nothing", method: "PATCH", hdr: off(2000), status: 204, offset: "2000"},
		{name: "wrong method", method: "PUT", status: 405, code: wire.CodeBadRequest},
		{name: "last part", method: "PATCH", hdr: off(2000), body: bytes.NewReader(data[2000:]), status: 204, offset: "3000", wantLength: "3000"},
		{name: "last part again", method: "PATCH", hdr: off(2000), body: bytes.NewReader(data[2000:]), status: 404, code: wire.CodeNotFound},
		{name: "head when held", method: "HEAD", status: 404},
		{name: "post when held", method: "POST", hdr: length("3000"), status: 200, offset: "3000", wantLength: "3000"},
	}
	for _, s := range steps {
		token := f.token
		switch s.token {
		case "-":
			token = ""
		case "":
		default:
			token = s.token
		}
		status, hdr, e := f.doUpload(s.method, path, token, s.hdr, s.body)
		if status != s.status || e.Code != s.code {
			t.Fatalf("%s: %d %q (%s), want %d %q", s.name, status, e.Code, e.Message, s.status, s.code)
		}
		if s.offset != "" && hdr.Get(wire.HeaderUploadOffset) != s.offset {
			t.Errorf("%s: Upload-Offset %q, want %q", s.name, hdr.Get(wire.HeaderUploadOffset), s.offset)
		}
		if s.wantLength != "" && hdr.Get(wire.HeaderUploadLength) != s.wantLength {
			t.Errorf("%s: Upload-Length %q, want %q", s.name, hdr.Get(wire.HeaderUploadLength), s.wantLength)
		}
		if s.code == wire.CodeOffsetMismatch && (e.Offset == nil || *e.Offset != s.errOffset) {
			t.Errorf("%s: error offset %v, want %d", s.name, e.Offset, s.errOffset)
		}
	}
	// Held exactly as a PUT holds a blob: committed by a case, and readable.
	if code, b := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, bytes.NewReader([]byte(mustJSON(manifest("kiosk-01-case-1", data))))); code != 201 {
		t.Fatalf("put case naming the uploaded blob: %d %s", code, b)
	}
	if code, b := f.asClerk("GET", "/v1/blobs/"+h+"?case=kiosk-01-case-1", nil); code != 200 || !bytes.Equal(b, data) {
		t.Fatalf("get uploaded blob: %d, %d bytes, equal %v", code, len(b), bytes.Equal(b, data))
	}
	if _, err := os.Stat(f.st.blobPath(h)); err != nil {
		t.Errorf("uploaded blob not in place after the commit: %v", err)
	}
	if left, _ := os.ReadDir(f.st.partial); len(left) != 0 {
		t.Errorf("%d files left in %s", len(left), f.st.partial)
	}
}

// An upload whose bytes are not its blob's is refused at the last byte
// and dropped; nothing is held.
func TestUploadHashMismatch(t *testing.T) {
	f := newFixture(t, Options{})
	data := blobBytes(2000)
	h := sum(data)
	other := bytes.Clone(data)
	other[1500] ^= 1
	before := f.state()
	if status, _, e := f.doUpload("POST", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadLength: "2000"}, nil); status != 201 {
		t.Fatalf("post: %d %v", status, e)
	}
	if status, _, e := f.doUpload("PATCH", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadOffset: "0"}, bytes.NewReader(other[:1000])); status != 204 {
		t.Fatalf("first part: %d %v", status, e)
	}
	status, _, e := f.doUpload("PATCH", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadOffset: "1000"}, bytes.NewReader(other[1000:]))
	if status != 400 || e.Code != wire.CodeHashMismatch {
		t.Fatalf("last part of other bytes: %d %q %s, want 400 %s", status, e.Code, e.Message, wire.CodeHashMismatch)
	}
	if status, _, _ := f.doUpload("HEAD", wire.UploadPath(h), f.token, nil, nil); status != 404 {
		t.Errorf("head after a mismatch: %d, want 404 (dropped)", status)
	}
	if after := f.state(); !slices.Equal(before, after) {
		t.Errorf("a mismatched upload changed the platform:\nbefore %v\nafter  %v", before, after)
	}
}

// An upload left alone for longer than DefaultUploadMaxAge is dropped, whether the
// platform runs all along or is restarted.
func TestUploadExpiry(t *testing.T) {
	f := newFixture(t, Options{})
	data := blobBytes(2000)
	h := sum(data)
	ctx := context.Background()
	if _, _, err := f.st.StartUpload(ctx, kiosk, h, 2000); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AppendUpload(ctx, kiosk, h, 0, bytes.NewReader(data[:700])); err != nil {
		t.Fatal(err)
	}
	f.st.mu.Lock()
	f.st.now = func() time.Time { return time.Now().Add(DefaultUploadMaxAge + time.Minute) }
	f.st.mu.Unlock()
	if status, _, e := f.doUpload("HEAD", wire.UploadPath(h), f.token, nil, nil); status != 404 {
		t.Errorf("head of an expired upload: %d %v, want 404", status, e)
	}
	if status, _, e := f.doUpload("PATCH", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadOffset: "700"},
		bytes.NewReader(data[700:])); status != 404 || e.Code != wire.CodeNotFound {
		t.Errorf("patch of an expired upload: %d %q, want 404 %s", status, e.Code, wire.CodeNotFound)
	}
	if left, _ := os.ReadDir(f.st.partial); len(left) != 0 {
		t.Errorf("expired upload left %d files", len(left))
	}
}

// An upload outlives a restart of the platform, unless it is too old then;
// a stray file in tmp/uploads is dropped.
func TestUploadRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	fresh, old := blobBytes(2000), blobBytes(1000)
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{fresh, old} {
		if _, _, err := st.StartUpload(ctx, kiosk, sum(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppendUpload(ctx, kiosk, sum(b), 0, bytes.NewReader(b[:300])); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	long := time.Now().Add(-DefaultUploadMaxAge - time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "blobs", "tmp", "uploads", partName(kiosk, sum(old), 1000)), long, long); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "tmp", "uploads", "stray.part"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = OpenBolt(dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, length, err := st.UploadOffset(ctx, kiosk, sum(fresh)); err != nil || got != 300 || length != 2000 {
		t.Fatalf("upload after a restart: offset %d length %d (%v), want 300 of 2000", got, length, err)
	}
	if _, _, err := st.UploadOffset(ctx, kiosk, sum(old)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired upload after a restart: %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(st.partial); len(left) != 1 {
		t.Errorf("%d files in tmp/uploads after a restart, want the fresh upload's only", len(left))
	}
	if _, err := st.AppendUpload(ctx, kiosk, sum(fresh), 300, bytes.NewReader(fresh[300:])); err != nil {
		t.Fatal(err)
	}
	if held, _ := st.HasBlob(ctx, sum(fresh)); !held {
		t.Error("an upload resumed after a restart is not held")
	}
}

// Two appends to one upload at once: the second is refused while the first
// streams, and the offset is answered meanwhile.
func TestUploadLocked(t *testing.T) {
	st, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	data := blobBytes(2000)
	h := sum(data)
	if _, _, err := st.StartUpload(ctx, kiosk, h, 2000); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error)
	go func() {
		_, err := st.AppendUpload(ctx, kiosk, h, 0, pr)
		done <- err
	}()
	if _, err := pw.Write(data[:500]); err != nil { // the first append holds the upload now
		t.Fatal(err)
	}
	if _, err := st.AppendUpload(ctx, kiosk, h, 0, bytes.NewReader(data)); !errors.Is(err, ErrLocked) {
		t.Errorf("second append: %v, want ErrLocked", err)
	}
	if got, _, err := st.UploadOffset(ctx, kiosk, h); err != nil || got != 0 {
		t.Errorf("offset during an append: %d (%v), want 0", got, err)
	}
	pw.CloseWithError(errors.New("connection reset (test)"))
	if err := <-done; err == nil {
		t.Error("an append whose body broke returned nil")
	}
	if got, _, err := st.UploadOffset(ctx, kiosk, h); err != nil || got != 500 {
		t.Errorf("offset after a broken append: %d (%v), want 500 (kept)", got, err)
	}
	var oe *OffsetError
	if _, err := st.AppendUpload(ctx, kiosk, h, 0, bytes.NewReader(data)); !errors.As(err, &oe) || oe.Want != 500 {
		t.Errorf("append at 0 after the break: %v, want OffsetError at 500", err)
	}
	if _, err := st.AppendUpload(ctx, kiosk, h, 500, bytes.NewReader(data[500:])); err != nil {
		t.Fatal(err)
	}
	rc, err := st.OpenBlob(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Error("the resumed blob differs")
	}
}

// A PATCH whose body stops coming is cut after UploadIdleTimeout: what did
// arrive is kept and the upload is free for the retry at once, not locked
// until TCP gives up on the dead connection.
func TestUploadIdleBody(t *testing.T) {
	f := newFixture(t, Options{UploadIdleTimeout: 200 * time.Millisecond})
	data := blobBytes(3000)
	h := sum(data)
	if status, _, e := f.doUpload("POST", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadLength: "3000"}, nil); status != 201 {
		t.Fatalf("post: %d %v", status, e)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest("PATCH", f.url+wire.UploadPath(h), pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set(wire.HeaderUploadOffset, "0")
	req.ContentLength = 3000
	go func() {
		pw.Write(data[:1000]) // then nothing: the line went quiet
	}()
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	for {
		status, hdr, _ := f.doUpload("HEAD", wire.UploadPath(h), f.token, nil, nil)
		if status == 200 && hdr.Get(wire.HeaderUploadOffset) == "1000" {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("upload still at %s (%d) 5 s after its body went quiet", hdr.Get(wire.HeaderUploadOffset), status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, hdr, e := f.doUpload("PATCH", wire.UploadPath(h), f.token, map[string]string{wire.HeaderUploadOffset: "1000"},
		bytes.NewReader(data[1000:])); status != 204 || hdr.Get(wire.HeaderUploadOffset) != "3000" {
		t.Fatalf("the retry after the cut: %d %v %q", status, e, hdr.Get(wire.HeaderUploadOffset))
	}
}

// A crash mid-append leaves a torn record at the end of a part file: the
// restart cuts it off and answers the offset of the whole records, from
// which the sender goes on; a part that does not open is dropped.
func TestUploadTornPart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	data, other := blobBytes(200_000), blobBytes(150_000)
	st, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, other} {
		if _, _, err := st.StartUpload(ctx, kiosk, sum(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		for _, piece := range [][2]int{{0, 70_000}, {70_000, 100_000}} {
			if _, err := st.AppendUpload(ctx, kiosk, sum(b), int64(piece[0]), bytes.NewReader(b[piece[0]:piece[1]])); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	part := func(b []byte) string {
		return filepath.Join(dir, "blobs", "tmp", "uploads", partName(kiosk, sum(b), int64(len(b))))
	}
	raw, err := os.ReadFile(part(data))
	if err != nil {
		t.Fatal(err)
	}
	// The second append's record (30,000 bytes) half written, then garbage.
	torn := append(raw[:len(raw)-20_000], bytes.Repeat([]byte{0xAB}, 5000)...)
	if err := os.WriteFile(part(data), torn, 0o600); err != nil {
		t.Fatal(err)
	}
	// The other part under another blob's name: it does not open.
	if err := os.Rename(part(other), filepath.Join(dir, "blobs", "tmp", "uploads", partName(kiosk, sum(blobBytes(7)), 150_000))); err != nil {
		t.Fatal(err)
	}
	if st, err = OpenBolt(dir); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, _, err := st.UploadOffset(ctx, kiosk, sum(data))
	if err != nil || got != 65536+4464 {
		// 70,000 bytes went in as a full record of 64 KiB and one of the rest.
		t.Fatalf("offset after a torn append: %d, %v; want %d", got, err, 65536+4464)
	}
	if _, err := st.AppendUpload(ctx, kiosk, sum(data), got, bytes.NewReader(data[got:])); err != nil {
		t.Fatal(err)
	}
	rc, err := st.OpenBlob(ctx, sum(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, data) {
		t.Errorf("resumed blob: %d bytes, %v", len(b), err)
	}
	if _, _, err := st.UploadOffset(ctx, kiosk, sum(blobBytes(7))); !errors.Is(err, ErrNotFound) {
		t.Errorf("a part sealed for another blob was taken up: %v", err)
	}
}
