package audit

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"yici/sync/seal"
)

// Verify reads the log at path and its head, and returns how many records
// verified; on a fault, the error (a *BrokenError when the log fails
// verification) names the first bad record and why. It may run while
// another process appends: a frame still being written at the end is not
// counted and not a fault.
func Verify(path string, s seal.Sealer) (n uint64, err error) {
	return walk(path, s, func(*Record) error { return nil })
}

// List calls fn, in seq order, with each record of the log at path that f
// selects, verifying the log as it goes. It stops at the first error fn
// returns, or at the first bad record, whose error it returns after the
// good records before it were passed to fn.
func List(path string, s seal.Sealer, f Filter, fn func(Record) error) error {
	_, err := walk(path, s, func(r *Record) error {
		if !f.match(r) {
			return nil
		}
		return fn(*r)
	})
	return err
}

// walk verifies the log at path and its head, calling fn with each record.
func walk(path string, s seal.Sealer, fn func(*Record) error) (uint64, error) {
	// The head first: the appender writes a head only for records already
	// in the log, so a head read before the log is never ahead of it
	// unless records were cut off.
	head, herr := readHead(path, s)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: open log: %w", err)
	}
	defer f.Close()
	sc := newScanner(f, s)
	if herr == nil {
		sc.mark = head.seq
	}
	for {
		r, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sc.seq, err
		}
		if err := fn(r); err != nil {
			return sc.seq, err
		}
	}
	if herr != nil {
		return sc.seq, herr
	}
	return sc.seq, sc.checkHead(head)
}

// A scanner reads and verifies a log's frames one by one.
type scanner struct {
	r     *bufio.Reader
	s     seal.Sealer
	magic bool   // the magic was read
	seq   uint64 // records verified
	chain chain  // the chain value after record seq
	off   int64  // the end of the last whole frame
	torn  int64  // bytes of an incomplete frame at the end
	buf   []byte
	ad    []byte

	mark      uint64 // a seq whose chain value to keep, for the head
	markChain chain
}

func newScanner(r io.Reader, s seal.Sealer) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 64<<10), s: s}
}

// next returns the next record, or io.EOF at the end of the log, which
// may be inside a torn last frame (then sc.torn says how many bytes).
func (sc *scanner) next() (*Record, error) {
	if !sc.magic {
		var m [len(Magic)]byte
		k, err := io.ReadFull(sc.r, m[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, fmt.Errorf("audit: read log: %w", err)
		}
		if string(m[:k]) != Magic {
			return nil, broken(0, "log starts with %q, not %q: not an audit log", m[:k], Magic)
		}
		sc.magic, sc.off = true, int64(k)
	}
	seq := sc.seq + 1
	var hdr [headerLen]byte
	k, err := io.ReadFull(sc.r, hdr[:])
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case err == io.ErrUnexpectedEOF:
		sc.torn = int64(k)
		return nil, io.EOF
	case err != nil:
		return nil, fmt.Errorf("audit: read record %d: %w", seq, err)
	}
	// The header is checked before the rest is read: a frame cut short is
	// only torn when what there is of it is a frame's beginning.
	if got := binary.BigEndian.Uint64(hdr[:8]); got != seq {
		return nil, broken(seq, "frame holds seq %d: records removed, reordered or altered", got)
	}
	n := binary.BigEndian.Uint32(hdr[8:])
	if n < sealOver || n > sealOver+MaxRecord {
		return nil, broken(seq, "sealed length %d out of range [%d, %d]", n, sealOver, sealOver+MaxRecord)
	}
	size := headerLen + int(n) + chainLen
	if cap(sc.buf) < size {
		sc.buf = make([]byte, size)
	}
	frame := sc.buf[:size]
	copy(frame, hdr[:])
	k, err = io.ReadFull(sc.r, frame[headerLen:])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		sc.torn = int64(headerLen + k)
		return nil, io.EOF
	case err != nil:
		return nil, fmt.Errorf("audit: read record %d: %w", seq, err)
	}
	body := frame[:headerLen+n]
	want := nextChain(sc.chain, body)
	if got := chain(frame[headerLen+n:]); got != want {
		g, w := diffShort(got, want)
		return nil, broken(seq, "chain %s, want %s", g, w)
	}
	sc.ad = appendRecordAD(sc.ad, seq, sc.chain)
	plain, err := sc.s.Open(frame[headerLen:headerLen+n], sc.ad)
	if err != nil {
		// seal's error holds the additional data, binary here: left out.
		return nil, broken(seq, "does not open with this key (wrong key, or a forged record)")
	}
	r := new(Record)
	if err := json.Unmarshal(plain, r); err != nil {
		return nil, broken(seq, "sealed JSON: %v", err)
	}
	if r.Seq != seq {
		return nil, broken(seq, "JSON holds seq %d", r.Seq)
	}
	sc.seq, sc.chain, sc.off = seq, want, sc.off+int64(size)
	if seq == sc.mark {
		sc.markChain = want
	}
	return r, nil
}

// checkHead checks, after the whole log was read, that head agrees with it.
func (sc *scanner) checkHead(h head) error {
	if h.seq > sc.seq {
		return broken(0, "head says %d records, the log holds %d: records cut off the end", h.seq, sc.seq)
	}
	if h.seq > 0 && sc.markChain != h.chain {
		g, w := diffShort(sc.markChain, h.chain)
		return broken(h.seq, "chain %s, head says %s", g, w)
	}
	if h.seq == 0 && h.chain != (chain{}) {
		return broken(0, "head says no records but chain %s", h.chain.short())
	}
	return nil
}

// head is what the head file holds: the last record synced.
type head struct {
	seq   uint64
	chain chain
}

func headPath(path string) string { return path + ".head" }

// readHead reads and opens the head of the log at path.
func readHead(path string, s seal.Sealer) (head, error) {
	sealed, err := os.ReadFile(headPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return head{}, broken(0, "head %s is missing: records cut off the end would go unseen", headPath(path))
	}
	if err != nil {
		return head{}, fmt.Errorf("audit: read head: %w", err)
	}
	plain, err := s.Open(sealed, []byte(headAD))
	if err != nil {
		return head{}, broken(0, "head %s does not open with this key (wrong key, or an altered head)", headPath(path))
	}
	if len(plain) != headLen {
		return head{}, broken(0, "head %s holds %d bytes, want %d", headPath(path), len(plain), headLen)
	}
	var h head
	h.seq = binary.BigEndian.Uint64(plain)
	copy(h.chain[:], plain[8:])
	return h, nil
}

func (h head) seal(s seal.Sealer) ([]byte, error) {
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, headLen), h.seq)
	plain = append(plain, h.chain[:]...)
	return s.Seal(plain, []byte(headAD))
}
