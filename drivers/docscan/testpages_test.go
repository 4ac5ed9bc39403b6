package docscan

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The generated pages: A4 at 200 dpi, as a hall's scanner is set for
// materials, each a kind of paper an applicant hands over.
const (
	a4W200, a4H200 = 1654, 2339
)

// mm200 is pixels a millimetre at 200 dpi (a variable, so that int(n *
// mm200) truncates as it would at run time).
var mm200 = 200 / 25.4

// testPageKinds are the pages the encoder is measured on, in report order.
var testPageKinds = []string{"text", "form", "idcard", "photo"}

var testPages sync.Map // kind → image.Image

// testPage is the generated page of a kind: the same pixels every time.
// Rendering one costs about a second, so each is made once per run.
func testPage(tb testing.TB, kind string) image.Image {
	tb.Helper()
	if img, ok := testPages.Load(kind); ok {
		return img.(image.Image)
	}
	img, err := genPage(kind)
	if err != nil {
		tb.Fatalf("generate %s page: %v", kind, err)
	}
	testPages.Store(kind, img)
	return img
}

func genPage(kind string) (image.Image, error) {
	f, err := simFont()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(len(kind)), 7))
	switch kind {
	case "text":
		// A monochrome scan: the certificate's text filling the page.
		img := image.NewRGBA(image.Rect(0, 0, a4W200, a4H200))
		draw.Draw(img, img.Rect, image.NewUniform(color.RGBA{240, 240, 240, 255}), image.Point{}, draw.Src)
		if err := genText(img, f, color.RGBA{40, 40, 40, 255}, 1.0); err != nil {
			return nil, err
		}
		return scanned(img, rng, true), nil
	case "form":
		img := paper()
		if err := genForm(img, f, rng); err != nil {
			return nil, err
		}
		return scanned(img, rng, false), nil
	case "idcard":
		img := paper()
		if err := genIDCards(img, f, rng); err != nil {
			return nil, err
		}
		return scanned(img, rng, false), nil
	case "photo":
		return scanned(genPhoto(rng), rng, false), nil
	}
	return nil, fmt.Errorf("no page kind %q: want one of %v", kind, testPageKinds)
}

// paper is a blank sheet of slightly warm white.
func paper() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, a4W200, a4H200))
	draw.Draw(img, img.Rect, image.NewUniform(color.RGBA{243, 241, 235, 255}), image.Point{}, draw.Src)
	return img
}

func face(f *opentype.Font, pt float64) (font.Face, error) {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: pt, DPI: 200, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("font face of %g pt: %w", pt, err)
	}
	return fc, nil
}

// genText fills the page with a title and body text at 10.5 pt, the size
// of a printed certificate, scale times the text.
func genText(img draw.Image, f *opentype.Font, ink color.Color, scale float64) error {
	title, err := face(f, 22*scale)
	if err != nil {
		return err
	}
	defer title.Close()
	body, err := face(f, 10.5*scale)
	if err != nil {
		return err
	}
	defer body.Close()
	margin := int(25 * mm200)
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: title}
	t := "居住证明"
	d.Dot = fixed.P(a4W200/2-d.MeasureString(t).Round()/2, 330)
	d.DrawString(t)
	d.Face = body
	y := 480
	pitch := int(10.5 * scale * 200 / 72 * 1.8)
	width := fixed.I(a4W200 - 2*margin)
	for y < a4H200-margin {
		for _, para := range simDefaultLines {
			for _, l := range simWrap(&d, para, width, width) {
				if y >= a4H200-margin {
					return nil
				}
				d.Dot = fixed.P(margin, y)
				d.DrawString(l)
				y += pitch
			}
			y += pitch / 3
		}
	}
	return nil
}

