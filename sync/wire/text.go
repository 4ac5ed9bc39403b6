package wire

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Lengths of the text fields the platform accepts, in runes (characters).
const (
	MaxNameRunes = 64  // an applicant's name, a code, a clerk, a terminal
	MaxTextRunes = 256 // a material's name, a reason
)

// ErrEmptyText is what CheckText and ValidName return for "".
var ErrEmptyText = errors.New("is empty")

// ValidName checks a name or a code as it comes in from a terminal:
// CheckText with at most MaxNameRunes characters.
func ValidName(s string) error { return CheckText(s, MaxNameRunes) }

// CheckText checks a line of text that travels into records, screens and
// printouts: valid UTF-8 of 1 to max characters, with no control
// character (C0, DEL, C1; NUL among them), no bidirectional formatting
// character (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which
// can make a printed name read otherwise than it is stored), no U+FFFD
// (what invalid UTF-8 becomes in a decoded JSON string), and no white
// space at either end. The error never repeats s, which may be personal
// data; it says which character, by position and code point, is at fault.
func CheckText(s string, max int) error {
	if s == "" {
		return ErrEmptyText
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	n := 0
	for i, r := range s {
		n++
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return fmt.Errorf("has the control character %U at character %d", r, n)
		case r == utf8.RuneError:
			// encoding/json turns invalid UTF-8 into U+FFFD, so this is
			// how bad bytes in a JSON string show after decoding.
			return fmt.Errorf("has the replacement character U+FFFD at character %d (invalid UTF-8 on the way?)", n)
		case isBidiControl(r):
			return fmt.Errorf("has the bidirectional formatting character %U at character %d", r, n)
		case unicode.IsSpace(r) && (i == 0 || i+utf8.RuneLen(r) == len(s)):
			return fmt.Errorf("begins or ends with white space (%U)", r)
		}
	}
	if n > max {
		return fmt.Errorf("has %d characters, at most %d are accepted", n, max)
	}
	return nil
}

func isBidiControl(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
