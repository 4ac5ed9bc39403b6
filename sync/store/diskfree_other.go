//go:build !linux

package store

import "math"

// diskFree is unknown off Linux (the appliance runs Linux; this lets the
// package build on a developer's machine); a full disk then surfaces as the
// write error bbolt reports.
func diskFree(string) (uint64, error) { return math.MaxUint64, nil }
