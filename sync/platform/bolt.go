package platform

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/seal"
	"yici/sync/wire"
)

// BoltStorage keeps metadata in one bbolt file and blobs as files named by
// their hash: the single-node backend, and the default.
//
// A blob is received into tmp/ and its write-back to disk is started at
// once; it is held from then on. SyncBlobs fsyncs it and renames it into
// blobs/, so the flush is paid in one batch at a commit, overlapped with
// the transfer of the next blobs. A crash forgets the blobs still in tmp/
// (OpenBolt clears it): a blob under blobs/ is always whole and durable.
//
// Blob files hold sealed streams (sync/seal; the stream's additional data
// is "blob/" and the hash): what a citizen handed in is never on the disk
// in the clear, and a damaged file fails to read rather than reads wrong.
//
// Every staged byte has an owner, the terminal that sent it, and counts
// against that terminal's quota (StagingLimits) until a commit syncs it or
// it is dropped: after StagedMaxAge unnamed, by DropStaging, or with its
// upload after UploadMaxAge untouched. A tidy pass drops what is too old,
// once a minute on a timer and at the first staging call after a minute.
//
// A resumable upload grows in tmp/uploads/<sha256>.<length>.<owner>.part
// (owner in unpadded base64url), a name that says all there is to know, so
// an upload outlives a restart: its offset is the plaintext in the file's
// whole records. Its bytes are not
// fsynced; a crash that loses or garbles some is cut off at the last whole
// record, and the hash check at the end catches the rest.
type BoltStorage struct {
	db      *bbolt.DB
	c       seal.Sealer // what names or describes a person is sealed at rest
	index   []byte      // HMAC key naming vault entries without their licence numbers
	blobs   string      // blobs/ab/abcdef…, fanned out by the first two hex digits
	tmp     string      // where blobs are written before they are renamed in place
	partial string      // tmp/uploads: the open uploads
	now     func() time.Time

	mu       sync.Mutex
	limits   StagingLimits
	staged   map[string]*stagedBlob // received into tmp, not yet synced
	uploads  map[uploadKey]*upload  // open resumable uploads by owner and hash
	held     map[string]int64       // owner → bytes counted against its quota
	lastTidy time.Time
	stop     chan struct{} // closed by Close: ends the tidy timer
	stopOnce sync.Once
	syncMu   sync.Mutex // one SyncBlobs at a time, so a blob is moved once
	// unsynced holds the directories that gained a name no fsync has yet
	// made durable; under syncMu. A SyncBlobs that failed half way leaves
	// them to the next, which must not answer for blobs it finds in place
	// before their names are durable.
	unsynced map[string]bool
}

type stagedBlob struct {
	path    string
	at      time.Time // the last time it was sent
	size    int64     // plaintext bytes, counted against each owner
	owners  map[string]bool
	syncing bool // a SyncBlobs is moving it: the tidy pass leaves it be
}

// tidyEvery is how often the tidy pass drops staged blobs and uploads past
// their age.
const tidyEvery = time.Minute

var (
	bucketCases     = []byte("cases")     // id → caseJSON
	bucketReceived  = []byte("received")  // 8-byte sequence → id, in order of receipt
	bucketTerminals = []byte("terminals") // name → Terminal JSON
	bucketTokens    = []byte("tokens")    // token hash → name
	bucketMeta      = []byte("meta")      // secret name → bytes
	bucketVault     = []byte("vault")     // applicant → bucket of refKey(ref) → sealed VaultEntry JSON
	bucketEvents    = []byte("events")    // id → eventJSON
	bucketCaseEv    = []byte("case_events")
	bucketCatalog   = []byte("catalog")         // 8-byte revision → compact JSON
	bucketSummaries = []byte("summaries")       // case id → sealed wire.CaseSummary JSON
	bucketHallRecv  = []byte("hall_received")   // hall, 0, 8-byte sequence → case id
	bucketApplicant = []byte("applicant_cases") // hall, 0, applicant key, 0, 8-byte sequence → case id

	metaApplicantSecret = []byte("applicant_secret")
	metaAppCodeKey      = []byte("appcode_key") // sealed Ed25519 seed
	metaKeyCheck        = []byte("keycheck")
)

// keyCheckText is sealed under the key when the storage is created;
// opening it proves a later key is the same one.
const keyCheckText = "yici platform key check"

