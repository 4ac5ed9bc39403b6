package wire

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseOffset checks that ParseOffset takes exactly the strings of 1 to
// 18 decimal digits, and reads them as strconv does.
func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"0", "1048576", "007", "", "-1", "+1", " 1", "1 ", "1e6", "0x10",
		"999999999999999999", "1000000000000000000", "9223372036854775807", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseOffset(s)
		digits := s != "" && len(s) <= 18 && strings.Trim(s, "0123456789") == ""
		if digits != (err == nil) {
			t.Fatalf("ParseOffset(%q) = %d, %v; digits only: %v", s, n, err, digits)
		}
		if err != nil {
			return
		}
		want, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n != want || n < 0 {
			t.Fatalf("ParseOffset(%q) = %d, strconv says %d (%v)", s, n, want, perr)
		}
	})
}
