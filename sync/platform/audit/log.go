package audit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"yici/sync/seal"
)

// ErrClosed is returned by Append, Sync and Close on a closed Log.
var ErrClosed = errors.New("audit: log closed")

// Log appends records to an audit log file. Its methods are safe for
// concurrent use.
type Log struct {
	path string
	s    seal.Sealer
	torn int64

	mu    sync.Mutex
	f     *os.File // nil once closed
	seq   uint64   // the last record's seq
	chain chain    // the chain value after it
	off   int64    // the log's length
	err   error    // a failure that leaves the log unusable
	timer *time.Timer
	buf   []byte
	ad    []byte

	flushMu sync.Mutex // serializes flushes; held before mu
	headSeq uint64     // the seq in the head file
}

// Open opens the log at path for appending, creating it (mode 0600) and
// its head when neither exists. It verifies the whole log first; a log
// that fails (*BrokenError) is not appended to: keep it and its head as
// evidence, and move them aside to start a new log. A torn last frame, left
// by a process killed while writing, is cut off (TornBytes says how much).
func Open(path string, s seal.Sealer) (*Log, error) {
	l, err := open(path, s)
	var b *BrokenError
	if errors.As(err, &b) {
		return nil, fmt.Errorf("%w (keep %s and its head as evidence, and move them aside to start a new log)", err, path)
	}
	return l, err
}

