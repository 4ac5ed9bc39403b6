package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data and the size that reaches it, not its times:
// all a pack append needs.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// punchHole frees the blocks under n bytes at off; they read as zeros.
// Best effort: tidy tries again at the next open.
func punchHole(f *os.File, off, n int64) {
	unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}
