// Package printer drives 80 mm ESC/POS receipt printers of the kind sold in
// China: a document builder that emits the command bytes, a status parser
// for the DLE EOT replies, and a Printer that refuses to print into a fault
// and reports a print that failed as an error.
//
// The command bytes are those of the project's device-protocols reference,
// section 3 (ESC/POS, Chinese): Chinese text is GB18030 between FS & and
// FS ., QR codes use GS ( k, images GS v 0.
package printer

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Dots is the printable width of an 80 mm printer at 203 dpi: 72 mm of
// 8 dots/mm. Images wider than this are cut off by the printer, so Raster
// refuses them instead.
const Dots = 576

// Columns is how many ASCII characters (font A, 12×24 dots) fit on a line;
// a Chinese character (24×24) takes two.
const Columns = Dots / 12

// Align is the justification set by ESC a. It applies to text, QR codes and
// images alike.
type Align byte

const (
	AlignLeft   Align = 0
	AlignCenter Align = 1
	AlignRight  Align = 2
)

// Control bytes used by the commands below.
const (
	lf  = 0x0A
	esc = 0x1B
	fs  = 0x1C
	gs  = 0x1D
	dle = 0x10
	eot = 0x04
)

// maxQRData is the byte capacity of the largest model 2 QR code (version
// 40) at error correction level M, the level QR always selects.
const maxQRData = 2331

// Doc builds the bytes of one print job. The zero value is an empty
// document; start it with Init so that the printer forgets the style left
// over from the previous job.
type Doc struct {
	buf bytes.Buffer
}

// Bytes returns the commands written so far. The slice aliases the Doc's
// buffer and is valid until the next call that writes.
func (d *Doc) Bytes() []byte { return d.buf.Bytes() }

// Init resets the printer (ESC @): style, alignment and size go back to
// their power-on values.
func (d *Doc) Init() { d.buf.Write([]byte{esc, '@'}) }

// Align sets the justification (ESC a n).
func (d *Doc) Align(a Align) { d.buf.Write([]byte{esc, 'a', byte(a)}) }

// Bold turns emphasized printing on or off (ESC E n).
func (d *Doc) Bold(on bool) { d.buf.Write([]byte{esc, 'E', b2i(on)}) }

// Size sets double width and double height. GS ! sizes ASCII characters
// and FS ! sizes Chinese ones; printers keep the two apart, so both are sent.
func (d *Doc) Size(doubleW, doubleH bool) {
	var n, c byte
	if doubleW {
		n |= 0x10 // GS !: bits 4-6 are width-1
		c |= 0x04 // FS !: bit 2 is double width
	}
	if doubleH {
		n |= 0x01 // GS !: bits 0-2 are height-1
		c |= 0x08 // FS !: bit 3 is double height
	}
	d.buf.Write([]byte{gs, '!', n, fs, '!', c})
}

// Text writes s without ending the line. ASCII goes as plain bytes; text
// with any other character is encoded as GB18030 and wrapped in FS & … FS .
// so that it prints right whatever mode the printer was left in. A newline
// in s ends a line. Invalid UTF-8, U+FFFD and control characters are
// refused: GB18030 would silently print a replacement character or, for a
// control byte, a stray command that could cut or garble the receipt.
func (d *Doc) Text(s string) error {
	ascii := true
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			return fmt.Errorf("printer: text %q: byte %d is not valid UTF-8 (or is U+FFFD), which GB18030 cannot print faithfully", s, i)
		case r != '\n' && (r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0)):
			return fmt.Errorf("printer: text %q: control character %U at byte %d would be sent as a printer command", s, r, i)
		case r >= 0x80:
			ascii = false
		}
	}
	if ascii {
		d.buf.WriteString(s)
		return nil
	}
	enc, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		return fmt.Errorf("printer: text %q: GB18030: %w", s, err)
	}
	d.buf.Write([]byte{fs, '&'})
	d.buf.WriteString(enc)
	d.buf.Write([]byte{fs, '.'})
	return nil
}

