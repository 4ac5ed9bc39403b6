package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A sealed stream is records back to back. Record i is
//
//	header  uint32, big-endian: the top bit set on the stream's last record,
//	        the rest the record's plaintext length (at most MaxRecord)
//	sealed  nonce (12 bytes), ciphertext, GCM tag (16 bytes)
//
// sealed with the stream's additional data followed by i (uint64,
// big-endian) and the header. The index keeps records from being dropped
// or reordered, the last-record bit from a stream being cut short at a
// record boundary: a stream is whole only when it ends right after its
// last record. Writers make records of RecordSize bytes of plaintext,
// except where they were flushed early and the last.
const (
	RecordSize = 64 << 10
	MaxRecord  = 1 << 20
	lastBit    = 1 << 31
	headerLen  = 4
)

// ErrTruncated is wrapped when a stream ends before its last record.
var ErrTruncated = errors.New("sealed stream ends before its last record")

func recordAD(dst, ad []byte, index uint64, header uint32) []byte {
	dst = append(dst[:0], ad...)
	dst = binary.BigEndian.AppendUint64(dst, index)
	return binary.BigEndian.AppendUint32(dst, header)
}

// Writer seals what is written to it into a stream on w.
type Writer struct {
	w      io.Writer
	c      Sealer
	ad     []byte
	adBuf  []byte
	index  uint64
	buf    []byte // plaintext not yet sealed, up to RecordSize
	out    []byte // header and sealed record
	closed bool
}

// NewWriter starts a stream on w, sealed with ad.
func (c Sealer) NewWriter(w io.Writer, ad []byte) *Writer { return c.ResumeWriter(w, ad, 0) }

// ResumeWriter goes on with a stream on w that already holds records
// records (see Reader.Records), none of them the last.
func (c Sealer) ResumeWriter(w io.Writer, ad []byte, records uint64) *Writer {
	return &Writer{w: w, c: c, ad: ad, index: records,
		buf: make([]byte, 0, RecordSize),
		out: make([]byte, headerLen+c.SealedLen(RecordSize))}
}

// Write buffers p, sealing each record once it is full and more follows
// (until then it may still be the last).
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("seal: write to a closed stream")
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == RecordSize {
			if err := w.seal(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):RecordSize], p)
		w.buf, p, n = w.buf[:len(w.buf)+k], p[k:], n+k
	}
	return n, nil
}

// Flush seals what is buffered as a record that is not the last, so that
// it is in w when the writer is dropped (a piece of an upload ended).
func (w *Writer) Flush() error {
	if w.closed || len(w.buf) == 0 {
		return nil
	}
	return w.seal(false)
}

// Close seals what is buffered as the last record. It does not close w.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.seal(true)
	w.closed = true
	return err
}

// Records is the number of records written so far.
func (w *Writer) Records() uint64 { return w.index }

func (w *Writer) seal(last bool) error {
	header := uint32(len(w.buf))
	if last {
		header |= lastBit
	}
	w.adBuf = recordAD(w.adBuf, w.ad, w.index, header)
	sealed, err := w.c.SealTo(w.out[headerLen:headerLen], w.buf, w.adBuf)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint32(w.out, header)
	if _, err := w.w.Write(w.out[:headerLen+len(sealed)]); err != nil {
		return err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

// Reader opens a sealed stream. It fails, with what and where, on a record
// that does not open, a stream cut short (ErrTruncated) and bytes after
// the last record.
type Reader struct {
	r     io.Reader
	c     Sealer
	ad    []byte
	adBuf []byte
	rec   []byte
	plain []byte
	pos   int
	index uint64
	good  int64 // bytes of the whole records read
	total int64 // plaintext in them
	last  bool
	err   error
}

// NewReader opens the stream on r sealed with ad.
func (c Sealer) NewReader(r io.Reader, ad []byte) *Reader {
	return &Reader{r: r, c: c, ad: ad}
}

func (r *Reader) Read(p []byte) (int, error) {
	for r.pos == len(r.plain) {
		if r.err != nil {
			return 0, r.err
		}
		r.next()
	}
	n := copy(p, r.plain[r.pos:])
	r.pos += n
	return n, nil
}

// Records returns how many whole records were read, their length in the
// stream and in plaintext, and whether the last was the stream's last.
func (r *Reader) Records() (records uint64, size, plain int64, last bool) {
	return r.index, r.good, r.total, r.last
}

func (r *Reader) next() {
	var hdr [headerLen]byte
	_, err := io.ReadFull(r.r, hdr[:])
	if r.last {
		if err == nil || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("seal: bytes after the last record, at %d", r.good)
		}
		r.err = err
		return
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		r.err = fmt.Errorf("%w (%d records, %d bytes)", ErrTruncated, r.index, r.good)
		return
	}
	if err != nil {
		r.err = err
		return
	}
	header := binary.BigEndian.Uint32(hdr[:])
	n := int(header &^ lastBit)
	if n > MaxRecord {
		r.err = fmt.Errorf("seal: record %d at %d claims %d bytes, more than %d", r.index, r.good, n, MaxRecord)
		return
	}
	size := int(r.c.SealedLen(n))
	if cap(r.rec) < size {
		r.rec = make([]byte, size)
	}
	r.rec = r.rec[:size]
	if _, err := io.ReadFull(r.r, r.rec); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w (record %d at %d is short)", ErrTruncated, r.index, r.good)
		}
		r.err = err
		return
	}
	r.adBuf = recordAD(r.adBuf, r.ad, r.index, header)
	nonce := r.c.aead.NonceSize()
	plain, err := r.c.aead.Open(r.plain[:0], r.rec[:nonce], r.rec[nonce:], r.adBuf)
	if err != nil {
		r.err = fmt.Errorf("seal: record %d at %d does not open: %w", r.index, r.good, err)
		return
	}
	r.plain, r.pos = plain, 0
	r.index++
	r.good += int64(headerLen + size)
	r.total += int64(n)
	r.last = header&lastBit != 0
}
