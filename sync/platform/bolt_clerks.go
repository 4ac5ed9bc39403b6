package platform

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

var (
	bucketClerks       = []byte("clerks")        // staff number → sealed Clerk JSON
	bucketSessions     = []byte("sessions")      // session token hash → Session JSON
	bucketSignInMisses = []byte("signin_misses") // missKey(hall/id) → Lockout JSON
)

// A clerk record is sealed (it names a person and holds the PIN's hash);
// its key, the staff number, is bookkeeping. Sessions name a staff number,
// a terminal and a window, no person: they stay readable.

func (s *BoltStorage) sealClerk(c Clerk) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return s.c.Seal(plain, recordAD(bucketClerks, c.ID))
}

func (s *BoltStorage) openClerk(id string, v []byte) (Clerk, error) {
	var c Clerk
	plain, err := s.c.Open(v, recordAD(bucketClerks, id))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("decode stored clerk %s: %w", id, err)
	}
	return c, nil
}

// AddClerk implements Storage.
func (s *BoltStorage) AddClerk(_ context.Context, c Clerk) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClerks)
		if b.Get([]byte(c.ID)) != nil {
			return fmt.Errorf("clerk %s: %w", c.ID, ErrExists)
		}
		v, err := s.sealClerk(c)
		if err != nil {
			return err
		}
		return b.Put([]byte(c.ID), v)
	})
}

// GetClerk implements Storage.
func (s *BoltStorage) GetClerk(_ context.Context, id string) (Clerk, error) {
	var c Clerk
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketClerks).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("clerk %s: %w", id, ErrNotFound)
		}
		var err error
		c, err = s.openClerk(id, v)
		return err
	})
	return c, err
}

// UpdateClerk implements Storage.
func (s *BoltStorage) UpdateClerk(_ context.Context, id string, f func(*Clerk) bool) (Clerk, error) {
	var c Clerk
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClerks)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("clerk %s: %w", id, ErrNotFound)
		}
		var err error
		if c, err = s.openClerk(id, v); err != nil {
			return err
		}
		if !f(&c) {
			return nil
		}
		c.ID = id // f may not move the record
		if v, err = s.sealClerk(c); err != nil {
			return err
		}
		return b.Put([]byte(id), v)
	})
	return c, err
}

// missKey names a miss record by an HMAC of its key under the index key,
// so what was typed as a staff number is not in the file.
func (s *BoltStorage) missKey(key string) []byte {
	mac := hmac.New(sha256.New, s.index)
	mac.Write([]byte("signin-miss/" + key))
	return []byte(hex.EncodeToString(mac.Sum(nil)[:16]))
}

// UpdateSignInMiss implements Storage.
func (s *BoltStorage) UpdateSignInMiss(_ context.Context, key string, f func(*Lockout) bool) (Lockout, error) {
	var l Lockout
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketSignInMisses), s.missKey(key)
		if v := b.Get(k); v != nil {
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode sign-in miss record: %w", err)
			}
		}
		if !f(&l) {
			return nil
		}
		v, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
	return l, err
}

// DeleteSignInMisses implements Storage.
func (s *BoltStorage) DeleteSignInMisses(_ context.Context, before time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		_, err := deleteWhere(tx.Bucket(bucketSignInMisses), func(v []byte) bool {
			var l Lockout
			return json.Unmarshal(v, &l) != nil || (l.Updated.Before(before) && !l.LockedUntil.After(before))
		})
		return err
	})
}

// PutSession implements Storage.
func (s *BoltStorage) PutSession(_ context.Context, ses Session) error {
	v, err := json.Marshal(ses)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(ses.TokenHash), v)
	})
}

// SessionByHash implements Storage.
func (s *BoltStorage) SessionByHash(_ context.Context, tokenHash string) (Session, error) {
	var ses Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(tokenHash))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		return json.Unmarshal(v, &ses)
	})
	return ses, err
}

// TouchSession implements Storage.
func (s *BoltStorage) TouchSession(_ context.Context, tokenHash string, at time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		v := b.Get([]byte(tokenHash))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		var ses Session
		if err := json.Unmarshal(v, &ses); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		ses.LastUsed = at
		v, err := json.Marshal(ses)
		if err != nil {
			return err
		}
		return b.Put([]byte(tokenHash), v)
	})
}

// DeleteSession implements Storage.
func (s *BoltStorage) DeleteSession(_ context.Context, tokenHash string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(tokenHash))
	})
}

// deleteSessionsIf removes the sessions del says to and counts them.
func (s *BoltStorage) deleteSessionsIf(del func(Session) bool) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketSessions), func(v []byte) bool {
			var ses Session
			return json.Unmarshal(v, &ses) != nil || del(ses)
		})
		return err
	})
	return n, err
}

// deleteWhere deletes the keys of b whose value doomed says to (keys are
// gathered first: a bucket must not change under ForEach) and counts them.
func deleteWhere(b *bbolt.Bucket, doomed func(v []byte) bool) (int, error) {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if doomed(v) {
			keys = append(keys, append([]byte{}, k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// DeleteClerkSessions implements Storage.
func (s *BoltStorage) DeleteClerkSessions(_ context.Context, clerk string) (int, error) {
	return s.deleteSessionsIf(func(ses Session) bool { return ses.Clerk == clerk })
}

// DeleteExpiredSessions implements Storage.
func (s *BoltStorage) DeleteExpiredSessions(_ context.Context, now time.Time, idle time.Duration) (int, error) {
	return s.deleteSessionsIf(func(ses Session) bool { return ses.expired(now, idle) })
}
