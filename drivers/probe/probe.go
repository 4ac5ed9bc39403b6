// Package probe is the hall IT staff's tool for finding out which device
// hangs on which serial port, and for checking each device by hand:
// `yici probe` lists the ports and identifies what answers on each;
// `yici probe idcard|printer|scanner|codescan|evalpad` exercises one.
//
// Identification only sends queries that change nothing on a device: the
// ESC/POS real-time status request (DLE EOT) and the GA 467 SAM status
// and SAM ID commands. ESC/POS goes first because a SAM reader discards
// bytes before its frame preamble, while a printer would print the bytes
// of a GA 467 frame as characters.
package probe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"yici/drivers/idcard"
	"yici/drivers/printer"
	"yici/drivers/serialport"
)

// Identifier recognises one kind of device on an open port.
type Identifier interface {
	// Kind names the device kind, such as "ID-card reader (GA 467)".
	Kind() string
	// Identify sends a query that changes nothing on the device and says
	// what answered; an error means no device of this kind answered.
	Identify(ctx context.Context, p serialport.Port, timeout time.Duration) (detail string, err error)
}

// Hooks plug in the devices whose drivers live elsewhere. The zero value
// probes the ID-card reader, the receipt printer and the SANE scanner;
// the code scanner and the evaluation pad subcommands then say they are
// not wired.
type Hooks struct {
	// Identify are tried on each port after the built-in identifiers
	// (cmd/yici adds the evaluation pad's heartbeat). A code scanner only
	// talks when it scans, so it cannot be identified by a query.
	Identify []Identifier
	// CodeScan waits on p, until ctx ends, for one scan and writes it to
	// out (cmd/yici wires it to drivers/codescan).
	CodeScan func(ctx context.Context, p serialport.Port, out io.Writer) error
	// EvalPad runs a harmless exchange with the pad on p (heartbeat, then
	// a test prompt and a rating request that the person at the pad
	// answers) and writes what happened to out (cmd/yici wires it to
	// drivers/evalpad).
	EvalPad func(ctx context.Context, p serialport.Port, out io.Writer) error
}

// Main runs `yici probe` with args (after "probe") and returns the exit
// status: 0 done, 1 the device did not answer or failed, 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainWith(Hooks{}, args, stdout, stderr)
}

// MainWith is Main with the hooks for the code scanner and the pad.
func MainWith(h Hooks, args []string, stdout, stderr io.Writer) int {
	c := &cli{hooks: h, out: stdout, err: stderr}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, rest := args[0], args[1:]
		switch sub {
		case "idcard":
			return c.idcard(rest)
		case "printer":
			return c.printer(rest)
		case "scanner":
			return c.scanner(rest)
		case "codescan":
			return c.hooked(rest, "codescan", serialport.RoleCodeScan, "code scanner", h.CodeScan)
		case "evalpad":
			return c.hooked(rest, "evalpad", serialport.RoleEvalPad, "evaluation pad", h.EvalPad)
		case "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "yici probe: unknown subcommand %q\n%s", sub, usage)
		return 2
	}
	return c.list(args)
}

const usage = `usage:
  yici probe [--port P]... [--config FILE] [--baud 115200,9600] [--timeout 300ms]
      list serial ports and identify which device answers on each
      (pseudo-terminals, such as the simulators', are not listed: give them with --port)
  yici probe idcard   --port P [--baud N] [--wait 10s] [--unmasked]
      read the card on the reader and print it as JSON (ID number masked unless --unmasked)
  yici probe printer  --port P [--baud N] [--test-page] [--raster-qr]
      print the printer's status; --test-page prints Chinese text and a QR code
  yici probe scanner  [--device SANE-NAME] [--pages N] [--out page.png]
      scan through SANE and report the pages
  yici probe codescan --port P [--baud N] [--wait 30s]
  yici probe evalpad  --port P [--baud N] [--wait 60s]
  Any --port may be replaced by --config FILE, which gives the device's port and settings.
`

type cli struct {
	hooks    Hooks
	out, err io.Writer
}

// flags makes a flag set that reports errors to stderr with the usage.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("yici probe "+name, flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, usage) }
	return fs
}

// portFlags are the flags of a subcommand that talks to one port.
type portFlags struct {
	port, config string
	baud         int
	timeout      time.Duration
}

func (pf *portFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&pf.port, "port", "", "serial port `path`, such as /dev/ttyUSB0")
	fs.StringVar(&pf.config, "config", "", "device configuration `file` giving the port instead of --port")
	fs.IntVar(&pf.baud, "baud", 0, "baud rate (default 115200, or the configuration's)")
	fs.DurationVar(&pf.timeout, "timeout", time.Second, "how long to wait for each reply")
}

