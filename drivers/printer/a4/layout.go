package a4

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/signintech/gopdf"
	"github.com/skip2/go-qrcode"

	"yici/assets"
)

// A4 in points, and the margins of a government letter (GB/T 9704 keeps
// about 25 mm at the sides; 20 mm leaves the tables room).
const (
	pageW   = 595.28
	pageH   = 841.89
	marginX = 56.7 // 20 mm
	top     = 62.0
	bottom  = pageH - 70.0 // leaves room for the footer
	textW   = pageW - 2*marginX
)

// Type sizes in points: 小二 for titles, 四号-ish body, 小五 for the footer.
const (
	sizeTitle  = 20
	sizeBody   = 12
	sizeTable  = 10.5
	sizeFooter = 9
	leading    = 1.55 // line height as a multiple of the size
)

const fontFamily = "body"

// layout places text, tables and a QR code down A4 pages, starting a new
// page when the next piece does not fit. It keeps the first error and
// turns every later call into a no-op, so a document reads top to bottom.
type layout struct {
	pdf    *gopdf.GoPdf
	y      float64
	size   float64
	widths map[float64]map[rune]float64 // measured glyph widths, per size
	footer string                       // left part of every page's footer
	grey   bool                         // set text in grey (the footer)
	err    error
}

func newLayout(footer string) *layout {
	l := &layout{pdf: &gopdf.GoPdf{}, footer: footer, widths: map[float64]map[rune]float64{}}
	l.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	l.pdf.SetCompressLevel(9)
	if err := l.pdf.AddTTFFontData(fontFamily, assets.FontTTF); err != nil {
		l.err = fmt.Errorf("a4: load font %s: %w", assets.FontName, err)
		return l
	}
	l.newPage()
	return l
}

func (l *layout) fail(err error) {
	if l.err == nil && err != nil {
		l.err = err
	}
}

func (l *layout) newPage() {
	l.pdf.AddPage()
	l.y = top
	if l.size != 0 {
		l.setSize(l.size) // a new page starts without a font
	}
}

func (l *layout) setSize(size float64) {
	l.size = size
	l.fail(l.pdf.SetFont(fontFamily, "", size))
}

func (l *layout) lineHeight() float64 { return l.size * leading }

// fits starts a new page unless h more points fit on this one.
func (l *layout) fits(h float64) {
	if l.y+h > bottom {
		l.newPage()
	}
}

// width measures s at the current size.
func (l *layout) width(s string) float64 {
	ws := l.widths[l.size]
	if ws == nil {
		ws = map[rune]float64{}
		l.widths[l.size] = ws
	}
	total := 0.0
	for _, r := range s {
		w, ok := ws[r]
		if !ok {
			var err error
			w, err = l.pdf.MeasureTextWidth(string(r))
			l.fail(err)
			ws[r] = w
		}
		total += w
	}
	return total
}

// noLineStart are the marks Chinese typesetting keeps off the start of a
// line (避头): they hang at the end of the line before instead.
const noLineStart = "，。、；：？！）》」』”’.,;:?!)"

// wrap breaks s into lines no wider than w at the current size. Chinese
// breaks between any two characters; a run of Latin letters and digits
// (a case number, a URL) breaks at a space if it can.
func (l *layout) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		var line []rune
		lw := 0.0
		for _, r := range para {
			rw := l.width(string(r))
			if lw+rw > w && len(line) > 0 && !strings.ContainsRune(noLineStart, r) {
				cut := len(line)
				if r < 0x80 && r != ' ' {
					if i := lastIndex(line, ' '); i > 0 {
						cut = i + 1
					}
				}
				lines = append(lines, strings.TrimRight(string(line[:cut]), " "))
				line = append([]rune(nil), line[cut:]...)
				lw = l.width(string(line))
			}
			line = append(line, r)
			lw += rw
		}
		lines = append(lines, string(line))
	}
	return lines
}

