// Package docscan scans the paper materials an applicant hands over, page
// by page: from a real scanner through SANE's scanimage, from the folder
// a high-speed scanner drops files into, or from a simulated one that
// draws a plausible document. Each page comes lossless as PNG and as what
// to store and send: Encode's choice of a few-grey-level PNG or a JPEG,
// measured to stay legible (SSIM ≥ 0.95) in about 150 KB a page.
package docscan

import (
	"context"
	"errors"
	"fmt"
)

// ErrJam is wrapped by the error of a scan stopped by a jammed feeder.
var ErrJam = errors.New("docscan: document feeder jammed")

// Page is one scanned side of a sheet.
type Page struct {
	// Data is the page to store and send, in the encoding Encode chose
	// for it (ContentType "image/png" or "image/jpeg"): at most about
	// 150 KB for A4 at 200 dpi where the scan as PNG is megabytes.
	Data        []byte
	ContentType string
	// PNG is the page as the scanner gave it, lossless, for a caller
	// that needs every pixel. IMPORTANT: store Data (or Stored()), not
	// PNG.
	PNG           []byte
	Width, Height int // pixels
}

// Stored is what to store and send for p, and its content type: Data,
// or the PNG of a Page made without Data (by hand, in a test).
func (p Page) Stored() (data []byte, contentType string) {
	if p.Data != nil {
		return p.Data, p.ContentType
	}
	return p.PNG, "image/png"
}

// Options limit and report on a scan.
type Options struct {
	// MaxPages is the most pages to take from the feeder; 0 or 1 means one
	// page (a flatbed has no end of its own).
	MaxPages int
	// Progress, when set, is called after each page with its number from 1
	// and the total, or 0 for the total when the feeder decides it.
	Progress func(page, total int)
	// MaxPageBytes and MaxPixels refuse a page larger than this (defaults
	// 20 MB and 40 megapixels, A4 at 600 dpi being about 35): a scanner set
	// to a needless resolution must not fill the kiosk's store.
	MaxPageBytes, MaxPixels int
}

// Scanner is a document scanner. A batch that fails part way — a jammed
// feeder — returns the pages scanned before the failure along with the
// error, so that nothing already scanned is lost; the caller asks for the
// page after them to be put back.
type Scanner interface {
	Scan(ctx context.Context, opts Options) ([]Page, error)
}

func (o Options) pages() int { return max(o.MaxPages, 1) }

// check refuses a page over the size limits, saying what to change.
func (o Options) check(p Page) error {
	maxBytes, maxPixels := o.MaxPageBytes, o.MaxPixels
	if maxBytes <= 0 {
		maxBytes = 20 << 20
	}
	if maxPixels <= 0 {
		maxPixels = 40_000_000
	}
	if len(p.PNG) > maxBytes || p.Width*p.Height > maxPixels {
		return fmt.Errorf("docscan: page of %d bytes, %d×%d pixels is over the limit of %d bytes and %d pixels: lower the scanner's resolution",
			len(p.PNG), p.Width, p.Height, maxBytes, maxPixels)
	}
	return nil
}

func (o Options) progress(page, total int) {
	if o.Progress != nil {
		o.Progress(page, total)
	}
}
