package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"yici/sync/seal"
)

// Sealed blobs live in pack files beside the bbolt file, not in it. Inside
// bbolt a 300 KB page costs a copy into ~75 pages and two fdatasyncs of
// them at every commit; appended to a pack it costs one write and one
// fdatasync, which run while the bbolt transaction, now a few small
// records, commits (see Capture).
//
// The packs of the store at db are db+".packs/NNNNNNNN.pack". A pack is
// sealed blobs back to back (nonce || ciphertext || tag, sealed with the
// blob's place as additional data), nothing else: the blobs bucket says
// where each live blob is (blobLoc, with a MAC binding the place to the
// hash), so the bbolt file is the only index. Sealing with the place
// rather than the hash lets a page be sealed and written while its hash is
// still being computed. When a blob leaves the store its bytes are punched out of
// its pack at once, and a pack with no live blob left is deleted, so a
// purged page does not linger even as ciphertext (S19). Bytes no live blob
// claims (a capture whose transaction failed, or a crash between commit
// and punch) are punched when the store opens.

var errNoPack = errors.New("no such pack")

// packLimit is the size past which appends go to a new pack. A variable
// so tests can make packs fill quickly.
var packLimit int64 = 64 << 20

// blobLoc is where a sealed blob is. Under its hash in the blobs bucket it
// is encoded as 'p', pack (4 bytes), offset and length (8 each), then a
// MAC of hash and place (see Store.locValue).
type blobLoc struct {
	pack uint32
	off  int64
	n    int64
}

const (
	locLen = 1 + 4 + 8 + 8
	macLen = 16
)

func (l blobLoc) encode() []byte {
	b := append(make([]byte, 0, locLen), 'p')
	b = binary.BigEndian.AppendUint32(b, l.pack)
	b = binary.BigEndian.AppendUint64(b, uint64(l.off))
	return binary.BigEndian.AppendUint64(b, uint64(l.n))
}

// decodeLoc reads the place stored under hash without checking its MAC:
// enough to free it, not to trust what is read there (Store.checkLoc).
func decodeLoc(hash string, v []byte) (blobLoc, error) {
	if len(v) != locLen+macLen || v[0] != 'p' {
		return blobLoc{}, fmt.Errorf("blob %s: location record of %d bytes is malformed", hash, len(v))
	}
	return blobLoc{
		pack: binary.BigEndian.Uint32(v[1:]),
		off:  int64(binary.BigEndian.Uint64(v[5:])),
		n:    int64(binary.BigEndian.Uint64(v[13:])),
	}, nil
}

// after orders locations by when they were appended.
func (l blobLoc) after(o blobLoc) bool {
	return l.pack > o.pack || l.pack == o.pack && l.off > o.off
}

// ad is the additional data the blob at l is sealed with.
func (l blobLoc) ad() []byte { return append([]byte("packs/"), l.encode()...) }

func (l blobLoc) String() string {
	return fmt.Sprintf("pack %d at %d+%d", l.pack, l.off, l.n)
}

// packs is the open pack directory. Its methods are safe for concurrent
// use; appends are serialised by the Store (writeMu).
type packs struct {
	dir    string
	mu     sync.Mutex
	files  map[uint32]*os.File
	live   map[uint32]int // live blobs per pack
	active uint32         // the pack appends go to
	size   int64          // bytes reserved in the active pack

	freed chan []blobLoc // to punchFreed
	done  chan struct{}  // closed when punchFreed has finished

	closing sync.Once
}

func packDir(dbPath string) string { return dbPath + ".packs" }

func packName(n uint32) string { return fmt.Sprintf("%08d.pack", n) }

// openPacks opens every pack in dir. It creates nothing: the first append
// makes dir and the first pack, so that opening a store with the wrong key
// changes nothing. Live counts are set later by tidy, from the blobs
// bucket.
func openPacks(dir string) (*packs, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.pack"))
	if err != nil {
		return nil, err
	}
	p := &packs{dir: dir, files: map[uint32]*os.File{}, live: map[uint32]int{},
		freed: make(chan []blobLoc, 256), done: make(chan struct{})}
	go p.punchFreed()
	for _, name := range names {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(name), ".pack"), 10, 32)
		if err != nil {
			continue // not ours
		}
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("open pack: %w", err)
		}
		p.files[uint32(n)] = f
		if uint32(n) >= p.active {
			st, err := f.Stat()
			if err != nil {
				p.close()
				return nil, fmt.Errorf("open pack: %w", err)
			}
			p.active, p.size = uint32(n), st.Size()
		}
	}
	return p, nil
}

