package platform

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"yici/sync/seal"
	"yici/sync/wire"
)

// uploadKey names an open upload: one per sender and hash, so no sender
// can hold up, conflict with or add to another's.
type uploadKey struct{ owner, sha256 string }

// maxOwnerBytes bounds an owner's name, so that a part file's name stays
// within the 255 bytes a file name may have.
const maxOwnerBytes = 120

// ErrOwner refuses an owner name staging cannot hold.
var ErrOwner = errors.New("owner must be 1 to 120 bytes")

func checkOwner(owner string) error {
	if owner == "" || len(owner) > maxOwnerBytes {
		return fmt.Errorf("owner %q: %w", owner, ErrOwner)
	}
	return nil
}

type upload struct {
	path    string
	length  int64
	offset  int64     // plaintext received
	size    int64     // of the part file's whole records
	records uint64    // in the part file
	touched time.Time // the last append, or the opening
	busy    bool      // an append is under way; it alone moves offset
}

// clearTmp empties tmp/ of the blobs a crash left unsynced, and takes up
// the open uploads of tmp/uploads/, dropping malformed ones; the tidy pass
// drops expired ones by the limits in force. A part file of the naming
// before owners (<sha256>.<length>.part) is malformed: its sender finds
// no upload (404) and starts afresh.
func (s *BoltStorage) clearTmp() error {
	if err := os.MkdirAll(s.partial, 0o700); err != nil {
		return fmt.Errorf("open platform storage: %w", err)
	}
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("clear %s: %w", s.tmp, err)
	}
	for _, e := range entries {
		if p := filepath.Join(s.tmp, e.Name()); p != s.partial {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("clear %s: %w", s.tmp, err)
			}
		}
	}
	parts, err := os.ReadDir(s.partial)
	if err != nil {
		return fmt.Errorf("read uploads in %s: %w", s.partial, err)
	}
	for _, e := range parts {
		p := filepath.Join(s.partial, e.Name())
		owner, sum, length, ok := parsePartName(e.Name())
		info, err := e.Info()
		var u *upload
		if ok && err == nil && info.Mode().IsRegular() {
			u = s.resumePart(p, sum, length, info.ModTime())
		}
		if u == nil {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("drop upload %s: %w", p, err)
			}
			continue
		}
		k := uploadKey{owner, sum}
		s.uploads[k] = u
		s.charge(owner, u.length)
		if u.offset == u.length {
			// Whole but not finished when the process stopped: finish it
			// now (or drop it), or it would pass for held and never be.
			u.busy = true
			s.finishUpload(k, u)
		}
	}
	return nil
}

// resumePart reads the part file at p up to its last whole record and cuts
// off what follows (a crash's torn write). It returns nil for a part that
// is no good: one that does not open, or holds more than length.
func (s *BoltStorage) resumePart(p, sum string, length int64, touched time.Time) *upload {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	r := s.c.NewReader(bufio.NewReader(f), blobAD(sum))
	_, err = io.Copy(io.Discard, r)
	records, size, plain, last := r.Records()
	if plain > length || last != (plain == length) || err != nil && !errors.Is(err, seal.ErrTruncated) {
		return nil
	}
	if f.Truncate(size) != nil {
		return nil
	}
	return &upload{path: p, length: length, offset: plain, size: size, records: records, touched: touched}
}

// partName is the part file's name: the owner in unpadded base64url (no
// '.', '/' or '..' can come of it), so no owner names a path outside
// tmp/uploads, and parsePartName gives it back exactly.
func partName(owner, sha256 string, length int64) string {
	return sha256 + "." + strconv.FormatInt(length, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(owner)) + ".part"
}

func parsePartName(name string) (owner, sha256 string, length int64, ok bool) {
	rest, ok := strings.CutSuffix(name, ".part")
	if !ok {
		return "", "", 0, false
	}
	f := strings.Split(rest, ".")
	if len(f) != 3 || !wire.ValidSHA256(f[0]) {
		return "", "", 0, false
	}
	length, err := wire.ParseOffset(f[1])
	if err != nil || length < 1 || length > wire.MaxBlobBytes {
		return "", "", 0, false
	}
	o, err := base64.RawURLEncoding.Strict().DecodeString(f[2])
	if err != nil || checkOwner(string(o)) != nil {
		return "", "", 0, false
	}
	return string(o), f[0], length, true
}

