//go:build !linux

package store

import "os"

func datasync(f *os.File) error { return f.Sync() }

// punchHole overwrites n bytes at off with zeros where the system has no
// hole punching. Best effort: tidy tries again at the next open.
func punchHole(f *os.File, off, n int64) {
	f.WriteAt(make([]byte, n), off)
}