func lastIndex(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// text writes one line at x with its top at l.y.
func (l *layout) text(x float64, s string) {
	if l.err != nil || s == "" {
		return
	}
	// PDF fills glyphs with the fill colour, which the table's shading
	// changes; set it for each line.
	if l.grey {
		l.pdf.SetFillColor(110, 110, 110)
	} else {
		l.pdf.SetFillColor(0, 0, 0)
	}
	// gopdf places text by its baseline; the font's ascent is about 0.8 em.
	l.pdf.SetXY(x, l.y+(l.lineHeight()-l.size)/2+0.8*l.size)
	l.fail(l.pdf.Text(s))
}

// para writes a wrapped paragraph, indented by two characters like a
// Chinese letter when indent is set, breaking across pages by line.
func (l *layout) para(s string, indent bool) {
	if l.err != nil {
		return
	}
	if indent {
		s = "\u3000\u3000" + s
	}
	for _, line := range l.wrap(s, textW) {
		l.fits(l.lineHeight())
		l.text(marginX, line)
		l.y += l.lineHeight()
	}
}

// centred writes one line centred on the page.
func (l *layout) centred(s string) {
	l.fits(l.lineHeight())
	l.text((pageW-l.width(s))/2, s)
	l.y += l.lineHeight()
}

// right writes lines flush right, kept together on one page.
func (l *layout) right(lines ...string) {
	l.fits(float64(len(lines)) * l.lineHeight())
	for _, s := range lines {
		l.text(pageW-marginX-l.width(s), s)
		l.y += l.lineHeight()
	}
}

func (l *layout) space(h float64) { l.y += h }

// title writes the document's title, large and centred.
func (l *layout) title(s string) {
	l.setSize(sizeTitle)
	l.centred(s)
	l.setSize(sizeBody)
	l.space(6)
}

// column is a table column: its heading and its share of the text width.
type column struct {
	head  string
	share float64
}

const cellPad = 4.0

// table draws rows under a shaded heading row. Rows grow to fit wrapped
// text; a row that does not fit the rest of the page moves to the next,
// and a row longer than a page is split by line. The heading is repeated
// at the top of each page the table continues on.
func (l *layout) table(cols []column, rows [][]string) {
	if l.err != nil {
		return
	}
	l.setSize(sizeTable)
	defer l.setSize(sizeBody)
	ws := make([]float64, len(cols))
	heads := make([]string, len(cols))
	for i, c := range cols {
		ws[i], heads[i] = c.share*textW, c.head
	}
	lh := l.lineHeight()
	header := func() { l.cells(ws, wrapAll(l, heads, ws), true) }
	// A heading alone at the foot of a page is no use: keep it with a line.
	l.fits(2 * (lh + 2*cellPad))
	header()
	for _, row := range rows {
		wrapped := wrapAll(l, row, ws)
		n := 0
		for _, c := range wrapped {
			n = max(n, len(c))
		}
		full := float64(n)*lh + 2*cellPad
		if l.y+full > bottom && full <= bottom-top-(lh+2*cellPad) {
			l.newPage()
			header()
		}
		for from := 0; from < n; {
			k := int((bottom - l.y - 2*cellPad) / lh)
			if k < 1 {
				l.newPage()
				header()
				continue
			}
			k = min(k, n-from)
			part := make([][]string, len(wrapped))
			for i, c := range wrapped {
				part[i] = c[min(from, len(c)):min(from+k, len(c))]
			}
			l.cells(ws, part, false)
			from += k
		}
	}
	l.space(8)
}

func wrapAll(l *layout, cells []string, ws []float64) [][]string {
	out := make([][]string, len(ws))
	for i := range ws {
		s := ""
		if i < len(cells) {
			s = cells[i]
		}
		out[i] = l.wrap(s, ws[i]-2*cellPad)
	}
	return out
}

// cells draws one band of a row: each column's lines in a bordered box,
// shaded for the heading row.
func (l *layout) cells(ws []float64, lines [][]string, shaded bool) {
	n := 1
	for _, c := range lines {
		n = max(n, len(c))
	}
	h := float64(n)*l.lineHeight() + 2*cellPad
	l.pdf.SetLineWidth(0.6)
	l.pdf.SetStrokeColor(60, 60, 60)
	style := "D"
	if shaded {
		style = "FD"
	}
	top, x := l.y, marginX
	for i, w := range ws {
		l.pdf.SetFillColor(225, 228, 232) // text left it black
		l.pdf.RectFromUpperLeftWithStyle(x, top, w, h, style)
		l.y = top + cellPad
		for _, s := range lines[i] {
			l.text(x+cellPad, s)
			l.y += l.lineHeight()
		}
		x += w
	}
	l.y = top + h
}

// qrSide is the printed size of the QR code: 30 mm, which an old phone
// reads from a desk's distance.
const qrSide = 85.0

// qr draws a QR code of payload at the right margin with its caption
// under it, and moves down past it.
func (l *layout) qr(payload, caption string) {
	if l.err != nil || payload == "" {
		return
	}
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		l.fail(fmt.Errorf("a4: QR code of %d bytes: %w", len(payload), err))
		return
	}
	// Eight pixels a module keeps the edges sharp when the PDF is scaled.
	img := q.Image(len(q.Bitmap()) * 8)
	l.setSize(sizeFooter)
	defer l.setSize(sizeBody)
	l.fits(qrSide + l.lineHeight())
	x := pageW - marginX - qrSide
	l.fail(l.pdf.ImageFrom(img, x, l.y, &gopdf.Rect{W: qrSide, H: qrSide}))
	l.y += qrSide
	l.text(x+(qrSide-l.width(caption))/2, caption)
	l.y += l.lineHeight()
}

// finish writes the footer on every page, now that the page count is
// known, and returns the PDF.
func (l *layout) finish() ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	n := l.pdf.GetNumberOfPages()
	for i := 1; i <= n; i++ {
		if err := l.pdf.SetPage(i); err != nil {
			return nil, fmt.Errorf("a4: page %d of %d: %w", i, n, err)
		}
		l.setSize(sizeFooter)
		l.pdf.SetStrokeColor(150, 150, 150)
		l.pdf.SetLineWidth(0.4)
		l.pdf.Line(marginX, bottom+18, pageW-marginX, bottom+18)
		l.y = bottom + 22
		l.grey = true
		l.text(marginX, l.footer)
		num := fmt.Sprintf("第 %d 页 共 %d 页", i, n)
		l.text(pageW-marginX-l.width(num), num)
	}
	if l.err != nil {
		return nil, l.err
	}
	var b bytes.Buffer
	if err := l.pdf.Write(&b); err != nil {
		return nil, fmt.Errorf("a4: write PDF: %w", err)
	}
	return b.Bytes(), nil
}
