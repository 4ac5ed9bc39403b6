package sim

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Printer simulates an 80 mm ESC/POS receipt printer in Chinese mode on a
// pseudo-terminal. It prints into PrinterReceipts, one per cut, answers
// DLE EOT from its fault knobs, and skips and records commands it does not
// model.
type Printer struct {
	pty  *PTY
	done chan struct{} // closed when the reader goroutine ends

	mu       sync.Mutex
	faults   PrinterFaults
	parser   printerParser
	receipts []PrinterReceipt
	next     int           // index of the receipt Next returns
	notify   chan struct{} // closed and replaced when a receipt arrives or the sim closes
	closed   bool
	readErr  error
}

// PrinterFaults are the conditions a clerk meets at a real printer.
type PrinterFaults struct {
	PaperOut  bool // nothing prints; DLE EOT reports paper end and offline
	NearEnd   bool // prints; DLE EOT 4 reports the near-end sensor
	CoverOpen bool // nothing prints; DLE EOT reports cover open and offline
	Offline   bool // nothing prints; DLE EOT 1 reports offline with no cause
	Silent    bool // switched off: bytes vanish and nothing answers
}

// PrinterLine is one printed line of text, as the printer decoded it.
type PrinterLine struct {
	Text    string
	Bold    bool
	DoubleW bool // width magnified 2× or more
	DoubleH bool // height magnified 2× or more
	Align   int  // 0 left, 1 centre, 2 right (ESC a)
}

// PrinterReceipt is what came out between two cuts. Lines, QR and Images
// each keep print order; PNG draws them interleaved as printed.
type PrinterReceipt struct {
	Lines  []PrinterLine
	QR     []string      // payloads of the QR codes printed with GS ( k
	Images []*image.Gray // GS v 0 images at their own size, black 0 and white 255
	blocks []printerBlock
}

// printerBlock is one printed thing in paper order.
type printerBlock struct {
	kind   printerKind
	index  int // into Lines, QR or Images
	align  int
	module int // QR module size in dots
	sx, sy int // image magnification (GS v 0 m)
}

type printerKind byte

const (
	printerText printerKind = iota
	printerQR
	printerImage
)

// NewPrinter starts a simulated printer on a new pseudo-terminal; open
// Path() with serialport.Open.
func NewPrinter() (*Printer, error) {
	pt, err := OpenPTY()
	if err != nil {
		return nil, err
	}
	p := &Printer{pty: pt, done: make(chan struct{}), notify: make(chan struct{})}
	p.parser = printerParser{
		printable: func() bool { return !p.faults.PaperOut && !p.faults.CoverOpen && !p.faults.Offline },
		status:    func(n byte) (byte, bool) { return printerStatusByte(p.faults, n) },
		receipt: func(r PrinterReceipt) {
			p.receipts = append(p.receipts, r)
			close(p.notify)
			p.notify = make(chan struct{})
		},
	}
	p.parser.reset()
	go p.run()
	return p, nil
}

// Path is the device path a driver opens.
func (p *Printer) Path() string { return p.pty.Path }

func (p *Printer) run() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.pty.Master.Read(buf)
		if n > 0 {
			p.mu.Lock()
			var reply []byte
			if !p.faults.Silent {
				reply = p.parser.feed(buf[:n])
			}
			p.mu.Unlock()
			if len(reply) > 0 {
				if _, werr := p.pty.Master.Write(reply); werr != nil {
					err = werr
				}
			}
		}
		if err != nil {
			p.mu.Lock()
			if !p.closed {
				p.readErr = fmt.Errorf("sim printer: pty: %w", err)
			}
			p.mu.Unlock()
			return
		}
	}
}

// Close stops the simulator and closes its pseudo-terminal.
func (p *Printer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.notify)
	p.mu.Unlock()
	err := p.pty.Close()
	<-p.done
	return err
}

// SetFaults sets the fault knobs; they apply to the next byte received.
func (p *Printer) SetFaults(f PrinterFaults) {
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

// Receipts returns every receipt cut so far.
func (p *Printer) Receipts() []PrinterReceipt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PrinterReceipt(nil), p.receipts...)
}

