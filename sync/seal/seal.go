// Package seal encrypts data at rest with AES-256-GCM: records sealed
// whole (Sealer.Seal), streams sealed in records (Writer, Reader), and the
// key file both are keyed from. The appliance's store and the platform's
// storage use it, so that no personal data lies on a disk in the clear
// (S19).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Sealer seals records with AES-256-GCM. A sealed record is nonce ||
// ciphertext || tag; the nonce is random per record, and the caller's
// additional data (where the record lives) is bound to it, so a record
// copied elsewhere does not open.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for key (KeySize bytes).
func New(key []byte) (Sealer, error) {
	if len(key) != KeySize {
		return Sealer{}, fmt.Errorf("seal: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return Sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Sealer{}, err
	}
	return Sealer{aead}, nil
}

// Seal returns plain sealed with ad.
func (c Sealer) Seal(plain, ad []byte) ([]byte, error) { return c.SealTo(nil, plain, ad) }

// SealTo seals into buf's storage when it is large enough, so that a
// caller sealing page after page does not leave 300 KB for the collector
// each time.
func (c Sealer) SealTo(buf, plain, ad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	out := buf[:0]
	if need := n + len(plain) + c.aead.Overhead(); cap(out) < need {
		out = make([]byte, 0, need)
	}
	out = out[:n]
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("seal: make nonce: %w", err)
	}
	return c.aead.Seal(out, out, plain, ad), nil
}

// SealedLen is the length of n bytes sealed.
func (c Sealer) SealedLen(n int) int64 {
	return int64(c.aead.NonceSize() + n + c.aead.Overhead())
}

// Open returns the plaintext of sealed in a new slice (so it stays valid
// after, say, the bbolt transaction that read sealed ends).
func (c Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n+c.aead.Overhead() {
		return nil, fmt.Errorf("sealed record %q is %d bytes, too short", ad, len(sealed))
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("open sealed record %q: %w", ad, err)
	}
	return plain, nil
}

// LoadOrCreateKey reads the key file at path, or creates it (mode 0600,
// synced, its directory synced) with a fresh random key when it does not
// exist. Where data sealed under a key may already exist, check that the
// key file is there first: a key made afresh would not open the data.
//
// The key is written whole to a temporary file and then linked into
// place, so a crash never leaves a short key file behind, and of two
// processes creating it at once one wins and the other reads its key.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make key: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key file %s holds %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

// SyncFile fsyncs the file at path, so that its bytes survive a crash.
func SyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir fsyncs a directory, so that names made or renamed in it survive
// a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