// genForm is an application form: ruled boxes with labels and entries,
// and the issuer's red round stamp over its signature line.
func genForm(img *image.RGBA, f *opentype.Font, rng *rand.Rand) error {
	title, err := face(f, 18)
	if err != nil {
		return err
	}
	defer title.Close()
	body, err := face(f, 10.5)
	if err != nil {
		return err
	}
	defer body.Close()
	ink := color.RGBA{30, 30, 35, 255}
	blue := color.RGBA{30, 50, 140, 255} // the applicant's pen
	m := int(20 * mm200)
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: title}
	t := "户口登记申请表"
	d.Dot = fixed.P(a4W200/2-d.MeasureString(t).Round()/2, m+60)
	d.DrawString(t)
	d.Face = body
	labels := []string{"姓名", "性别", "民族", "出生日期", "公民身份号码", "户籍地址", "现住址", "联系电话", "申请事项", "申请理由", "家庭成员", "备注"}
	values := []string{"张三", "男", "汉", "1988年5月4日", "21020219880504123X", "示例市示例区幸福街道和平社区12号楼", "示例市示例区和平路8号", "138 0000 0000", "户口迁入", "因工作调动申请将户口迁入本市", "李四（配偶）、张小三（子）", "无"}
	top, rowH := m+140, 130
	left, right, split := m, a4W200-m, m+380
	for i := range len(labels) + 1 {
		fillRect(img, image.Rect(left, top+i*rowH, right, top+i*rowH+3), ink)
	}
	bottom := top + len(labels)*rowH + 3
	for _, x := range []int{left, split, right - 3} {
		fillRect(img, image.Rect(x, top, x+3, bottom), ink)
	}
	for i, l := range labels {
		base := top + i*rowH + rowH/2 + 14
		d.Src = image.NewUniform(ink)
		d.Dot = fixed.P(left+30, base)
		d.DrawString(l)
		d.Src = image.NewUniform(blue)
		d.Dot = fixed.P(split+30+rng.IntN(8), base+rng.IntN(6)-3)
		d.DrawString(values[i])
	}
	d.Src = image.NewUniform(ink)
	sigY := bottom + 220
	d.Dot = fixed.P(a4W200-m-700, sigY)
	d.DrawString("经办单位（盖章）：示例区公安分局幸福派出所")
	d.Dot = fixed.P(a4W200-m-700, sigY+120)
	d.DrawString("日期：2025年6月1日")
	stamp(img, f, a4W200-m-330, sigY+20, rng)
	return nil
}

// stamp presses a red round seal centred at (cx, cy): a 42 mm ring, a
// star, and text, in ink that takes unevenly and lets the print under it
// show through (multiplied).
func stamp(img *image.RGBA, f *opentype.Font, cx, cy int, rng *rand.Rand) {
	red := [3]float64{210, 35, 45}
	r := 21 * mm200
	mask := image.NewAlpha(image.Rect(0, 0, int(2*r)+8, int(2*r)+8))
	c := float64(mask.Rect.Dx()) / 2
	for y := range mask.Rect.Dy() {
		for x := range mask.Rect.Dx() {
			dx, dy := float64(x)-c, float64(y)-c
			d := math.Hypot(dx, dy)
			a := coverage(math.Abs(d-(r-6)) - 6) // the ring, 12 px wide
			// A five-pointed star in the middle.
			ang := math.Atan2(dy, dx) + math.Pi/2
			k := math.Mod(ang+2*math.Pi, 2*math.Pi/5) - math.Pi/5
			rs := 0.28 * r * (1 - 0.6*math.Abs(k)/(math.Pi/5))
			a = max(a, coverage(d-rs))
			mask.Pix[y*mask.Stride+x] = uint8(255 * a)
		}
	}
	// The seal's name along its bottom half, straight (as many are).
	fc, err := face(f, 11)
	if err == nil {
		d := font.Drawer{Dst: mask, Src: image.Opaque, Face: fc}
		t := "示例区幸福派出所"
		d.Dot = fixed.P(int(c)-d.MeasureString(t).Round()/2, int(c+0.55*r))
		d.DrawString(t)
		fc.Close()
	}
	x0, y0 := cx-int(c), cy-int(c)
	for y := range mask.Rect.Dy() {
		for x := range mask.Rect.Dx() {
			a := float64(mask.Pix[y*mask.Stride+x]) / 255
			if a == 0 || !(image.Point{x0 + x, y0 + y}).In(img.Rect) {
				continue
			}
			a *= 0.65 + 0.35*rng.Float64() // ink takes unevenly
			o := img.PixOffset(x0+x, y0+y)
			for i := range 3 {
				p := float64(img.Pix[o+i])
				img.Pix[o+i] = uint8(p * (1 - a + a*red[i]/255))
			}
		}
	}
}

// coverage is how much of a pixel a shape covers whose edge is at signed
// distance d (negative inside): a one-pixel ramp, anti-aliased.
func coverage(d float64) float64 { return min(max(0.5-d, 0), 1) }

func fillRect(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Over)
}