// Next returns the receipts in order, one per call, waiting for the next
// cut when all have been returned.
func (p *Printer) Next(ctx context.Context) (PrinterReceipt, error) {
	for {
		p.mu.Lock()
		if p.next < len(p.receipts) {
			r := p.receipts[p.next]
			p.next++
			p.mu.Unlock()
			return r, nil
		}
		ch, closed, rerr := p.notify, p.closed, p.readErr
		p.mu.Unlock()
		if closed {
			return PrinterReceipt{}, errors.New("sim printer: closed")
		}
		if rerr != nil {
			return PrinterReceipt{}, rerr
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return PrinterReceipt{}, fmt.Errorf("sim printer: waiting for a receipt (%d received): %w", len(p.Receipts()), ctx.Err())
		}
	}
}

// Unknown lists the commands skipped because the simulator does not model
// them, oldest first, such as "1b 74 (ESC t)".
func (p *Printer) Unknown() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.parser.unknown...)
}

// Discarded counts receipts lost to a fault: data that arrived while the
// paper was out, the cover open or the printer offline.
func (p *Printer) Discarded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parser.discarded
}

// printerStatusByte answers DLE EOT n. Bits 1 and 4 are always set. A
// cover open or paper out also takes the printer offline, as real ones do.
func printerStatusByte(f PrinterFaults, n byte) (byte, bool) {
	b := byte(0x12)
	switch n {
	case 1:
		if f.Offline || f.CoverOpen || f.PaperOut {
			b |= 0x08
		}
	case 2:
		if f.CoverOpen {
			b |= 0x04
		}
		if f.PaperOut {
			b |= 0x20
		}
	case 3:
	case 4:
		if f.NearEnd || f.PaperOut {
			b |= 0x0C
		}
		if f.PaperOut {
			b |= 0x60
		}
	default:
		return 0, false
	}
	return b, true
}

// maxPrinterUnknown bounds the unknown-command log, so that a stream of
// garbage cannot grow it without end.
const maxPrinterUnknown = 1000

// printerParser turns an ESC/POS byte stream into receipts. It holds a
// command that has not fully arrived until the rest comes, so the result
// does not depend on how the stream was split into reads.
type printerParser struct {
	printable func() bool
	status    func(n byte) (byte, bool)
	receipt   func(PrinterReceipt)

	pend []byte

	chinese                    bool
	bold                       bool
	align                      int
	asciiW, asciiH, cjkW, cjkH bool
	qrModule                   int
	qrData                     []byte
	cur                        PrinterReceipt
	line                       []rune
	lineStyle                  PrinterLine // style taken from the first character of the line
	spoiled                    bool        // something was lost to a fault since the last cut
	unknown                    []string
	discarded                  int
}

// reset is ESC @: the printer's power-on state. Chinese mode is on at
// power-on on the printers sold in China.
func (p *printerParser) reset() {
	p.chinese = true
	p.bold = false
	p.align = 0
	p.asciiW, p.asciiH, p.cjkW, p.cjkH = false, false, false, false
	p.qrModule = 3
	p.qrData = nil
}

// feed takes the next bytes from the wire and returns the status replies
// to send back.
func (p *printerParser) feed(b []byte) []byte {
	p.pend = append(p.pend, b...)
	var reply []byte
	i := 0
	for i < len(p.pend) {
		n, r := p.step(p.pend[i:])
		if n == 0 {
			break
		}
		reply = append(reply, r...)
		i += n
	}
	p.pend = append(p.pend[:0], p.pend[i:]...)
	return reply
}

// step handles the command at the start of b and returns how many bytes it
// took, or 0 when the command is not complete yet.
func (p *printerParser) step(b []byte) (int, []byte) {
	c := b[0]
	switch {
	case c == 0x0A:
		p.endLine(true)
		return 1, nil
	case c == 0x0D:
		return 1, nil // CR: these printers print on LF and ignore CR
	case c == 0x10:
		return p.dle(b)
	case c == 0x1B:
		return p.esc(b), nil
	case c == 0x1D:
		return p.gs(b), nil
	case c == 0x1C:
		return p.fs(b), nil
	case c < 0x20 || c == 0x7F:
		p.skip(b[:1], "control")
		return 1, nil
	}
	return p.char(b), nil
}

