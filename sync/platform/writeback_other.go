//go:build !linux

package platform

import "os"

// startWriteback has no portable form; the fsync at the commit does the work.
func startWriteback(*os.File) {}
