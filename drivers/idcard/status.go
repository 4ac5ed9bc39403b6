package idcard

import (
	"errors"
	"fmt"
)

// Status is SW3, the reader's own status byte in every reply.
type Status byte

// The SW3 values that readers are documented to send.
const (
	StatusOK               Status = 0x90
	StatusFound            Status = 0x9F
	StatusNoContent        Status = 0x91
	StatusBadChecksum      Status = 0x10
	StatusBadLength        Status = 0x11
	StatusBadCommand       Status = 0x21
	StatusNotPermitted     Status = 0x23
	StatusUnknownError     Status = 0x24
	StatusCardAuthFailed   Status = 0x31
	StatusSAMAuthFailed    Status = 0x32
	StatusVerifyFailed     Status = 0x33
	StatusUnknownCardType  Status = 0x40
	StatusReadFailed       Status = 0x41
	StatusRandomFailed     Status = 0x47
	StatusSelfTestFailed   Status = 0x60
	StatusSAMNotAuthorised Status = 0x66
	StatusFindFailed       Status = 0x80
	StatusSelectFailed     Status = 0x81
)

var statusText = map[Status]string{
	StatusOK:               "success",
	StatusFound:            "find card succeeded",
	StatusNoContent:        "this item has no content on the card",
	StatusBadChecksum:      "checksum error in the host's frame",
	StatusBadLength:        "length error in the host's frame",
	StatusBadCommand:       "command error",
	StatusNotPermitted:     "operation not authorised",
	StatusUnknownError:     "unrecognised error",
	StatusCardAuthFailed:   "card failed to authenticate the SAM",
	StatusSAMAuthFailed:    "SAM failed to authenticate the card",
	StatusVerifyFailed:     "information verification error",
	StatusUnknownCardType:  "unrecognised card type",
	StatusReadFailed:       "card read failed",
	StatusRandomFailed:     "failed to get random number",
	StatusSelfTestFailed:   "SAM self-test failed",
	StatusSAMNotAuthorised: "SAM not authorised",
	StatusFindFailed:       "find card failed",
	StatusSelectFailed:     "select card failed",
}

// String gives the meaning and the code, e.g. "find card failed (SW3 0x80)".
func (s Status) String() string {
	t, ok := statusText[s]
	if !ok {
		t = "unknown status"
	}
	return fmt.Sprintf("%s (SW3 0x%02X)", t, byte(s))
}

// ErrNoCard is wrapped by the error of a find that saw no card: none is on
// the reader, or the one there was already read and has not been lifted.
var ErrNoCard = errors.New("idcard: no card")

// StatusError is a reply whose SW3 was not the one the command expects.
type StatusError struct {
	Op       string // the command, e.g. "find card"
	SW1, SW2 byte
	Status   Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("idcard: %s: %v, SW1 SW2 %02X %02X", e.Op, e.Status, e.SW1, e.SW2)
}

// Unwrap gives ErrNoCard for a failed find, so callers polling for a card
// can tell "nothing there" from a fault.
func (e *StatusError) Unwrap() error {
	if e.Status == StatusFindFailed {
		return ErrNoCard
	}
	return nil
}
