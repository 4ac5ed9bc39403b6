package docscan

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"
)

// decodeSSIM decodes data and measures it against img, in full.
func decodeSSIM(tb testing.TB, img image.Image, data []byte) float64 {
	tb.Helper()
	dec, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("decode %d bytes: %v", len(data), err)
	}
	s, err := SSIM(img, dec)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestEncode: every kind of page comes within the budget and as legible
// as the target, in the encoding its content calls for.
func TestEncode(t *testing.T) {
	tests := []struct {
		kind, contentType string
	}{
		{"text", "image/png"},    // grey: a few grey levels
		{"form", "image/jpeg"},   // a red stamp and blue ink
		{"idcard", "image/jpeg"}, // a portrait and a red emblem
		{"photo", "image/jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			img := testPage(t, tt.kind)
			data, ct, err := Encode(img)
			if err != nil {
				t.Fatal(err)
			}
			if ct != tt.contentType {
				t.Errorf("content type %s, want %s", ct, tt.contentType)
			}
			if len(data) > PageBudget {
				t.Errorf("%d bytes, want at most %d", len(data), PageBudget)
			}
			if s := decodeSSIM(t, img, data); s < TargetSSIM {
				t.Errorf("SSIM %.4f, want at least %.2f", s, TargetSSIM)
			}
			if ct == "image/jpeg" {
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				// A coloured page keeps its colour; a grey one is one channel.
				_, grey := img.(*image.Gray)
				if got := cfg.ColorModel == color.GrayModel; got != grey {
					t.Errorf("JPEG in grey %v for a page in grey %v", got, grey)
				}
			}
		})
	}
}

func TestEncodeTooSmall(t *testing.T) {
	if _, _, err := Encode(image.NewGray(image.Rect(0, 0, 8, 100))); err == nil || !strings.Contains(err.Error(), "8×100") {
		t.Fatalf("err = %v, want one naming the 8×100 page", err)
	}
}

// TestPagesEncoded: the scanners hand over pages with their chosen
// encoding beside the PNG, and PDF binds either kind.
func TestPagesEncoded(t *testing.T) {
	sim, err := Simulated{Pages: 2}.Scan(context.Background(), Options{MaxPages: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := sim[0]
	if p.ContentType != "image/png" || len(p.Data) == 0 || len(p.Data) >= len(p.PNG)/4 {
		t.Errorf("simulated page: %s of %d bytes beside a PNG of %d, want a PNG of a few grey levels", p.ContentType, len(p.Data), len(p.PNG))
	}
	raw, err := png.Decode(bytes.NewReader(p.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if s := decodeSSIM(t, raw, p.Data); s < TargetSSIM {
		t.Errorf("simulated page stored at SSIM %.4f, want ≥ %.2f", s, TargetSSIM)
	}
	photo := testPage(t, "photo")
	data, ct, err := Encode(photo)
	if err != nil {
		t.Fatal(err)
	}
	jp := Page{Data: data, ContentType: ct, Width: photo.Bounds().Dx(), Height: photo.Bounds().Dy()}
	old := Page{PNG: p.PNG, Width: p.Width, Height: p.Height} // made without Data
	if data, ct := old.Stored(); !bytes.Equal(data, p.PNG) || ct != "image/png" {
		t.Errorf("a Page without Data stores %d bytes of %s, want its PNG", len(data), ct)
	}
	if data, ct := jp.Stored(); !bytes.Equal(data, jp.Data) || ct != "image/jpeg" {
		t.Errorf("a JPEG page stores %d bytes of %s, want its Data as image/jpeg", len(data), ct)
	}
	pdf, err := PDF([]Page{sim[0], jp, old})
	if err != nil {
		t.Fatalf("PDF of a grey-level PNG, a JPEG and a bare PNG: %v", err)
	}
	if !bytes.Contains(pdf, []byte("DCTDecode")) {
		t.Error("the JPEG page is not embedded as JPEG (DCTDecode)")
	}
}

// TestEncodeMeasure prints the measurements Encode's choices rest on:
// each page kind in each candidate encoding, with bytes, SSIM and time.
// YICI_MEASURE=1 go test -run TestEncodeMeasure -v ./drivers/docscan
func TestEncodeMeasure(t *testing.T) {
	if os.Getenv("YICI_MEASURE") == "" {
		t.Skip("set YICI_MEASURE=1 for the table of candidate encodings")
	}
	fmt.Println("| page | encoding | KB | SSIM | encode ms |")
	fmt.Println("|---|---|---:|---:|---:|")
	for _, k := range testPageKinds {
		img := testPage(t, k)
		y := luma(img)
		row := func(name string, enc func() ([]byte, error)) {
			t0 := time.Now()
			b, err := enc()
			el := time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("| %s | %s | %.1f | %.4f | %.0f |\n", k, name, float64(len(b))/1024, decodeSSIM(t, img, b), el.Seconds()*1000)
		}
		pngOf := func(m image.Image) func() ([]byte, error) {
			return func() ([]byte, error) { var b bytes.Buffer; err := png.Encode(&b, m); return b.Bytes(), err }
		}
		jpegOf := func(m image.Image, q int) func() ([]byte, error) {
			return func() ([]byte, error) {
				var b bytes.Buffer
				err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q})
				return b.Bytes(), err
			}
		}
		row("PNG as scanned", pngOf(img))
		hist := histogram(y)
		for _, n := range []int{2, 3, 4, 8, 16} {
			row(fmt.Sprintf("PNG %d grey levels", n), pngOf(quantize(y, lloyd(&hist, n))))
		}
		_, grey := img.(*image.Gray)
		for _, q := range []int{10, 20, 30, 50, 70, 90} {
			if grey {
				row(fmt.Sprintf("JPEG grey q%d", q), jpegOf(y, q))
			} else {
				row(fmt.Sprintf("JPEG colour q%d", q), jpegOf(img, q))
			}
		}
		row("Encode's choice", func() ([]byte, error) { b, ct, err := Encode(img); t.Logf("%s: %s", k, ct); return b, err })
	}
}

// BenchmarkEncode is each page kind through Encode: its size in KB, its
// SSIM against the scan, and its bytes and time as a ratio to the PNG of
// the same page encoded in the same run (what was stored before).
func BenchmarkEncode(b *testing.B) {
	for _, k := range testPageKinds {
		b.Run(k, func(b *testing.B) {
			img := testPage(b, k)
			var base bytes.Buffer
			t0 := time.Now()
			if err := png.Encode(&base, img); err != nil {
				b.Fatal(err)
			}
			pngTime := time.Since(t0)
			b.ResetTimer()
			var data []byte
			for b.Loop() {
				var err error
				if data, _, err = Encode(img); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(len(data))/1024, "KB/page")
			b.ReportMetric(decodeSSIM(b, img, data), "SSIM")
			b.ReportMetric(float64(len(data))/float64(base.Len()), "bytes-ratio-vs-png")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(pngTime), "time-ratio-vs-png")
		})
	}
}
