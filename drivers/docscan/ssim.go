package docscan

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// SSIM is the mean structural similarity of b to a (Wang, Bovik, Sheikh
// and Simoncelli, "Image quality assessment: from error visibility to
// structural similarity", IEEE TIP 13(4), 2004): on luminance, with an
// 11×11 Gaussian window of σ 1.5 placed wholly inside the image at every
// pixel, C1 = (0.01·255)² and C2 = (0.03·255)². 1 means identical; a page
// whose text is still as legible as the scan scores about 0.95 or more.
// Colour images are compared by their luminance (BT.601, as JPEG's Y).
func SSIM(a, b image.Image) (float64, error) {
	return ssim(luma(a), luma(b), 1)
}

// ssimWin is the window's side; ssimKernel its normalised 1-D Gaussian.
const ssimWin = 11

var ssimKernel = func() (k [ssimWin]float64) {
	var sum float64
	var g [ssimWin]float64
	for i := range g {
		d := float64(i - ssimWin/2)
		g[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		sum += g[i]
	}
	for i := range g {
		k[i] = float64(g[i] / sum)
	}
	return k
}()

const (
	ssimC1 = (0.01 * 255) * (0.01 * 255)
	ssimC2 = (0.03 * 255) * (0.03 * 255)
)

// ssim is the mean SSIM over the windows whose top-left corner is on a
// multiple of stride in both directions: stride 1 is every window, as
// SSIM reports; a larger one estimates the same mean from a sample, for
// the encoder's search, in about 1/stride of the time.
//
// It runs down the image one row at a time, keeping the last 11 rows of
// horizontally filtered x, y, x², y² and xy, so that its memory is a few
// rows and not five float planes of the page.
func ssim(x, y *image.Gray, stride int) (float64, error) {
	w, h := x.Rect.Dx(), x.Rect.Dy()
	if y.Rect.Dx() != w || y.Rect.Dy() != h {
		return 0, fmt.Errorf("docscan: ssim of a %d×%d image against a %d×%d one: the sizes must match", w, h, y.Rect.Dx(), y.Rect.Dy())
	}
	if w < ssimWin || h < ssimWin {
		return 0, fmt.Errorf("docscan: ssim of a %d×%d image: need at least %d×%d pixels", w, h, ssimWin, ssimWin)
	}
	stride = max(stride, 1)
	ow := (w-ssimWin)/stride + 1 // windows across, sampled
	// ring[r%11] holds the horizontal pass of row r, five quantities
	// interleaved per sampled column.
	var ring [ssimWin][]float64
	for i := range ring {
		ring[i] = make([]float64, 5*ow)
	}
	k := ssimKernel
	horizontal := func(r int) {
		xr := x.Pix[r*x.Stride : r*x.Stride+w]
		yr := y.Pix[r*y.Stride : r*y.Stride+w]
		out := ring[r%ssimWin]
		for c := range ow {
			var sx, sy, sxx, syy, sxy float64
			x0 := c * stride
			for i, kv := range k {
				a, b := float64(xr[x0+i]), float64(yr[x0+i])
				sx += kv * a
				sy += kv * b
				sxx += kv * a * a
				syy += kv * b * b
				sxy += kv * a * b
			}
			o := out[5*c : 5*c+5]
			o[0], o[1], o[2], o[3], o[4] = sx, sy, sxx, syy, sxy
		}
	}
	var total float64
	n := 0
	next := 0 // the next row to filter horizontally
	for top := 0; top+ssimWin <= h; top += stride {
		for ; next < top+ssimWin; next++ {
			if next >= top { // rows skipped between samples are never needed
				horizontal(next)
			}
		}
		var rowSum float64
		for c := range ow {
			var mx, my, xx, yy, xy float64
			for i, kv := range k {
				v := ring[(top+i)%ssimWin][5*c : 5*c+5]
				mx += kv * v[0]
				my += kv * v[1]
				xx += kv * v[2]
				yy += kv * v[3]
				xy += kv * v[4]
			}
			m2x, m2y, mxy := mx*mx, my*my, mx*my
			vx, vy, cov := xx-m2x, yy-m2y, xy-mxy
			rowSum += (2*mxy + ssimC1) * (2*cov + ssimC2) / ((m2x + m2y + ssimC1) * (vx + vy + ssimC2))
		}
		total += rowSum
		n += ow
	}
	return total / float64(n), nil
}

// luma is img's luminance, sharing the pixels of a Gray image and the Y
// plane of a YCbCr one (a decoded JPEG).
func luma(img image.Image) *image.Gray {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		return &image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect}
	case *image.RGBA:
		g := image.NewGray(b)
		for y := range b.Dy() {
			src := m.Pix[y*m.Stride : y*m.Stride+4*b.Dx()]
			dst := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
			for x := range dst {
				r, gg, bb := uint32(src[4*x]), uint32(src[4*x+1]), uint32(src[4*x+2])
				// color.GrayModel's BT.601 weights, on 8-bit values.
				dst[x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 16)
			}
		}
		return g
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		g := image.NewGray(b)
		for y := range b.Dy() {
			src := m.Pix[y*m.Stride : y*m.Stride+b.Dx()]
			dst := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
			for x, p := range src {
				dst[x] = lut[p]
			}
		}
		return g
	}
	g := image.NewGray(b)
	draw.Draw(g, b, img, b.Min, draw.Src)
	return g
}