// expireUploads drops the uploads untouched for UploadMaxAge, files and
// all. Call with s.mu held: removing under the lock keeps a StartUpload of
// the same hash from making the same file anew before it is removed.
func (s *BoltStorage) expireUploads(now time.Time) {
	for k, u := range s.uploads {
		if !u.busy && now.Sub(u.touched) > s.limits.UploadMaxAge {
			os.Remove(u.path)
			s.dropUpload(k, u)
		}
	}
}

// dropUpload closes the upload u of k, unless another has replaced it, and
// frees its quota. Call with s.mu held.
func (s *BoltStorage) dropUpload(k uploadKey, u *upload) {
	if s.uploads[k] == u {
		delete(s.uploads, k)
		s.charge(k.owner, -u.length)
	}
}

// lookUpload returns the open upload k, after a tidy pass if one is due.
// Call with s.mu held; remove the files it returns after.
func (s *BoltStorage) lookUpload(k uploadKey) (*upload, []string) {
	stale := s.maybeTidy(s.now())
	return s.uploads[k], stale
}

// StartUpload implements Storage.
func (s *BoltStorage) StartUpload(_ context.Context, owner, sha256 string, length int64) (int64, bool, error) {
	if err := checkOwner(owner); err != nil {
		return 0, false, fmt.Errorf("open upload %s: %w", sha256, err)
	}
	k := uploadKey{owner, sha256}
	s.mu.Lock()
	u, stale := s.lookUpload(k)
	defer removeAll(stale)
	defer s.mu.Unlock()
	if u != nil {
		if u.length != length {
			return 0, false, fmt.Errorf("upload %s is open with length %d, not %d: %w", sha256, u.length, length, ErrConflict)
		}
		return u.offset, false, nil
	}
	if err := s.reserve(owner, length, 0, false); err != nil {
		return 0, false, err
	}
	p := filepath.Join(s.partial, partName(owner, sha256, length))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		s.charge(owner, -length)
		return 0, false, fmt.Errorf("open upload %s: %w", sha256, err)
	}
	s.uploads[k] = &upload{path: p, length: length, touched: s.now()}
	return 0, true, nil
}

// UploadOffset implements Storage.
func (s *BoltStorage) UploadOffset(_ context.Context, owner, sha256 string) (int64, int64, error) {
	s.mu.Lock()
	u, stale := s.lookUpload(uploadKey{owner, sha256})
	defer removeAll(stale)
	var offset, length int64
	if u != nil {
		offset, length = u.offset, u.length
	}
	s.mu.Unlock()
	if u == nil {
		return 0, 0, fmt.Errorf("upload %s: %w", sha256, ErrNotFound)
	}
	return offset, length, nil
}

// AppendUpload implements Storage. The upload is marked busy while the
// body streams in, outside s.mu, so a slow sender holds up no one else.
func (s *BoltStorage) AppendUpload(_ context.Context, owner, sha256 string, offset int64, r io.Reader) (int64, error) {
	k := uploadKey{owner, sha256}
	s.mu.Lock()
	u, stale := s.lookUpload(k)
	var err error
	switch {
	case u == nil:
		err = fmt.Errorf("upload %s: %w", sha256, ErrNotFound)
	case u.busy:
		err = fmt.Errorf("upload %s: %w", sha256, ErrLocked)
	case u.offset != offset:
		err = &OffsetError{Want: u.offset, Got: offset}
	default:
		u.busy = true
	}
	s.mu.Unlock()
	removeAll(stale)
	if err != nil {
		return 0, err
	}

	end, size, records, werr := s.appendAt(u, sha256, r)
	// Whole once its last byte is in, even where the body failed after
	// it: the hash, not the transport, says whether the bytes are good.
	complete := end == u.length
	s.mu.Lock()
	// A complete upload stays busy until finishUpload is done with it, so
	// no second append at its end finishes it twice.
	u.offset, u.size, u.records, u.touched, u.busy = end, size, records, s.now(), complete
	dropped := s.uploads[k] != u
	s.mu.Unlock()
	if dropped {
		// DropStaging closed it while the bytes streamed in.
		os.Remove(u.path)
		return 0, fmt.Errorf("upload %s: dropped: %w", sha256, ErrNotFound)
	}
	if complete {
		return end, s.finishUpload(k, u)
	}
	if werr != nil {
		return end, fmt.Errorf("append to upload %s at %d: %w", sha256, offset, werr)
	}
	return end, nil
}

