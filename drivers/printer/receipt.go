package printer

import (
	"fmt"
	"strings"
	"time"
)

// MaterialState is how a material of a case stands at the counter.
type MaterialState string

const (
	MaterialReceived MaterialState = "已收"  // handed in and checked
	MaterialExempt   MaterialState = "免提交" // the hall already holds it ("submit only once")
	MaterialPending  MaterialState = "待补"  // accepted now, to be supplied later
	MaterialOptional MaterialState = "可选"  // not handed in, and not required
)

// ReceiptMaterial is one line of the materials list.
type ReceiptMaterial struct {
	Name  string
	State MaterialState
}

// ReceiptData is what a Yici acceptance receipt (受理回执) shows. Applicant
// and IDNumber must already be masked by the caller: the receipt leaves the
// hall in the applicant's pocket.
type ReceiptData struct {
	Hall      string // e.g. 某某区政务服务中心
	Title     string // empty means 受理回执
	CaseNo    string
	Time      time.Time
	Applicant string // masked, e.g. 张*
	IDNumber  string // masked, e.g. 2102**********123X
	Items     []string
	Materials []ReceiptMaterial
	QR        string   // URL or text for the progress and rating page; empty means no code
	QRCaption string   // empty means 扫码查询进度、评价
	Footer    []string // centred lines at the bottom, such as the hall's phone
	// NoticeTitle and Notice, when Notice is set, print the one-time
	// notice (一次性告知) under the materials: the title in large type,
	// then each line (a material and what it must meet), wrapped.
	NoticeTitle string
	Notice      []string
	// QRAsImage draws the code here and sends it as an image, for printers
	// without the GS ( k QR command.
	QRAsImage bool
}

// receiptQRModule gives a code about 25 mm wide for a short URL: large
// enough for an old phone camera, small enough to leave the text room.
const receiptQRModule = 6

// Receipt lays out the standard Yici receipt and ends it with a cut.
func Receipt(r ReceiptData) (*Doc, error) {
	for _, m := range r.Materials {
		switch m.State {
		case MaterialReceived, MaterialExempt, MaterialPending, MaterialOptional:
		default:
			return nil, fmt.Errorf("printer: receipt: material %q has state %q, want 已收, 免提交, 待补 or 可选", m.Name, m.State)
		}
	}
	title := r.Title
	if title == "" {
		title = "受理回执"
	}
	caption := r.QRCaption
	if caption == "" {
		caption = "扫码查询进度、评价"
	}
	rule := strings.Repeat("-", Columns)

	// Text is written through a Doc that remembers the first error, so the
	// layout below reads as the receipt it prints.
	d := &Doc{}
	var err error
	line := func(s string) {
		if err == nil {
			err = d.Line(s)
		}
	}
	startSlip(d, r.Hall, line)
	d.Size(true, true)
	line(title)
	d.Size(false, false)
	d.Align(AlignLeft)
	line(rule)
	field := func(label, value string) {
		if value != "" {
			for _, l := range wrap(label+value, Columns, Width(label)) {
				line(l)
			}
		}
	}
	field("受理编号：", r.CaseNo)
	if !r.Time.IsZero() {
		field("受理时间：", r.Time.Format("2006-01-02 15:04"))
	}
	field("申 请 人：", r.Applicant)
	field("证件号码：", r.IDNumber)
	if len(r.Items) > 0 {
		line("办理事项：")
		for _, it := range r.Items {
			for _, l := range wrap("  "+it, Columns, 2) {
				line(l)
			}
		}
	}
	if len(r.Materials) > 0 {
		line(rule)
		d.Bold(true)
		line(columns("材料", "状态", Columns))
		d.Bold(false)
		for i, m := range r.Materials {
			num := fmt.Sprintf("%d. ", i+1)
			for _, l := range listRow(num+m.Name, len(num), string(m.State), Columns) {
				line(l)
			}
		}
	}
	line(rule)
	if len(r.Notice) > 0 {
		d.Align(AlignCenter)
		d.Bold(true)
		d.Size(false, true)
		line(r.NoticeTitle)
		d.Size(false, false)
		d.Bold(false)
		d.Align(AlignLeft)
		for _, n := range r.Notice {
			for _, l := range wrap(n, Columns, 3) {
				line(l)
			}
		}
		line(rule)
	}
	if err != nil {
		return nil, fmt.Errorf("printer: receipt %s: %w", r.CaseNo, err)
	}
	d.Align(AlignCenter)
	if r.QR != "" {
		if r.QRAsImage {
			err = d.QRRaster(r.QR, receiptQRModule)
		} else {
			err = d.QR(r.QR, receiptQRModule)
		}
		if err != nil {
			return nil, fmt.Errorf("printer: receipt %s: %w", r.CaseNo, err)
		}
		line(caption)
	}
	for _, f := range r.Footer {
		line(f)
	}
	d.Feed(2)
	d.Cut()
	if err != nil {
		return nil, fmt.Errorf("printer: receipt %s: %w", r.CaseNo, err)
	}
	return d, nil
}

// Width is how many columns s takes on the printer: ASCII characters are
// 12 dots wide, every other character 24.
func Width(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	if r < 0x80 {
		return 1
	}
	return 2
}

// wrap breaks s into lines of at most width columns, starting each
// continuation line with hang spaces so that a wrapped entry stays visibly
// one entry. Closing punctuation never starts a line: the character before
// it moves down too. A printer wraps on its own, but at the margin and
// without either rule.
func wrap(s string, width, hang int) []string {
	var out []string
	cur, w := []rune(nil), 0
	for _, r := range s {
		rw := runeWidth(r)
		if w+rw > width && w > hang {
			var carry []rune
			if strings.ContainsRune(noLineStart, r) && len(cur) > hang+1 {
				carry = cur[len(cur)-1:]
				cur = cur[:len(cur)-1]
			}
			out = append(out, string(cur))
			cur = append([]rune(strings.Repeat(" ", hang)), carry...)
			w = hang + Width(string(carry))
		}
		cur = append(cur, r)
		w += rw
	}
	return append(out, string(cur))
}

// noLineStart is punctuation that may not begin a line.
const noLineStart = "，。、；：？！）》」』”’,.;:?!)"

// columns puts left at the margin and right flush with the edge.
func columns(left, right string, width int) string {
	gap := max(width-Width(left)-Width(right), 1)
	return left + strings.Repeat(" ", gap) + right
}

// listRow is a numbered list entry with its state on the right of the
// first line; a long name wraps under itself, clear of the state column.
func listRow(left string, hang int, right string, width int) []string {
	lines := wrap(left, width-Width(right)-2, hang)
	lines[0] = columns(lines[0], right, width)
	return lines
}

// startSlip begins a receipt or a ticket: the printer reset, centred, and
// the hall's name in bold, if any. line writes a line, keeping the first
// error.
func startSlip(d *Doc, hall string, line func(string)) {
	d.Init()
	d.Align(AlignCenter)
	if hall != "" {
		d.Bold(true)
		// Double width halves the line; a long hall name keeps only the
		// double height so that it does not wrap.
		d.Size(Width(hall)*2 <= Columns, true)
		line(hall)
		d.Bold(false)
	}
}
