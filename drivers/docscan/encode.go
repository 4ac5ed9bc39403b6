package docscan

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
)

// What Encode aims for: a page as legible as the scan (mean SSIM against
// it of at least TargetSSIM) in at most PageBudget bytes, so that a hall's
// shared uplink carries an A4 page at 200 dpi in well under a second.
const (
	TargetSSIM = 0.95
	PageBudget = 150 << 10
)

// Quality search settings, from the measurements in encode_test.go.
const (
	// jpegFloor is the lowest JPEG quality Encode uses. Below it mean
	// SSIM hardly moves (form page: 0.9686 at 10, 0.9775 at 30), because
	// a page is mostly blank paper, while 8×8 blocks show along strokes
	// and a red stamp smears: SSIM sees luminance only.
	jpegFloor = 30
	// ssimStride samples one window in 4×4 while searching: within 0.0005
	// of the full mean on the test pages, in a fifth of the time.
	ssimStride = 4
	ssimMargin = 0.001 // for the sample's error
	// chromaMin is how far apart a pixel's channels must be to count as
	// coloured, well above a colour sensor's noise on grey paper, and
	// colourMin the share of such pixels that makes a page colour: a
	// stamp's ring or a signature in blue is above it.
	chromaMin = 40
	colourMin = 0.0005
)

// Encode chooses how to store a scanned page, by measuring it:
//
//  1. A page without colour is tried as a PNG of 2, 3, 4, 8 and then 16
//     grey levels (chosen for the page by Lloyd's algorithm): the first
//     within TargetSSIM and PageBudget is it. Printed text and forms
//     scanned in grey end here at a few tens of KB.
//  2. Otherwise the page is a JPEG, grey if it has no colour, at the
//     lowest quality from 30 up that meets TargetSSIM: photos, ID-card
//     copies, pages with a stamp or coloured ink.
//
// A page that no quality brings to TargetSSIM is stored at the quality
// that came nearest; one over PageBudget at the quality found is stored
// anyway: legibility before bytes. contentType is "image/png" or
// "image/jpeg". It takes about 0.1–0.5 s for an A4 page at 200 dpi.
func Encode(img image.Image) (data []byte, contentType string, err error) {
	b := img.Bounds()
	if b.Dx() < ssimWin || b.Dy() < ssimWin {
		return nil, "", fmt.Errorf("docscan: encode a %d×%d page: need at least %d×%d pixels", b.Dx(), b.Dy(), ssimWin, ssimWin)
	}
	y := luma(img)
	src := img
	if !colourful(img) {
		src = y
		data, ok, err := encodeLevels(y)
		if err != nil || ok {
			return data, "image/png", err
		}
	}
	data, err = encodeJPEG(src, y)
	return data, "image/jpeg", err
}

// encodeLevels is y as a PNG of the fewest grey levels that keep it
// within TargetSSIM and PageBudget, or ok false when none does.
func encodeLevels(y *image.Gray) (data []byte, ok bool, err error) {
	hist := histogram(y)
	for _, n := range []int{2, 3, 4, 8, 16} {
		p := quantize(y, lloyd(&hist, n))
		s, err := ssim(y, luma(p), ssimStride)
		if err != nil {
			return nil, false, err
		}
		if s < TargetSSIM+ssimMargin {
			continue
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, p); err != nil {
			return nil, false, fmt.Errorf("docscan: encode page as PNG of %d grey levels: %w", n, err)
		}
		return buf.Bytes(), buf.Len() <= PageBudget, nil
	}
	return nil, false, nil
}

// encodeJPEG is src as a JPEG at the lowest quality from jpegFloor that
// meets TargetSSIM against y, src's luminance: one try for most pages,
// a binary search over the qualities above it for the rest.
func encodeJPEG(src image.Image, y *image.Gray) ([]byte, error) {
	try := func(q int) ([]byte, float64, error) {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: q}); err != nil {
			return nil, 0, fmt.Errorf("docscan: encode page as JPEG at quality %d: %w", q, err)
		}
		dec, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			return nil, 0, fmt.Errorf("docscan: decode own JPEG at quality %d: %w", q, err)
		}
		s, err := ssim(y, luma(dec), ssimStride)
		return buf.Bytes(), s, err
	}
	best, s, err := try(jpegFloor)
	if err != nil || s >= TargetSSIM+ssimMargin {
		return best, err
	}
	bestS := s
	lo, hi := jpegFloor, 96 // lo fails; hi passes, or is past the last quality
	for hi-lo > 1 {
		q := (lo + hi) / 2
		data, s, err := try(q)
		if err != nil {
			return nil, err
		}
		if s >= TargetSSIM+ssimMargin {
			best, bestS, hi = data, math.Inf(1), q
		} else {
			if s > bestS {
				best, bestS = data, s
			}
			lo = q
		}
	}
	return best, nil
}

