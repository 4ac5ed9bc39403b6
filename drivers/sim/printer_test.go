package sim

import (
	"bytes"
	"context"
	"image/png"
	"reflect"
	"strings"
	"testing"
	"time"

	"yici/drivers/serialport"
)

// newPrinterParser is a parser with a printer that is ready, or not.
func newPrinterParser(ready *bool) *printerParser {
	var out []PrinterReceipt
	p := &printerParser{
		printable: func() bool { return *ready },
		status:    func(n byte) (byte, bool) { return printerStatusByte(PrinterFaults{}, n) },
	}
	p.receipt = func(r PrinterReceipt) { out = append(out, r) }
	p.reset()
	return p
}

// printerRun feeds stream to a fresh parser and returns the receipts, the
// receipt still open, replies and skipped commands.
func printerRun(stream []byte, chunks ...int) (got []PrinterReceipt, open PrinterReceipt, reply []byte, unknown []string) {
	ready := true
	p := newPrinterParser(&ready)
	p.receipt = func(r PrinterReceipt) { got = append(got, r) }
	rest := stream
	for _, n := range chunks {
		n = min(n, len(rest))
		reply = append(reply, p.feed(rest[:n])...)
		rest = rest[n:]
	}
	reply = append(reply, p.feed(rest)...)
	p.endLine(false)
	return got, p.cur, reply, p.unknown
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestPrinterParserCommands(t *testing.T) {
	gb := []byte{0x1C, 0x26, 0xC9, 0xED, 0xB7, 0xDD, 0xD6, 0xA4, 0x20, 0x4F, 0x4B, 0x1C, 0x2E} // FS & 身份证 OK FS .
	tests := []struct {
		name    string
		in      []byte
		lines   []PrinterLine
		qr      []string
		images  int
		unknown int
	}{
		{"plain line", []byte("OK\n"), []PrinterLine{{Text: "OK"}}, nil, 0, 0},
		{"GB18030 in Chinese mode", cat(gb, []byte{0x0A}), []PrinterLine{{Text: "身份证 OK"}}, nil, 0, 0},
		{"Chinese mode is on at power-on", []byte{0xD6, 0xA4, 0x0A}, []PrinterLine{{Text: "证"}}, nil, 0, 0},
		{"four-byte GB18030", []byte{0x95, 0x32, 0x82, 0x36, 0x0A}, []PrinterLine{{Text: "𠀀"}}, nil, 0, 0},
		{"code page 437 outside Chinese mode", []byte{0x1C, 0x2E, 0x82, 0x0A}, []PrinterLine{{Text: "é"}}, nil, 0, 0},
		{"bad GB18030 trail byte", []byte{0xD6, 0x20, 0x0A}, []PrinterLine{{Text: "\uFFFD "}}, nil, 0, 0},
		{"CR ignored", []byte("a\r\n"), []PrinterLine{{Text: "a"}}, nil, 0, 0},
		{"align and bold", []byte("\x1ba\x01\x1bE\x01T\n\x1ba2\x1bE\x00R\n"),
			[]PrinterLine{{Text: "T", Bold: true, Align: 1}, {Text: "R", Align: 2}}, nil, 0, 0},
		{"GS ! sizes ASCII, FS ! Chinese", []byte("\x1d!\x11A\n\x1c!\x04\xd6\xa4\n\x1d!\x00\x1c!\x08\xd6\xa4\n"),
			[]PrinterLine{{Text: "A", DoubleW: true, DoubleH: true}, {Text: "证", DoubleW: true}, {Text: "证", DoubleH: true}}, nil, 0, 0},
		{"ESC ! bold and size", []byte("\x1b!\x38A\n"), []PrinterLine{{Text: "A", Bold: true, DoubleW: true, DoubleH: true}}, nil, 0, 0},
		{"ESC @ resets style", []byte("\x1bE\x01\x1ba\x01\x1b@A\n"), []PrinterLine{{Text: "A"}}, nil, 0, 0},
		{"ESC d feeds blank lines", []byte("A\x1bd\x03"), []PrinterLine{{Text: "A"}, {}, {}}, nil, 0, 0},
		{"QR", []byte("\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x05\x1d(k\x03\x001E1\x1d(k\x05\x001P0hi\x1d(k\x03\x001Q0"),
			nil, []string{"hi"}, 0, 0},
		{"QR print with nothing stored", []byte("\x1d(k\x03\x001Q0"), nil, nil, 0, 1},
		{"raster", []byte("\x1dv0\x00\x01\x00\x02\x00\x80\x01"), nil, nil, 1, 0},
		{"unknown ESC t skips its parameter", []byte("\x1bt\x0fA\n"), []PrinterLine{{Text: "A"}}, nil, 0, 1},
		{"unknown GS ( E skips its length", []byte("\x1d(E\x02\x00xyA\n"), []PrinterLine{{Text: "A"}}, nil, 0, 1},
		{"barcode skipped", []byte("\x1dk\x04123\x00\x1dkI\x02abA\n"), []PrinterLine{{Text: "A"}}, nil, 0, 2},
		{"stray control byte", []byte("\x07A\n"), []PrinterLine{{Text: "A"}}, nil, 0, 1},
		{"unknown ESC letter", []byte("\x1bZA\n"), []PrinterLine{{Text: "A"}}, nil, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, open, _, unknown := printerRun(append(tt.in, 0x1D, 'V', 0))
			if len(got) != 1 || len(open.blocks) != 0 {
				t.Fatalf("%d receipts, %d blocks after the cut, want 1 and 0", len(got), len(open.blocks))
			}
			r := got[0]
			if !reflect.DeepEqual(r.Lines, tt.lines) {
				t.Errorf("lines %+v, want %+v", r.Lines, tt.lines)
			}
			if !reflect.DeepEqual(r.QR, tt.qr) {
				t.Errorf("QR %q, want %q", r.QR, tt.qr)
			}
			if len(r.Images) != tt.images {
				t.Errorf("%d images, want %d", len(r.Images), tt.images)
			}
			if len(unknown) != tt.unknown {
				t.Errorf("skipped %q, want %d", unknown, tt.unknown)
			}
		})
	}
}

