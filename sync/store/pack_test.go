package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

func packFile(path string, n uint32) string {
	return filepath.Join(packDir(path), packName(n))
}

func locOf(t *testing.T, s *Store, hash string) blobLoc {
	t.Helper()
	var loc blobLoc
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketBlobs).Get([]byte(hash))
		if v == nil {
			return ErrNotFound
		}
		var err error
		loc, err = s.checkLoc(hash, v)
		return err
	})
	if err != nil {
		t.Fatalf("place of blob %s: %v", hash, err)
	}
	return loc
}

// A crash after the commit but before the pack's fdatasync leaves the last
// page short or unwritten. Opening the store takes that capture back, and
// only that one: the draft asks for the page again, the earlier page and
// everything else stay.
func TestLostPageTakenBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(f *os.File, loc blobLoc) error
	}{
		{"never written", func(f *os.File, loc blobLoc) error { return f.Truncate(loc.off) }},
		{"half written", func(f *os.File, loc blobLoc) error { return f.Truncate(loc.off + loc.n/2) }},
		{"written as zeros", func(f *os.File, loc blobLoc) error {
			_, err := f.WriteAt(make([]byte, loc.n), loc.off)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path, key := openTemp(t)
			if err := s.SaveCase(draft("c1")); err != nil {
				t.Fatal(err)
			}
			first, last := []byte("page one"), []byte("page two, lost")
			mustCapture(t, s, "c1", "M1", first)
			mustCapture(t, s, "c1", "M2", last)
			loc := locOf(t, s, sum(last))
			s.Close()
			f, err := os.OpenFile(packFile(path, loc.pack), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.harm(f, loc); err != nil {
				t.Fatal(err)
			}
			f.Close()

			s, err = Open(path, key)
			if err != nil {
				t.Fatalf("open after the crash: %v", err)
			}
			defer s.Close()
			m, err := s.Case("c1")
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, mr := range m.Materials {
				codes = append(codes, mr.Code)
			}
			if got := strings.Join(codes, ","); got != "M9,M1" {
				t.Errorf("materials after recovery: %s, want M9,M1", got)
			}
			if _, err := s.Blob(sum(last)); !errors.Is(err, ErrNotFound) {
				t.Errorf("lost blob: %v, want ErrNotFound", err)
			}
			if b, err := s.Blob(sum(first)); err != nil || !bytes.Equal(b, first) {
				t.Errorf("earlier blob: %q, %v", b, err)
			}
			evs, _ := s.Events(0, 10)
			if len(evs) != 1 || evs[0].Kind != EventLost || evs[0].Case != "c1" {
				t.Errorf("events %+v, want one %q for c1", evs, EventLost)
			}
			// The draft goes on as before, and the page captured again
			// goes past the lost one's place, which is still to be punched.
			mustCapture(t, s, "c1", "M2", last)
			if again := locOf(t, s, sum(last)); again.pack == loc.pack && again.off < loc.off+loc.n {
				t.Errorf("page captured again at %s, inside the lost one's %s", again, loc)
			}
			if err := s.Submit("c1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// When the page cannot be written after its transaction committed, the
// capture fails and is taken back at once.
func TestPackWriteFailureTakesCaptureBack(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, "c1", "M1", []byte("page one"))
	s.packs.files[s.packs.active].Close() // as a failing disk would
	_, err := s.Capture("c1", wire.MaterialRef{Code: "M2"}, []byte("page two"))
	if err == nil || !strings.Contains(err.Error(), "write pack") {
		t.Fatalf("Capture onto a failed pack: %v", err)
	}
	m, _ := s.Case("c1")
	if len(m.Materials) != 2 || m.Materials[1].Code != "M1" {
		t.Errorf("materials after the failure: %+v", m.Materials)
	}
	if _, err := s.Blob(sum([]byte("page two"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("blob of the failed capture: %v", err)
	}
}

// A page the platform holds leaves the disk: its bytes are punched out of
// the pack, and a full pack with nothing live in it is deleted.
func TestSentPagesLeaveThePacks(t *testing.T) {
	defer func(n int64) { packLimit = n }(packLimit)
	packLimit = 1000
	s, path, key := openTemp(t)
	page := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 600) }
	for i := range 3 { // one page per pack: packs 1, 2, 3
		id := "c" + string(rune('1'+i))
		if err := s.SaveCase(draft(id)); err != nil {
			t.Fatal(err)
		}
		mustCapture(t, s, id, "M1", page(i))
		if err := s.Submit(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"c1", "c2"} {
		if err := s.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	s.Close() // waits for the punching
	if _, err := os.Stat(packFile(path, 1)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pack 1, all sent: %v, want deleted", err)
	}
	if _, err := os.Stat(packFile(path, 2)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pack 2, all sent: %v, want deleted", err)
	}
	s, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, err := s.Blob(sum(page(2))); err != nil || !bytes.Equal(b, page(2)) {
		t.Errorf("unsent page: %q, %v", b, err)
	}
}

// In a pack still in use, a sent page's bytes read as zeros.
func TestSentPagePunched(t *testing.T) {
	s, path, _ := openTemp(t)
	for _, id := range []string{"c1", "c2"} {
		if err := s.SaveCase(draft(id)); err != nil {
			t.Fatal(err)
		}
		mustCapture(t, s, id, "M1", []byte("page of "+id))
		if err := s.Submit(id); err != nil {
			t.Fatal(err)
		}
	}
	sent, kept := locOf(t, s, sum([]byte("page of c1"))), locOf(t, s, sum([]byte("page of c2")))
	if err := s.Ack("c1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(packFile(path, 1))
	if err != nil {
		t.Fatal(err)
	}
	if b := raw[sent.off : sent.off+sent.n]; !bytes.Equal(b, make([]byte, sent.n)) {
		t.Errorf("sent page's bytes are still in the pack: % x…", b[:16])
	}
	if b := raw[kept.off : kept.off+kept.n]; bytes.Equal(b, make([]byte, kept.n)) {
		t.Error("the unsent page's bytes were punched")
	}
}

// Bytes no blob claims (a failed transaction, a crash before the punch)
// are punched when the store opens.
func TestOpenPunchesOrphans(t *testing.T) {
	s, path, key := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, "c1", "M1", []byte("page one"))
	loc := locOf(t, s, sum([]byte("page one")))
	s.Close()
	orphan := []byte("sealed bytes nobody claims")
	f, err := os.OpenFile(packFile(path, loc.pack), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(orphan)
	f.Close()
	s, err = Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(packFile(path, loc.pack))
	if bytes.Contains(raw, orphan) {
		t.Error("orphan bytes survived the open")
	}
	if len(raw) != int(loc.off+loc.n)+len(orphan) {
		t.Errorf("pack is %d bytes", len(raw))
	}
}

// A place record moved under another hash is refused, and a sealed page
// moved to another place does not open.
func TestPlaceBindsPage(t *testing.T) {
	s, path, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	a, b := []byte("page a"), []byte("page b")
	mustCapture(t, s, "c1", "M1", a)
	mustCapture(t, s, "c1", "M2", b)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs)
		return blobs.Put([]byte(sum(b)), append([]byte{}, blobs.Get([]byte(sum(a)))...))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(sum(b)); err == nil || !strings.Contains(err.Error(), "not made for it") {
		t.Errorf("a place moved to another hash: %v", err)
	}
	la := locOf(t, s, sum(a))
	f, err := os.OpenFile(packFile(path, la.pack), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sealed := make([]byte, la.n)
	f.ReadAt(sealed, la.off)
	f.WriteAt(sealed, la.off+la.n) // over page b
	err = s.db.Update(func(tx *bbolt.Tx) error {
		moved := blobLoc{pack: la.pack, off: la.off + la.n, n: la.n}
		return tx.Bucket(bucketBlobs).Put([]byte(sum(a)), s.locValue(sum(a), moved))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(sum(a)); err == nil {
		t.Error("a sealed page moved to another place opened")
	}
}

// A schema 2 store kept its sealed blobs in the bbolt file; opening it
// moves them into a pack, and the bbolt file no longer holds them.
func TestMigrateBlobsIntoPacks(t *testing.T) {
	t.Run("one pack", func(t *testing.T) { testMigrate(t, packLimit) })
	// Pages that fill more than a pack: the full ones must stay.
	t.Run("several packs", func(t *testing.T) { testMigrate(t, 100) })
}

func testMigrate(t *testing.T, limit int64) {
	defer func(n int64) { packLimit = n }(packLimit)
	packLimit = limit
	s, path, key := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	var pages [][]byte
	for i := range 4 {
		pages = append(pages, fmt.Appendf(nil, "old page %d, of some sixty bytes, sealed in bbolt", i))
	}
	packs := map[uint32]bool{}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, p := range pages {
			sealed, err := s.c.Seal(p, recordAD(bucketBlobs, sum(p)))
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketBlobs).Put([]byte(sum(p)), sealed); err != nil {
				return err
			}
			if err := tx.Bucket(bucketOutbox).Put(append(blobEntryPrefix("c1"), sum(p)...), nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSchema, binary.BigEndian.AppendUint64(nil, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, key)
	if err != nil {
		t.Fatalf("open a schema 2 store: %v", err)
	}
	defer s.Close()
	for _, p := range pages {
		if b, err := s.Blob(sum(p)); err != nil || !bytes.Equal(b, p) {
			t.Errorf("migrated blob: %q, %v", b, err)
		}
		packs[locOf(t, s, sum(p)).pack] = true
	}
	if want := 1 + int(int64(len(pages))*(60+28)/limit); len(packs) < min(want, len(pages)) {
		t.Errorf("migrated into %d packs, want at least %d", len(packs), min(want, len(pages)))
	}
}

// Submit waits for a capture under way (which holds writeMu until its
// page is on the disk): a case must not leave the draft state with a page
// that may yet turn out lost, since only drafts give a lost page back.
func TestSubmitWaitsForCapture(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	s.writeMu.Lock()
	done := make(chan error, 1)
	go func() { done <- s.Submit("c1") }()
	select {
	case err := <-done:
		s.writeMu.Unlock()
		t.Fatalf("Submit went ahead during a capture: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	s.writeMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
