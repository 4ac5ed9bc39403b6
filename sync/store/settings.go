package store

import (
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// Defaults of the settings kept in the store.
const (
	// DefaultRetention is how long a sent case's manifest, with its personal
	// data, stays on the appliance for questions at the desk.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultDiskMargin is the free space a capture must leave, so that the
	// store can still commit the outbox bookkeeping when the disk is nearly full.
	DefaultDiskMargin = 64 << 20
)

var (
	settingRetention  = []byte("retention")
	settingDiskMargin = []byte("disk_margin")
)

// Retention returns how long sent cases are kept before Purge removes them.
func (s *Store) Retention() (time.Duration, error) {
	v, err := s.setting(settingRetention)
	if err != nil || v == nil {
		return DefaultRetention, err
	}
	d, err := time.ParseDuration(string(v))
	if err != nil {
		return 0, fmt.Errorf("setting retention %q: %w", v, err)
	}
	return d, nil
}

// SetRetention sets how long sent cases are kept; d must not be negative.
func (s *Store) SetRetention(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("set retention: %v is negative", d)
	}
	return s.setSetting(settingRetention, []byte(d.String()))
}

// DiskMargin returns the free bytes a capture must leave on the disk.
func (s *Store) DiskMargin() (uint64, error) {
	v, err := s.setting(settingDiskMargin)
	if err != nil || v == nil {
		return DefaultDiskMargin, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("setting disk_margin %q: %w", v, err)
	}
	return n, nil
}

// SetDiskMargin sets the free bytes a capture must leave on the disk.
func (s *Store) SetDiskMargin(n uint64) error {
	return s.setSetting(settingDiskMargin, strconv.AppendUint(nil, n, 10))
}

func (s *Store) setting(key []byte) ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketSettings).Get(key); b != nil {
			v = append([]byte{}, b...)
		}
		return nil
	})
	return v, err
}

func (s *Store) setSetting(key, v []byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSettings).Put(key, v)
	})
}