// genIDCards is a copy of an identity card, front and back, on one page:
// two 85.6×54 mm cards with a printed pattern, a portrait, and text.
func genIDCards(img *image.RGBA, f *opentype.Font, rng *rand.Rand) error {
	body, err := face(f, 9)
	if err != nil {
		return err
	}
	defer body.Close()
	cw, ch := int(85.6*mm200), int(54*mm200)
	x0 := (a4W200 - cw) / 2
	for side, y0 := range []int{int(40 * mm200), int(40*mm200) + ch + int(30*mm200)} {
		// The card's background: a pale tint with fine wavy security lines.
		for y := range ch {
			for x := range cw {
				// Rounded corners of 3 mm.
				rc := 3 * mm200
				qx, qy := math.Max(rc-float64(x), float64(x)-float64(cw)+rc), math.Max(rc-float64(y), float64(y)-float64(ch)+rc)
				if qx > 0 && qy > 0 && math.Hypot(qx, qy) > rc {
					continue
				}
				fx, fy := float64(x)/float64(cw), float64(y)/float64(ch)
				wave := 0.5 + 0.5*math.Sin(float64(y)*0.35+6*math.Sin(float64(x)*0.02))
				r := 215 + 20*fx - 12*wave
				g := 225 + 10*fy - 8*wave
				b := 232 - 10*fx - 4*wave
				o := img.PixOffset(x0+x, y0+y)
				img.Pix[o], img.Pix[o+1], img.Pix[o+2] = uint8(r), uint8(g), uint8(b)
			}
		}
		d := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{20, 20, 25, 255}), Face: body}
		if side == 0 {
			portrait(img, image.Rect(x0+cw-int(30*mm200), y0+int(8*mm200), x0+cw-int(5*mm200), y0+int(40*mm200)), rng)
			lines := []string{"姓名  张三", "性别  男    民族  汉", "出生  1988 年 5 月 4 日", "住址  示例市示例区幸福街道", "      和平社区12号楼3单元502室"}
			for i, l := range lines {
				d.Dot = fixed.P(x0+int(6*mm200), y0+int(10*mm200)+i*int(7*mm200))
				d.DrawString(l)
			}
			d.Dot = fixed.P(x0+int(6*mm200), y0+ch-int(6*mm200))
			d.DrawString("公民身份号码  21020219880504123X")
		} else {
			// The emblem: a red disc with gold, top left.
			cx, cy, r := x0+int(16*mm200), y0+int(16*mm200), 10*mm200
			for y := -int(r); y <= int(r); y++ {
				for x := -int(r); x <= int(r); x++ {
					a := coverage(math.Hypot(float64(x), float64(y)) - r)
					ring := coverage(math.Abs(math.Hypot(float64(x), float64(y))-0.6*r) - 4)
					o := img.PixOffset(cx+x, cy+y)
					for i, v := range [3]float64{200 + 40*ring, 30 + 160*ring, 30} {
						img.Pix[o+i] = uint8(float64(img.Pix[o+i])*(1-a) + v*a)
					}
				}
			}
			d.Face = body
			for i, l := range []string{"中华人民共和国", "居民身份证", "签发机关  示例市公安局示例分局", "有效期限  2019.03.01-2039.03.01"} {
				d.Dot = fixed.P(x0+int(32*mm200), y0+int(12*mm200)+i*int(9*mm200))
				d.DrawString(l)
			}
		}
	}
	return nil
}

// portrait paints a photo-like head and shoulders in r: smooth shading,
// a gradient backdrop and skin texture.
func portrait(img *image.RGBA, r image.Rectangle, rng *rand.Rand) {
	w, h := float64(r.Dx()), float64(r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			fx, fy := (float64(x-r.Min.X))/w, (float64(y-r.Min.Y))/h
			c := [3]float64{200 - 40*fy, 215 - 30*fy, 235 - 10*fy} // backdrop
			// Shoulders: a dark jacket.
			if sh := math.Hypot((fx-0.5)/0.55, (fy-1.15)/0.45); sh < 1 {
				c = [3]float64{40 + 20*fx, 45 + 15*fx, 60 + 20*fx}
			}
			// The face: an ellipse shaded from the left.
			if e := math.Hypot((fx-0.5)/0.26, (fy-0.42)/0.32); e < 1 {
				s := 0.8 + 0.2*math.Cos(e*math.Pi/2) - 0.12*fx
				c = [3]float64{230 * s, 185 * s, 155 * s}
				// Hair over the top of the head.
				if fy < 0.22+0.05*math.Sin(fx*20) {
					c = [3]float64{35, 28, 25}
				}
				// Eyes and mouth, soft.
				for _, ex := range []float64{0.4, 0.6} {
					if math.Hypot((fx-ex)/0.04, (fy-0.4)/0.02) < 1 {
						c = [3]float64{50, 40, 40}
					}
				}
				if math.Hypot((fx-0.5)/0.08, (fy-0.58)/0.02) < 1 {
					c = [3]float64{170, 90, 90}
				}
			}
			n := rng.NormFloat64() * 3
			o := img.PixOffset(x, y)
			for i := range 3 {
				img.Pix[o+i] = uint8(min(max(c[i]+n, 0), 255))
			}
		}
	}
}

