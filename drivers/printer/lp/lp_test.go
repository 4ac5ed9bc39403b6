package lp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"yici/drivers/printer/a4"
	"yici/drivers/printer/lp"
)

// notice is a one-time notice for an invented applicant (张三, masked).
func notice(t *testing.T) []byte {
	t.Helper()
	pdf, err := a4.OneTimeNotice(a4.Notice{
		Header: a4.Header{
			Hall:      "大连市某某区政务服务中心",
			CaseNo:    "YC20260305-0042",
			Date:      time.Date(2026, 3, 5, 9, 30, 0, 0, time.Local),
			Applicant: "张*",
			IDNumber:  "2102**********123X",
			Items:     []string{"个体工商户设立登记"},
			Window:    "3号综合窗口",
		},
		Missing: []a4.Material{{Name: "经营场所使用证明", Criteria: "租赁合同原件及出租方产权证明复印件。"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

// fakeLP puts a recording lp first in PATH and returns the directory it
// records into: argv (one argument a line), env (its LC_ALL) and, when
// body lets it read its input, stdin.pdf. body is the rest of the shell
// script: what lp answers.
func fakeLP(t *testing.T, readsStdin bool, body string) string {
	t.Helper()
	bin, rec := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\n" +
		"rec='" + rec + "'\n" +
		`printf '%s\n' "$@" > "$rec/argv"` + "\n" +
		`printf '%s\n' "$LC_ALL" > "$rec/env"` + "\n"
	if readsStdin {
		script += `cat > "$rec/stdin.pdf"` + "\n"
	}
	script += body + "\n"
	if err := os.WriteFile(filepath.Join(bin, "lp"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return rec
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// squash removes the spacing pdftotext puts between CJK glyphs.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

const title = "YC20260305-0042 一次性告知书"

// What lp answers is copied from CUPS 2.4 (systemv/lp.c), in the C locale
// that Print asks for.
func TestPrint(t *testing.T) {
	pdf := notice(t)
	tests := []struct {
		name       string
		printer    string
		readsStdin bool
		answer     string // the fake's script after it records
		wantJob    string
		wantErr    error    // errors.Is; nil and wantIn empty means success
		wantIn     []string // in the error's text
	}{
		{
			name: "default printer", readsStdin: true,
			answer:  `echo "request id is Office-12 (0 file(s))"`,
			wantJob: "Office-12",
		},
		{
			name: "named printer", printer: "Front-A4", readsStdin: true,
			answer:  `echo "request id is Front-A4-7 (0 file(s))"`,
			wantJob: "Front-A4-7",
		},
		{
			name: "unknown printer", printer: "Back-A4",
			answer:  `echo "lp: Error - The printer or class does not exist." >&2; exit 1`,
			wantErr: lp.ErrUnknownPrinter,
			wantIn:  []string{`printer "Back-A4"`, "The printer or class does not exist.", "lpstat -p", title},
		},
		{
			name:    "no default destination",
			answer:  `echo "lp: Error - No default destination." >&2; exit 1`,
			wantErr: lp.ErrUnknownPrinter,
			wantIn:  []string{"the default printer", "No default destination.", "lpadmin -d"},
		},
		{
			name:    "scheduler down, default printer",
			answer:  `echo "lp: Error - scheduler not responding." >&2; exit 1`,
			wantErr: lp.ErrNoScheduler,
			wantIn:  []string{"systemctl start cups", "scheduler not responding"},
		},
		{
			name: "scheduler down, named printer", printer: "Front-A4",
			answer:  `echo "lp: No such file or directory" >&2; exit 1`,
			wantErr: lp.ErrNoScheduler,
			wantIn:  []string{`printer "Front-A4"`, "No such file or directory"},
		},
		{
			name: "other failure", readsStdin: true,
			answer: `echo "lp: Error - unable to queue from stdin - Bad Request." >&2; exit 1`,
			wantIn: []string{"exit status 1", "unable to queue from stdin - Bad Request."},
		},
		{
			name: "no request id", readsStdin: true,
			answer: `exit 0`,
			wantIn: []string{"no request id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeLP(t, tt.readsStdin, tt.answer)
			job, err := lp.Queue{Printer: tt.printer}.Print(context.Background(), title, pdf)
			if tt.wantErr == nil && tt.wantIn == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil {
					t.Fatalf("printed as job %q, want an error", job)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error %q is not %q", err, tt.wantErr)
				}
				for _, w := range tt.wantIn {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
			}
			if job != tt.wantJob {
				t.Errorf("job %q, want %q", job, tt.wantJob)
			}
			want := "-t\n" + title + "\n-o\nmedia=A4\n"
			if tt.printer != "" {
				want = "-d\n" + tt.printer + "\n" + want
			}
			if got := readFile(t, filepath.Join(rec, "argv")); got != want {
				t.Errorf("lp run with\n%s\nwant\n%s", got, want)
			}
			if got := readFile(t, filepath.Join(rec, "env")); got != "C.UTF-8\n" {
				t.Errorf("lp run with LC_ALL=%q, want C.UTF-8", got)
			}
			if tt.readsStdin {
				if got := readFile(t, filepath.Join(rec, "stdin.pdf")); got != string(pdf) {
					t.Errorf("lp read %d bytes on stdin, want the %d of the PDF", len(got), len(pdf))
				}
			}
		})
	}
}

// What reaches lp reads back as the notice, Chinese and all.
func TestPrintedText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skipf("pdftotext not installed (make deps installs poppler-utils): %v", err)
	}
	rec := fakeLP(t, true, `echo "request id is Office-13 (0 file(s))"`)
	if _, err := (lp.Queue{}).Print(context.Background(), title, notice(t)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", filepath.Join(rec, "stdin.pdf"), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext of what lp read: %v", err)
	}
	text := squash(string(out))
	for _, w := range []string{"一次性告知书", "编号：YC20260305-0042", "申请人：张*", "经营场所使用证明", "3号综合窗口"} {
		if !strings.Contains(text, squash(w)) {
			t.Errorf("printed text lacks %q:\n%s", w, text)
		}
	}
}

// Print refuses what it cannot print without running lp, or says lp is
// missing.
func TestRefusals(t *testing.T) {
	pdf := notice(t)
	tests := []struct {
		name    string
		command string
		data    []byte
		want    error
	}{
		{"not a PDF", "", []byte("\x1b@hello"), lp.ErrNotPDF},
		{"empty", "", nil, lp.ErrNotPDF},
		{"no lp in PATH", "", pdf, lp.ErrNotInstalled},
		{"no such command", "/nonexistent/lp", pdf, lp.ErrNotInstalled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec string
			if tt.want == lp.ErrNotPDF {
				rec = fakeLP(t, true, `echo "request id is Office-1 (0 file(s))"`)
			} else {
				t.Setenv("PATH", t.TempDir())
			}
			job, err := lp.Queue{Command: tt.command}.Print(context.Background(), title, tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("job %q, error %v; want %v", job, err, tt.want)
			}
			if tt.want == lp.ErrNotInstalled && !strings.Contains(err.Error(), "cups-client") {
				t.Errorf("error %q does not say to install cups-client", err)
			}
			if rec != "" {
				if _, err := os.Stat(filepath.Join(rec, "argv")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("lp was run (%v)", err)
				}
			}
		})
	}
}

// A cancelled context stops an lp that hangs, and Print says so.
func TestPrintCancelled(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	if err := syscall.Mkfifo(ready, 0o600); err != nil {
		t.Fatal(err)
	}
	// The fake reads the PDF, tells the test through the FIFO, then hangs.
	fakeLP(t, true, "echo started > '"+ready+"'\nexec sleep 600")
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan string, 1)
	go func() {
		// Opening the FIFO blocks until the fake opens its end.
		b, err := os.ReadFile(ready)
		heard <- fmt.Sprintf("%q %v", b, err)
		cancel()
	}()
	start := time.Now()
	job, err := lp.Queue{Printer: "Front-A4"}.Print(ctx, title, notice(t))
	if h := <-heard; h != `"started\n" <nil>` {
		t.Errorf("the fake lp told %s, want started", h)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("job %q, error %v; want context.Canceled", job, err)
	}
	if !strings.Contains(err.Error(), `printer "Front-A4"`) {
		t.Errorf("error %q does not name the printer", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("Print took %v to give up", d)
	}
}
