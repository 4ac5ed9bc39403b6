package platform

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// The queue in bbolt. Every change of a ticket is one db.Update, and bbolt
// runs one Update at a time: NextTicket reads the waiting index and takes
// the ticket out of it in the same transaction, so two calls cannot both
// see it waiting.
var (
	bucketTickets  = []byte("queue_tickets") // id → sealed QueueTicket JSON
	bucketWaiting  = []byte("queue_waiting") // waitKey → id: the waiting tickets, in the order they are called
	bucketCalls    = []byte("queue_calls")   // hall, 0, day, 0, 8-byte sequence → boardCall JSON: every call
	bucketCurrent  = []byte("queue_current") // hall, 0, day, 0, id → boardCall JSON: tickets called now
	bucketNumbers  = []byte("queue_numbers") // hall, 0, day, 0, number → id; hall, 0, day, 0, "#", band → kiosk
	bucketQueueSeq = []byte("queue_seq")     // hall, 0, day, 0, category → 8-byte last online sequence
)

// boardCall is a call as the board shows it, and the ticket it was.
type boardCall struct {
	ID string `json:"id"`
	wire.BoardCall
}

func dayKey(hall, day string, rest ...string) []byte {
	k := []byte(hall + "\x00" + day + "\x00")
	for i, r := range rest {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, r...)
	}
	return k
}

// waitKey orders the waiting tickets of a hall, day and category:
// priority first, then QueuedAt, then id.
func waitKey(q QueueTicket) []byte {
	k := dayKey(q.Hall, q.Day, q.Ticket.Category)
	k = append(k, 0)
	if q.Ticket.Priority {
		k = append(k, '0')
	} else {
		k = append(k, '1')
	}
	k = binary.BigEndian.AppendUint64(k, uint64(q.Ticket.QueuedAt.UnixNano()))
	return append(k, q.Ticket.ID...)
}

func (s *BoltStorage) sealTicket(q QueueTicket) ([]byte, error) {
	plain, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	return s.c.Seal(plain, recordAD(bucketTickets, q.Ticket.ID))
}

func (s *BoltStorage) openTicket(id string, v []byte) (QueueTicket, error) {
	var q QueueTicket
	plain, err := s.c.Open(v, recordAD(bucketTickets, id))
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal(plain, &q); err != nil {
		return q, fmt.Errorf("decode stored ticket %s: %w", id, err)
	}
	return q, nil
}

func (s *BoltStorage) ticketTx(tx *bbolt.Tx, id string) (QueueTicket, error) {
	v := tx.Bucket(bucketTickets).Get([]byte(id))
	if v == nil {
		return QueueTicket{}, fmt.Errorf("ticket %s: %w", id, ErrNotFound)
	}
	return s.openTicket(id, v)
}

// storeTicket stores q over old (nil: a new ticket) and keeps the indexes
// in step: the waiting index, the tickets called now, and the log of
// calls (a call is a new CalledAt while called).
func (s *BoltStorage) storeTicket(tx *bbolt.Tx, old *QueueTicket, q QueueTicket) error {
	t := q.Ticket
	if old != nil && old.Ticket.State == wire.TicketWaiting {
		if err := tx.Bucket(bucketWaiting).Delete(waitKey(*old)); err != nil {
			return err
		}
	}
	if t.State == wire.TicketWaiting {
		if err := tx.Bucket(bucketWaiting).Put(waitKey(q), []byte(t.ID)); err != nil {
			return err
		}
	}
	cur := tx.Bucket(bucketCurrent)
	call := boardCall{ID: t.ID, BoardCall: wire.BoardCall{Number: t.Number, Window: t.Window, At: t.CalledAt}}
	cv, err := json.Marshal(call)
	if err != nil {
		return err
	}
	if t.State == wire.TicketCalled {
		if err := cur.Put(dayKey(q.Hall, q.Day, t.ID), cv); err != nil {
			return err
		}
		if old == nil || !old.Ticket.CalledAt.Equal(t.CalledAt) || old.Ticket.Window != t.Window {
			calls := tx.Bucket(bucketCalls)
			seq, err := calls.NextSequence()
			if err != nil {
				return err
			}
			if err := calls.Put(binary.BigEndian.AppendUint64(dayKey(q.Hall, q.Day), seq), cv); err != nil {
				return err
			}
		}
	} else if err := cur.Delete(dayKey(q.Hall, q.Day, t.ID)); err != nil {
		return err
	}
	v, err := s.sealTicket(q)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTickets).Put([]byte(t.ID), v)
}

