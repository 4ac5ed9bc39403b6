package sim

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"sync"

	"github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"yici/assets"
)

// Paper geometry of an 80 mm printer at 203 dpi, in dots.
const (
	printerPaperDots = 576 // printable width
	printerCell      = 12  // an ASCII character (font A is 12×24); others take two
	printerGlyph     = 24  // character height
	printerPitch     = 32  // line pitch at normal height: glyph plus the default spacing
	printerTopMargin = 24
	printerTail      = 48 // paper fed past the last line to reach the cutter
)

var printerFont = sync.OnceValues(func() (*opentype.Font, error) {
	f, err := opentype.Parse(assets.FontTTF)
	if err != nil {
		return nil, fmt.Errorf("sim printer: parse %s: %w", assets.FontName, err)
	}
	return f, nil
})

// printerRow is one band of paper: height dots, drawn at a given top.
type printerRow struct {
	h    int
	draw func(dst *image.Gray, top int)
}

// PNG draws the receipt as it came out of the printer: 576 dots wide, one
// pixel per dot, text in the hall's CJK font set in the printer's
// character cells, QR codes and images as printed.
func (r PrinterReceipt) PNG() ([]byte, error) {
	f, err := printerFont()
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: printerGlyph, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("sim printer: font face: %w", err)
	}
	defer face.Close()

	var rows []printerRow
	for _, b := range r.blocks {
		switch b.kind {
		case printerText:
			rows = append(rows, printerTextRows(face, r.Lines[b.index])...)
		case printerQR:
			q, err := qrcode.New(r.QR[b.index], qrcode.Medium)
			if err != nil {
				return nil, fmt.Errorf("sim printer: QR %q: %w", r.QR[b.index], err)
			}
			rows = append(rows, printerImageRow(printerQRImage(q.Bitmap(), b.module), 1, 1, b.align))
		case printerImage:
			rows = append(rows, printerImageRow(r.Images[b.index], b.sx, b.sy, b.align))
		}
	}
	h := printerTopMargin + printerTail
	for _, row := range rows {
		h += row.h
	}
	paper := image.NewGray(image.Rect(0, 0, printerPaperDots, h))
	for i := range paper.Pix {
		paper.Pix[i] = 0xFF
	}
	y := printerTopMargin
	for _, row := range rows {
		row.draw(paper, y)
		y += row.h
	}
	var out bytes.Buffer
	if err := png.Encode(&out, paper); err != nil {
		return nil, fmt.Errorf("sim printer: encode PNG: %w", err)
	}
	return out.Bytes(), nil
}

// printerTextRows lays out a line in character cells, wrapping at the
// right margin as the printer does.
func printerTextRows(face font.Face, l PrinterLine) []printerRow {
	sx, sy := 1, 1
	if l.DoubleW {
		sx = 2
	}
	if l.DoubleH {
		sy = 2
	}
	if l.Text == "" {
		return []printerRow{{h: printerPitch, draw: func(*image.Gray, int) {}}}
	}
	var rows []printerRow
	var cur []rune
	w := 0
	flush := func() {
		rs, width := cur, w
		rows = append(rows, printerRow{h: printerPitch + printerGlyph*(sy-1), draw: func(dst *image.Gray, top int) {
			printerDrawText(dst, face, rs, width, sx, sy, l.Bold, l.Align, top)
		}})
		cur, w = nil, 0
	}
	for _, c := range l.Text {
		cw := printerCellWidth(c)
		if (w+cw)*sx > printerPaperDots && len(cur) > 0 {
			flush()
		}
		cur = append(cur, c)
		w += cw
	}
	flush()
	return rows
}

func printerCellWidth(c rune) int {
	if c < 0x80 {
		return printerCell
	}
	return 2 * printerCell
}

// printerDrawText draws runes centred in their cells at normal size, then
// magnifies by whole dots as the print head does, so double sizes look
// blocky like the real thing. Bold is a second strike one dot to the
// right, which is what emphasized mode is.
func printerDrawText(dst *image.Gray, face font.Face, rs []rune, width, sx, sy int, bold bool, align, top int) {
	m := face.Metrics()
	mask := image.NewAlpha(image.Rect(0, 0, width+1, printerGlyph))
	// Centre the font's ascent+descent in the 24-dot cell.
	base := (fixed.I(printerGlyph) + m.Ascent - m.Descent) / 2
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face}
	x := 0
	for _, c := range rs {
		cw := printerCellWidth(c)
		adv, _ := face.GlyphAdvance(c)
		start := fixed.I(x) + (fixed.I(cw)-adv)/2
		for strike := range 1 + b2int(bold) {
			d.Dot = fixed.Point26_6{X: start + fixed.I(strike), Y: base}
			d.DrawString(string(c))
		}
		x += cw
	}
	rect := image.Rect(0, 0, mask.Rect.Dx()*sx, printerGlyph*sy)
	big := image.NewAlpha(rect)
	xdraw.NearestNeighbor.Scale(big, rect, mask, mask.Rect, draw.Src, nil)
	off := printerAlignX(width*sx, align)
	draw.DrawMask(dst, rect.Add(image.Pt(off, top+(printerPitch-printerGlyph)/2)), image.Black, image.Point{}, big, image.Point{}, draw.Over)
}

// printerImageRow draws a black-and-white image magnified sx×sy.
func printerImageRow(img *image.Gray, sx, sy, align int) printerRow {
	w, h := img.Rect.Dx()*sx, img.Rect.Dy()*sy
	return printerRow{h: h, draw: func(dst *image.Gray, top int) {
		off := printerAlignX(w, align)
		r := image.Rect(off, top, off+w, top+h)
		xdraw.NearestNeighbor.Scale(dst, r, img, img.Rect, draw.Src, nil)
	}}
}

// printerAlignX is where a band w dots wide starts; one wider than the
// paper starts at the margin and is cut off, as on a printer.
func printerAlignX(w, align int) int {
	free := printerPaperDots - w
	if free <= 0 {
		return 0
	}
	switch align {
	case 1:
		return free / 2
	case 2:
		return free
	}
	return 0
}

// printerQRImage draws a QR bitmap (quiet zone included) with modules of
// size dots.
func printerQRImage(bits [][]bool, size int) *image.Gray {
	n := len(bits)
	img := image.NewGray(image.Rect(0, 0, n*size, n*size))
	for y := range n * size {
		for x := range n * size {
			if !bits[y/size][x/size] {
				img.Pix[y*img.Stride+x] = 0xFF
			}
		}
	}
	return img
}

func b2int(b bool) int {
	if b {
		return 1
	}
	return 0
}