// The values of cases, events and vault entries are sealed (AES-256-GCM,
// bucket and key as additional data): manifests name applicants, events
// may quote them, vault entries describe their papers. Bookkeeping stays
// readable.
type eventJSON struct {
	ReceivedAt time.Time `json:"received_at"`
	Event      []byte    `json:"event"` // sealed canonical JSON of wire.Event
}

type caseJSON struct {
	Seq        uint64    `json:"seq"`
	Hall       string    `json:"hall,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Manifest   []byte    `json:"manifest"` // sealed canonical JSON of wire.Manifest
}

// hallKey is the hall_received key of the case received seq-th in hall.
func hallKey(hall string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(hall), 0), seq)
}

// indexKey derives from the storage key the HMAC key of refKey.
func indexKey(key []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yici platform index v1"))
	return mac.Sum(nil)
}

// refKey names a vault entry in the bbolt file: a ref holds a licence
// number, which is the applicant's, so it is only inside the sealed value.
func (s *BoltStorage) refKey(ref string) []byte {
	mac := hmac.New(sha256.New, s.index)
	mac.Write([]byte(ref))
	return []byte(hex.EncodeToString(mac.Sum(nil)[:16]))
}

func recordAD(bucket []byte, key ...string) []byte {
	ad := append([]byte{}, bucket...)
	for _, k := range key {
		ad = append(append(ad, '/'), k...)
	}
	return ad
}

// AuditSealer returns the sealer of the audit log of the platform in dir:
// a key derived from dir/platform.key, so the log is readable with that
// file alone, without opening (and locking) the database.
func AuditSealer(dir string) (seal.Sealer, error) {
	path := filepath.Join(dir, "platform.key")
	if _, err := os.Stat(path); err != nil {
		return seal.Sealer{}, fmt.Errorf("audit key: %w", err)
	}
	key, err := seal.LoadOrCreateKey(path)
	if err != nil {
		return seal.Sealer{}, fmt.Errorf("audit key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yici platform audit v1"))
	return seal.New(mac.Sum(nil))
}

// OpenBolt opens or creates the storage in dir: dir/platform.db, dir/blobs/
// and the key all personal data is sealed under, dir/platform.key (made
// with the storage, readable only by its owner; keep it with the data).
// Blobs a crash left unsynced in tmp/ are removed; open resumable uploads
// are taken up again unless expired.
func OpenBolt(dir string) (*BoltStorage, error) {
	path, keyPath := filepath.Join(dir, "platform.db"), filepath.Join(dir, "platform.key")
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("open platform storage: %s is missing beside %s, so the data cannot be decrypted; restore the key file (or move a directory from a version that did not encrypt away)", keyPath, path)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open platform storage: %w", err)
	}
	key, err := seal.LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("open platform storage: %w", err)
	}
	c, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("open platform storage: %w", err)
	}
	tmp := filepath.Join(dir, "blobs", "tmp")
	s := &BoltStorage{c: c, index: indexKey(key), blobs: filepath.Join(dir, "blobs"), tmp: tmp, partial: filepath.Join(tmp, "uploads"),
		now: time.Now, limits: StagingLimits{}.withDefaults(), staged: map[string]*stagedBlob{}, uploads: map[uploadKey]*upload{},
		held: map[string]int64{}, unsynced: map[string]bool{}, stop: make(chan struct{})}
	// bbolt's file lock first: a second process (enrol while serving) must
	// fail before it touches the first one's staged blobs and uploads.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open platform storage %s: in use by another process (a running yici-platform serve? stop it first)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open platform storage %s: %w", path, err)
	}
	s.lastTidy = s.now() // no tidy pass while clearTmp finishes uploads
	if err := s.clearTmp(); err != nil {
		db.Close()
		return nil, err
	}
	// The first staging call tidies, by the limits then in force: expired
	// uploads taken up again go then.
	s.lastTidy = time.Time{}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketCases, bucketReceived, bucketTerminals, bucketTokens,
			bucketMeta, bucketVault, bucketEvents, bucketCaseEv, bucketCatalog, bucketSummaries, bucketHallRecv, bucketApplicant,
			bucketClerks, bucketSessions, bucketSignInMisses,
			bucketTickets, bucketWaiting, bucketCalls, bucketCurrent, bucketNumbers, bucketQueueSeq} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if check := meta.Get(metaKeyCheck); check != nil {
			if _, err := c.Open(check, metaKeyCheck); err != nil {
				return fmt.Errorf("%s does not open this storage (it was made with another key); restore the key file it was made with", keyPath)
			}
			return s.upgrade(tx)
		}
		sealed, err := c.Seal([]byte(keyCheckText), metaKeyCheck)
		if err != nil {
			return err
		}
		return meta.Put(metaKeyCheck, sealed)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open platform storage %s: %w", path, err)
	}
	s.db = db
	go s.tidyLoop()
	return s, nil
}

// Close closes the metadata file and stops the tidy timer.
func (s *BoltStorage) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.db.Close()
}

// SetStagingLimits implements Storage.
func (s *BoltStorage) SetStagingLimits(l StagingLimits) {
	s.mu.Lock()
	s.limits = l.withDefaults()
	s.mu.Unlock()
}

// tidyLoop runs the tidy pass every tidyEvery until Close, so that staging
// is dropped in time even when no request comes. It goes by the ticker's
// clock, not s.now: the two are the same outside tests.
func (s *BoltStorage) tidyLoop() {
	t := time.NewTicker(tidyEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			stale := s.tidy(now)
			s.mu.Unlock()
			removeAll(stale)
		}
	}
}

// maybeTidy runs the tidy pass if the last was tidyEvery ago, and returns
// the staged files to remove. Call with s.mu held.
func (s *BoltStorage) maybeTidy(now time.Time) []string {
	if now.Sub(s.lastTidy) < tidyEvery {
		return nil
	}
	return s.tidy(now)
}

// tidy drops the staged blobs unnamed for StagedMaxAge and the uploads
// untouched for UploadMaxAge, and returns the staged files to remove
// (outside s.mu; the uploads' files it removes itself). Call with s.mu
// held.
func (s *BoltStorage) tidy(now time.Time) []string {
	s.lastTidy = now
	var stale []string
	for h, b := range s.staged {
		if !b.syncing && now.Sub(b.at) > s.limits.StagedMaxAge {
			stale = append(stale, b.path)
			s.unstage(h, b)
		}
	}
	s.expireUploads(now)
	return stale
}

// unstage forgets the staged blob b of h and frees its owners' quota. Call
// with s.mu held.
func (s *BoltStorage) unstage(h string, b *stagedBlob) {
	for o := range b.owners {
		s.charge(o, -b.size)
	}
	clear(b.owners)
	if s.staged[h] == b {
		delete(s.staged, h)
	}
}

// charge adds n (which may be negative) to what counts against owner's
// quota. Call with s.mu held.
func (s *BoltStorage) charge(owner string, n int64) {
	if v := s.held[owner] + n; v > 0 {
		s.held[owner] = v
	} else {
		delete(s.held, owner)
	}
}

// reserve charges n more bytes to owner, or answers *QuotaError and
// charges nothing if that passes its quota; before is what the same
// request has charged already. Call with s.mu held.
func (s *BoltStorage) reserve(owner string, n, before int64, atLeast bool) error {
	if held := s.held[owner]; held+n > s.limits.MaxBytesPerTerminal {
		return &QuotaError{Owner: owner, Held: held - before, Want: before + n, AtLeast: atLeast, Limit: s.limits.MaxBytesPerTerminal}
	}
	s.charge(owner, n)
	return nil
}

// StagedBytes returns what counts against owner's quota now.
func (s *BoltStorage) StagedBytes(owner string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[owner]
}

// DropStaging implements Storage.
func (s *BoltStorage) DropStaging(_ context.Context, owner string) error {
	s.mu.Lock()
	var stale []string
	for h, b := range s.staged {
		if !b.owners[owner] {
			continue
		}
		delete(b.owners, owner)
		s.charge(owner, -b.size)
		if len(b.owners) == 0 && !b.syncing {
			stale = append(stale, b.path)
			delete(s.staged, h)
		}
	}
	for k, u := range s.uploads {
		if k.owner != owner {
			continue
		}
		// A busy upload's append finds it gone when it ends, and removes
		// the file then.
		if !u.busy {
			os.Remove(u.path)
		}
		s.dropUpload(k, u)
	}
	s.mu.Unlock()
	removeAll(stale)
	return nil
}

func removeAll(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

func (s *BoltStorage) blobPath(sha256 string) string {
	return filepath.Join(s.blobs, sha256[:2], sha256)
}

// HasBlob implements Storage.
func (s *BoltStorage) HasBlob(_ context.Context, sha256 string) (bool, error) {
	s.mu.Lock()
	_, staged := s.staged[sha256]
	s.mu.Unlock()
	if staged {
		return true, nil
	}
	_, err := os.Stat(s.blobPath(sha256))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// blobAD is the additional data a blob's sealed stream is bound to.
func blobAD(sha256 string) []byte { return []byte("blob/" + sha256) }

// PutBlob implements Storage: the bytes are sealed into a temporary file
// whose write-back starts at once; SyncBlobs finishes the job. They count
// against owner's quota as they arrive.
func (s *BoltStorage) PutBlob(_ context.Context, owner, sha256 string, r io.Reader) error {
	if err := checkOwner(owner); err != nil {
		return fmt.Errorf("store blob %s: %w", sha256, err)
	}
	if _, err := os.Stat(s.blobPath(sha256)); err == nil {
		// Durable already: read to the end, so a body that is not the blob
		// still fails, and keep nothing.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return fmt.Errorf("store blob %s: %w", sha256, err)
		}
		return nil
	}
	f, err := os.CreateTemp(s.tmp, sha256+".*")
	if err != nil {
		return fmt.Errorf("store blob %s: %w", sha256, err)
	}
	w := s.c.NewWriter(f, blobAD(sha256))
	q := &quotaReader{s: s, owner: owner, r: r}
	_, err = io.Copy(w, q)
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		startWriteback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		s.mu.Lock()
		s.charge(owner, -q.n)
		s.mu.Unlock()
		return fmt.Errorf("store blob %s: %w", sha256, err)
	}
	s.stage(owner, sha256, f.Name(), q.n, q.n)
	return nil
}

// quotaReader charges the bytes it reads to owner, and fails with
// *QuotaError rather than read past owner's quota. n is what it charged.
type quotaReader struct {
	s     *BoltStorage
	owner string
	r     io.Reader
	n     int64
}

func (q *quotaReader) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if n > 0 {
		q.s.mu.Lock()
		qerr := q.s.reserve(q.owner, int64(n), q.n, true)
		q.s.mu.Unlock()
		if qerr != nil {
			return 0, qerr
		}
		q.n += int64(n)
	}
	return n, err
}

// stage holds the whole, verified blob at path (in tmp/), size plaintext
// bytes, as sha256 for owner until SyncBlobs moves it in place; reserved is
// what is charged to owner for it already. A blob staged already keeps its
// file, which a SyncBlobs or OpenBlob may be using; the newcomer's goes,
// and owner is one more of its owners: held once, counted against each.
func (s *BoltStorage) stage(owner, sha256, path string, size, reserved int64) {
	now := s.now()
	s.mu.Lock()
	var stale []string
	b, dup := s.staged[sha256]
	if dup {
		stale = append(stale, path)
		b.at = now // sent again, so still wanted
	} else {
		b = &stagedBlob{path: path, at: now, size: size, owners: map[string]bool{}}
		s.staged[sha256] = b
	}
	if b.owners[owner] {
		s.charge(owner, -reserved)
	} else {
		b.owners[owner] = true
		s.charge(owner, b.size-reserved)
	}
	stale = append(stale, s.maybeTidy(now)...)
	s.mu.Unlock()
	removeAll(stale)
}

// SyncBlobs implements Storage: fsync the staged blobs, rename them into
// place, then fsync each directory that gained a name (in this call or in
// one that failed before). The fsyncs of one batch run in parallel, which
// lets the filesystem share journal commits among them: on ext4 that is a
// third of the time of one after another.
func (s *BoltStorage) SyncBlobs(_ context.Context, hashes []string) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	type move struct {
		hash string
		b    *stagedBlob
		path string
	}
	var moves []move
	// Marked syncing, the blobs are left be by the tidy pass and
	// DropStaging until this call is done with them.
	defer func() {
		s.mu.Lock()
		for _, m := range moves {
			m.b.syncing = false
		}
		s.mu.Unlock()
	}()
	for _, h := range hashes {
		s.mu.Lock()
		b, staged := s.staged[h]
		var path string
		if staged {
			b.syncing, path = true, b.path
		}
		s.mu.Unlock()
		if staged {
			if !slices.ContainsFunc(moves, func(m move) bool { return m.hash == h }) {
				moves = append(moves, move{h, b, path})
			}
			continue
		}
		if _, err := os.Stat(s.blobPath(h)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = ErrNotFound
			}
			return fmt.Errorf("sync blob %s: %w", h, err)
		}
	}
	if err := parallel(len(moves), func(i int) error { return seal.SyncFile(moves[i].path) }); err != nil {
		return fmt.Errorf("sync blobs: %w", err)
	}
	for _, m := range moves {
		dir := filepath.Dir(s.blobPath(m.hash))
		switch err := os.Mkdir(dir, 0o700); {
		case err == nil:
			// A new fan-out directory: its own name must outlast a crash.
			s.unsynced[s.blobs] = true
		case !errors.Is(err, fs.ErrExist):
			return fmt.Errorf("sync blob %s: %w", m.hash, err)
		}
		s.unsynced[dir] = true
		if err := os.Rename(m.path, s.blobPath(m.hash)); err != nil {
			return fmt.Errorf("sync blob %s: %w", m.hash, err)
		}
		s.mu.Lock()
		s.unstage(m.hash, m.b) // durable now: no owner's quota holds it
		s.mu.Unlock()
	}
	dirs := slices.Collect(maps.Keys(s.unsynced))
	if err := parallel(len(dirs), func(i int) error { return seal.SyncDir(dirs[i]) }); err != nil {
		return fmt.Errorf("sync blob directories: %w", err)
	}
	clear(s.unsynced)
	return nil
}

// parallel runs f(0) … f(n-1), at most 16 at a time, and returns the
// first error.
func parallel(n int, f func(i int) error) error {
	sem := make(chan struct{}, 16)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// OpenBlob implements Storage. The reader fails, rather than ends, where
// the file is damaged.
func (s *BoltStorage) OpenBlob(_ context.Context, sha256 string) (io.ReadCloser, error) {
	s.mu.Lock()
	b, staged := s.staged[sha256]
	s.mu.Unlock()
	if staged {
		if f, err := os.Open(b.path); err == nil {
			return s.openSealed(f, sha256), nil
		}
		// Synced and moved meanwhile: it is in place now.
	}
	f, err := os.Open(s.blobPath(sha256))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", sha256, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.openSealed(f, sha256), nil
}

type sealedFile struct {
	*seal.Reader
	io.Closer
}

func (s *BoltStorage) openSealed(f *os.File, sha256 string) io.ReadCloser {
	return sealedFile{s.c.NewReader(bufio.NewReaderSize(f, 128<<10), blobAD(sha256)), f}
}

// PutCase implements Storage.
func (s *BoltStorage) PutCase(_ context.Context, c Case) (bool, error) {
	stored := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		if v := cases.Get([]byte(c.Manifest.ID)); v != nil {
			old, err := s.decodeCase(c.Manifest.ID, v)
			if err != nil {
				return err
			}
			if !Equal(old.Manifest, c.Manifest) {
				return fmt.Errorf("case %s (held from terminal %q): %w", c.Manifest.ID, old.Manifest.Terminal, ErrConflict)
			}
			return nil
		}
		rec := tx.Bucket(bucketReceived)
		seq, err := rec.NextSequence()
		if err != nil {
			return err
		}
		sealed, err := s.c.Seal(canonical(c.Manifest), recordAD(bucketCases, c.Manifest.ID))
		if err != nil {
			return err
		}
		v, err := json.Marshal(caseJSON{Seq: seq, Hall: c.Hall, ReceivedAt: c.ReceivedAt, Manifest: sealed})
		if err != nil {
			return err
		}
		if err := rec.Put(binary.BigEndian.AppendUint64(nil, seq), []byte(c.Manifest.ID)); err != nil {
			return err
		}
		if err := s.putSummary(tx, c, seq); err != nil {
			return err
		}
		stored = true
		return cases.Put([]byte(c.Manifest.ID), v)
	})
	return stored, err
}

func (s *BoltStorage) decodeCase(id string, v []byte) (Case, error) {
	var cj caseJSON
	var c Case
	if err := json.Unmarshal(v, &cj); err != nil {
		return c, fmt.Errorf("decode stored case %s: %w", id, err)
	}
	plain, err := s.c.Open(cj.Manifest, recordAD(bucketCases, id))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(plain, &c.Manifest); err != nil {
		return c, fmt.Errorf("decode stored manifest %s: %w", id, err)
	}
	c.ReceivedAt, c.Hall = cj.ReceivedAt, cj.Hall
	return c, nil
}

// putSummary stores the list line of c, received seq-th, and indexes it
// under its hall.
func (s *BoltStorage) putSummary(tx *bbolt.Tx, c Case, seq uint64) error {
	plain, err := json.Marshal(Summary(c))
	if err != nil {
		return err
	}
	sealed, err := s.c.Seal(plain, recordAD(bucketSummaries, c.Manifest.ID))
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketHallRecv).Put(hallKey(c.Hall, seq), []byte(c.Manifest.ID)); err != nil {
		return err
	}
	if c.Applicant != "" {
		if err := tx.Bucket(bucketApplicant).Put(hallKey(c.Hall+"\x00"+c.Applicant, seq), []byte(c.Manifest.ID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketSummaries).Put([]byte(c.Manifest.ID), sealed)
}

// upgrade brings a storage made by an earlier version up to this one, in
// the transaction that opens it: cases get their hall (their terminal's)
// and a stored summary; the applicant secret is sealed. Each step is a
// no-op once done, so it costs a lookup per open.
func (s *BoltStorage) upgrade(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(metaApplicantSecret); len(v) == applicantSecretLen {
		sealed, err := s.c.Seal(v, metaApplicantSecret)
		if err != nil {
			return err
		}
		if err := meta.Put(metaApplicantSecret, sealed); err != nil {
			return err
		}
	}
	cases, sums := tx.Bucket(bucketCases), tx.Bucket(bucketSummaries)
	if cases.Stats().KeyN == sums.Stats().KeyN {
		return nil
	}
	terms := tx.Bucket(bucketTerminals)
	return cases.ForEach(func(k, v []byte) error {
		if sums.Get(k) != nil {
			return nil
		}
		c, err := s.decodeCase(string(k), v)
		if err != nil {
			return err
		}
		var cj caseJSON
		if err := json.Unmarshal(v, &cj); err != nil {
			return err
		}
		var t Terminal
		if tv := terms.Get([]byte(c.Manifest.Terminal)); tv != nil {
			if err := json.Unmarshal(tv, &t); err != nil {
				return err
			}
		}
		c.Hall, cj.Hall = t.Hall, t.Hall
		nv, err := json.Marshal(cj)
		if err != nil {
			return err
		}
		if err := cases.Put(k, nv); err != nil {
			return err
		}
		return s.putSummary(tx, c, cj.Seq)
	})
}

// GetCase implements Storage.
func (s *BoltStorage) GetCase(_ context.Context, id string) (Case, error) {
	var c Case
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCases).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("case %s: %w", id, ErrNotFound)
		}
		var err error
		c, err = s.decodeCase(id, v)
		return err
	})
	return c, err
}

// ListCases implements Storage.
func (s *BoltStorage) ListCases(_ context.Context, hall string, limit int) ([]wire.CaseSummary, error) {
	return s.summaries(bucketHallRecv, hall, limit)
}

// CasesOf implements Storage.
func (s *BoltStorage) CasesOf(_ context.Context, hall, applicant string, limit int) ([]wire.CaseSummary, error) {
	return s.summaries(bucketApplicant, hall+"\x00"+applicant, limit)
}

// summaries returns up to limit case summaries of the index bucket under
// prefix, newest first.
func (s *BoltStorage) summaries(bucket []byte, prefix string, limit int) ([]wire.CaseSummary, error) {
	out := []wire.CaseSummary{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		sums := tx.Bucket(bucketSummaries)
		p := append([]byte(prefix), 0)
		cur := tx.Bucket(bucket).Cursor()
		// The last key of the prefix: seek past it, then step back.
		k, id := cur.Seek(append(append([]byte{}, p...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if k == nil {
			k, id = cur.Last()
		} else {
			k, id = cur.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p) && len(k) == len(p)+8 && len(out) < limit; k, id = cur.Prev() {
			plain, err := s.c.Open(sums.Get(id), recordAD(bucketSummaries, string(id)))
			if err != nil {
				return fmt.Errorf("case summary %s: %w", id, err)
			}
			var cs wire.CaseSummary
			if err := json.Unmarshal(plain, &cs); err != nil {
				return fmt.Errorf("decode case summary %s: %w", id, err)
			}
			out = append(out, cs)
		}
		return nil
	})
	return out, err
}

// AddTerminal implements Storage.
func (s *BoltStorage) AddTerminal(_ context.Context, t Terminal) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		terms, tokens := tx.Bucket(bucketTerminals), tx.Bucket(bucketTokens)
		if v := terms.Get([]byte(t.Name)); v != nil {
			var old Terminal
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("decode terminal %s: %w", t.Name, err)
			}
			if !old.Revoked {
				return fmt.Errorf("terminal %s (hall %s): %w; revoke it first", t.Name, old.Hall, ErrExists)
			}
			for _, h := range []string{old.TokenHash, old.PrevTokenHash} {
				if err := tokens.Delete([]byte(h)); err != nil {
					return err
				}
			}
		}
		v, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if err := tokens.Put([]byte(t.TokenHash), []byte(t.Name)); err != nil {
			return err
		}
		return terms.Put([]byte(t.Name), v)
	})
}

// RevokeTerminal implements Storage.
func (s *BoltStorage) RevokeTerminal(_ context.Context, name string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		terms := tx.Bucket(bucketTerminals)
		v := terms.Get([]byte(name))
		if v == nil {
			return fmt.Errorf("terminal %s: %w", name, ErrNotFound)
		}
		var t Terminal
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode terminal %s: %w", name, err)
		}
		t.Revoked = true
		v, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return terms.Put([]byte(name), v)
	})
}

// TerminalByToken implements Storage.
func (s *BoltStorage) TerminalByToken(_ context.Context, tokenHash string) (Terminal, error) {
	var t Terminal
	err := s.db.View(func(tx *bbolt.Tx) error {
		name := tx.Bucket(bucketTokens).Get([]byte(tokenHash))
		if name == nil {
			return ErrNotFound
		}
		v := tx.Bucket(bucketTerminals).Get(name)
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &t)
	})
	return t, err
}

// UpdateTerminal implements Storage.
func (s *BoltStorage) UpdateTerminal(_ context.Context, t Terminal) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		terms, tokens := tx.Bucket(bucketTerminals), tx.Bucket(bucketTokens)
		v := terms.Get([]byte(t.Name))
		if v == nil {
			return fmt.Errorf("terminal %s: %w", t.Name, ErrNotFound)
		}
		var old Terminal
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("decode terminal %s: %w", t.Name, err)
		}
		for _, h := range []string{old.TokenHash, old.PrevTokenHash} {
			if h != "" && h != t.TokenHash && h != t.PrevTokenHash {
				if err := tokens.Delete([]byte(h)); err != nil {
					return err
				}
			}
		}
		for _, h := range []string{t.TokenHash, t.PrevTokenHash} {
			if h != "" {
				if err := tokens.Put([]byte(h), []byte(t.Name)); err != nil {
					return err
				}
			}
		}
		nv, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return terms.Put([]byte(t.Name), nv)
	})
}

// Terminals implements Storage.
func (s *BoltStorage) Terminals(_ context.Context) ([]Terminal, error) {
	var out []Terminal
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTerminals).ForEach(func(k, v []byte) error {
			var t Terminal
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode terminal %s: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// applicantSecretLen is the size of the applicant secret; a value of
// exactly that size in the meta bucket is one an earlier version kept
// unsealed, which upgrade seals.
const applicantSecretLen = 32

// ApplicantSecret implements Storage. The secret is sealed under the
// storage key: with it, anyone holding the database could map ID numbers
// to vault keys.
func (s *BoltStorage) ApplicantSecret(_ context.Context) ([]byte, error) {
	var secret []byte
	err := s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaApplicantSecret); v != nil {
			var err error
			secret, err = s.c.Open(v, metaApplicantSecret)
			return err
		}
		secret = make([]byte, applicantSecretLen)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		sealed, err := s.c.Seal(secret, metaApplicantSecret)
		if err != nil {
			return err
		}
		return meta.Put(metaApplicantSecret, sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("applicant secret: %w", err)
	}
	return secret, nil
}

// AppCodeKey implements Storage. The key's seed is sealed under the
// storage key, as the applicant secret is: with it, anyone could sign app
// codes every kiosk accepts as a person.
func (s *BoltStorage) AppCodeKey(_ context.Context) (ed25519.PrivateKey, error) {
	var seed []byte
	err := s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaAppCodeKey); v != nil {
			var err error
			if seed, err = s.c.Open(v, metaAppCodeKey); err != nil {
				return err
			}
			if len(seed) != ed25519.SeedSize {
				return fmt.Errorf("stored seed of %d bytes, want %d", len(seed), ed25519.SeedSize)
			}
			return nil
		}
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
		sealed, err := s.c.Seal(seed, metaAppCodeKey)
		if err != nil {
			return err
		}
		return meta.Put(metaAppCodeKey, sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("app code signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PutVaultEntries implements Storage.
func (s *BoltStorage) PutVaultEntries(_ context.Context, applicant string, entries []wire.VaultEntry) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.Bucket(bucketVault).CreateBucketIfNotExists([]byte(applicant))
		if err != nil {
			return fmt.Errorf("vault of %s: %w", applicant, err)
		}
		for _, e := range entries {
			plain, err := json.Marshal(e)
			if err != nil {
				return err
			}
			k := s.refKey(e.Ref)
			v, err := s.c.Seal(plain, recordAD(bucketVault, applicant, string(k)))
			if err != nil {
				return err
			}
			if err := b.Put(k, v); err != nil {
				return fmt.Errorf("vault entry %s of %s: %w", k, applicant, err) // k, not the ref: a licence number carries an ID number
			}
		}
		return nil
	})
}

// VaultEntries implements Storage.
func (s *BoltStorage) VaultEntries(_ context.Context, applicant string) ([]wire.VaultEntry, error) {
	out := []wire.VaultEntry{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVault).Bucket([]byte(applicant))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e wire.VaultEntry
			plain, err := s.c.Open(v, recordAD(bucketVault, applicant, string(k)))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(plain, &e); err != nil {
				return fmt.Errorf("decode vault entry %s of %s: %w", k, applicant, err)
			}
			out = append(out, e)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b wire.VaultEntry) int { return strings.Compare(a.Ref, b.Ref) })
	return out, err
}

// PutEvent implements Storage.
func (s *BoltStorage) PutEvent(_ context.Context, e wire.Event, receivedAt time.Time) (bool, error) {
	stored := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		if v := events.Get([]byte(e.ID)); v != nil {
			old, err := s.decodeEvent(e.ID, v)
			if err != nil {
				return err
			}
			if !EqualEvent(old, e) {
				return fmt.Errorf("event %s (held from terminal %q): %w", e.ID, old.Terminal, ErrConflict)
			}
			return nil
		}
		sealed, err := s.c.Seal(canonicalEvent(e), recordAD(bucketEvents, e.ID))
		if err != nil {
			return err
		}
		v, err := json.Marshal(eventJSON{ReceivedAt: receivedAt, Event: sealed})
		if err != nil {
			return err
		}
		if e.Case != "" {
			idx := tx.Bucket(bucketCaseEv)
			seq, err := idx.NextSequence()
			if err != nil {
				return err
			}
			k := binary.BigEndian.AppendUint64(append([]byte(e.Case), 0), seq)
			if err := idx.Put(k, []byte(e.ID)); err != nil {
				return err
			}
		}
		stored = true
		return events.Put([]byte(e.ID), v)
	})
	return stored, err
}

func (s *BoltStorage) decodeEvent(id string, v []byte) (wire.Event, error) {
	var ej eventJSON
	var e wire.Event
	if err := json.Unmarshal(v, &ej); err != nil {
		return e, fmt.Errorf("decode stored event %s: %w", id, err)
	}
	plain, err := s.c.Open(ej.Event, recordAD(bucketEvents, id))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(plain, &e); err != nil {
		return e, fmt.Errorf("decode stored event %s: %w", id, err)
	}
	return e, nil
}

// CaseEvents implements Storage.
func (s *BoltStorage) CaseEvents(_ context.Context, caseID string) ([]wire.Event, error) {
	out := []wire.Event{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		prefix := append([]byte(caseID), 0)
		c := tx.Bucket(bucketCaseEv).Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			e, err := s.decodeEvent(string(id), events.Get(id))
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// PutCatalog implements Storage.
func (s *BoltStorage) PutCatalog(_ context.Context, rev int, doc []byte) (bool, error) {
	stored := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCatalog)
		key := binary.BigEndian.AppendUint64(nil, uint64(rev))
		if v := b.Get(key); v != nil {
			if !bytes.Equal(v, doc) {
				return fmt.Errorf("catalogue revision %d is held with other content: %w", rev, ErrConflict)
			}
			return nil
		}
		if k, _ := b.Cursor().Last(); k != nil && binary.BigEndian.Uint64(k) > uint64(rev) {
			return fmt.Errorf("catalogue revision %d is not above the latest, %d: %w", rev, binary.BigEndian.Uint64(k), ErrConflict)
		}
		stored = true
		return b.Put(key, doc)
	})
	return stored, err
}

// LatestCatalog implements Storage.
func (s *BoltStorage) LatestCatalog(_ context.Context) (int, error) {
	rev := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketCatalog).Cursor().Last(); k != nil {
			rev = int(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	return rev, err
}

// GetCatalog implements Storage.
func (s *BoltStorage) GetCatalog(_ context.Context, rev int) ([]byte, error) {
	var doc []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCatalog).Get(binary.BigEndian.AppendUint64(nil, uint64(rev)))
		if v == nil {
			return fmt.Errorf("catalogue revision %d: %w", rev, ErrNotFound)
		}
		doc = append([]byte{}, v...)
		return nil
	})
	return doc, err
}
