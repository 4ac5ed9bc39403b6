package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"yici/sync/wire"
)

// State is where a case is on its way to the platform.
type State string

const (
	StateDraft   State = "draft"   // being filled in; materials may still be captured
	StatePending State = "pending" // submitted, waiting in the outbox
	StateSent    State = "sent"    // acknowledged by the platform; blobs purged
	StateFailed  State = "failed"  // refused by the platform for good; kept for hall IT
)

// caseRecord is the value in the cases bucket. The manifest holds the
// personal data and is sealed; the rest is bookkeeping hall IT may read.
type caseRecord struct {
	State     State     `json:"state"`
	Created   time.Time `json:"created"`
	Submitted time.Time `json:"submitted,omitzero"`
	Sent      time.Time `json:"sent,omitzero"`
	Reason    string    `json:"reason,omitempty"` // why the platform refused it
	Manifest  []byte    `json:"manifest"`         // sealed JSON of wire.Manifest
}

// Outbox keys. A manifest entry, in submit order, is what the uploader
// sends; a blob entry ties a captured blob to its case and keeps the blob
// alive until that case is acknowledged or discarded.
const (
	outboxManifest = 'm' // 'm' + 8-byte sequence → case id
	outboxBlob     = 'b' // 'b' + case id + 0 + sha256 → empty
)

func blobEntryPrefix(caseID string) []byte {
	return append(append([]byte{outboxBlob}, caseID...), 0)
}

// SaveCase creates the draft m.ID or updates a draft's applicant, items,
// catalogue revision, creation time and materials. Materials with blobs
// enter a case only through Capture: a non-exempt material in m must be one
// captured for this case, and captured ones m does not name are kept, after
// those m lists, so m's order is the case's order.
func (s *Store) SaveCase(m wire.Manifest) error {
	if !wire.ValidCaseID(m.ID) {
		return fmt.Errorf("save case: invalid case id %q", m.ID)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		rec, old, err := s.getCase(tx, m.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			rec = caseRecord{State: StateDraft, Created: time.Now()}
		case err != nil:
			return err
		case rec.State != StateDraft:
			return fmt.Errorf("save case %s: it is %s; only a draft can change", m.ID, rec.State)
		}
		captured := map[string]string{}
		for _, mr := range old.Materials {
			if !mr.Exempt {
				captured[mr.Code] = mr.SHA256
			}
		}
		var materials []wire.MaterialRef
		named := map[string]bool{}
		for _, mr := range m.Materials {
			if !mr.Exempt && captured[mr.Code] != mr.SHA256 {
				return fmt.Errorf("save case %s: material %s (sha256 %q) was not captured for this case; capture it first", m.ID, mr.Code, mr.SHA256)
			}
			named[mr.Code] = !mr.Exempt
			materials = append(materials, mr)
		}
		for _, mr := range old.Materials {
			if !mr.Exempt && !named[mr.Code] {
				materials = append(materials, mr)
			}
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = rec.Created
		}
		m.Materials = materials
		return s.putCase(tx, m, rec)
	})
}

