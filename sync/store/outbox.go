package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// PendingCases returns the manifests of the submitted cases the platform
// has not acknowledged, oldest submission first. Their blobs are read one at
// a time with Blob, so a backlog of days does not have to fit in memory.
func (s *Store) PendingCases() ([]wire.Manifest, error) {
	var out []wire.Manifest
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek([]byte{outboxManifest}); k != nil && k[0] == outboxManifest; k, v = c.Next() {
			_, m, err := s.getCase(tx, string(v))
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// Pending returns how many cases wait in the outbox and when the oldest of
// them was submitted, for the status line.
func (s *Store) Pending() (n int, oldest time.Time, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek([]byte{outboxManifest}); k != nil && k[0] == outboxManifest; k, v = c.Next() {
			if n == 0 {
				rec, _, err := s.getCase(tx, string(v))
				if err != nil {
					return err
				}
				oldest = rec.Submitted
			}
			n++
		}
		return nil
	})
	return n, oldest, err
}

// Blob returns the plaintext of the blob hash.
func (s *Store) Blob(hash string) ([]byte, error) {
	var loc blobLoc
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketBlobs).Get([]byte(hash))
		if v == nil {
			return fmt.Errorf("blob %s: %w", hash, ErrNotFound)
		}
		var err error
		loc, err = s.checkLoc(hash, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.openPacked(hash, loc)
}

// openPacked reads the blob hash at loc and opens it.
func (s *Store) openPacked(hash string, loc blobLoc) ([]byte, error) {
	sealed, err := s.packs.read(loc)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	plain, err := s.c.Open(sealed, loc.ad())
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return plain, nil
}

// locValue is loc as stored under hash in the blobs bucket: its encoding
// and a MAC that binds it to hash, so that a place moved under another
// hash is refused (checkLoc) rather than read as that hash's page.
func (s *Store) locValue(hash string, loc blobLoc) []byte {
	v := loc.encode()
	return append(v, s.locMAC(hash, v)...)
}

func (s *Store) locMAC(hash string, place []byte) []byte {
	mac := hmac.New(sha256.New, s.index)
	mac.Write([]byte("blob "))
	mac.Write([]byte(hash))
	mac.Write(place)
	return mac.Sum(nil)[:macLen]
}

// checkLoc decodes the place stored under hash and checks its MAC.
func (s *Store) checkLoc(hash string, v []byte) (blobLoc, error) {
	loc, err := decodeLoc(hash, v)
	if err != nil {
		return loc, err
	}
	if !hmac.Equal(v[locLen:], s.locMAC(hash, v[:locLen])) {
		return loc, fmt.Errorf("blob %s: its place record (%s) was not made for it", hash, loc)
	}
	return loc, nil
}

// Ack records that the platform holds caseID: the case is marked sent, its
// outbox entries are removed and its blobs purged at once (S19). The
// manifest, with its personal data, stays until Purge removes it after the
// retention setting. Acknowledging a sent case again does nothing.
func (s *Store) Ack(caseID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		rec, man, err := s.getCase(tx, caseID)
		if err != nil {
			return fmt.Errorf("ack case %s: %w", caseID, err)
		}
		switch rec.State {
		case StateSent:
			return nil
		case StateDraft:
			return fmt.Errorf("ack case %s: it is a draft and was never submitted", caseID)
		}
		if err := dropEntry(tx, outboxManifest, caseID); err != nil {
			return err
		}
		if err := dropBlobEntries(tx, s.packs, caseID); err != nil {
			return err
		}
		rec.State, rec.Sent, rec.Reason = StateSent, time.Now(), ""
		if err := s.putCase(tx, man, rec); err != nil {
			return err
		}
		return s.logEvent(tx, EventSent, caseID, "")
	})
}

// Fail takes the pending caseID out of the outbox for good, because the
// platform refused it in a way a retry cannot mend (a conflicting case of
// the same id, say). Its materials stay in the store for hall IT; reason is
// recorded in the case and in the event log.
func (s *Store) Fail(caseID, reason string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		rec, man, err := s.getCase(tx, caseID)
		if err != nil {
			return fmt.Errorf("fail case %s: %w", caseID, err)
		}
		if rec.State != StatePending {
			return fmt.Errorf("fail case %s: it is %s, not pending", caseID, rec.State)
		}
		if err := dropEntry(tx, outboxManifest, caseID); err != nil {
			return err
		}
		rec.State, rec.Reason = StateFailed, reason
		if err := s.putCase(tx, man, rec); err != nil {
			return err
		}
		return s.logEvent(tx, EventFailed, caseID, reason)
	})
}

// dropEntry deletes the outbox entry of kind (outboxManifest, outboxEvent)
// whose value is id: the queue is keyed by sequence, not by id.
func dropEntry(tx *bbolt.Tx, kind byte, id string) error {
	c := tx.Bucket(bucketOutbox).Cursor()
	for k, v := c.Seek([]byte{kind}); k != nil && k[0] == kind; k, v = c.Next() {
		if string(v) == id {
			return c.Delete()
		}
	}
	return nil
}

// LogRetention is how long the store's log keeps an entry. The log holds
// no personal data; the limit only keeps the file from growing for years.
const LogRetention = 180 * 24 * time.Hour

// Purge removes the sent cases whose retention has run out by now, and log
// entries older than LogRetention, and returns how many cases it removed.
func (s *Store) Purge(now time.Time) (int, error) {
	keep, err := s.Retention()
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.Update(func(tx *bbolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		var expired []string
		err := cases.ForEach(func(k, v []byte) error {
			var rec caseRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode case %s: %w", k, err)
			}
			if rec.State == StateSent && !now.Before(rec.Sent.Add(keep)) {
				expired = append(expired, string(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range expired {
			if err := cases.Delete([]byte(id)); err != nil {
				return err
			}
			if err := s.logEvent(tx, EventPurged, id, ""); err != nil {
				return err
			}
		}
		n = len(expired)
		return pruneLog(tx, now.Add(-LogRetention))
	})
	if err != nil {
		return 0, fmt.Errorf("purge sent cases: %w", err)
	}
	return n, nil
}

// pruneLog deletes the log entries from before cutoff: the oldest first,
// so it stops at the first one to keep.
func pruneLog(tx *bbolt.Tx, cutoff time.Time) error {
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode log entry %x: %w", k, err)
		}
		if !e.Time.Before(cutoff) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
