package docscan

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFolder: pages dropped by a scanner are taken in name order once their
// size settles, a file still being written waits, a JPEG becomes a PNG,
// and a taken file is deleted, so never taken again.
func TestFolder(t *testing.T) {
	dir := t.TempDir()
	sim, err := Simulated{Pages: 2}.Scan(context.Background(), Options{MaxPages: 2})
	if err != nil {
		t.Fatal(err)
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 200, 280)), nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "scan0002.png"), sim[1].PNG, 0o600)
	os.WriteFile(filepath.Join(dir, "scan0001.png"), sim[0].PNG, 0o600)
	os.WriteFile(filepath.Join(dir, "scan0003.jpg"), jpg.Bytes(), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a page"), 0o600)
	// A fourth page arrives half-written and is finished after the others.
	half := filepath.Join(dir, "scan0004.png")
	os.WriteFile(half, sim[0].PNG[:1000], 0o600)
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.WriteFile(half, sim[0].PNG, 0o600)
	}()

	f := Folder{Dir: dir, Settle: 200 * time.Millisecond, Poll: 50 * time.Millisecond}
	var progress []int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pages, err := f.Scan(ctx, Options{MaxPages: 10, Progress: func(p, _ int) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 4 {
		t.Fatalf("took %d pages, want 4", len(pages))
	}
	if !bytes.Equal(pages[0].PNG, sim[0].PNG) || !bytes.Equal(pages[1].PNG, sim[1].PNG) || !bytes.Equal(pages[3].PNG, sim[0].PNG) {
		t.Error("pages out of order, or the half-written one taken early")
	}
	if pages[2].Width != 200 || !bytes.HasPrefix(pages[2].PNG, []byte("\x89PNG")) {
		t.Errorf("JPEG page: %dx%d, not converted to PNG", pages[2].Width, pages[2].Height)
	}
	if len(progress) != 4 {
		t.Errorf("progress called %v", progress)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "scan*")); len(left) != 0 {
		t.Errorf("taken pages left on disk: %v", left)
	}
	// Nothing left: the next scan waits and says so.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, err := f.Scan(ctx2, Options{}); err == nil || !strings.Contains(err.Error(), "no page arrived") {
		t.Errorf("second scan: %v, want no page arrived", err)
	}
}

func TestPageLimits(t *testing.T) {
	_, err := Simulated{}.Scan(context.Background(), Options{MaxPageBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "lower the scanner's resolution") {
		t.Errorf("oversized page: %v", err)
	}
	_, err = Simulated{}.Scan(context.Background(), Options{MaxPixels: 1000})
	if err == nil {
		t.Error("a page over the pixel limit was accepted")
	}
}

// TestPDF binds three pages into a three-page A4 PDF, as pdfinfo reads it.
func TestPDF(t *testing.T) {
	pages, err := Simulated{Pages: 3}.Scan(context.Background(), Options{MaxPages: 3})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := PDF(pages)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	os.WriteFile(path, pdf, 0o600)
	out, err := exec.Command("pdfinfo", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo (poppler-utils): %v", err)
	}
	if !regexp.MustCompile(`Pages:\s+3\n`).Match(out) || !strings.Contains(string(out), "(A4)") {
		t.Errorf("pdfinfo:\n%s", out)
	}
	if _, err := PDF(nil); err == nil {
		t.Error("a PDF of no pages")
	}
}
