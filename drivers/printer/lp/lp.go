// Package lp prints the desk's A4 documents (PDFs made by
// drivers/printer/a4) through the system print queue, with lp, the
// command-line client of CUPS (Debian: cups-client).
//
// The PDF goes to lp on its standard input: no copy of a document with
// personal data is ever written to a temporary file by this package. CUPS
// itself spools the job until it is printed (/var/spool/cups) and keeps it
// as its PreserveJobFiles setting says; the hall's cupsd.conf decides that.
//
// IMPORTANT: a job's title is shown in the queue (lpstat -o, the CUPS web
// page) to anyone on the machine and on the printer's panel: make it the
// case number and the kind of document, never the applicant's name.
package lp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// The failures a desk tells apart, each wrapped in the error Print returns
// with lp's own message and the printer's name.
var (
	// ErrNotInstalled: there is no lp command.
	ErrNotInstalled = errors.New("lp: the CUPS client is not installed: install cups-client (apt-get install cups-client)")
	// ErrUnknownPrinter: CUPS has no such destination, or none is the
	// default.
	ErrUnknownPrinter = errors.New("lp: no such printer in CUPS")
	// ErrNoScheduler: lp could not reach cupsd.
	ErrNoScheduler = errors.New("lp: the CUPS scheduler is not running: start it (systemctl start cups) and check the printer with lpstat -p")
	// ErrNotPDF: the bytes handed to Print are not a PDF.
	ErrNotPDF = errors.New("lp: not a PDF")
)

// Queue is a CUPS print queue.
type Queue struct {
	Printer string // lp -d; empty means CUPS's default destination
	Command string // path or name of lp; empty means "lp", looked up in PATH
}

// waitDelay is how long Print waits, once lp is killed on a cancelled
// context, for its output pipes to close.
const waitDelay = 5 * time.Second

// requestRE matches lp's answer to a queued job, "request id is
// Office-12 (0 file(s))" (0 files when the job came from stdin).
var requestRE = regexp.MustCompile(`request id is (\S+) \(`)

// Print queues pdf on A4 paper under title and returns the job's id as
// CUPS names it, e.g. "Office-12" (lpstat, cancel). A nil error means the
// scheduler accepted the job, not that the paper came out.
//
// Its errors wrap, besides the cause:
//  1. ErrNotPDF: pdf does not start with %PDF; nothing is run.
//  2. ErrNotInstalled: no lp command.
//  3. ErrUnknownPrinter: CUPS has no destination q.Printer, or no default.
//  4. ErrNoScheduler: cupsd does not answer.
//  5. ctx.Err(): ctx ended before lp did; lp is killed, and a job CUPS
//     had begun to receive is not completed.
//
// Any other failure of lp comes with its exit status and message.
func (q Queue) Print(ctx context.Context, title string, pdf []byte) (job string, err error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return "", fmt.Errorf("%w: %q to %s begins %q, not %%PDF-", ErrNotPDF, title, q.name(), pdf[:min(len(pdf), 8)])
	}
	command := q.Command
	if command == "" {
		command = "lp"
	}
	path, err := exec.LookPath(command)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	var args []string
	if q.Printer != "" {
		args = append(args, "-d", q.Printer)
	}
	args = append(args, "-t", title, "-o", "media=A4")
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, path, args...)
	c.Stdin = bytes.NewReader(pdf)
	c.Stdout, c.Stderr = &stdout, &stderr
	// lp's messages are translated; its English ones are the ones parsed.
	// C.UTF-8 keeps the title's Chinese intact.
	c.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	c.WaitDelay = waitDelay
	if err := c.Run(); err != nil {
		return "", q.failed(ctx, title, err, stderr.String())
	}
	m := requestRE.FindSubmatch(stdout.Bytes())
	if m == nil {
		return "", fmt.Errorf("lp: printing %q to %s: lp gave no request id; it said %q", title, q.name(), strings.TrimSpace(stdout.String()+stderr.String()))
	}
	return string(m[1]), nil
}

// failed turns lp's failure into an error that says what to do.
func (q Queue) failed(ctx context.Context, title string, err error, stderr string) error {
	said := strings.TrimSpace(stderr)
	if ctx.Err() != nil {
		return fmt.Errorf("lp: printing %q to %s: %w (lp stopped: %v)", title, q.name(), ctx.Err(), err)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		// lp found but not started: not executable, or gone since.
		return fmt.Errorf("lp: printing %q to %s: %w", title, q.name(), err)
	}
	switch {
	case strings.Contains(said, "does not exist"), strings.Contains(said, "No default destination"):
		next := "check the name with lpstat -p"
		if q.Printer == "" {
			next = "name a printer, or set the default with lpadmin -d NAME"
		}
		return fmt.Errorf("%w: printing %q to %s: lp says %q; %s", ErrUnknownPrinter, title, q.name(), said, next)
	case strings.Contains(said, "scheduler not responding"),
		// With -d, lp reports the failed connection itself: the socket
		// (/run/cups/cups.sock) is missing or refuses.
		strings.Contains(said, "Unable to connect"),
		strings.Contains(said, "No such file or directory"),
		strings.Contains(said, "Connection refused"):
		return fmt.Errorf("%w: printing %q to %s: lp says %q", ErrNoScheduler, title, q.name(), said)
	}
	return fmt.Errorf("lp: printing %q to %s: %v; lp says %q", title, q.name(), err, said)
}

// name is the printer as errors name it.
func (q Queue) name() string {
	if q.Printer == "" {
		return "the default printer"
	}
	return fmt.Sprintf("printer %q", q.Printer)
}