func TestPrinterParserRaster(t *testing.T) {
	got, _, _, _ := printerRun([]byte("\x1dv0\x03\x01\x00\x02\x00\x80\x01\x1dVA\x10"))
	img := got[0].Images[0]
	if img.Rect.Dx() != 8 || img.Rect.Dy() != 2 {
		t.Fatalf("image %v, want 8x2", img.Rect)
	}
	if img.Pix[0] != 0 || img.Pix[1] != 0xFF || img.Pix[img.Stride+7] != 0 {
		t.Errorf("pixels % x: MSB must be the leftmost dot", img.Pix)
	}
	if b := got[0].blocks[0]; b.sx != 2 || b.sy != 2 {
		t.Errorf("mode 3 magnified %d×%d, want 2×2", b.sx, b.sy)
	}
}

func TestPrinterCuts(t *testing.T) {
	for _, cut := range []string{"\x1dV\x00", "\x1dV0", "\x1dV\x01", "\x1dV1", "\x1dVA\x03", "\x1dVB\x03"} {
		got, _, _, unknown := printerRun([]byte("a\n" + cut + "b\n" + cut))
		if len(got) != 2 || len(unknown) != 0 {
			t.Errorf("cut % x: %d receipts, skipped %q", cut, len(got), unknown)
		}
	}
}

func TestPrinterStatusBytes(t *testing.T) {
	tests := []struct {
		name   string
		f      PrinterFaults
		n1, n2 byte
		n4     byte
	}{
		{"ready", PrinterFaults{}, 0x12, 0x12, 0x12},
		{"near end", PrinterFaults{NearEnd: true}, 0x12, 0x12, 0x1E},
		{"paper out", PrinterFaults{PaperOut: true}, 0x1A, 0x32, 0x7E},
		{"cover open", PrinterFaults{CoverOpen: true}, 0x1A, 0x16, 0x12},
		{"offline", PrinterFaults{Offline: true}, 0x1A, 0x12, 0x12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			for _, n := range []byte{1, 2, 4} {
				b, ok := printerStatusByte(tt.f, n)
				if !ok {
					t.Fatalf("no answer to n=%d", n)
				}
				got = append(got, b)
			}
			if want := []byte{tt.n1, tt.n2, tt.n4}; !bytes.Equal(got, want) {
				t.Errorf("got % x, want % x", got, want)
			}
		})
	}
	if _, ok := printerStatusByte(PrinterFaults{}, 9); ok {
		t.Error("answered DLE EOT 9")
	}
}

