// Package idcard reads Chinese resident ID cards, and the foreigner and
// Hong Kong/Macao/Taiwan cards built on them, through a GA 467 SAM reader
// on a serial port.
//
// A read is find → select → read: ReadCard does all three. A reader
// refuses to find a card it has just read until the card is lifted, so a
// kiosk polls ReadCard and treats ErrNoCard as "nothing new".
//
// Every decoded card is checked (lengths, checksum, dates, ID check digit);
// a read either gives a whole, valid card or an error.
package idcard

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"sync"
	"time"

	"yici/drivers/serialport"
)

// PhotoDecoder turns a card's 1024-byte WLT photo into an image. WLT is
// decoded only by vendor-licensed libraries; this is where one plugs in
// (typically a cgo wrapper around the vendor's decoder, giving 102×126).
type PhotoDecoder interface {
	DecodeWLT(wlt []byte) (image.Image, error)
}

// Options tunes a Reader. The zero value, or nil, gives the defaults.
type Options struct {
	// CommandTimeout bounds the wait for a reply to a short command
	// (reset, SAM, find, select, baud). Default 1 s.
	CommandTimeout time.Duration
	// ReadTimeout bounds the wait for a card's data, which takes the
	// reader about a second over the air plus ~0.1 s on the wire at
	// 115200 bps. Default 3 s.
	ReadTimeout time.Duration
	// PhotoDecoder, if set, fills Card.Image; if it fails, so does the
	// read. Without it the photo stays as WLT bytes in Card.Photo.
	PhotoDecoder PhotoDecoder
}

// Reader speaks to one SAM reader. Its methods may be called from several
// goroutines and each command is sent whole, but ReadCard's three commands
// can interleave with another caller's: let one goroutine poll for cards.
type Reader struct {
	mu   sync.Mutex
	link link
	opts Options
}

// New returns a Reader on an open port (115200 8N1 for a reader as shipped).
func New(p serialport.Port, opts *Options) *Reader {
	r := &Reader{link: link{port: p}}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.CommandTimeout <= 0 {
		r.opts.CommandTimeout = time.Second
	}
	if r.opts.ReadTimeout <= 0 {
		r.opts.ReadTimeout = 3 * time.Second
	}
	return r
}

// do sends one command and waits for its reply, which must carry want.
// The reply's data is copied out of the link's buffer.
func (r *Reader) do(ctx context.Context, op string, cmd, para byte, want Status, timeout time.Duration) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.link.drain(); err != nil {
		return nil, fmt.Errorf("idcard: %s: drain: %w", op, err)
	}
	if _, err := r.link.port.Write(command(cmd, para)); err != nil {
		return nil, fmt.Errorf("idcard: %s: write: %w", op, err)
	}
	rep, err := r.link.readFrame(ctx, timeout)
	if err != nil {
		return nil, fmt.Errorf("idcard: %s: %w", op, err)
	}
	if rep.SW3 != want {
		return nil, &StatusError{Op: op, SW1: rep.SW1, SW2: rep.SW2, Status: rep.SW3}
	}
	return append([]byte(nil), rep.Data...), nil
}

// Reset resets the SAM.
func (r *Reader) Reset(ctx context.Context) error {
	_, err := r.do(ctx, "reset", 0x10, 0xFF, StatusOK, r.opts.CommandTimeout)
	return err
}

// CheckSAM asks the SAM for its status; nil means it is working.
func (r *Reader) CheckSAM(ctx context.Context) error {
	_, err := r.do(ctx, "SAM status", 0x11, 0xFF, StatusOK, r.opts.CommandTimeout)
	return err
}

// SAMID reads the SAM's management number, formatted as vendor tools show
// it: "05.01-20260101-000000001-123456789".
func (r *Reader) SAMID(ctx context.Context) (string, error) {
	d, err := r.do(ctx, "SAM ID", 0x12, 0xFF, StatusOK, r.opts.CommandTimeout)
	if err != nil {
		return "", err
	}
	if len(d) < 16 {
		return "", fmt.Errorf("idcard: SAM ID: %d data bytes, want 16", len(d))
	}
	le := func(i int) int32 { return int32(binary.LittleEndian.Uint32(d[i:])) }
	return fmt.Sprintf("%02d.%02d-%d-%09d-%09d", d[0], d[2], le(4), le(8), le(12)), nil
}