// create makes pack n the active one, and the pack directory first if need
// be. Call with mu held.
func (p *packs) create(n uint32) error {
	if _, err := os.Stat(p.dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(p.dir, 0o700); err != nil {
			return fmt.Errorf("create pack directory: %w", err)
		}
		if err := seal.SyncDir(filepath.Dir(p.dir)); err != nil {
			return fmt.Errorf("create pack directory: %w", err)
		}
	}
	f, err := os.OpenFile(filepath.Join(p.dir, packName(n)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create pack: %w", err)
	}
	// The new name must survive a crash as surely as the bytes appended
	// to it, whose fdatasync does not cover the directory.
	if err := seal.SyncDir(p.dir); err != nil {
		f.Close()
		// Else every later create of n fails on O_EXCL.
		os.Remove(f.Name())
		return fmt.Errorf("create pack: %w", err)
	}
	p.files[n], p.active, p.size = f, n, 0
	return nil
}

// reserve returns the place of the next n bytes appended, moving to a new
// pack when the active one is full.
func (p *packs) reserve(n int64) (blobLoc, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case len(p.files) == 0:
		if err := p.create(p.active + 1); err != nil {
			return blobLoc{}, err
		}
	case p.size > 0 && p.size+n > packLimit:
		old := p.active
		if err := p.create(old + 1); err != nil {
			return blobLoc{}, err
		}
		p.removeIfEmpty(old)
	}
	loc := blobLoc{pack: p.active, off: p.size, n: n}
	p.size += n
	return loc, nil
}

// write puts sealed at loc and waits until it is on the disk.
func (p *packs) write(loc blobLoc, sealed []byte) error {
	if int64(len(sealed)) != loc.n {
		return fmt.Errorf("write %s: %d bytes sealed", loc, len(sealed))
	}
	f, err := p.file(loc)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(sealed, loc.off); err != nil {
		return fmt.Errorf("write %s: %w", loc, err)
	}
	if err := datasync(f); err != nil {
		return fmt.Errorf("sync %s: %w", loc, err)
	}
	return nil
}

func (p *packs) read(loc blobLoc) ([]byte, error) {
	f, err := p.file(loc)
	if err != nil {
		return nil, err
	}
	b := make([]byte, loc.n)
	if _, err := f.ReadAt(b, loc.off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	return b, nil
}

func (p *packs) file(loc blobLoc) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.files[loc.pack]
	if f == nil {
		return nil, fmt.Errorf("%s: %w in %s", loc, errNoPack, p.dir)
	}
	return f, nil
}

// added counts the blob at loc as live, once its transaction committed.
func (p *packs) added(loc blobLoc) {
	p.mu.Lock()
	p.live[loc.pack]++
	p.mu.Unlock()
}

// release hands the places of blobs that left the store to a goroutine that
// punches out their bytes and deletes the packs left with none. Punching is
// a journalled change of the file: on ext4 it takes as long as a commit,
// and nobody has to wait for it. Errors are not returned: whatever a
// failure (or a crash) leaves is punched or deleted by tidy at the next
// open.
func (p *packs) release(locs []blobLoc) { p.freed <- locs }

func (p *packs) punchFreed() {
	defer close(p.done)
	for locs := range p.freed {
		p.releaseNow(locs)
	}
}

func (p *packs) releaseNow(locs []blobLoc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range locs {
		p.live[l.pack]--
		if !p.removeIfEmpty(l.pack) {
			p.punch(l)
		}
	}
}

// discard punches out bytes no blob entry ever claimed.
func (p *packs) discard(loc blobLoc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.punch(loc)
}

// punch zeroes loc's bytes and frees their blocks. Call with mu held.
func (p *packs) punch(loc blobLoc) {
	if f := p.files[loc.pack]; f != nil {
		punchHole(f, loc.off, loc.n)
	}
}

// removeIfEmpty deletes pack n when no live blob is in it and appends go
// elsewhere, and says whether it did. Call with mu held.
func (p *packs) removeIfEmpty(n uint32) bool {
	f := p.files[n]
	if f == nil || n == p.active || p.live[n] > 0 {
		return false
	}
	f.Close()
	delete(p.files, n)
	delete(p.live, n)
	os.Remove(filepath.Join(p.dir, packName(n)))
	return true
}

// tidy sets the live counts from live (every live blob's place, by pack),
// deletes the packs other than the active one that hold none, and punches
// every byte range no live blob claims.
func (p *packs) tidy(live map[uint32][]blobLoc) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, f := range p.files {
		locs := live[n]
		p.live[n] = len(locs)
		if p.removeIfEmpty(n) {
			continue
		}
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("tidy packs: %w", err)
		}
		slices.SortFunc(locs, func(a, b blobLoc) int { return cmp.Compare(a.off, b.off) })
		at := int64(0)
		for _, l := range append(locs, blobLoc{pack: n, off: st.Size()}) {
			if l.off > at {
				punchHole(f, at, l.off-at)
			}
			at = max(at, l.off+l.n)
		}
		if n == p.active {
			// Appends go past every claimed place, also one whose bytes
			// a crash lost (the file ends before it): that place is
			// punched later, and must not be a new page's by then.
			p.size = max(p.size, at)
		}
	}
	return nil
}

// copyTo copies every pack into dir, which must not exist.
func (p *packs) copyTo(dir string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	for n, f := range p.files {
		out, err := os.OpenFile(filepath.Join(dir, packName(n)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, io.NewSectionReader(f, 0, 1<<62))
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return seal.SyncDir(dir)
}

// close closes the packs once the blobs already released are punched.
// Call it after the last transaction; calls after the first do nothing.
func (p *packs) close() error {
	p.closing.Do(func() { close(p.freed) })
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for n, f := range p.files {
		errs = append(errs, f.Close())
		delete(p.files, n)
	}
	return errors.Join(errs...)
}
