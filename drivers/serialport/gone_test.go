package serialport

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"go.bug.st/serial"
)

func TestGone(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"EIO (pty hung up, adapter pulled during write)", syscall.EIO, true},
		{"ENXIO", fmt.Errorf("open: %w", syscall.ENXIO), true},
		{"ENODEV", syscall.ENODEV, true},
		{"device file gone", &fs.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.ENOENT}, true},
		{"port busy", &serial.PortError{}, false}, // the zero code is PortBusy
		{"EAGAIN", syscall.EAGAIN, false},
		{"other", errors.New("parity error"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gone(tt.err); got != tt.want {
				t.Fatalf("gone(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