// sourceReader remembers the error its reader gave, to tell the sender's
// failures from the disk's.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// appendAt seals r's bytes onto u's part file, no further than u.length,
// and returns the offset reached, the file's size and its records. Bytes
// that did reach the file before r failed are kept; an r that goes past
// length is undone. The record that reaches length is sealed as the last.
// Call with u busy: its fields are the caller's until it returns.
func (s *BoltStorage) appendAt(u *upload, sum string, r io.Reader) (int64, int64, uint64, error) {
	f, err := os.OpenFile(u.path, os.O_WRONLY, 0)
	if err != nil {
		return u.offset, u.size, u.records, err
	}
	defer f.Close()
	// The file may be longer than its whole records after a write that
	// failed half way; what is past them was never counted, so it goes.
	if err := f.Truncate(u.size); err != nil {
		return u.offset, u.size, u.records, err
	}
	if _, err := f.Seek(u.size, io.SeekStart); err != nil {
		return u.offset, u.size, u.records, err
	}
	w := s.c.ResumeWriter(f, blobAD(sum), u.records)
	src := &sourceReader{r: io.LimitReader(r, u.length-u.offset+1)}
	n, err := io.Copy(w, src)
	if err == nil && u.offset+n > u.length {
		err, n = ErrTooLong, 0
	}
	// Bytes the sender gave before it failed are kept; after a failed
	// write nothing of this append is, since the writer may have counted
	// bytes that never reached the file whole.
	kept := n > 0 && (err == nil || err == src.err)
	if kept {
		var werr error
		if u.offset+n == u.length {
			werr = w.Close() // the record that reaches length is the last
		} else {
			werr = w.Flush()
		}
		if werr != nil {
			kept, err = false, errors.Join(err, werr)
		}
	}
	if !kept {
		return u.offset, u.size, u.records, errors.Join(err, f.Truncate(u.size))
	}
	size, serr := f.Seek(0, io.SeekCurrent)
	if serr != nil {
		return u.offset, u.size, u.records, errors.Join(err, serr, f.Truncate(u.size))
	}
	return u.offset + n, size, w.Records(), err
}

// finishUpload verifies the whole upload and holds it as a blob. An upload
// that cannot be held (its bytes are not the blob's, or cannot be read
// back or moved) is dropped, file first and then name, so that the next
// POST opens it afresh rather than finding it whole and never finished.
func (s *BoltStorage) finishUpload(k uploadKey, u *upload) error {
	sum := k.sha256
	drop := func(err error) error {
		os.Remove(u.path)
		s.mu.Lock()
		s.dropUpload(k, u)
		s.mu.Unlock()
		return err
	}
	f, err := os.Open(u.path)
	if err != nil {
		return drop(fmt.Errorf("verify upload %s: %w; dropped", sum, err))
	}
	h := sha256.New()
	_, err = io.Copy(h, s.openSealed(f, sum))
	f.Close()
	if err != nil {
		return drop(fmt.Errorf("verify upload %s: %w; dropped", sum, err))
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != sum {
		return drop(fmt.Errorf("upload of %d bytes has SHA-256 %s, not %s; dropped: %w", u.length, got, sum, ErrHashMismatch))
	}
	// Into tmp/ proper, so that the blob is staged exactly as PutBlob
	// stages one: a restart before SyncBlobs forgets it.
	held := filepath.Join(s.tmp, fmt.Sprintf("%s.upload-%d", sum, s.now().UnixNano()))
	if err := os.Rename(u.path, held); err != nil {
		return drop(fmt.Errorf("hold upload %s: %w; dropped", sum, err))
	}
	if f, err := os.Open(held); err == nil {
		startWriteback(f)
		f.Close()
	}
	// The upload's reservation passes to the staged blob: it stays charged
	// until stage counts the blob instead.
	s.mu.Lock()
	dropped := s.uploads[k] != u
	if !dropped {
		delete(s.uploads, k)
	}
	s.mu.Unlock()
	if dropped {
		// DropStaging closed it while it was verified.
		os.Remove(held)
		return fmt.Errorf("upload %s: dropped: %w", sum, ErrNotFound)
	}
	s.stage(k.owner, sum, held, u.length, u.length)
	return nil
}