func open(path string, s seal.Sealer) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = create(path, s)
	} else if err != nil {
		err = fmt.Errorf("audit: open log: %w", err)
	}
	if err != nil {
		return nil, err
	}
	l, err := resume(f, path, s)
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// resume reads the log on f to its end, to go on from its last record.
func resume(f *os.File, path string, s seal.Sealer) (*Log, error) {
	h, err := readHead(path, s)
	if err != nil {
		return nil, err
	}
	sc := newScanner(f, s)
	sc.mark = h.seq
	for {
		if _, err := sc.next(); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
	}
	if err := sc.checkHead(h); err != nil {
		return nil, err
	}
	if sc.torn > 0 {
		// Appends go after the last whole frame, and the cut must be on
		// the disk before they are.
		if err := f.Truncate(sc.off); err != nil {
			return nil, fmt.Errorf("audit: cut torn frame after record %d: %w", sc.seq, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("audit: fsync log: %w", err)
		}
	}
	return &Log{path: path, s: s, torn: sc.torn, f: f, seq: sc.seq, chain: sc.chain,
		off: sc.off, headSeq: h.seq}, nil
}

// create makes a new log at path: its head first, so that a log without a
// head is never a crash's doing.
func create(path string, s seal.Sealer) (*os.File, error) {
	if _, err := os.Stat(headPath(path)); errors.Is(err, fs.ErrNotExist) {
		if err := writeHead(path, s, head{}); err != nil {
			return nil, err
		}
	} else if h, err := readHead(path, s); err != nil {
		return nil, err
	} else if h.seq > 0 {
		return nil, broken(0, "log %s is missing, its head says %d records", path, h.seq)
	}
	// The magic is written to a temporary file linked into place, so the
	// log never exists without it.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("audit: create log: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(Magic)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err == nil {
		err = seal.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("audit: create log %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("audit: open log: %w", err)
	}
	return f, nil
}

// writeHead replaces the head of the log at path by h, atomically.
func writeHead(path string, s seal.Sealer, h head) error {
	sealed, err := h.seal(s)
	if err != nil {
		return fmt.Errorf("audit: seal head: %w", err)
	}
	hp := headPath(path)
	tmp, err := os.CreateTemp(filepath.Dir(hp), filepath.Base(hp)+".new-*")
	if err != nil {
		return fmt.Errorf("audit: write head: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(sealed)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), hp)
	}
	if err == nil {
		err = seal.SyncDir(filepath.Dir(hp))
	}
	if err != nil {
		return fmt.Errorf("audit: write head %s (seq %d): %w", hp, h.seq, err)
	}
	return nil
}

// TornBytes is how many bytes of a torn last frame Open cut off, 0 when
// the log ended cleanly. The caller should log it: a torn frame is what a
// process killed mid-write leaves, and the record in it is lost.
func (l *Log) TornBytes() int64 { return l.torn }

// Seq returns the seq of the last record appended, 0 for none.
func (l *Log) Seq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Append adds r to the log, with the next seq and, when r.At is zero, the
// time now. The record is written (one write(2)) before Append returns,
// and fsynced within FlushEvery. Once a write or a flush failed, every
// Append fails: a caller serving reads of personal data should refuse them
// rather than serve them unrecorded.
func (l *Log) Append(r Record) error {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if l.err != nil {
		return fmt.Errorf("audit: log unusable since an earlier failure: %w", l.err)
	}
	r.Seq = l.seq + 1
	plain, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit: encode record %d: %w", r.Seq, err)
	}
	if len(plain) > MaxRecord {
		return fmt.Errorf("audit: record %d (%s %s) is %d bytes as JSON, more than %d", r.Seq, r.Action, r.Object, len(plain), MaxRecord)
	}
	n := int(l.s.SealedLen(len(plain)))
	size := headerLen + n + chainLen
	if cap(l.buf) < size {
		l.buf = make([]byte, 0, size+size/2)
	}
	frame := binary.BigEndian.AppendUint64(l.buf[:0], r.Seq)
	frame = binary.BigEndian.AppendUint32(frame, uint32(n))
	l.ad = appendRecordAD(l.ad, r.Seq, l.chain)
	// Sealed in place behind the header: buf is large enough.
	if _, err := l.s.SealTo(frame[headerLen:headerLen], plain, l.ad); err != nil {
		return fmt.Errorf("audit: seal record %d: %w", r.Seq, err)
	}
	frame = frame[:headerLen+n]
	c := nextChain(l.chain, frame)
	frame = append(frame, c[:]...)
	if _, err := l.f.Write(frame); err != nil {
		// A frame written in part would break the log for every later
		// record: cut it off, or stop appending.
		if terr := l.f.Truncate(l.off); terr != nil {
			l.err = fmt.Errorf("cut a record %d written in part: %w", r.Seq, terr)
		}
		return fmt.Errorf("audit: write record %d: %w", r.Seq, err)
	}
	l.seq, l.chain, l.off = r.Seq, c, l.off+int64(size)
	if l.timer == nil {
		l.timer = time.AfterFunc(FlushEvery, l.background)
	}
	return nil
}

func (l *Log) background() {
	l.mu.Lock()
	l.timer = nil
	l.mu.Unlock()
	l.Sync() // a failure is kept in l.err, for the next Append
}

// Sync fsyncs the log and then writes its head, so that every record
// appended so far is on the disk and cutting it off would be seen.
func (l *Log) Sync() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	f, h, err := l.f, head{l.seq, l.chain}, l.err
	l.mu.Unlock()
	if f == nil {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("audit: log unusable since an earlier failure: %w", err)
	}
	if err := l.syncTo(f, h); err != nil {
		l.mu.Lock()
		if l.err == nil {
			l.err = err
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// syncTo fsyncs f and writes h as the head; flushMu is held.
func (l *Log) syncTo(f *os.File, h head) error {
	if h.seq == l.headSeq {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync log (records to %d): %w", h.seq, err)
	}
	if err := writeHead(l.path, l.s, h); err != nil {
		return err
	}
	l.headSeq = h.seq
	return nil
}

// Close syncs the log (see Sync) and closes it.
func (l *Log) Close() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	f, h, err := l.f, head{l.seq, l.chain}, l.err
	l.f = nil
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	if f == nil {
		return ErrClosed
	}
	if err == nil {
		err = l.syncTo(f, h)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit: close log: %w", cerr)
	}
	return err
}
