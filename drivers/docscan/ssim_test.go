package docscan

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func grey(w, h int, f func(x, y int) uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.Pix[y*g.Stride+x] = f(x, y)
		}
	}
	return g
}

// TestSSIMHand checks SSIM against values worked out by hand on one 11×11
// window, where the mean SSIM is that window's.
func TestSSIMHand(t *testing.T) {
	flat := func(v uint8) *image.Gray { return grey(11, 11, func(int, int) uint8 { return v }) }
	tests := []struct {
		name string
		a, b image.Image
		want float64
	}{
		{"identical", flat(100), flat(100), 1},
		// Flat images: σ = 0, so only the luminance term is left:
		// (2·100·110 + C1) / (100² + 110² + C1), C1 = 6.5025.
		{"flat 100 against flat 110", flat(100), flat(110), 22006.5025 / 22106.5025},
		// One pixel of 200 in the middle of 100s against all 100s. The
		// 1-D Gaussian (σ 1.5, 11 taps) sums to 3.759233 before
		// normalising, so the centre weight is w = (1/3.759233)² =
		// 0.0707622; μx = 100 + 100w = 107.07622, σx² = 100²·w(1−w) =
		// 657.5494, σy = σxy = 0, and SSIM = (2·μx·100 + C1) /
		// (μx² + 100² + C1) · C2 / (σx² + C2), C2 = 58.5225.
		{"one bright pixel", grey(11, 11, func(x, y int) uint8 {
			if x == 5 && y == 5 {
				return 200
			}
			return 100
		}), flat(100), 0.0815365},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SSIM(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1e-5 {
				t.Errorf("SSIM = %.7f, want %.7f", got, tt.want)
			}
		})
	}
}

// TestSSIMDegradations: SSIM is 1 for the same picture however it is
// held, symmetric, and lower the more a picture is degraded.
func TestSSIMDegradations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// A page-like picture: bars of ink on paper with some grain.
	src := grey(120, 90, func(x, y int) uint8 {
		v := 235 + rng.IntN(5)
		if (y/6)%3 == 0 && (x/4)%5 != 0 {
			v = 40 + rng.IntN(10)
		}
		return uint8(v)
	})
	noisy := func(sigma float64) *image.Gray {
		r := rand.New(rand.NewPCG(3, 4))
		return grey(120, 90, func(x, y int) uint8 {
			return uint8(min(max(float64(src.GrayAt(x, y).Y)+r.NormFloat64()*sigma, 0), 255))
		})
	}
	blurred := grey(120, 90, func(x, y int) uint8 {
		var s, n int
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if p := (image.Point{x + dx, y + dy}); p.In(src.Rect) {
					s += int(src.GrayAt(p.X, p.Y).Y)
					n++
				}
			}
		}
		return uint8(s / n)
	})
	rgba := image.NewRGBA(src.Rect)
	for y := range 90 {
		for x := range 120 {
			v := src.GrayAt(x, y).Y
			rgba.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	at := func(a, b image.Image) float64 {
		t.Helper()
		s, err := SSIM(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := at(src, rgba); math.Abs(s-1) > 1e-6 {
		t.Errorf("the same picture as Gray and RGBA: SSIM %.6f, want 1", s)
	}
	if a, b := at(src, blurred), at(blurred, src); math.Abs(a-b) > 1e-6 {
		t.Errorf("SSIM not symmetric: %.6f one way, %.6f the other", a, b)
	}
	steps := []struct {
		name string
		img  image.Image
	}{
		{"noise σ 2", noisy(2)},
		{"noise σ 8", noisy(8)},
		{"noise σ 30", noisy(30)},
	}
	prev := 1.0
	for _, s := range steps {
		got := at(src, s.img)
		if got >= prev {
			t.Errorf("%s: SSIM %.4f, want below %.4f of the lesser degradation", s.name, got, prev)
		}
		prev = got
	}
	if s := at(src, blurred); s > 0.9 {
		t.Errorf("3×3 blur of fine bars: SSIM %.4f, want well below 1", s)
	}
}

// TestSSIMSampled: the encoder's sampled estimate stays close to the full
// mean on a realistic page.
func TestSSIMSampled(t *testing.T) {
	p := luma(testPage(t, "text"))
	deg := grey(p.Rect.Dx(), p.Rect.Dy(), func(x, y int) uint8 {
		return p.Pix[y*p.Stride+x] &^ 7 // posterised
	})
	full, err := ssim(p, deg, 1)
	if err != nil {
		t.Fatal(err)
	}
	est, err := ssim(p, deg, 4)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(full-est) > 0.005 {
		t.Errorf("sampled SSIM %.4f, full %.4f: want within 0.005", est, full)
	}
}

func TestSSIMSizes(t *testing.T) {
	tests := []struct {
		name string
		a, b image.Image
		err  string
	}{
		{"different sizes", image.NewGray(image.Rect(0, 0, 20, 20)), image.NewGray(image.Rect(0, 0, 20, 21)), "sizes must match"},
		{"smaller than a window", image.NewGray(image.Rect(0, 0, 10, 40)), image.NewGray(image.Rect(0, 0, 10, 40)), "at least 11×11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SSIM(tt.a, tt.b); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}