// Capture stores data as the material m of the draft caseID and returns its
// SHA-256. It appends the sealed blob to a pack and, while that reaches the
// disk, commits in one transaction the blob's place, the material added to
// the draft (or replacing the one of the same code) and the outbox entry
// that will send it; it returns when both are durable. Before that it
// checks free disk space and refuses with an error wrapping ErrDiskFull,
// leaving the store as it was.
func (s *Store) Capture(caseID string, m wire.MaterialRef, data []byte) (string, error) {
	if m.Code == "" || m.Exempt {
		return "", fmt.Errorf("capture into case %s: material needs a code and must not be exempt (code %q, exempt %v)", caseID, m.Code, m.Exempt)
	}
	if err := s.checkDisk(s.c.SealedLen(len(data))); err != nil {
		return "", fmt.Errorf("capture %s into case %s: %w", m.Code, caseID, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.takeBackLost(); err != nil {
		return "", fmt.Errorf("capture %s into case %s: %w", m.Code, caseID, err)
	}
	loc, err := s.packs.reserve(s.c.SealedLen(len(data)))
	if err != nil {
		return "", fmt.Errorf("capture %s into case %s: %w", m.Code, caseID, err)
	}
	// Sealing and writing the page, and hashing it and committing, each
	// wait on the CPU and then the disk; side by side they take little
	// more than the longer of the two. A commit whose pack write then
	// fails is taken back below; at a crash, by recoverLast.
	written := make(chan error, 1)
	go func() { written <- s.writePacked(loc, data) }()
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	m.SHA256, m.Size = hash, int64(len(data))
	fresh := false
	err = s.db.Update(func(tx *bbolt.Tx) error {
		rec, man, err := s.getCase(tx, caseID)
		if err != nil {
			return err
		}
		if rec.State != StateDraft {
			return fmt.Errorf("case %s is %s; materials can be captured only into a draft", caseID, rec.State)
		}
		blobs := tx.Bucket(bucketBlobs)
		if blobs.Get([]byte(hash)) == nil {
			if err := blobs.Put([]byte(hash), s.locValue(hash, loc)); err != nil {
				return err
			}
			fresh = true
			tx.OnCommit(func() { s.packs.added(loc) })
		}
		replaced := ""
		i := 0
		for ; i < len(man.Materials); i++ {
			if man.Materials[i].Code == m.Code && !man.Materials[i].Exempt {
				replaced = man.Materials[i].SHA256
				break
			}
		}
		if i == len(man.Materials) {
			man.Materials = append(man.Materials, m)
		} else {
			man.Materials[i] = m
		}
		out := tx.Bucket(bucketOutbox)
		if err := out.Put(append(blobEntryPrefix(caseID), hash...), nil); err != nil {
			return err
		}
		if replaced != "" && replaced != hash && !usesBlob(man, replaced) {
			if err := out.Delete(append(blobEntryPrefix(caseID), replaced...)); err != nil {
				return err
			}
			if err := dropUnreferenced(tx, s.packs, []string{replaced}); err != nil {
				return err
			}
		}
		return s.putCase(tx, man, rec)
	})
	werr := <-written
	switch {
	case err != nil || !fresh:
		// Nothing claims the appended bytes: the transaction failed, or
		// the store already held this page.
		s.packs.discard(loc)
	case werr != nil:
		err = werr
		s.lost = hash
		if uerr := s.takeBackLost(); uerr != nil {
			err = fmt.Errorf("%w; and taking the capture back failed: %w", werr, uerr)
		}
	}
	if err != nil {
		return "", fmt.Errorf("capture %s into case %s: %w", m.Code, caseID, diskFull(err))
	}
	return hash, nil
}

// diskFull marks a write that failed for want of space as ErrDiskFull.
func diskFull(err error) error {
	if errors.Is(err, syscall.ENOSPC) && !errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// writePacked seals data for loc and writes it there. Call with writeMu
// held: it seals into the store's one buffer.
func (s *Store) writePacked(loc blobLoc, data []byte) error {
	sealed, err := s.c.SealTo(s.sealBuf, data, loc.ad())
	if err != nil {
		return err
	}
	s.sealBuf = sealed
	return s.packs.write(loc, sealed)
}

func usesBlob(m wire.Manifest, hash string) bool {
	for _, mr := range m.Materials {
		if mr.SHA256 == hash && !mr.Exempt {
			return true
		}
	}
	return false
}

// checkDisk refuses a write of n bytes that would leave less than the disk
// margin free. Twice n leaves room for a Compact.
func (s *Store) checkDisk(n int64) error {
	free, err := diskFree(s.dir)
	if err != nil {
		return fmt.Errorf("check free space on %s: %w", s.dir, err)
	}
	margin, err := s.DiskMargin()
	if err != nil {
		return err
	}
	need := margin + 2*uint64(n)
	if free < need {
		return fmt.Errorf("%w: %d bytes free on %s, need %d (%d for the material, %d margin); free space or compact the store",
			ErrDiskFull, free, s.dir, need, 2*uint64(n), margin)
	}
	return nil
}

// Submit marks the draft caseID ready and enqueues its manifest in the
// outbox, in one transaction. Submitting a case already submitted does
// nothing, so a double tap on the kiosk is harmless. It waits for a
// capture under way, so a case is never submitted with a page that may
// yet turn out lost (see dropLost).
func (s *Store) Submit(caseID string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.takeBackLost(); err != nil {
		return fmt.Errorf("submit case %s: %w", caseID, err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		rec, man, err := s.getCase(tx, caseID)
		if err != nil {
			return fmt.Errorf("submit case %s: %w", caseID, err)
		}
		if rec.State != StateDraft {
			return nil
		}
		out := tx.Bucket(bucketOutbox)
		seq, err := out.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64([]byte{outboxManifest}, seq)
		if err := out.Put(key, []byte(caseID)); err != nil {
			return err
		}
		rec.State, rec.Submitted = StatePending, time.Now()
		if err := s.putCase(tx, man, rec); err != nil {
			return err
		}
		return s.logEvent(tx, EventSubmitted, caseID, fmt.Sprintf("%d materials", len(man.Materials)))
	})
}

// DiscardCase deletes the draft caseID and the blobs only it used: the
// kiosk's idle wipe of an abandoned session (S19).
func (s *Store) DiscardCase(caseID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		rec, _, err := s.getCase(tx, caseID)
		if err != nil {
			return fmt.Errorf("discard case %s: %w", caseID, err)
		}
		if rec.State != StateDraft {
			return fmt.Errorf("discard case %s: it is %s; only a draft can be discarded", caseID, rec.State)
		}
		if err := tx.Bucket(bucketCases).Delete([]byte(caseID)); err != nil {
			return err
		}
		return dropBlobEntries(tx, s.packs, caseID)
	})
}

// CaseState returns where caseID is; an error wrapping ErrNotFound when the
// store does not hold it (never made, discarded, or purged).
func (s *Store) CaseState(caseID string) (State, error) {
	var st State
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCases).Get([]byte(caseID))
		if v == nil {
			return fmt.Errorf("case %s: %w", caseID, ErrNotFound)
		}
		var rec caseRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode case %s: %w", caseID, err)
		}
		st = rec.State
		return nil
	})
	return st, err
}

