package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// sealer encrypts records with AES-256-GCM. A sealed record is nonce ||
// ciphertext; the nonce is random per record, and the record's bucket and
// key are bound as additional data so a record copied under another key
// does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (sealer, error) {
	if len(key) != KeySize {
		return sealer{}, fmt.Errorf("store key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead}, nil
}

func (c sealer) seal(plain, ad []byte) ([]byte, error) { return c.sealTo(nil, plain, ad) }

// sealTo seals into buf's storage when it is large enough, so that a
// caller sealing page after page does not leave 300 KB for the collector
// each time.
func (c sealer) sealTo(buf, plain, ad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	out := buf[:0]
	if need := n + len(plain) + c.aead.Overhead(); cap(out) < need {
		out = make([]byte, 0, need)
	}
	out = out[:n]
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("make nonce: %w", err)
	}
	return c.aead.Seal(out, out, plain, ad), nil
}

// sealedLen is the length of n bytes sealed.
func (c sealer) sealedLen(n int) int64 {
	return int64(c.aead.NonceSize() + n + c.aead.Overhead())
}

// open returns the plaintext in a new slice, so it stays valid after the
// bbolt transaction that read sealed ends.
func (c sealer) open(sealed, ad []byte) ([]byte, error) {
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

// recordAD is the additional data binding a sealed value to where it lives.
func recordAD(bucket []byte, key string) []byte {
	return append(append(append([]byte{}, bucket...), '/'), key...)
}