// PutTicket implements Storage.
func (s *BoltStorage) PutTicket(_ context.Context, q QueueTicket) (QueueTicket, bool, error) {
	var out QueueTicket
	var stored bool
	err := s.db.Update(func(tx *bbolt.Tx) error {
		id := q.Ticket.ID
		if v := tx.Bucket(bucketTickets).Get([]byte(id)); v != nil {
			held, err := s.openTicket(id, v)
			if err != nil {
				return err
			}
			if !sameIssue(held, q) {
				return fmt.Errorf("ticket %s: %w", id, ErrConflict)
			}
			out = held
			return nil
		}
		nums := tx.Bucket(bucketNumbers)
		if q.Ticket.Number == "" {
			seqs := tx.Bucket(bucketQueueSeq)
			k := dayKey(q.Hall, q.Day, q.Ticket.Category)
			var n uint64
			if v := seqs.Get(k); len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			n++
			if n > 999 {
				return fmt.Errorf("category %s of %s on %s: %w", q.Ticket.Category, q.Hall, q.Day, ErrExhausted)
			}
			if err := seqs.Put(k, binary.BigEndian.AppendUint64(nil, n)); err != nil {
				return err
			}
			q.Ticket.Number = wire.OnlineNumber(q.Ticket.Category, int(n))
		} else {
			band, ok := wire.ValidOfflineNumber(q.Ticket.Category, q.Ticket.Number)
			if !ok {
				return fmt.Errorf("ticket %s: number %s is of no offline band: %w", id, q.Ticket.Number, ErrNumberTaken)
			}
			bk := dayKey(q.Hall, q.Day, "#"+string(rune('0'+band)))
			switch owner := nums.Get(bk); {
			case owner == nil:
				if err := nums.Put(bk, []byte(q.Kiosk)); err != nil {
					return err
				}
			case string(owner) != q.Kiosk:
				return fmt.Errorf("ticket %s: band %d is kiosk %s's on %s: %w", id, band, owner, q.Day, ErrNumberTaken)
			}
		}
		nk := dayKey(q.Hall, q.Day, q.Ticket.Number)
		if nums.Get(nk) != nil {
			return fmt.Errorf("ticket %s: number %s given already on %s: %w", id, q.Ticket.Number, q.Day, ErrNumberTaken)
		}
		if err := nums.Put(nk, []byte(id)); err != nil {
			return err
		}
		out, stored = q, true
		return s.storeTicket(tx, nil, q)
	})
	return out, stored, err
}

// GetTicket implements Storage.
func (s *BoltStorage) GetTicket(_ context.Context, id string) (QueueTicket, error) {
	var q QueueTicket
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		q, err = s.ticketTx(tx, id)
		return err
	})
	return q, err
}

// NextTicket implements Storage: the first key of each category's waiting
// prefix is that category's next ticket; the least of them goes, read,
// changed and written in one transaction.
func (s *BoltStorage) NextTicket(_ context.Context, hall, day string, categories []string, window, clerk string, at time.Time) (QueueTicket, error) {
	var out QueueTicket
	err := s.db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketWaiting).Cursor()
		var best, bestID []byte
		for _, cat := range categories {
			prefix := append(dayKey(hall, day, cat), 0)
			k, v := c.Seek(prefix)
			if k == nil || !bytes.HasPrefix(k, prefix) {
				continue
			}
			rest := k[len(prefix):] // priority, time, id: comparable across categories
			if best == nil || bytes.Compare(rest, best) < 0 {
				best, bestID = slices.Clone(rest), slices.Clone(v)
			}
		}
		if best == nil {
			return fmt.Errorf("no ticket waiting in %s: %w", strings.Join(categories, ", "), ErrNotFound)
		}
		old, err := s.ticketTx(tx, string(bestID))
		if err != nil {
			return err
		}
		q := old
		q.Ticket.State, q.Ticket.Window, q.Ticket.Clerk, q.Ticket.CalledAt = wire.TicketCalled, window, clerk, at.UTC()
		out = q
		return s.storeTicket(tx, &old, q)
	})
	return out, err
}

// UpdateTicket implements Storage.
func (s *BoltStorage) UpdateTicket(_ context.Context, id string, f func(*QueueTicket) error) (QueueTicket, error) {
	var out QueueTicket
	err := s.db.Update(func(tx *bbolt.Tx) error {
		old, err := s.ticketTx(tx, id)
		if err != nil {
			return err
		}
		q := old
		if err := f(&q); err != nil {
			return err
		}
		q.Ticket.ID, q.Hall, q.Day, q.Kiosk = old.Ticket.ID, old.Hall, old.Day, old.Kiosk // f may not move it
		out = q
		return s.storeTicket(tx, &old, q)
	})
	return out, err
}

// QueueBoard implements Storage. It reads the indexes only, never a
// ticket: the board needs numbers and windows, nothing sealed.
func (s *BoltStorage) QueueBoard(_ context.Context, hall, day string, last int) (wire.Board, error) {
	b := wire.Board{Calls: []wire.BoardCall{}, Last: []wire.BoardCall{}, Waiting: map[string]int{}}
	prefix := dayKey(hall, day)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketWaiting).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			cat, _, _ := bytes.Cut(k[len(prefix):], []byte{0})
			b.Waiting[string(cat)]++
		}
		c = tx.Bucket(bucketCurrent).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var bc boardCall
			if err := json.Unmarshal(v, &bc); err != nil {
				return fmt.Errorf("decode call: %w", err)
			}
			b.Calls = append(b.Calls, bc.BoardCall)
		}
		c = tx.Bucket(bucketCalls).Cursor()
		// The last key of the prefix: seek past it, step back.
		end := append(slices.Clone(prefix[:len(prefix)-1]), 1)
		k, v := c.Seek(end)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(b.Last) < last; k, v = c.Prev() {
			var bc boardCall
			if err := json.Unmarshal(v, &bc); err != nil {
				return fmt.Errorf("decode call: %w", err)
			}
			b.Last = append(b.Last, bc.BoardCall)
		}
		return nil
	})
	slices.SortStableFunc(b.Calls, func(x, y wire.BoardCall) int { return y.At.Compare(x.At) })
	return b, err
}
