// Package docscan scans the paper materials an applicant hands over, page
// by page, as PNG images: from a real scanner through SANE's scanimage, or
// from a simulated one that draws a plausible document.
package docscan

import (
	"context"
)

// Page is one scanned side of a sheet.
type Page struct {
	PNG           []byte
	Width, Height int // pixels
}

// Options limit and report on a scan.
type Options struct {
	// MaxPages is the most pages to take from the feeder; 0 or 1 means one
	// page (a flatbed has no end of its own).
	MaxPages int
	// Progress, when set, is called after each page with its number from 1
	// and the total, or 0 for the total when the feeder decides it.
	Progress func(page, total int)
}

// Scanner is a document scanner.
type Scanner interface {
	Scan(ctx context.Context, opts Options) ([]Page, error)
}

func (o Options) pages() int { return max(o.MaxPages, 1) }

func (o Options) progress(page, total int) {
	if o.Progress != nil {
		o.Progress(page, total)
	}
}