// colourful tells a page with colour on it (a stamp, ink, a photo) from
// one in grey, whether or not it was scanned in colour.
func colourful(img image.Image) bool {
	b := img.Bounds()
	n, limit := 0, int(colourMin*float64(b.Dx()*b.Dy()))
	switch m := img.(type) {
	case *image.Gray, *image.Gray16:
		return false
	case *image.RGBA:
		for y := range b.Dy() {
			row := m.Pix[y*m.Stride : y*m.Stride+4*b.Dx()]
			for x := 0; x < len(row); x += 4 {
				if chroma(row[x], row[x+1], row[x+2]) >= chromaMin {
					if n++; n > limit {
						return true
					}
				}
			}
		}
		return false
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if chroma(c.R, c.G, c.B) >= chromaMin {
				if n++; n > limit {
					return true
				}
			}
		}
	}
	return false
}

// chroma is the spread of a pixel's channels: 0 for grey.
func chroma(r, g, b uint8) int {
	return int(max(r, g, b)) - int(min(r, g, b))
}

func histogram(g *image.Gray) (h [256]float64) {
	for y := range g.Rect.Dy() {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()] {
			h[v]++
		}
	}
	return h
}

// lloyd picks n grey levels for a histogram, each the mean of the values
// nearest it (Lloyd's algorithm), starting evenly between the means of
// ink and paper as Otsu's threshold splits them: starting from quantiles
// would spend every level on the paper's noise.
func lloyd(hist *[256]float64, n int) []uint8 {
	var total, sum float64
	for v, c := range hist {
		total += c
		sum += float64(v) * c
	}
	var wB, sumB, best, lo, hi float64
	lo, hi = 0, 255
	for t := range 255 {
		wB += hist[t]
		sumB += float64(t) * hist[t]
		if wB == 0 || wB == total {
			continue
		}
		mB, mF := sumB/wB, (sum-sumB)/(total-wB)
		if v := wB * (total - wB) * (mB - mF) * (mB - mF); v > best {
			best, lo, hi = v, mB, mF
		}
	}
	c := make([]float64, n)
	for i := range c {
		c[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	for range 20 {
		s, w := make([]float64, n), make([]float64, n)
		for v, h := range hist {
			k := nearest(c, float64(v))
			s[k] += h * float64(v)
			w[k] += h
		}
		for i := range c {
			if w[i] > 0 {
				c[i] = s[i] / w[i]
			}
		}
	}
	out := make([]uint8, n)
	for i, v := range c {
		out[i] = uint8(math.Round(v))
	}
	return out
}

func nearest(levels []float64, v float64) int {
	k := 0
	for i, l := range levels {
		if math.Abs(l-v) < math.Abs(levels[k]-v) {
			k = i
		}
	}
	return k
}

// quantize maps each pixel of g to the nearest of levels, as a paletted
// image (PNG writes 2 levels at 1 bit a pixel, 4 at 2, 16 at 4).
func quantize(g *image.Gray, levels []uint8) *image.Paletted {
	pal := make(color.Palette, len(levels))
	lf := make([]float64, len(levels))
	for i, v := range levels {
		pal[i], lf[i] = color.Gray{Y: v}, float64(v)
	}
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(nearest(lf, float64(v)))
	}
	out := image.NewPaletted(g.Rect, pal)
	for y := range g.Rect.Dy() {
		src := g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()]
		dst := out.Pix[y*out.Stride : y*out.Stride+g.Rect.Dx()]
		for x, v := range src {
			dst[x] = lut[v]
		}
	}
	return out
}

// encodePage is p with its pixels img in Encode's choice of encoding.
func encodePage(p Page, img image.Image) (Page, error) {
	data, ct, err := Encode(img)
	if err != nil {
		return Page{}, err
	}
	p.Data, p.ContentType = data, ct
	return p, nil
}
