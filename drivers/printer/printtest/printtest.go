// Package printtest reads back what was printed, for tests that check
// output by decoding it rather than by trusting the call that made it.
package printtest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// MustQR is QR for a test: it fails t when there is no code.
func MustQR(t testing.TB, img image.Image) string {
	t.Helper()
	text, err := QR(img)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// MustQRFromPNG is QRFromPNG for a test: it fails t when there is no code.
func MustQRFromPNG(t testing.TB, b []byte) string {
	t.Helper()
	text, err := QRFromPNG(b)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// QR decodes the one QR code in img.
func QR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("read QR code: %w", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", fmt.Errorf("no QR code found in the %v image: %w", img.Bounds().Size(), err)
	}
	return res.GetText(), nil
}

// QRFromPNG decodes the one QR code in a PNG picture.
func QRFromPNG(b []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("read QR code: %w", err)
	}
	return QR(img)
}