// opened is a port a subcommand talks to.
type opened struct {
	serialport.Port
	path     string
	baud     int
	settings string // such as "115200 8N1"
}

func (o opened) label() string { return o.path + " at " + o.settings }

// open opens the port that the flags (or the configuration file's entry
// for role) give.
func (pf *portFlags) open(role serialport.Role) (opened, error) {
	path, cfg := pf.port, serialport.Config{}
	switch {
	case pf.port != "" && pf.config != "":
		return opened{}, errUsage("give --port or --config, not both")
	case pf.config != "":
		dc, err := serialport.LoadConfig(pf.config)
		if err != nil {
			return opened{}, err
		}
		if path, err = dc.Resolve(role); err != nil {
			return opened{}, err
		}
		cfg = dc.Devices[role].Serial
	case pf.port == "":
		return opened{}, errUsage("--port is required (or --config)")
	}
	if pf.baud != 0 {
		cfg.Baud = pf.baud
	}
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	p, err := serialport.Open(path, cfg)
	if err != nil {
		return opened{}, openHelp(err)
	}
	return opened{Port: p, path: path, baud: cfg.Baud, settings: fmt.Sprintf("%d %s", cfg.Baud, cfg.Framing())}, nil
}

type errUsage string

func (e errUsage) Error() string { return string(e) }

// fail prints err for the staff and gives the exit status for it.
func (c *cli) fail(cmd string, err error) int {
	fmt.Fprintf(c.err, "yici probe %s: %v\n", cmd, err)
	var u errUsage
	if errors.As(err, &u) {
		fmt.Fprint(c.err, usage)
		return 2
	}
	return 1
}

// openHelp adds what to do to the errors of opening a port.
func openHelp(err error) error {
	s := err.Error()
	switch {
	case strings.Contains(s, "busy"):
		return fmt.Errorf("%w: another program has the port open (stop yici terminal or desk first)", err)
	case strings.Contains(s, "ermission denied"):
		return fmt.Errorf("%w: add the user to the dialout group (sudo usermod -aG dialout $USER, then log in again)", err)
	case strings.Contains(s, "not found") || strings.Contains(s, "no such file"):
		return fmt.Errorf("%w: the port does not exist; run yici probe to list the ports", err)
	}
	return err
}

// silence reports whether err means no reply came at all, rather than
// a reply that was wrong (a garbled frame at the wrong baud rate, say).
func silence(err error) bool {
	return errors.Is(err, serialport.ErrTimeout) || errors.Is(err, printer.ErrNoAnswer) ||
		errors.Is(err, context.DeadlineExceeded)
}

// nothing is the message for a port where no device answered.
func nothing(path string, tried string) error {
	return fmt.Errorf("nothing answered on %s: check cable/power/baud (tried %s)", path, tried)
}

// bauds parses a comma-separated list of baud rates.
func bauds(s string) ([]int, error) {
	var bs []int
	for f := range strings.SplitSeq(s, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b <= 0 {
			return nil, errUsage(fmt.Sprintf("--baud %q: want baud rates separated by commas, such as 115200,9600", s))
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// escpos identifies an ESC/POS printer by DLE EOT 1, 2 and 4: real-time
// status requests that a printer answers at once, whatever it is doing,
// and that change nothing.
type escpos struct{}

func (escpos) Kind() string { return "receipt printer (ESC/POS)" }

func (escpos) Identify(ctx context.Context, p serialport.Port, timeout time.Duration) (string, error) {
	st, err := printer.New(p, printer.Options{ReplyTimeout: timeout, Settle: -1}).Status(ctx)
	if err != nil {
		return "", err
	}
	return st.String(), nil
}

// ga467 identifies a SAM ID-card reader by its SAM status and SAM ID
// commands, which read the module's state and change nothing.
type ga467 struct{}

func (ga467) Kind() string { return "ID-card reader (GA 467)" }

func (ga467) Identify(ctx context.Context, p serialport.Port, timeout time.Duration) (string, error) {
	r := idcard.New(p, &idcard.Options{CommandTimeout: timeout})
	if err := r.CheckSAM(ctx); err != nil {
		var se *idcard.StatusError
		if errors.As(err, &se) {
			// A well-formed frame with a bad status is still a reader:
			// say what its SAM reported.
			return "SAM reports: " + err.Error(), nil
		}
		return "", err
	}
	id, err := r.SAMID(ctx)
	if err != nil {
		return "SAM working; SAM ID unreadable: " + err.Error(), nil
	}
	return "SAM " + id, nil
}
