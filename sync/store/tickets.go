package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// The tickets bucket holds what a kiosk issued while the platform could not
// be reached (docs/sync-protocol.md §16): "t/<id>" → the sealed ticket
// request, until the platform has it, and "seq/<day>/<category>" → the last
// number of the kiosk's band printed that day. Both are on the disk before
// the citizen holds the slip, so a kiosk restarted offline neither forgets
// a ticket nor prints a number twice.
var (
	ticketPrefix = []byte("t/")
	seqPrefix    = []byte("seq/")
)

// HeldTicket is a ticket issued offline, not yet on the platform.
type HeldTicket struct {
	ID  string
	Req wire.TicketRequest
}

// BandSeq returns the last band number printed in category on day
// (YYYYMMDD), 0 if none.
func (s *Store) BandSeq(day, category string) (int, error) {
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketTickets).Get(seqKey(day, category))
		if v == nil {
			return nil
		}
		var err error
		n, err = strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("band seq %s/%s: %q is not a number", day, category, v)
		}
		return nil
	})
	return n, err
}

// HoldTicket keeps a printed offline ticket and counts seq as its band's
// last number on day, in one transaction. Counts of other days go.
func (s *Store) HoldTicket(id string, req wire.TicketRequest, day string, seq int) error {
	plain, err := json.Marshal(req)
	if err != nil {
		return err
	}
	sealed, err := s.c.Seal(plain, recordAD(bucketTickets, id))
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTickets)
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(seqPrefix); k != nil && bytes.HasPrefix(k, seqPrefix); k, _ = c.Next() {
			if !strings.HasPrefix(string(k[len(seqPrefix):]), day+"/") {
				old = append(old, append([]byte{}, k...))
			}
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if err := b.Put(seqKey(day, req.Category), strconv.AppendInt(nil, int64(seq), 10)); err != nil {
			return err
		}
		return b.Put(append(slices.Clip(ticketPrefix), id...), sealed)
	})
	if err != nil {
		return fmt.Errorf("hold ticket %s: %w", id, diskFull(err))
	}
	return nil
}

// HeldTickets returns the tickets held, oldest issued first; within a
// second (issued_at's grain), by number, which a band counts up.
func (s *Store) HeldTickets() ([]HeldTicket, error) {
	var out []HeldTicket
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketTickets).Cursor()
		for k, v := c.Seek(ticketPrefix); k != nil && bytes.HasPrefix(k, ticketPrefix); k, v = c.Next() {
			id := string(k[len(ticketPrefix):])
			plain, err := s.c.Open(v, recordAD(bucketTickets, id))
			if err != nil {
				return fmt.Errorf("held ticket %s: %w", id, err)
			}
			t := HeldTicket{ID: id}
			if err := json.Unmarshal(plain, &t.Req); err != nil {
				return fmt.Errorf("held ticket %s: %w", id, err)
			}
			out = append(out, t)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b HeldTicket) int {
		if c := a.Req.IssuedAt.Compare(b.Req.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Req.Number, b.Req.Number)
	})
	return out, err
}

// DropTicket forgets a held ticket once the platform has answered for it.
func (s *Store) DropTicket(id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTickets).Delete(append(slices.Clip(ticketPrefix), id...))
	})
}

func seqKey(day, category string) []byte {
	return []byte(string(seqPrefix) + day + "/" + category)
}