func (p *printerParser) dle(b []byte) (int, []byte) {
	if len(b) < 3 {
		return 0, nil
	}
	switch b[1] {
	case 0x04: // DLE EOT n: real-time status
		if r, ok := p.status(b[2]); ok {
			return 3, []byte{r}
		}
		p.skip(b[:3], "DLE EOT with bad n")
		return 3, nil
	case 0x05: // DLE ENQ n: real-time request
		p.skip(b[:3], "DLE ENQ")
		return 3, nil
	case 0x14: // DLE DC4 fn m t: real-time pulse and the like
		if len(b) < 5 {
			return 0, nil
		}
		p.skip(b[:5], "DLE DC4")
		return 5, nil
	}
	p.skip(b[:1], "DLE")
	return 1, nil
}

// printerParams is how many parameter bytes follow the ESC, GS and FS
// commands that are skipped without being modelled, so that their
// parameters are not printed as text.
var printerParams = map[[2]byte]int{
	{0x1B, ' '}: 1, {0x1B, '-'}: 1, {0x1B, '2'}: 0, {0x1B, '3'}: 1, {0x1B, 'J'}: 1,
	{0x1B, 'M'}: 1, {0x1B, 'R'}: 1, {0x1B, 't'}: 1, {0x1B, 'V'}: 1, {0x1B, 'G'}: 1,
	{0x1B, '{'}: 1, {0x1B, '$'}: 2, {0x1B, '\\'}: 2, {0x1B, 'p'}: 3, {0x1B, 'c'}: 2,
	{0x1B, '='}: 1, {0x1B, 'L'}: 0, {0x1B, 'S'}: 0, {0x1B, 'T'}: 1, {0x1B, 'U'}: 1,
	{0x1D, 'B'}: 1, {0x1D, 'H'}: 1, {0x1D, 'h'}: 1, {0x1D, 'w'}: 1, {0x1D, 'f'}: 1,
	{0x1D, 'a'}: 1, {0x1D, 'r'}: 1, {0x1D, 'I'}: 1, {0x1D, 'L'}: 2, {0x1D, 'W'}: 2,
	{0x1D, '$'}: 2, {0x1D, 'P'}: 2, {0x1D, 'b'}: 1, {0x1D, 'x'}: 1,
	{0x1C, 'C'}: 1, {0x1C, '-'}: 1, {0x1C, 'S'}: 2, {0x1C, 'W'}: 1, {0x1C, 'p'}: 2,
}

var printerPrefix = map[byte]string{0x1B: "ESC", 0x1D: "GS", 0x1C: "FS"}

// other skips a command the simulator does not model: with its parameters
// when their count is known, else just the two command bytes.
func (p *printerParser) other(b []byte) int {
	n := 2 + printerParams[[2]byte{b[0], b[1]}]
	if len(b) < n {
		return 0
	}
	p.skip(b[:n], fmt.Sprintf("%s %q", printerPrefix[b[0]], b[1]))
	return n
}

func (p *printerParser) esc(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '@':
		p.reset()
		return 2
	case 'a', 'E', '!', 'd':
	default:
		return p.other(b)
	}
	if len(b) < 3 {
		return 0
	}
	n := b[2]
	switch b[1] {
	case 'a':
		if n&3 != 3 { // 0/48 left, 1/49 centre, 2/50 right
			p.align = int(n & 3)
		}
	case 'E':
		p.bold = n&1 != 0
	case '!':
		p.bold = n&0x08 != 0
		p.asciiH = n&0x10 != 0
		p.asciiW = n&0x20 != 0
	case 'd':
		if n == 0 {
			p.endLine(false)
		}
		for i := 0; i < int(n); i++ {
			p.endLine(true)
		}
	}
	return 3
}