// Find looks for a card in the field. With none there, or only one that
// was already read and not lifted since, the error wraps ErrNoCard.
func (r *Reader) Find(ctx context.Context) error {
	_, err := r.do(ctx, "find card", 0x20, 0x01, StatusFound, r.opts.CommandTimeout)
	return err
}

// Select selects the card that Find found.
func (r *Reader) Select(ctx context.Context) error {
	_, err := r.do(ctx, "select card", 0x20, 0x02, StatusOK, r.opts.CommandTimeout)
	return err
}

// Read reads the selected card: text and photo (command 30 01), and with
// withFingerprint also the fingerprints (30 10). It returns a valid card or
// an error, never part of a card.
func (r *Reader) Read(ctx context.Context, withFingerprint bool) (*Card, error) {
	para := byte(0x01)
	if withFingerprint {
		para = 0x10
	}
	d, err := r.do(ctx, "read card", 0x30, para, StatusOK, r.opts.ReadTimeout)
	if err != nil {
		return nil, err
	}
	c, err := decodeRead(d, withFingerprint)
	if err != nil {
		return nil, err
	}
	if r.opts.PhotoDecoder != nil {
		if c.Image, err = r.opts.PhotoDecoder.DecodeWLT(c.Photo); err != nil {
			return nil, fmt.Errorf("idcard: decode photo: %w", err)
		}
	}
	return c, nil
}

// ReadCard does find, select and read (text and photo). With no card, or
// with a card already read and not lifted since, the error wraps ErrNoCard.
func (r *Reader) ReadCard(ctx context.Context) (*Card, error) {
	if err := r.Find(ctx); err != nil {
		return nil, err
	}
	if err := r.Select(ctx); err != nil {
		return nil, err
	}
	return r.Read(ctx, false)
}

// photoLen is the size of the WLT photo in a read reply.
const photoLen = 1024

// decodeRead splits a read reply's data: big-endian lengths of text, photo
// (and fingerprint), then the parts in that order.
func decodeRead(d []byte, withFingerprint bool) (*Card, error) {
	head := 4
	if withFingerprint {
		head = 6
	}
	if len(d) < head {
		return nil, fmt.Errorf("idcard: read card: %d data bytes, too short for the length fields", len(d))
	}
	tl, pl, fl := int(binary.BigEndian.Uint16(d)), int(binary.BigEndian.Uint16(d[2:])), 0
	if withFingerprint {
		fl = int(binary.BigEndian.Uint16(d[4:]))
	}
	if tl != TextLen || pl != photoLen {
		return nil, fmt.Errorf("idcard: read card: text %d and photo %d bytes, want %d and %d", tl, pl, TextLen, photoLen)
	}
	if len(d) != head+tl+pl+fl {
		return nil, fmt.Errorf("idcard: read card: %d data bytes, want %d", len(d), head+tl+pl+fl)
	}
	c, err := DecodeText(d[head : head+tl])
	if err != nil {
		return nil, err
	}
	c.Photo = d[head+tl : head+tl+pl]
	if fl > 0 {
		c.Fingerprint = d[head+tl+pl:]
	}
	return c, nil
}

// bauds are the rates a reader can be switched to, by the Para of 60 xx.
var bauds = []int{115200, 57600, 38400, 19200, 9600}

// SetBaud switches the reader's line rate. The reply is taken to come at
// the old rate (unconfirmed: no capture shows it); afterwards the caller
// must reopen the port at the new rate (Port cannot change it) and make a
// new Reader.
func (r *Reader) SetBaud(ctx context.Context, baud int) error {
	for i, b := range bauds {
		if b == baud {
			_, err := r.do(ctx, fmt.Sprintf("set baud %d", baud), 0x60, byte(i), StatusOK, r.opts.CommandTimeout)
			return err
		}
	}
	return fmt.Errorf("idcard: set baud %d: want one of %v", baud, bauds)
}
