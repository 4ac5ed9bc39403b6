package docscan

import (
	"errors"
	"fmt"

	"github.com/signintech/gopdf"
)

// PDF binds pages into one multi-page A4 PDF, each page scaled to fit
// with its proportions kept: the form a case file archives a document in.
// Each page goes in as its Data (PNG or JPEG, embedded as it is), or its
// PNG when it has no Data.
func PDF(pages []Page) ([]byte, error) {
	if len(pages) == 0 {
		return nil, fmt.Errorf("docscan: pdf: no pages")
	}
	pdf := &gopdf.GoPdf{}
	a4 := *gopdf.PageSizeA4
	pdf.Start(gopdf.Config{PageSize: a4})
	for i, p := range pages {
		data, _ := p.Stored()
		img, err := gopdf.ImageHolderByBytes(data)
		if err != nil {
			return nil, fmt.Errorf("docscan: pdf: page %d: %w", i+1, err)
		}
		w, h := a4.W, a4.W*float64(p.Height)/float64(p.Width)
		if h > a4.H {
			w, h = a4.H*float64(p.Width)/float64(p.Height), a4.H
		}
		pdf.AddPage()
		if err := pdf.ImageByHolder(img, (a4.W-w)/2, (a4.H-h)/2, &gopdf.Rect{W: w, H: h}); err != nil {
			return nil, fmt.Errorf("docscan: pdf: page %d: %w", i+1, err)
		}
	}
	return pdf.GetBytesPdfReturnErr()
}

// Bind is what a material of pages ps is stored as: its one page as
// Stored gives it (a few grey levels or JPEG, chosen by measurement:
// ≤ 150 KB, SSIM ≥ 0.95), or its pages bound into one PDF, in order.
// The desk's intake and the kiosk both store materials so.
func Bind(ps []Page) (data []byte, contentType string, err error) {
	switch len(ps) {
	case 0:
		return nil, "", errors.New("docscan: bind: no pages")
	case 1:
		d, ct := ps[0].Stored()
		return d, ct, nil
	}
	pdf, err := PDF(ps)
	return pdf, "application/pdf", err
}