func (p *printerParser) gs(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '!':
		if len(b) < 3 {
			return 0
		}
		p.asciiW = b[2]>>4&7 > 0 // bits 4-6: width-1
		p.asciiH = b[2]&7 > 0    // bits 0-2: height-1
		return 3
	case '(':
		if len(b) < 5 {
			return 0
		}
		n := 5 + int(b[3]) + int(b[4])<<8
		if len(b) < n {
			return 0
		}
		if b[2] == 'k' {
			p.qr(b[:n])
		} else {
			p.skip(b[:n], fmt.Sprintf("GS ( %q", b[2]))
		}
		return n
	case 'v':
		return p.raster(b)
	case 'V':
		if len(b) < 3 {
			return 0
		}
		switch b[2] {
		case 0, 1, 48, 49:
			p.cut()
			return 3
		case 65, 66: // feed n, then cut
			if len(b) < 4 {
				return 0
			}
			p.cut()
			return 4
		}
		p.skip(b[:3], "GS V with unknown mode")
		return 3
	case 'k':
		return p.barcode(b)
	}
	return p.other(b)
}

func (p *printerParser) fs(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '&':
		p.chinese = true
		return 2
	case '.':
		p.chinese = false
		return 2
	case '!':
		if len(b) < 3 {
			return 0
		}
		p.cjkW = b[2]&0x04 != 0
		p.cjkH = b[2]&0x08 != 0
		return 3
	}
	return p.other(b)
}

// barcode skips GS k: m 0-6 is NUL-terminated data, m 65-73 has a length.
func (p *printerParser) barcode(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	n := 0
	if b[2] <= 6 {
		for i := 3; i < len(b); i++ {
			if b[i] == 0 {
				n = i + 1
				break
			}
		}
	} else if len(b) >= 4 && len(b) >= 4+int(b[3]) {
		n = 4 + int(b[3])
	}
	if n == 0 {
		return 0
	}
	p.skip(b[:n], "GS k barcode")
	return n
}

// qr handles GS ( k with cn 49 (QR code); cmd is the whole command.
func (p *printerParser) qr(cmd []byte) {
	body := cmd[5:]
	if len(body) < 2 || body[0] != '1' {
		p.skip(cmd, "GS ( k not QR")
		return
	}
	switch {
	case body[1] == 'A' && len(body) == 4: // fn165 model: only model 2 is modelled
		if body[2] != '2' {
			p.skip(cmd, "GS ( k QR model other than 2")
		}
	case body[1] == 'C' && len(body) == 3: // fn167 module size
		if body[2] >= 1 && body[2] <= 16 {
			p.qrModule = int(body[2])
		}
	case body[1] == 'E' && len(body) == 3: // fn169 error correction: the payload is what matters
	case body[1] == 'P' && len(body) >= 3: // fn180 store
		p.qrData = append([]byte(nil), body[3:]...)
	case body[1] == 'Q' && len(body) == 3: // fn181 print
		if len(p.qrData) == 0 {
			p.skip(cmd, "GS ( k QR print with no data stored")
			return
		}
		// A printer prints nothing for data its symbol cannot hold.
		if _, err := qrcode.New(string(p.qrData), qrcode.Medium); err != nil {
			p.skip(cmd, "GS ( k QR print of unencodable data")
			return
		}
		if !p.paper() {
			return
		}
		p.endLine(false)
		p.cur.blocks = append(p.cur.blocks, printerBlock{kind: printerQR, index: len(p.cur.QR), align: p.align, module: p.qrModule})
		p.cur.QR = append(p.cur.QR, string(p.qrData))
	default:
		p.skip(cmd, "GS ( k QR function")
	}
}

