package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// indexKey derives from the store key the HMAC key that names records by
// personal data (the vault cache by ID number) without writing the data.
func indexKey(key []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("yici store index v1"))
	return mac.Sum(nil)
}

func (s *Store) applicantIndex(idNumber string) string {
	mac := hmac.New(sha256.New, s.index)
	mac.Write([]byte(idNumber))
	return hex.EncodeToString(mac.Sum(nil))
}

// vaultRecord is a cached vault answer and when it was fetched.
type vaultRecord struct {
	Fetched time.Time        `json:"fetched"`
	Answer  wire.VaultAnswer `json:"answer"`
}

// PutVault caches the platform's vault answer for idNumber, fetched now,
// replacing an older one. It is sealed, and keyed by an HMAC of the number.
func (s *Store) PutVault(idNumber string, a wire.VaultAnswer) error {
	key := s.applicantIndex(idNumber)
	plain, err := json.Marshal(vaultRecord{Fetched: time.Now(), Answer: a})
	if err != nil {
		return err
	}
	sealed, err := s.c.Seal(plain, recordAD(bucketVault, key))
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketVault).Put([]byte(key), sealed) })
	if err != nil {
		return fmt.Errorf("cache vault answer: %w", err)
	}
	return nil
}

// Vault returns the cached vault answer for idNumber and when it was
// fetched, for use offline (D5); an error wrapping ErrNotFound when none is
// cached.
func (s *Store) Vault(idNumber string) (wire.VaultAnswer, time.Time, error) {
	key := s.applicantIndex(idNumber)
	var rec vaultRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketVault).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("vault answer: %w", ErrNotFound)
		}
		plain, err := s.c.Open(v, recordAD(bucketVault, key))
		if err != nil {
			return err
		}
		return json.Unmarshal(plain, &rec)
	})
	return rec.Answer, rec.Fetched, err
}

// PurgeVault removes cached vault answers fetched maxAge or longer before
// now, and returns how many: an answer that old is no longer worth showing,
// and it is personal data (S19).
func (s *Store) PurgeVault(now time.Time, maxAge time.Duration) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVault)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			plain, err := s.c.Open(v, recordAD(bucketVault, string(k)))
			if err != nil {
				return err
			}
			var rec vaultRecord
			if err := json.Unmarshal(plain, &rec); err != nil {
				return fmt.Errorf("decode cached vault answer: %w", err)
			}
			if !now.Before(rec.Fetched.Add(maxAge)) {
				old = append(old, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge vault cache: %w", err)
	}
	return n, nil
}

var catalogLatest = []byte("latest")

type catalogRecord struct {
	Revision int             `json:"revision"`
	Fetched  time.Time       `json:"fetched"`
	Doc      json.RawMessage `json:"doc"`
}

// PutCatalog caches doc, a catalogue document from the platform, unless
// the cache holds a newer revision; it returns the revision doc has. The
// catalogue is public, so it is kept in the clear.
func (s *Store) PutCatalog(doc []byte) (int, error) {
	rev, err := wire.CatalogRevision(doc)
	if err != nil {
		return 0, fmt.Errorf("cache catalogue: %w", err)
	}
	v, err := json.Marshal(catalogRecord{Revision: rev, Fetched: time.Now(), Doc: doc})
	if err != nil {
		return 0, fmt.Errorf("cache catalogue revision %d: %w", rev, err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCatalog)
		if old := b.Get(catalogLatest); old != nil {
			var rec catalogRecord
			if err := json.Unmarshal(old, &rec); err == nil && rec.Revision > rev {
				return nil
			}
		}
		return b.Put(catalogLatest, v)
	})
	if err != nil {
		return 0, fmt.Errorf("cache catalogue revision %d: %w", rev, err)
	}
	return rev, nil
}

// Catalog returns the cached catalogue document, its revision and when it
// was fetched; an error wrapping ErrNotFound when none is cached.
func (s *Store) Catalog() (doc []byte, rev int, fetched time.Time, err error) {
	var rec catalogRecord
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCatalog).Get(catalogLatest)
		if v == nil {
			return fmt.Errorf("catalogue: %w", ErrNotFound)
		}
		return json.Unmarshal(v, &rec)
	})
	return rec.Doc, rec.Revision, rec.Fetched, err
}
