package platform

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
)

// BoltStorage keeps metadata in one bbolt file and blobs as files named by
// their hash: the single-node backend, and the default.
type BoltStorage struct {
	db    *bbolt.DB
	blobs string // blobs/ab/abcdef…, fanned out by the first two hex digits
	tmp   string // where blobs are written before they are renamed in place
}

var (
	bucketCases     = []byte("cases")     // id → caseJSON
	bucketReceived  = []byte("received")  // 8-byte sequence → id, in order of receipt
	bucketTerminals = []byte("terminals") // name → Terminal JSON
	bucketTokens    = []byte("tokens")    // token hash → name
)

type caseJSON struct {
	Seq        uint64          `json:"seq"`
	ReceivedAt time.Time       `json:"received_at"`
	Manifest   json.RawMessage `json:"manifest"`
}

// OpenBolt opens or creates the storage in dir: dir/platform.db and
// dir/blobs/. Temporary files a crash left behind are removed.
func OpenBolt(dir string) (*BoltStorage, error) {
	s := &BoltStorage{blobs: filepath.Join(dir, "blobs"), tmp: filepath.Join(dir, "blobs", "tmp")}
	if err := os.RemoveAll(s.tmp); err != nil {
		return nil, fmt.Errorf("clear %s: %w", s.tmp, err)
	}
	if err := os.MkdirAll(s.tmp, 0o700); err != nil {
		return nil, fmt.Errorf("open platform storage: %w", err)
	}
	path := filepath.Join(dir, "platform.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open platform storage %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketCases, bucketReceived, bucketTerminals, bucketTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open platform storage %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

// Close closes the metadata file.
func (s *BoltStorage) Close() error { return s.db.Close() }

func (s *BoltStorage) blobPath(sha256 string) string {
	return filepath.Join(s.blobs, sha256[:2], sha256)
}

// HasBlob implements Storage.
func (s *BoltStorage) HasBlob(_ context.Context, sha256 string) (bool, error) {
	_, err := os.Stat(s.blobPath(sha256))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// PutBlob implements Storage: temp file, fsync, rename, fsync the
// directory, so a blob is either whole under its name or absent.
func (s *BoltStorage) PutBlob(_ context.Context, sha256 string, r io.Reader) error {
	f, err := os.CreateTemp(s.tmp, sha256+".*")
	if err != nil {
		return fmt.Errorf("store blob %s: %w", sha256, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	dir := filepath.Dir(s.blobPath(sha256))
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err == nil {
		err = os.Rename(f.Name(), s.blobPath(sha256))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("store blob %s: %w", sha256, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// OpenBlob implements Storage.
func (s *BoltStorage) OpenBlob(_ context.Context, sha256 string) (io.ReadCloser, error) {
	f, err := os.Open(s.blobPath(sha256))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", sha256, ErrNotFound)
	}
	return f, err
}

// PutCase implements Storage.
func (s *BoltStorage) PutCase(_ context.Context, c Case) (bool, error) {
	stored := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		if v := cases.Get([]byte(c.Manifest.ID)); v != nil {
			old, err := decodeCase(v)
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
		v, err := json.Marshal(caseJSON{Seq: seq, ReceivedAt: c.ReceivedAt, Manifest: canonical(c.Manifest)})
		if err != nil {
			return err
		}
		if err := rec.Put(binary.BigEndian.AppendUint64(nil, seq), []byte(c.Manifest.ID)); err != nil {
			return err
		}
		stored = true
		return cases.Put([]byte(c.Manifest.ID), v)
	})
	return stored, err
}

func decodeCase(v []byte) (Case, error) {
	var cj caseJSON
	var c Case
	if err := json.Unmarshal(v, &cj); err != nil {
		return c, fmt.Errorf("decode stored case: %w", err)
	}
	if err := json.Unmarshal(cj.Manifest, &c.Manifest); err != nil {
		return c, fmt.Errorf("decode stored manifest: %w", err)
	}
	c.ReceivedAt = cj.ReceivedAt
	return c, nil
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
		c, err = decodeCase(v)
		return err
	})
	return c, err
}

// ListCases implements Storage.
func (s *BoltStorage) ListCases(_ context.Context, limit int) ([]Case, error) {
	var out []Case
	err := s.db.View(func(tx *bbolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		cur := tx.Bucket(bucketReceived).Cursor()
		for k, id := cur.Last(); k != nil && len(out) < limit; k, id = cur.Prev() {
			c, err := decodeCase(cases.Get(id))
			if err != nil {
				return err
			}
			out = append(out, c)
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
			if err := tokens.Delete([]byte(old.TokenHash)); err != nil {
				return err
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