// raster handles GS v 0 m xL xH yL yH d1…dk.
func (p *printerParser) raster(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	if b[2] != '0' && b[2] != 0 {
		p.skip(b[:2], "GS v")
		return 2
	}
	if len(b) < 8 {
		return 0
	}
	m := b[3]
	xb := int(b[4]) | int(b[5])<<8
	h := int(b[6]) | int(b[7])<<8
	n := 8 + xb*h
	if len(b) < n {
		return 0
	}
	if xb == 0 || h == 0 || m&^0x30 > 3 {
		p.skip(b[:n], "GS v 0 empty or bad mode")
		return n
	}
	if !p.paper() {
		return n
	}
	img := image.NewGray(image.Rect(0, 0, xb*8, h))
	for i, d := range b[8:n] {
		row, col := i/xb, i%xb*8
		for bit := range 8 {
			v := byte(0xFF)
			if d&(0x80>>bit) != 0 { // MSB is the leftmost dot
				v = 0
			}
			img.Pix[row*img.Stride+col+bit] = v
		}
	}
	m &= 3
	p.endLine(false)
	p.cur.blocks = append(p.cur.blocks, printerBlock{kind: printerImage, index: len(p.cur.Images), align: p.align, sx: 1 + int(m&1), sy: 1 + int(m>>1)})
	p.cur.Images = append(p.cur.Images, img)
	return n
}

// char prints the character at the start of b.
func (p *printerParser) char(b []byte) int {
	c := b[0]
	var r []rune
	n := 1
	switch {
	case c < 0x80:
		r = []rune{rune(c)}
	case !p.chinese:
		r = []rune{charmap.CodePage437.DecodeByte(c)}
	case c == 0x80 || c == 0xFF:
		r = []rune{'\uFFFD'}
	default:
		if len(b) < 2 {
			return 0
		}
		switch c1 := b[1]; {
		case c1 >= 0x30 && c1 <= 0x39: // four-byte sequence
			if len(b) < 4 {
				return 0
			}
			if b[2] >= 0x81 && b[2] <= 0xFE && b[3] >= 0x30 && b[3] <= 0x39 {
				n = 4
			}
		case c1 >= 0x40 && c1 <= 0xFE && c1 != 0x7F:
			n = 2
		}
		if n == 1 {
			r = []rune{'\uFFFD'}
		} else {
			s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b[:n])
			if err != nil {
				s = []byte("\uFFFD")
			}
			r = []rune(string(s))
		}
	}
	if !p.paper() {
		return n
	}
	for _, x := range r {
		if len(p.line) == 0 {
			w, h := p.cjkW, p.cjkH
			if x < 0x80 {
				w, h = p.asciiW, p.asciiH
			}
			p.lineStyle = PrinterLine{Bold: p.bold, DoubleW: w, DoubleH: h, Align: p.align}
		}
		p.line = append(p.line, x)
	}
	return n
}

// paper reports whether the printer can put anything on paper now, and
// marks the receipt as spoiled when it cannot.
func (p *printerParser) paper() bool {
	if p.printable() {
		return true
	}
	p.spoiled = true
	return false
}

// endLine prints the line buffer. feed says the paper moves a line even
// when the buffer is empty (LF, ESC d); before a QR code or image only a
// pending line is printed.
func (p *printerParser) endLine(feed bool) {
	if len(p.line) == 0 && !feed {
		return
	}
	if !p.paper() {
		p.line = p.line[:0]
		return
	}
	l := p.lineStyle
	if len(p.line) == 0 {
		l = PrinterLine{Align: p.align}
	}
	l.Text = string(p.line)
	p.cur.blocks = append(p.cur.blocks, printerBlock{kind: printerText, index: len(p.cur.Lines), align: l.Align})
	p.cur.Lines = append(p.cur.Lines, l)
	p.line = p.line[:0]
}

// cut ends the receipt. One spoiled by a fault is not handed out: part of
// it never reached the paper.
func (p *printerParser) cut() {
	p.endLine(false)
	if !p.paper() || p.spoiled {
		p.discarded++
	} else {
		p.receipt(p.cur)
	}
	p.cur = PrinterReceipt{}
	p.spoiled = false
}

func (p *printerParser) skip(cmd []byte, what string) {
	if len(p.unknown) >= maxPrinterUnknown {
		return
	}
	const show = 8
	s := fmt.Sprintf("% x", cmd[:min(len(cmd), show)])
	if len(cmd) > show {
		s += fmt.Sprintf(" …(%d bytes)", len(cmd))
	}
	p.unknown = append(p.unknown, s+" ("+what+")")
}
