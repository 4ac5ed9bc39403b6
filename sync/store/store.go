// Package store is the appliance's local store: one bbolt file holding the
// case drafts, the outbox the uploader works and a small event log (D3,
// D5), and beside it pack files holding the captured materials (blobs; see
// pack.go).
//
// Every captured material is on the disk, encrypted, and committed in the
// same transaction as the outbox entry that will send it, before anything
// else happens to it. Personal data (the case manifest with the applicant's name
// and ID number) and blob bytes are sealed with AES-256-GCM; the key lives in
// a key file beside the configuration, never in the database (S19).
//
// IMPORTANT: bbolt lets one process hold the file; a second Open waits one
// second and then fails. The file never shrinks by itself: Compact it.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/seal"
)

// KeySize is the length of the store key in bytes (AES-256).
const KeySize = seal.KeySize

var (
	// ErrDiskFull is wrapped by a Capture refused for lack of disk space.
	ErrDiskFull = errors.New("disk full")
	// ErrWrongKey is wrapped when the key does not open the store.
	ErrWrongKey = errors.New("wrong store key")
	// ErrNotFound is wrapped when a case or blob is not in the store.
	ErrNotFound = errors.New("not found")
)

// Bucket names. The meta bucket holds the schema version and the key check
// value; the others are created by migration 1.
var (
	bucketMeta     = []byte("meta")
	bucketCases    = []byte("cases")
	bucketBlobs    = []byte("blobs")
	bucketOutbox   = []byte("outbox")
	bucketEvents   = []byte("events")
	bucketSettings = []byte("settings")
	bucketVault    = []byte("vault")      // applicant index → sealed cached VaultAnswer
	bucketCatalog  = []byte("catalog")    // "latest" → cached catalogue document
	bucketOutEv    = []byte("out_events") // event id → sealed outgoing event record
	bucketTickets  = []byte("tickets")    // tickets issued offline, and the band's count (tickets.go)

	metaSchema   = []byte("schema")
	metaKeyCheck = []byte("keycheck")
)

// keyCheckText is sealed under the key when the store is created; opening
// it proves a later key is the same one.
const keyCheckText = "yici store key check"

