package printer

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"
)

// Each command against the bytes of the reference (device-protocols.md §3).
func TestDocCommands(t *testing.T) {
	tests := []struct {
		name  string
		build func(d *Doc) error
		want  []byte
	}{
		{"init", func(d *Doc) error { d.Init(); return nil }, []byte{0x1B, 0x40}},
		{"align left", func(d *Doc) error { d.Align(AlignLeft); return nil }, []byte{0x1B, 0x61, 0}},
		{"align centre", func(d *Doc) error { d.Align(AlignCenter); return nil }, []byte{0x1B, 0x61, 1}},
		{"align right", func(d *Doc) error { d.Align(AlignRight); return nil }, []byte{0x1B, 0x61, 2}},
		{"bold on", func(d *Doc) error { d.Bold(true); return nil }, []byte{0x1B, 0x45, 1}},
		{"bold off", func(d *Doc) error { d.Bold(false); return nil }, []byte{0x1B, 0x45, 0}},
		{"size normal", func(d *Doc) error { d.Size(false, false); return nil }, []byte{0x1D, 0x21, 0x00, 0x1C, 0x21, 0x00}},
		{"size double width", func(d *Doc) error { d.Size(true, false); return nil }, []byte{0x1D, 0x21, 0x10, 0x1C, 0x21, 0x04}},
		{"size double height", func(d *Doc) error { d.Size(false, true); return nil }, []byte{0x1D, 0x21, 0x01, 0x1C, 0x21, 0x08}},
		{"size double both", func(d *Doc) error { d.Size(true, true); return nil }, []byte{0x1D, 0x21, 0x11, 0x1C, 0x21, 0x0C}},
		{"ascii text plain", func(d *Doc) error { return d.Text("OK 123") }, []byte("OK 123")},
		{"chinese text in FS & … FS .", func(d *Doc) error { return d.Text("身份证 OK") },
			[]byte{0x1C, 0x26, 0xC9, 0xED, 0xB7, 0xDD, 0xD6, 0xA4, 0x20, 0x4F, 0x4B, 0x1C, 0x2E}},
		{"line ends with LF", func(d *Doc) error { return d.Line("A") }, []byte{'A', 0x0A}},
		{"empty line", func(d *Doc) error { return d.Line("") }, []byte{0x0A}},
		{"newline inside text", func(d *Doc) error { return d.Text("a\nb") }, []byte("a\nb")},
		{"four-byte GB18030", func(d *Doc) error { return d.Text("𠀀") }, []byte{0x1C, 0x26, 0x95, 0x32, 0x82, 0x36, 0x1C, 0x2E}},
		{"feed", func(d *Doc) error { d.Feed(3); return nil }, []byte{0x1B, 0x64, 3}},
		{"cut", func(d *Doc) error { d.Cut(); return nil }, []byte{0x1D, 0x56, 0x41, 0x10}},
		{"QR native", func(d *Doc) error { return d.QR("AB", 6) }, []byte{
			0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00, // model 2
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06, // module 6
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31, // level M
			0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, 'A', 'B', // store, pL = 2+3
			0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, // print
		}},
		{"raster 10x2", func(d *Doc) error {
			img := image.NewGray(image.Rect(0, 0, 10, 2))
			for i := range img.Pix {
				img.Pix[i] = 0xFF
			}
			img.SetGray(0, 0, color.Gray{0})   // leftmost dot is the MSB
			img.SetGray(9, 0, color.Gray{0})   // second byte, bit 6
			img.SetGray(1, 1, color.Gray{100}) // darker than mid-grey
			img.SetGray(2, 1, color.Gray{200}) // lighter: paper
			return d.Raster(img)
		}, []byte{0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x40, 0x40, 0x00}},
		{"raster transparent is paper", func(d *Doc) error {
			return d.Raster(image.NewNRGBA(image.Rect(0, 0, 8, 1)))
		}, []byte{0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Doc
			if err := tt.build(&d); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Bytes(), tt.want) {
				t.Errorf("got  % x\nwant % x", d.Bytes(), tt.want)
			}
		})
	}
}

func TestDocRefuses(t *testing.T) {
	big := strings.Repeat("x", maxQRData+1)
	tests := []struct {
		name  string
		build func(d *Doc) error
		want  string
	}{
		{"invalid UTF-8", func(d *Doc) error { return d.Text("张\xff") }, "not valid UTF-8"},
		{"replacement char", func(d *Doc) error { return d.Text("张\uFFFD") }, "U+FFFD"},
		{"ESC in text", func(d *Doc) error { return d.Line("a\x1bi") }, "control character U+001B"},
		{"C1 control", func(d *Doc) error { return d.Text("a\u0085") }, "control character U+0085"},
		{"QR module 0", func(d *Doc) error { return d.QR("a", 0) }, "module size 0"},
		{"QR module 17", func(d *Doc) error { return d.QRRaster("a", 17) }, "module size 17"},
		{"QR empty", func(d *Doc) error { return d.QR("", 3) }, "QR data of 0 bytes"},
		{"QR too long", func(d *Doc) error { return d.QR(big, 3) }, "QR data of 2332 bytes"},
		{"raster too wide", func(d *Doc) error { return d.Raster(image.NewGray(image.Rect(0, 0, 577, 1))) }, "577x1"},
		{"raster empty", func(d *Doc) error { return d.Raster(image.NewGray(image.Rect(0, 0, 0, 0))) }, "0x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Doc
			err := tt.build(&d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if len(d.Bytes()) != 0 {
				t.Errorf("refused command still wrote % x", d.Bytes())
			}
		})
	}
}

// The fallback QR is a GS v 0 image of the code with its quiet zone.
func TestQRRaster(t *testing.T) {
	var d Doc
	if err := d.QRRaster("https://example.org/c/1", 4); err != nil {
		t.Fatal(err)
	}
	b := d.Bytes()
	if !bytes.HasPrefix(b, []byte{0x1D, 0x76, 0x30, 0x00}) {
		t.Fatalf("not GS v 0: % x", b[:8])
	}
	xb, h := int(b[4])|int(b[5])<<8, int(b[6])|int(b[7])<<8
	// Version 2 (25 modules) plus 4+4 quiet modules, 4 dots each.
	if w := 33 * 4; h != w || xb != (w+7)/8 || len(b) != 8+xb*h {
		t.Fatalf("image %d bytes × %d rows in %d bytes, want %d dots square", xb, h, len(b), w)
	}
	if b[8] != 0 {
		t.Errorf("first row should be quiet zone, got % x", b[8:8+xb])
	}
}
