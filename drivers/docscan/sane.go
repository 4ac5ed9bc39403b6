package docscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
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
}

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
	if opts.pages() == 1 {
		return s.scanOne(ctx, path, args, opts)
	}
	return s.scanBatch(ctx, path, args, opts)
}

func (s SANE) scanOne(ctx context.Context, path string, args []string, opts Options) ([]Page, error) {
	var out, stderr bytes.Buffer
	c := exec.CommandContext(ctx, path, args...)
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
	c := exec.CommandContext(ctx, path, args...)
	errPipe, err := c.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("docscan: %s: %w", s.name(), err)
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("docscan: start %s: %w", path, err)
	}
	// Progress comes from scanimage's own report, page by page.
	var stderr strings.Builder
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		line := sc.Text()
		stderr.WriteString(line + "\n")
		if m := scannedRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			opts.progress(n, 0)
		}
	}
	// The Scanner stops at an overlong line; drain the rest so that
	// scanimage never blocks writing to a full pipe.
	io.Copy(io.Discard, errPipe)
	runErr := c.Wait()
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