// Case returns the manifest of caseID as stored.
func (s *Store) Case(caseID string) (wire.Manifest, error) {
	var m wire.Manifest
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		_, m, err = s.getCase(tx, caseID)
		return err
	})
	return m, err
}

func (s *Store) getCase(tx *bbolt.Tx, id string) (caseRecord, wire.Manifest, error) {
	var rec caseRecord
	var m wire.Manifest
	v := tx.Bucket(bucketCases).Get([]byte(id))
	if v == nil {
		return rec, m, fmt.Errorf("case %s: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, m, fmt.Errorf("decode case %s: %w", id, err)
	}
	plain, err := s.c.Open(rec.Manifest, recordAD(bucketCases, id))
	if err != nil {
		return rec, m, err
	}
	if err := json.Unmarshal(plain, &m); err != nil {
		return rec, m, fmt.Errorf("decode manifest of case %s: %w", id, err)
	}
	return rec, m, nil
}

func (s *Store) putCase(tx *bbolt.Tx, m wire.Manifest, rec caseRecord) error {
	plain, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if rec.Manifest, err = s.c.Seal(plain, recordAD(bucketCases, m.ID)); err != nil {
		return err
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCases).Put([]byte(m.ID), v)
}

// dropBlobEntries removes the outbox blob entries of caseID and the blobs
// no other case still holds.
func dropBlobEntries(tx *bbolt.Tx, p *packs, caseID string) error {
	prefix := blobEntryPrefix(caseID)
	c := tx.Bucket(bucketOutbox).Cursor()
	var hashes []string
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		hashes = append(hashes, string(k[len(prefix):]))
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return dropUnreferenced(tx, p, hashes)
}

// dropUnreferenced deletes those of hashes that no outbox blob entry names,
// and once that commits, punches their bytes out of the packs. The outbox
// holds only what is not yet sent, so the scan stays short.
func dropUnreferenced(tx *bbolt.Tx, p *packs, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	held := map[string]bool{}
	c := tx.Bucket(bucketOutbox).Cursor()
	for k, _ := c.Seek([]byte{outboxBlob}); k != nil && k[0] == outboxBlob; k, _ = c.Next() {
		if i := bytes.IndexByte(k, 0); i > 0 {
			held[string(k[i+1:])] = true
		}
	}
	blobs := tx.Bucket(bucketBlobs)
	var gone []blobLoc
	for _, h := range hashes {
		v := blobs.Get([]byte(h))
		if held[h] || v == nil {
			continue
		}
		loc, err := decodeLoc(h, v)
		if err != nil {
			return err
		}
		if err := blobs.Delete([]byte(h)); err != nil {
			return err
		}
		gone = append(gone, loc)
	}
	if len(gone) > 0 {
		tx.OnCommit(func() { p.release(gone) })
	}
	return nil
}

// dropLost takes back the capture of the blob hash, whose bytes did not
// reach the disk: each draft naming it loses that material, which the
// kiosk then asks for again, and the blob leaves the store. Only the last
// blob appended can be lost so, and only a capture appends before its
// commit, so no submitted case or queued event names it.
func (s *Store) dropLost(tx *bbolt.Tx, hash string) error {
	out := tx.Bucket(bucketOutbox)
	var owners []string
	c := out.Cursor()
	for k, _ := c.Seek([]byte{outboxBlob}); k != nil && k[0] == outboxBlob; k, _ = c.Next() {
		if i := bytes.IndexByte(k, 0); i > 0 && string(k[i+1:]) == hash {
			owners = append(owners, string(k[1:i]))
		}
	}
	for _, id := range owners {
		rec, man, err := s.getCase(tx, id)
		if err != nil || rec.State != StateDraft {
			continue
		}
		man.Materials = slices.DeleteFunc(man.Materials, func(mr wire.MaterialRef) bool {
			return !mr.Exempt && mr.SHA256 == hash
		})
		if err := s.putCase(tx, man, rec); err != nil {
			return err
		}
		if err := out.Delete(append(blobEntryPrefix(id), hash...)); err != nil {
			return err
		}
		if err := s.logEvent(tx, EventLost, id, "a captured page did not reach the disk; capture it again"); err != nil {
			return err
		}
	}
	return dropUnreferenced(tx, s.packs, []string{hash})
}

// takeBackLost takes back the capture of s.lost, if any: a page whose write
// failed. Call with writeMu held.
func (s *Store) takeBackLost() error {
	if s.lost == "" {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error { return s.dropLost(tx, s.lost) })
	if err != nil {
		return fmt.Errorf("a page that did not reach the disk is still to be taken back: %w", diskFull(err))
	}
	s.lost = ""
	return nil
}

// recoverLast tidies the packs as the store opens, and checks that the last
// blob appended is whole; if not (a crash between the commit and the pack's
// fdatasync), it takes that capture back. Every earlier append was on the
// disk before the next began (writeMu).
func (s *Store) recoverLast() error {
	live := map[uint32][]blobLoc{}
	var last blobLoc
	lastHash := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
			loc, err := s.checkLoc(string(k), v)
			if err != nil {
				return err
			}
			live[loc.pack] = append(live[loc.pack], loc)
			if lastHash == "" || loc.after(last) {
				last, lastHash = loc, string(k)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read blob places: %w", err)
	}
	if err := s.packs.tidy(live); err != nil {
		return err
	}
	if lastHash == "" {
		return nil
	}
	// Lost means its bytes are missing or do not open: a read that fails
	// otherwise (EIO, say) is the disk's trouble, not a crash's, and must
	// not cost a captured page.
	sealed, err := s.packs.read(last)
	switch {
	case err == nil:
		if _, err := s.c.Open(sealed, last.ad()); err == nil {
			return nil
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errNoPack):
	default:
		return fmt.Errorf("check the last page captured: %w", err)
	}
	s.lost = lastHash
	if err := s.takeBackLost(); err != nil {
		return fmt.Errorf("take back the capture of blob %s, lost at a crash: %w", lastHash, err)
	}
	return nil
}
