package store

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"
)

// Stats is what hall IT sees of a store ("yici store status"). It holds no
// personal data.
type Stats struct {
	Cases     map[State]int // cases held, by state
	Oldest    time.Time     // submission of the oldest case in the outbox
	Events    int           // outgoing events waiting in the outbox
	Blobs     int           // pages held (not yet acknowledged, or failed)
	BlobBytes int64         // their sealed size
	Packs     int           // pack files
	FileBytes int64         // size of the bbolt file
	FreeBytes uint64        // free on the store's disk
}

// Stats counts what the store holds.
func (s *Store) Stats() (Stats, error) {
	st := Stats{Cases: map[State]int{}}
	var err error
	if st.Events, err = s.countEvents(); err != nil {
		return st, err
	}
	if _, st.Oldest, err = s.Pending(); err != nil {
		return st, err
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		st.FileBytes = tx.Size()
		err := tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
			var rec caseRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode case %s: %w", k, err)
			}
			st.Cases[rec.State]++
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
			loc, err := decodeLoc(string(k), v)
			st.Blobs++
			st.BlobBytes += loc.n
			return err
		})
	})
	if err != nil {
		return st, fmt.Errorf("store stats: %w", err)
	}
	s.packs.mu.Lock()
	st.Packs = len(s.packs.files)
	s.packs.mu.Unlock()
	st.FreeBytes, err = diskFree(s.dir)
	if err != nil {
		return st, fmt.Errorf("store stats: free space of %s: %w", s.dir, err)
	}
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	return st, nil
}

func (s *Store) countEvents() (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.Seek([]byte{outboxEvent}); k != nil && k[0] == outboxEvent; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}
