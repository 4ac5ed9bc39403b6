package docscan

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"yici/assets"
)

// Simulated is a scanner with a stack of printed documents in its feeder.
// Each page looks like a 150 dpi grey scan of an A4 certificate: off-white
// paper with sensor noise, a shadow along the edge, a title and body text.
// The same settings give the same pixels, so tests can compare them.
type Simulated struct {
	Title string   // the document's title; empty means 居住证明
	Lines []string // its paragraphs; empty means an invented residence certificate
	// Signature is right-aligned under the text (issuer, date); empty with
	// empty Lines means the invented certificate's issuer.
	Signature []string
	Pages     int // sheets in the feeder; 0 means 1
	// JamAt makes the feeder jam at this page (from 1): the pages before
	// it are returned with an error wrapping ErrJam; 0 never jams.
	JamAt int
}

// A4 at 150 dpi.
const (
	simWidth  = 1240
	simHeight = 1754
	simMargin = 150 // 25 mm
)

var simFont = sync.OnceValues(func() (*opentype.Font, error) {
	f, err := opentype.Parse(assets.FontTTF)
	if err != nil {
		return nil, fmt.Errorf("docscan: parse %s: %w", assets.FontName, err)
	}
	return f, nil
})

// simDefaultLines is an invented certificate for an invented person.
var simDefaultLines = []string{
	"兹证明张三，性别男，公民身份号码21020219880504123X，自2019年3月起居住于示例市示例区幸福街道和平社区12号楼3单元502室，至今已满六年，其间遵纪守法，无不良记录。",
	"特此证明。",
	"本证明仅用于办理相关政务服务事项，自开具之日起三个月内有效。",
}

var simDefaultSignature = []string{"示例区幸福街道和平社区居民委员会", "2025年6月1日"}

// Scan returns the pages in the feeder, up to opts.MaxPages.
func (s Simulated) Scan(ctx context.Context, opts Options) ([]Page, error) {
	f, err := simFont()
	if err != nil {
		return nil, err
	}
	total := min(max(s.Pages, 1), opts.pages())
	pages := make([]Page, 0, total)
	for i := 1; i <= total; i++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("docscan: simulated scan cancelled at page %d of %d: %w", i, total, err)
		}
		if i == s.JamAt {
			return pages, fmt.Errorf("%w at page %d of %d: clear the feeder and put that page back", ErrJam, i, total)
		}
		p, err := s.page(f, i, total)
		if err != nil {
			return nil, err
		}
		if err := opts.check(p); err != nil {
			return nil, err
		}
		pages = append(pages, p)
		opts.progress(i, total)
	}
	return pages, nil
}

// simPages keeps each page rendered and encoded, by everything that
// decides its pixels: the same settings give the same page, and rendering
// and encoding an A4 page costs a second under the race detector.
var simPages sync.Map // string → Page

// page is page pageNo of total, rendered the first time.
func (s Simulated) page(f *opentype.Font, pageNo, total int) (Page, error) {
	key := fmt.Sprintf("%q\x00%q\x00%q\x00%d/%d", s.Title, s.Lines, s.Signature, pageNo, total)
	if p, ok := simPages.Load(key); ok {
		return p.(Page), nil
	}
	img, err := s.render(f, pageNo, total)
	if err != nil {
		return Page{}, err
	}
	var buf bytes.Buffer
	// Fast compression: a simulated page is for tests and the demo, where
	// the time to make it matters more than its bytes.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return Page{}, fmt.Errorf("docscan: encode page %d: %w", pageNo, err)
	}
	p, err := encodePage(Page{PNG: buf.Bytes(), Width: simWidth, Height: simHeight}, img)
	if err != nil {
		return Page{}, fmt.Errorf("docscan: simulated page %d: %w", pageNo, err)
	}
	simPages.Store(key, p)
	return p, nil
}

func (s Simulated) render(f *opentype.Font, pageNo, total int) (*image.Gray, error) {
	title := s.Title
	if title == "" {
		title = "居住证明"
	}
	lines, sig := s.Lines, s.Signature
	if len(lines) == 0 {
		lines = simDefaultLines
		if len(sig) == 0 {
			sig = simDefaultSignature
		}
	}
	img := image.NewGray(image.Rect(0, 0, simWidth, simHeight))
	// Paper: about 93 % white, a grain of a few levels, and the lid's
	// shadow darkening the leading edge as on a real flatbed scan.
	rng := rand.New(rand.NewPCG(uint64(pageNo), 0))
	var bits uint64
	for y := range simHeight {
		for x := range simWidth {
			// Two random bits a pixel: a darker grain one time in four.
			if x%32 == 0 {
				bits = rng.Uint64()
			}
			v := 239
			if bits&3 == 0 {
				v -= 3
			}
			bits >>= 2
			if x < 24 {
				v -= (24 - x) * 3
			}
			img.Pix[y*img.Stride+x] = uint8(v)
		}
	}
	titleFace, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 56, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("docscan: font face: %w", err)
	}
	defer titleFace.Close()
	bodyFace, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 30, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("docscan: font face: %w", err)
	}
	defer bodyFace.Close()

	// Toner is not pure black in a scan.
	ink := image.NewUniform(color.Gray{Y: 40})
	d := font.Drawer{Dst: img, Src: ink, Face: titleFace}
	w := d.MeasureString(title)
	y := 260
	for strike := range 2 { // a heavier title, as printed in bold
		d.Dot = fixed.Point26_6{X: (fixed.I(simWidth)-w)/2 + fixed.I(strike), Y: fixed.I(y)}
		d.DrawString(title)
	}

	d.Face = bodyFace
	y += 140
	const pitch = 56 // 1.8 lines
	indent := d.MeasureString("证明")
	for _, para := range lines {
		for i, l := range simWrap(&d, para, fixed.I(simWidth-2*simMargin)-indent, fixed.I(simWidth-2*simMargin)) {
			x := fixed.I(simMargin)
			if i == 0 {
				x += indent
			}
			d.Dot = fixed.Point26_6{X: x, Y: fixed.I(y)}
			d.DrawString(l)
			y += pitch
		}
		y += pitch / 3
	}
	y += 2 * pitch
	for _, l := range sig {
		d.Dot = fixed.Point26_6{X: fixed.I(simWidth-simMargin) - d.MeasureString(l), Y: fixed.I(y)}
		d.DrawString(l)
		y += pitch
	}
	foot := fmt.Sprintf("第 %d 页 共 %d 页", pageNo, total)
	d.Dot = fixed.Point26_6{X: (fixed.I(simWidth) - d.MeasureString(foot)) / 2, Y: fixed.I(simHeight - 90)}
	d.DrawString(foot)
	return img, nil
}

// simWrap breaks a paragraph into lines that fit: the first narrower by
// its indent. Closing punctuation never starts a line; it hangs in the
// margin instead, as Chinese typesetting allows.
func simWrap(d *font.Drawer, para string, first, width fixed.Int26_6) []string {
	var out []string
	limit := first
	var cur []rune
	for _, r := range para {
		if len(cur) > 0 && !strings.ContainsRune(simNoLineStart, r) && d.MeasureString(string(append(cur, r))) > limit {
			out = append(out, string(cur))
			cur, limit = nil, width
		}
		cur = append(cur, r)
	}
	return append(out, string(cur))
}

// simNoLineStart is punctuation that may not begin a line.
const simNoLineStart = "，。、；：？！）》」』”’"