// migrations bring a store from schema version i to i+1 (index i). Append
// only: a released store's version counts the ones already applied.
var migrations = []func(s *Store, tx *bbolt.Tx) error{
	func(_ *Store, tx *bbolt.Tx) error { // 1: the initial buckets
		for _, b := range [][]byte{bucketCases, bucketBlobs, bucketOutbox, bucketEvents, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	func(_ *Store, tx *bbolt.Tx) error { // 2: vault and catalogue caches, outgoing events
		for _, b := range [][]byte{bucketVault, bucketCatalog, bucketOutEv} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 3: sealed blobs move out of the bbolt file into packs, sealed anew
	// for their place. The pack bytes are on the disk before this
	// transaction commits; if it does not, tidy punches them out.
	func(s *Store, tx *bbolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs)
		var keys [][]byte
		var locs []blobLoc
		err := blobs.ForEach(func(k, v []byte) error {
			plain, err := s.c.Open(v, recordAD(bucketBlobs, string(k)))
			if err != nil {
				return err
			}
			loc, err := s.packs.reserve(s.c.SealedLen(len(plain)))
			if err != nil {
				return err
			}
			keys, locs = append(keys, k), append(locs, loc)
			// Live from now on: tidy has not counted yet, and a pack
			// that fills must not be deleted as empty when the next
			// page rolls over to a new one.
			s.packs.added(loc)
			return s.writePacked(loc, plain)
		})
		if err != nil {
			// A failed Open must not leave bytes that only the next
			// successful one would punch out.
			s.packs.release(locs)
			return err
		}
		for i, k := range keys {
			if err := blobs.Put(k, s.locValue(string(k), locs[i])); err != nil {
				return err
			}
		}
		return nil
	},
	func(_ *Store, tx *bbolt.Tx) error { // 4: tickets issued offline
		_, err := tx.CreateBucketIfNotExists(bucketTickets)
		return err
	},
}

// Store is an open local store. Its methods are safe for concurrent use.
type Store struct {
	db    *bbolt.DB
	packs *packs
	c     seal.Sealer
	index []byte // HMAC key naming personal records without their content
	path  string // of the bbolt file
	dir   string // where the file lives, for the free-space check

	// writeMu serialises appends to the packs with the transactions that
	// claim them, so that at a crash only the last blob appended can be
	// missing from the disk (see recoverLast).
	writeMu sync.Mutex
	sealBuf []byte // under writeMu
	// lost is a page whose write failed and whose capture could not be
	// taken back then (a full disk fails both); under writeMu. No capture
	// or submit goes ahead until it is, so it stays the last appended,
	// which is the one recoverLast checks after a restart.
	lost string
}

// Open opens or creates the store at path, sealed under key (KeySize bytes).
// A key other than the one the store was created with fails with an error
// wrapping ErrWrongKey; nothing is changed then.
func Open(path string, key []byte) (*Store, error) {
	c, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	p, err := openPacks(packDir(path))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, packs: p, c: c, index: indexKey(key), path: path, dir: filepath.Dir(path)}
	if err := db.Update(s.prepare); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.recoverLast(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// prepare checks the key and brings the schema up to date, in one
// transaction so that a wrong key changes nothing.
func (s *Store) prepare(tx *bbolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if check := meta.Get(metaKeyCheck); check != nil {
		if _, err := s.c.Open(check, metaKeyCheck); err != nil {
			return fmt.Errorf("%w: the key does not open this store, so its %d stored materials cannot be decrypted; restore the key file it was created with",
				ErrWrongKey, countKeys(tx, bucketBlobs))
		}
	} else {
		sealed, err := s.c.Seal([]byte(keyCheckText), metaKeyCheck)
		if err != nil {
			return err
		}
		if err := meta.Put(metaKeyCheck, sealed); err != nil {
			return err
		}
	}
	var version uint64
	if v := meta.Get(metaSchema); v != nil {
		version = binary.BigEndian.Uint64(v)
	}
	if version > uint64(len(migrations)) {
		return fmt.Errorf("store schema version %d is newer than this program knows (%d); run a newer yici", version, len(migrations))
	}
	for i := version; i < uint64(len(migrations)); i++ {
		if err := migrations[i](s, tx); err != nil {
			return fmt.Errorf("migrate store schema to version %d: %w", i+1, err)
		}
	}
	return meta.Put(metaSchema, binary.BigEndian.AppendUint64(nil, uint64(len(migrations))))
}

func countKeys(tx *bbolt.Tx, bucket []byte) int {
	b := tx.Bucket(bucket)
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

// Close closes the store.
// A capture under way finishes first: its pack write must not meet a
// closed file.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return errors.Join(s.db.Close(), s.packs.close())
}

// LoadOrCreateKey reads the key file at path, or creates it (mode 0600)
// with a fresh random key when it does not exist. Use OpenWithKeyFile where a
// store may already exist: a key made afresh for it would fail with
// ErrWrongKey, and OpenWithKeyFile says more plainly what is wrong.
func LoadOrCreateKey(path string) ([]byte, error) { return seal.LoadOrCreateKey(path) }

// OpenWithKeyFile opens the store at dbPath with the key in keyPath. The key
// file is created only when the store holds nothing yet: a missing key file
// beside a store with data is an error, never a silent re-keying.
func OpenWithKeyFile(dbPath, keyPath string) (*Store, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		materials, cases, err := countStored(dbPath)
		if err != nil {
			return nil, err
		}
		if materials+cases > 0 {
			return nil, fmt.Errorf("key file %s missing: the %d stored materials (%d cases) in %s cannot be decrypted; restore the key",
				keyPath, materials, cases, dbPath)
		}
	}
	key, err := LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	return Open(dbPath, key)
}

// countStored counts blobs and cases in the store at path without a key; a
// store that does not exist holds nothing.
func countStored(path string) (materials, cases int, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("open store %s to count its contents: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		materials, cases = countKeys(tx, bucketBlobs), countKeys(tx, bucketCases)
		return nil
	})
	return materials, cases, err
}

// Compact writes a compacted copy of the store to dst, which must not exist,
// with a copy of its packs beside it: a copy hall IT can carry away, sealed
// under the same key. To shrink the store itself, use CompactFile.
func (s *Store) Compact(dst string) error { return s.compact(dst, true) }

// CompactFile shrinks the bbolt file of the store at path, which must not
// be open anywhere (bbolt files never shrink on their own after cases are
// purged; packs do). It writes a compacted copy beside it and renames it
// over the file, so a crash leaves the old file or the new one, and
// returns the file's size before and after. The packs are left as they
// are: the copy names the same places in them.
func CompactFile(path string, key []byte) (before, after int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact store: %w", err)
	}
	s, err := Open(path, key)
	if err != nil {
		return 0, 0, err
	}
	tmp := path + ".compact"
	os.Remove(tmp) // left by an earlier compaction that crashed
	err = s.compact(tmp, false)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = seal.SyncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = seal.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact store %s: %w", path, err)
	}
	nst, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	return st.Size(), nst.Size(), nil
}

func (s *Store) compact(dst string, withPacks bool) error {
	for _, p := range []string{dst, packDir(dst)} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("compact store to %s: %s exists", dst, p)
		}
	}
	out, err := bbolt.Open(dst, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("compact store to %s: %w", dst, err)
	}
	// An empty write transaction holds off every change while the two
	// copies are made, so the copied packs hold every blob the copied
	// file names. (A capture may append to a pack meanwhile: the copy's
	// first open punches that out.)
	err = s.db.Update(func(*bbolt.Tx) error {
		err := bbolt.Compact(out, s.db, 64<<20)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err == nil && withPacks {
			err = s.packs.copyTo(packDir(dst))
		}
		return err
	})
	if err != nil {
		os.Remove(dst)
		if withPacks {
			os.RemoveAll(packDir(dst))
		}
		return fmt.Errorf("compact store to %s: %w", dst, err)
	}
	return nil
}

// recordAD is the additional data binding a sealed value to where it lives.
func recordAD(bucket []byte, key string) []byte {
	return append(append(append([]byte{}, bucket...), '/'), key...)
}
