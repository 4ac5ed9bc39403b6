package docscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrNoScanimage means SANE's command-line front end is not installed.
var ErrNoScanimage = errors.New("docscan: scanimage not found: install sane-utils (apt-get install sane-utils) and the SANE backend of the scanner")

// SANE scans with scanimage, SANE's command-line front end, so that any
// scanner with a SANE backend works and a crashing backend cannot take the
// kiosk down with it.
type SANE struct {
	Device     string   // as listed by scanimage -L, e.g. "fujitsu:fi-7160:1234"; empty means SANE's default
	Resolution int      // dpi; 0 leaves the device's default
	Mode       string   // "Color", "Gray" or "Lineart"; empty leaves the default
	Source     string   // e.g. "ADF Duplex"; empty leaves the default
	Extra      []string // further scanimage options, passed as they are
	Command    string   // path of scanimage; empty means looked up in PATH
	// PageTimeout is how long one page may take before the scanner is
	// taken for stuck and scanimage is stopped (ErrStuck); default 60 s. A
	// backend that hangs must not hold the kiosk or the window for ever.
	PageTimeout time.Duration
}

// ErrStuck is wrapped by a scan stopped because the scanner did not finish
// within its time.
var ErrStuck = errors.New("the scanner stopped answering")

// Scan scans one page, or with opts.MaxPages > 1 up to that many from the
// feeder, stopping early when the feeder runs empty.
func (s SANE) Scan(ctx context.Context, opts Options) ([]Page, error) {
	cmd := s.Command
	if cmd == "" {
		cmd = "scanimage"
	}
	path, err := exec.LookPath(cmd)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoScanimage, err)
	}
	args := []string{"--format=png"}
	if s.Device != "" {
		args = append(args, "-d", s.Device)
	}
	if s.Resolution > 0 {
		args = append(args, "--resolution", strconv.Itoa(s.Resolution))
	}
	if s.Mode != "" {
		args = append(args, "--mode", s.Mode)
	}
	if s.Source != "" {
		args = append(args, "--source", s.Source)
	}
	args = append(args, s.Extra...)
	limit := s.PageTimeout
	if limit <= 0 {
		limit = 60 * time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, limit*time.Duration(opts.pages()))
	defer cancel()
	var pages []Page
	if opts.pages() == 1 {
		pages, err = s.scanOne(sctx, path, args, opts)
	} else {
		pages, err = s.scanBatch(sctx, path, args, opts)
	}
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("docscan: %s: %w within %v a page; unplug and replug it, or restart it: %w", s.name(), ErrStuck, limit, err)
	}
	return pages, err
}

// command is scanimage with args under ctx: killed when ctx ends, and its
// output pipes closed soon after even if a backend process it forked still
// holds them, so no read waits for a hung backend.
func command(ctx context.Context, path string, args []string) *exec.Cmd {
	c := exec.CommandContext(ctx, path, args...)
	c.WaitDelay = 2 * time.Second
	return c
}

func (s SANE) scanOne(ctx context.Context, path string, args []string, opts Options) ([]Page, error) {
	var out, stderr bytes.Buffer
	c := command(ctx, path, args)
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		return nil, s.failed(ctx, err, stderr.String())
	}
	p, err := page(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("docscan: %s: %w", s.name(), err)
	}
	if err := opts.check(p); err != nil {
		return nil, err
	}
	opts.progress(1, 1)
	return []Page{p}, nil
}

// scannedRE matches scanimage's report of a finished page in batch mode.
var scannedRE = regexp.MustCompile(`^Scanned page (\d+)\.`)

func (s SANE) scanBatch(ctx context.Context, path string, args []string, opts Options) ([]Page, error) {
	dir, err := os.MkdirTemp("", "yici-scan-")
	if err != nil {
		return nil, fmt.Errorf("docscan: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	args = append(args, "--batch="+filepath.Join(dir, "page%04d.png"), "--batch-count="+strconv.Itoa(opts.pages()))
	c := command(ctx, path, args)
	// Progress comes from scanimage's own report, page by page, read as it
	// is written (a writer, not a pipe read to its end, so that a hung
	// backend's open pipe cannot hold the scan past its time).
	var stderr strings.Builder
	c.Stderr = &lineWriter{line: func(line string) {
		stderr.WriteString(line + "\n")
		if m := scannedRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			opts.progress(n, 0)
		}
	}}
	runErr := c.Run()
	names, err := filepath.Glob(filepath.Join(dir, "page*.png"))
	if err != nil {
		return nil, fmt.Errorf("docscan: list pages: %w", err)
	}
	// scanimage stops a batch with an error once the feeder is empty; that
	// is the end of the document, not a failure, when pages came out.
	var stopped error // a failure after some pages: they are returned with it
	if runErr != nil && (len(names) == 0 || !strings.Contains(stderr.String(), "out of documents")) {
		stopped = s.failed(ctx, runErr, stderr.String())
		if strings.Contains(strings.ToLower(stderr.String()), "jammed") {
			stopped = fmt.Errorf("%w: %w", ErrJam, stopped)
		}
		if len(names) == 0 {
			return nil, stopped
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("docscan: %s scanned no page: put the documents in the feeder (%s)", s.name(), lastLine(stderr.String()))
	}
	sort.Strings(names) // page%04d sorts by number
	pages := make([]Page, 0, len(names))
	for i, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("docscan: read scanned page: %w", err)
		}
		p, err := page(b)
		if err != nil && stopped != nil && i == len(names)-1 {
			break // the page the feeder stopped on, half written
		}
		if err == nil {
			err = opts.check(p)
		}
		if err != nil {
			return nil, fmt.Errorf("docscan: %s page %s: %w", s.name(), filepath.Base(n), err)
		}
		pages = append(pages, p)
	}
	return pages, stopped
}

func (s SANE) name() string {
	if s.Device == "" {
		return "default scanner"
	}
	return "scanner " + s.Device
}

// failed explains a scanimage run that did not succeed with its own last
// words, such as "sane_read: Document feeder jammed".
func (s SANE) failed(ctx context.Context, err error, stderr string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("docscan: %s: scan cancelled: %w", s.name(), ctx.Err())
	}
	return fmt.Errorf("docscan: %s: %v: %s", s.name(), err, lastLine(stderr))
}

// lastLine picks scanimage's own error line (it starts "scanimage:") over
// the batch summary it prints after it.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "scanimage:") {
			return lines[i]
		}
	}
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return "no message from scanimage"
}

// page checks that b is a PNG and encodes it for storing.
func page(b []byte) (Page, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return Page{}, fmt.Errorf("scanimage output of %d bytes is not a PNG: %w", len(b), err)
	}
	return encodePage(Page{PNG: b, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}, img)
}

// lineWriter calls line for each line written to it.
type lineWriter struct {
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // an overlong line: keep its start only
		w.line(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}
