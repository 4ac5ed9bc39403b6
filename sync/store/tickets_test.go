package store

import (
	"fmt"
	"testing"
	"time"

	"yici/sync/wire"
)

// Tickets issued offline and the band's count outlive a restart; a new
// day's count drops the old day's; a dropped ticket is gone.
func TestHeldTicketsSurviveReopen(t *testing.T) {
	s, path, key := openTemp(t)
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	hold := func(s *Store, id, cat, day string, seq int, at time.Time) {
		t.Helper()
		req := wire.TicketRequest{Number: wire.OfflineNumber(cat, 1, seq), Category: cat, IssuedAt: at}
		if err := s.HoldTicket(id, req, day, seq); err != nil {
			t.Fatal(err)
		}
	}
	hold(s, "K01-t-old", "A", "20261128", 7, at.Add(-24*time.Hour))
	hold(s, "K01-t-2", "A", "20261129", 2, at.Add(time.Minute))
	hold(s, "K01-t-1", "B", "20261129", 1, at)
	s.Close()
	s, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		day, cat string
		want     int
	}{{"20261129", "A", 2}, {"20261129", "B", 1}, {"20261128", "A", 0}, {"20261130", "A", 0}} {
		if n, err := s.BandSeq(c.day, c.cat); err != nil || n != c.want {
			t.Errorf("BandSeq(%s, %s) = %d, %v; want %d", c.day, c.cat, n, err, c.want)
		}
	}
	got, err := s.HeldTickets()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range got {
		ids = append(ids, h.ID+"="+h.Req.Number)
	}
	if want := "[K01-t-old=A1007 K01-t-1=B1001 K01-t-2=A1002]"; want != fmt.Sprint(ids) {
		t.Errorf("held after reopen %s, want %s (oldest first)", ids, want)
	}
	if err := s.DropTicket("K01-t-old"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.HeldTickets(); len(got) != 2 || got[0].ID != "K01-t-1" {
		t.Errorf("after drop: %+v", got)
	}
}