// genPhoto is a full-page picture: smooth gradients of a sky and a
// landscape, soft shapes, and fine texture, as a printed photograph.
func genPhoto(rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, a4W200, a4H200))
	// A few random low-frequency waves per channel.
	type wave struct{ fx, fy, ph, amp float64 }
	var waves [3][6]wave
	for c := range waves {
		for i := range waves[c] {
			waves[c][i] = wave{rng.Float64() * 0.01, rng.Float64() * 0.01, rng.Float64() * 6.3, 10 + rng.Float64()*15}
		}
	}
	// Texture: a coarse random field, bilinearly interpolated (grass,
	// leaves), stronger in the lower half.
	const cell = 6
	gw, gh := a4W200/cell+2, a4H200/cell+2
	field := make([]float64, gw*gh)
	for i := range field {
		field[i] = rng.NormFloat64()
	}
	horizon := 0.45 * a4H200
	for y := range a4H200 {
		for x := range a4W200 {
			fx, fy := float64(x), float64(y)
			var c [3]float64
			if fy < horizon+40*math.Sin(fx*0.004) {
				t := fy / horizon // sky: blue to pale
				c = [3]float64{90 + 120*t, 140 + 90*t, 220 + 20*t}
			} else {
				t := (fy - horizon) / (a4H200 - horizon) // land: green to brown
				c = [3]float64{70 + 80*t, 120 - 20*t, 50 + 10*t}
			}
			// The sun: a soft bright disc.
			if s := math.Hypot(fx-1200, fy-400) / 140; s < 1.6 {
				a := min(max(1.6-s, 0), 1)
				c = [3]float64{c[0]*(1-a) + 255*a, c[1]*(1-a) + 240*a, c[2]*(1-a) + 200*a}
			}
			gx, gy := fx/cell, fy/cell
			ix, iy := int(gx), int(gy)
			ax, ay := gx-float64(ix), gy-float64(iy)
			tex := (field[iy*gw+ix]*(1-ax)+field[iy*gw+ix+1]*ax)*(1-ay) + (field[(iy+1)*gw+ix]*(1-ax)+field[(iy+1)*gw+ix+1]*ax)*ay
			texAmp := 4.0
			if fy > horizon {
				texAmp = 14
			}
			o := img.PixOffset(x, y)
			for i := range 3 {
				v := c[i] + tex*texAmp
				for _, w := range waves[i] {
					v += w.amp * math.Sin(fx*w.fx+fy*w.fy+w.ph)
				}
				img.Pix[o+i] = uint8(min(max(v, 0), 255))
				img.Pix[o+3] = 255
			}
		}
	}
	return img
}

// scanned is what a scanner makes of a sheet: its optics soften the print
// (a [1 2 1]/4 blur each way), the lid leaves a shadow along one edge,
// the paper is not evenly lit, and the sensor adds noise of σ 1.5 levels.
// A monochrome scan comes back Gray, a colour one RGBA, with a little
// independent noise per channel.
func scanned(src *image.RGBA, rng *rand.Rand, mono bool) image.Image {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	blur := func(get func(x, y int) float64, set func(x, y int, v float64)) {
		tmp := make([]float64, w*h)
		for y := range h {
			for x := range w {
				l, r := max(x-1, 0), min(x+1, w-1)
				tmp[y*w+x] = (get(l, y) + 2*get(x, y) + get(r, y)) / 4
			}
		}
		for y := range h {
			u, d := max(y-1, 0), min(y+1, h-1)
			for x := range w {
				set(x, y, (tmp[u*w+x]+2*tmp[y*w+x]+tmp[d*w+x])/4)
			}
		}
	}
	light := func(x, y int) float64 {
		v := -2 * float64(y) / float64(h) // uneven lamp, darker at the bottom
		if x < 30 {
			v -= float64(30-x) * 2.5 // the lid's shadow
		}
		return v
	}
	noise := func() float64 { return rng.NormFloat64() * 1.5 }
	clamp := func(v float64) uint8 { return uint8(min(max(math.Round(v), 0), 255)) }
	if mono {
		out := image.NewGray(src.Rect)
		lum := luma(src)
		blur(func(x, y int) float64 { return float64(lum.Pix[y*lum.Stride+x]) },
			func(x, y int, v float64) { out.Pix[y*out.Stride+x] = clamp(v + light(x, y) + noise()) })
		return out
	}
	out := image.NewRGBA(src.Rect)
	for i := range 3 {
		blur(func(x, y int) float64 { return float64(src.Pix[y*src.Stride+4*x+i]) },
			func(x, y int, v float64) { out.Pix[y*out.Stride+4*x+i] = clamp(v + light(x, y) + noise()) })
	}
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	return out
}
