// Package sim holds simulators of the hall's devices. Each speaks the same
// bytes as the real device over a pseudo-terminal, so that drivers are tested
// through real serial I/O and a real terminal can be pointed at them.
package sim

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair: the simulator reads and writes Master; a
// driver opens Path (the slave side) as if it were /dev/ttyUSB0.
type PTY struct {
	Master *os.File
	slave  *os.File // held open so the master never reads EIO between driver sessions
	Path   string
}

// OpenPTY makes a pseudo-terminal in raw mode: no echo, no line editing, no
// translation of CR and LF, so binary frames pass unchanged.
func OpenPTY() (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("sim: open pty: %w", err)
	}
	t, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("sim: pty termios: %w", err)
	}
	// cfmakeraw
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, t); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("sim: pty raw mode: %w", err)
	}
	// creack/pty hands the master over in blocking mode, where Close cannot
	// end a Read and deadlines do nothing. A non-blocking duplicate goes
	// through Go's poller, where both work.
	fd, err := unix.Dup(int(m.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	path := s.Name()
	m.Close()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sim: pty non-blocking master: %w", err)
	}
	return &PTY{Master: os.NewFile(uintptr(fd), path+" master"), slave: s, Path: path}, nil
}

// Close closes both sides.
func (p *PTY) Close() error {
	p.slave.Close()
	return p.Master.Close()
}
