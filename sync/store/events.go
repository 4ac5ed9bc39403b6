package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Event kinds in the store's log. They name cases by id only: the log holds
// no personal data, so it outlives the cases it tells of.
const (
	EventSubmitted = "submitted"
	EventSent      = "sent"
	EventFailed    = "failed" // Detail is the platform's reason
	EventPurged    = "purged"
	EventLost      = "lost" // a capture taken back: its page never reached the disk
)

// Event is one line of the store's log of what happened to cases.
type Event struct {
	Seq    uint64    `json:"-"`
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Case   string    `json:"case"`
	Detail string    `json:"detail,omitempty"`
}

func (s *Store) logEvent(tx *bbolt.Tx, kind, caseID, detail string) error {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(Event{Time: time.Now(), Kind: kind, Case: caseID, Detail: detail})
	if err != nil {
		return err
	}
	return b.Put(binary.BigEndian.AppendUint64(nil, seq), v)
}

// Events returns up to max events after sequence number after, oldest first.
func (s *Store) Events(after uint64, max int) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, after+1)); k != nil && len(out) < max; k, v = c.Next() {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			e.Seq = binary.BigEndian.Uint64(k)
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
