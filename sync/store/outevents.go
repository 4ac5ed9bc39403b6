package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// Outgoing events (first inquiry, handling, ratings, rejections, supplied
// deferred materials) travel through the outbox as cases do: QueueEvent
// commits the event, its blob if it has one, and its outbox entry in one
// transaction; the uploader sends it and AckEvent removes it.

// outboxEvent keys an event's entry: 'e' + 8-byte sequence → event id. A
// supplied material's blob is held by a blob entry whose owner is the
// event's id prefixed with '!', which no case id can begin with.
const outboxEvent = 'e'

func eventOwner(id string) string { return "!" + id }

// outEventRecord is the value in the out_events bucket.
type outEventRecord struct {
	State  State  `json:"state"` // StatePending or StateFailed
	Reason string `json:"reason,omitempty"`
	Event  []byte `json:"event"` // sealed JSON of wire.Event
}

// QueueEvent commits e for sending. For a deferred_supplied event, data is
// the supplied material: its hash and size are set in e and it is stored
// sealed, as a Capture stores a page. Queueing an event again with the
// same content does nothing, so a retried tap is harmless; other content
// under a queued id is an error.
func (s *Store) QueueEvent(e wire.Event, data []byte) error {
	if data != nil {
		sum := sha256.Sum256(data)
		e.SHA256, e.Size = hex.EncodeToString(sum[:]), int64(len(data))
		if err := s.checkDisk(s.c.SealedLen(len(data))); err != nil {
			return fmt.Errorf("queue event %s: %w", e.ID, err)
		}
	}
	if err := e.Check(); err != nil {
		return fmt.Errorf("queue event: %w", err)
	}
	plain, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// Unlike a capture, the blob is on the disk before the transaction
	// that claims it begins: rare enough not to need the speed, and then
	// no queued event can name a lost blob.
	var loc blobLoc
	claimed := false
	if data != nil {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
		if loc, err = s.packs.reserve(s.c.SealedLen(len(data))); err == nil {
			err = s.writePacked(loc, data)
		}
		if err != nil {
			s.packs.discard(loc)
			return fmt.Errorf("queue event %s: %w", e.ID, diskFull(err))
		}
		defer func() {
			if !claimed {
				s.packs.discard(loc)
			}
		}()
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		evs := tx.Bucket(bucketOutEv)
		if v := evs.Get([]byte(e.ID)); v != nil {
			_, old, err := s.decodeOutEvent(e.ID, v)
			if err != nil {
				return err
			}
			oldPlain, _ := json.Marshal(old)
			if string(oldPlain) != string(plain) {
				return fmt.Errorf("event %s is queued with other content; an event id must not be reused", e.ID)
			}
			return nil
		}
		sealed, err := s.c.Seal(plain, recordAD(bucketOutEv, e.ID))
		if err != nil {
			return err
		}
		v, err := json.Marshal(outEventRecord{State: StatePending, Event: sealed})
		if err != nil {
			return err
		}
		if err := evs.Put([]byte(e.ID), v); err != nil {
			return err
		}
		out := tx.Bucket(bucketOutbox)
		if data != nil {
			if blobs := tx.Bucket(bucketBlobs); blobs.Get([]byte(e.SHA256)) == nil {
				if err := blobs.Put([]byte(e.SHA256), s.locValue(e.SHA256, loc)); err != nil {
					return err
				}
				claimed = true
				tx.OnCommit(func() { s.packs.added(loc) })
			}
			if err := out.Put(append(blobEntryPrefix(eventOwner(e.ID)), e.SHA256...), nil); err != nil {
				return err
			}
		}
		seq, err := out.NextSequence()
		if err != nil {
			return err
		}
		return out.Put(binary.BigEndian.AppendUint64([]byte{outboxEvent}, seq), []byte(e.ID))
	})
	if err != nil {
		claimed = false
		return fmt.Errorf("queue event %s: %w", e.ID, diskFull(err))
	}
	return nil
}

func (s *Store) decodeOutEvent(id string, v []byte) (outEventRecord, wire.Event, error) {
	var rec outEventRecord
	var e wire.Event
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, e, fmt.Errorf("decode queued event %s: %w", id, err)
	}
	plain, err := s.c.Open(rec.Event, recordAD(bucketOutEv, id))
	if err != nil {
		return rec, e, err
	}
	if err := json.Unmarshal(plain, &e); err != nil {
		return rec, e, fmt.Errorf("decode queued event %s: %w", id, err)
	}
	return rec, e, nil
}

// PendingEvents returns the queued events not yet acknowledged, oldest
// first.
func (s *Store) PendingEvents() ([]wire.Event, error) {
	var out []wire.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		evs := tx.Bucket(bucketOutEv)
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, id := c.Seek([]byte{outboxEvent}); k != nil && k[0] == outboxEvent; k, id = c.Next() {
			_, e, err := s.decodeOutEvent(string(id), evs.Get(id))
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox events: %w", err)
	}
	return out, nil
}

// AckEvent records that the platform holds the event id: it leaves the
// outbox and the store, with its blob. Acknowledging it again does nothing.
func (s *Store) AckEvent(id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		evs := tx.Bucket(bucketOutEv)
		v := evs.Get([]byte(id))
		if v == nil {
			return nil
		}
		var rec outEventRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("ack event %s: %w", id, err)
		}
		if rec.State != StatePending {
			return fmt.Errorf("ack event %s: it is %s, not pending", id, rec.State)
		}
		if err := dropEntry(tx, outboxEvent, id); err != nil {
			return err
		}
		if err := dropBlobEntries(tx, s.packs, eventOwner(id)); err != nil {
			return err
		}
		return evs.Delete([]byte(id))
	})
}

// FailEvent takes the event id out of the outbox for good, because the
// platform refused it in a way a retry cannot mend; it stays in the store
// with reason, for hall IT, and the event log tells of it under the
// name "!" + id.
func (s *Store) FailEvent(id, reason string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		evs := tx.Bucket(bucketOutEv)
		v := evs.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("fail event %s: %w", id, ErrNotFound)
		}
		var rec outEventRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("fail event %s: %w", id, err)
		}
		if err := dropEntry(tx, outboxEvent, id); err != nil {
			return err
		}
		rec.State, rec.Reason = StateFailed, reason
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := evs.Put([]byte(id), v); err != nil {
			return err
		}
		return s.logEvent(tx, EventFailed, eventOwner(id), reason)
	})
}