// Data that arrives while the paper is out never becomes a receipt, even
// once paper is loaded before the cut.
func TestPrinterPaperOutDiscards(t *testing.T) {
	ready := false
	var got []PrinterReceipt
	p := newPrinterParser(&ready)
	p.receipt = func(r PrinterReceipt) { got = append(got, r) }
	p.feed([]byte("lost\n"))
	ready = true
	p.feed([]byte("half\n\x1dV\x00"))
	p.feed([]byte("whole\n\x1dV\x00"))
	if len(got) != 1 || got[0].Lines[0].Text != "whole" || p.discarded != 1 {
		t.Fatalf("receipts %+v, discarded %d; want only \"whole\" and 1 discarded", got, p.discarded)
	}
	// Status is answered whatever the paper does.
	ready = false
	if r := p.feed([]byte{0x10, 0x04, 0x01}); len(r) != 1 {
		t.Errorf("no status reply while not ready: % x", r)
	}
}

// Through the pty, as a driver sees it: replies, receipts, Next, faults.
func TestPrinterSimOverPTY(t *testing.T) {
	s, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()

	s.SetFaults(PrinterFaults{CoverOpen: true})
	if _, err := port.Write([]byte{0x10, 0x04, 0x02}); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 1)
	if err := serialport.ReadFull(port, reply, time.Second); err != nil || reply[0] != 0x16 {
		t.Fatalf("DLE EOT 2 with cover open: % x, %v; want 16", reply, err)
	}
	s.SetFaults(PrinterFaults{Silent: true})
	port.Write([]byte{0x10, 0x04, 0x01})
	if err := serialport.ReadFull(port, reply, 100*time.Millisecond); err == nil {
		t.Fatal("silent printer answered")
	}
	s.SetFaults(PrinterFaults{})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go port.Write([]byte("\x1b@first\n\x1dV\x00\x1b@second\n\x1dV\x00"))
	for _, want := range []string{"first", "second"} {
		r, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Lines[0].Text != want {
			t.Errorf("got %q, want %q", r.Lines[0].Text, want)
		}
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := s.Next(short); err == nil || !strings.Contains(err.Error(), "2 received") {
		t.Errorf("Next with nothing printed: %v", err)
	}
	if n := len(s.Receipts()); n != 2 {
		t.Errorf("Receipts() has %d, want 2", n)
	}
}

func TestPrinterCloseEndsNext(t *testing.T) {
	s, err := NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := s.Next(context.Background()); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Next returned a receipt from a closed sim")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still waiting after Close")
	}
}

func TestPrinterPNG(t *testing.T) {
	stream := cat(
		[]byte("\x1b@\x1ba\x01\x1bE\x01\x1d!\x11\x1c!\x0c"),
		[]byte{0x1C, 0x26, 0xCA, 0xDC, 0xC0, 0xED, 0xBB, 0xD8, 0xD6, 0xB4, 0x1C, 0x2E, 0x0A}, // 受理回执
		[]byte("\x1bE\x00\x1d!\x00\x1c!\x00\x1ba\x00"+strings.Repeat("x", 60)+"\n"),
		[]byte("\x1d(k\x03\x001C\x04\x1d(k\x08\x001P0hello\x1d(k\x03\x001Q0"),
		[]byte("\x1dv0\x00\x01\x00\x01\x00\xff\x1dV\x00"),
	)
	got, _, _, _ := printerRun(stream)
	b, err := got[0].PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Margin 24 + double line 56 + a 60-char line wrapped to 2×32 + QR
	// (21+8 modules × 4) + 1 image row + tail 48.
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 576 || h != 24+56+64+116+1+48 {
		t.Errorf("PNG %dx%d, want 576x%d", w, h, 24+56+64+116+1+48)
	}
}

// Splitting the stream anywhere gives the same receipts as in one piece,
// and nothing panics.
func FuzzPrinterParser(f *testing.F) {
	f.Add([]byte("\x1b@\x1c&\xc9\xed\xb7\xdd\xd6\xa4 OK\x1c.\n\x1dV\x00"), uint16(3))
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		whole, wopen, wreply, wunk := printerRun(stream)
		parts, popen, preply, punk := printerRun(stream, int(split)%(len(stream)+1), 1)
		if !reflect.DeepEqual(whole, parts) || !reflect.DeepEqual(wopen, popen) || !bytes.Equal(wreply, preply) || !reflect.DeepEqual(wunk, punk) {
			t.Fatalf("split at %d changed the result:\nwhole %+v\nparts %+v", split, whole, parts)
		}
		// Drawing a receipt takes ~10 ms; on long inputs that would make
		// the fuzzer's minimizing look like a hang. Short ones reach every
		// drawing path.
		if len(stream) > 256 {
			return
		}
		for _, r := range append(whole, wopen) {
			if _, err := r.PNG(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