// Line writes s and ends the line (LF), which prints it.
func (d *Doc) Line(s string) error {
	if err := d.Text(s); err != nil {
		return err
	}
	d.buf.WriteByte(lf)
	return nil
}

// Feed prints what is buffered and feeds n lines (ESC d n).
func (d *Doc) Feed(n uint8) { d.buf.Write([]byte{esc, 'd', n}) }

// Cut feeds the paper past the cutter and cuts it fully (GS V 65 n), so
// the last printed line is not lost inside the mechanism.
func (d *Doc) Cut() { d.buf.Write([]byte{gs, 'V', 65, 16}) }

// QR prints data as a model 2 QR code, error correction M, with modules of
// moduleSize dots (1–16), using the printer's own encoder (GS ( k). data
// is sent as its UTF-8 bytes, which phone scanners decode.
func (d *Doc) QR(data string, moduleSize int) error {
	if err := checkQR(data, moduleSize); err != nil {
		return err
	}
	fn := func(body ...byte) {
		n := len(body)
		d.buf.Write([]byte{gs, '(', 'k', byte(n), byte(n >> 8)})
		d.buf.Write(body)
	}
	fn('1', 'A', '2', 0)                          // fn165: model 2
	fn('1', 'C', byte(moduleSize))                // fn167: module size
	fn('1', 'E', '1')                             // fn169: level M
	fn(append([]byte{'1', 'P', '0'}, data...)...) // fn180: store
	fn('1', 'Q', '0')                             // fn181: print
	return nil
}

func checkQR(data string, moduleSize int) error {
	if moduleSize < 1 || moduleSize > 16 {
		return fmt.Errorf("printer: QR module size %d: must be 1–16 dots", moduleSize)
	}
	if len(data) == 0 || len(data) > maxQRData {
		return fmt.Errorf("printer: QR data of %d bytes: must be 1–%d", len(data), maxQRData)
	}
	return nil
}

// QRRaster prints data as a QR code drawn here and sent as an image, for
// printers without GS ( k. Modules are moduleSize dots; the code keeps the
// 4-module quiet zone that scanners need.
func (d *Doc) QRRaster(data string, moduleSize int) error {
	if err := checkQR(data, moduleSize); err != nil {
		return err
	}
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("printer: QR of %d bytes: %w", len(data), err)
	}
	return d.Raster(qrImage(q.Bitmap(), moduleSize))
}

// qrImage draws a QR bitmap (true = dark module) with each module
// size×size pixels.
func qrImage(bits [][]bool, size int) *image.Gray {
	n := len(bits)
	img := image.NewGray(image.Rect(0, 0, n*size, n*size))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y, row := range bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range size {
				off := (y*size+dy)*img.Stride + x*size
				for dx := range size {
					img.Pix[off+dx] = 0
				}
			}
		}
	}
	return img
}

// Raster prints img as a black-and-white bit image (GS v 0, normal size).
// A pixel prints black when it is darker than mid-grey; transparent pixels
// are paper. img must be at most Dots wide and 65535 rows high.
func (d *Doc) Raster(img image.Image) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || w > Dots || h > 0xFFFF {
		return fmt.Errorf("printer: image %dx%d: must be 1–%d dots wide and 1–65535 high", w, h, Dots)
	}
	xb := (w + 7) / 8
	d.buf.Write([]byte{gs, 'v', '0', 0, byte(xb), byte(xb >> 8), byte(h), byte(h >> 8)})
	row := make([]byte, xb)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		clear(row)
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) {
				i := x - b.Min.X
				row[i/8] |= 0x80 >> (i % 8) // MSB is the leftmost dot
			}
		}
		d.buf.Write(row)
	}
	return nil
}

// dark reports whether c, composed over white paper, is darker than
// mid-grey.
func dark(c color.Color) bool {
	r, g, b, a := c.RGBA()
	// Over white: channel + (1-alpha) of white.
	white := 0xFFFF - a
	lum := (299*(r+white) + 587*(g+white) + 114*(b+white)) / 1000
	return lum < 0x8000
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}
