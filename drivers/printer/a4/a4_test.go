package a4_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"yici/drivers/printer/a4"
	"yici/drivers/printer/printtest"
)

// An invented applicant: 张三, ID 21020219880504123X, masked as the
// caller must.
var header = a4.Header{
	Hall:      "大连市某某区政务服务中心",
	CaseNo:    "YC20260305-0042",
	Date:      time.Date(2026, 3, 5, 9, 30, 0, 0, time.Local),
	Applicant: "张*",
	IDNumber:  "2102**********123X",
	Items:     []string{"个体工商户设立登记"},
	Window:    "3号综合窗口",
	Phone:     "0411-12345678",
	QR:        "https://yici.example/c/YC20260305-0042",
}

var missing = []a4.Material{
	{Name: "经营场所使用证明", Criteria: "房屋产权证明复印件一份，或租赁合同原件及出租方产权证明复印件；租赁期限不少于一年，复印件须由出租方签字确认。"},
	{Name: "经营者身份证明", Criteria: "居民身份证原件，现场核验后退还；委托他人办理的，另交授权委托书及受托人身份证原件。"},
}

func deferred() []a4.Deferred {
	return []a4.Deferred{{Material: missing[0], Due: time.Date(2026, 3, 20, 0, 0, 0, 0, time.Local)}}
}

// poppler renders and reads the PDF back, as a person's viewer would.
func poppler(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs poppler-utils): %v", tool, err)
		}
	}
}

func writePDF(t *testing.T, pdf []byte) string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

func pages(t *testing.T, path string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo gives no page count")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// render draws a page at dpi and checks that it is A4 and carries ink
// (at least minInk of the pixels dark, and not a black box), saving it to
// $YICI_SCREENS if set.
func render(t *testing.T, path string, page, dpi int, minInk float64, shot string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "page")
	p := strconv.Itoa(page)
	run(t, "pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", p, "-l", p, "-singlefile", path, out)
	b, err := os.ReadFile(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	wantW := int(210 / 25.4 * float64(dpi))
	if d := r.Dx() - wantW; d < -2 || d > 2 {
		t.Fatalf("page is %d px wide at %d dpi, want A4's %d", r.Dx(), dpi, wantW)
	}
	if ink := inked(img); ink < minInk || ink > 0.3 {
		t.Fatalf("page %d: %.2f%% of the pixels are dark: blank or garbled", page, 100*ink)
	}
	if dir := os.Getenv("YICI_SCREENS"); dir != "" && shot != "" {
		if err := os.WriteFile(filepath.Join(dir, shot), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func inked(img image.Image) float64 {
	r := img.Bounds()
	dark := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if (cr+cg+cb)/3 < 0x8000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(r.Dx()*r.Dy())
}

// squash removes the spacing pdftotext puts between CJK glyphs and at
// line ends, so that tests look for words, not layout.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func TestDocuments(t *testing.T) {
	poppler(t)
	tests := []struct {
		name string
		make func() ([]byte, error)
		want []string // in the extracted text, spaces removed
	}{
		{
			name: "one-time notice",
			make: func() ([]byte, error) {
				return a4.OneTimeNotice(a4.Notice{Header: header, Missing: missing, Deadline: time.Date(2026, 3, 12, 0, 0, 0, 0, time.Local)})
			},
			want: []string{"一次性告知书", "编号：YC20260305-0042", "申请人：张*", "2102**********123X", "个体工商户设立登记",
				"经营场所使用证明", "租赁期限不少于一年", "经营者身份证明", "请于2026年3月12日前补齐", "3号综合窗口", "0411-12345678",
				"大连市某某区政务服务中心（盖章）", "第1页共1页"},
		},
		{
			name: "acceptance notice",
			make: func() ([]byte, error) {
				return a4.AcceptanceNotice(a4.Acceptance{Header: header, Received: []string{"经营者身份证明"}, Exempt: []string{"户口簿"},
					Deferred: deferred(), Due: time.Date(2026, 3, 10, 0, 0, 0, 0, time.Local)})
			},
			want: []string{"受理通知书", "决定予以受理", "已收", "免提交（本中心已有）", "容缺，2026年3月20日前补交", "承诺办结时限：2026年3月10日前"},
		},
		{
			name: "commitment letter",
			make: func() ([]byte, error) {
				return a4.CommitmentLetter(a4.Commitment{Header: header, Deferred: deferred()})
			},
			want: []string{"容缺受理承诺书", "本人张*（证件号码：2102**********123X）", "经营场所使用证明", "2026年3月20日前",
				"承诺人（签字）", "同意本中心终止办理"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdf, err := tt.make()
			if err != nil {
				t.Fatal(err)
			}
			path := writePDF(t, pdf)
			if n := pages(t, path); n != 1 {
				t.Errorf("%d pages, want 1", n)
			}
			text := squash(string(run(t, "pdftotext", "-layout", path, "-")))
			for _, w := range tt.want {
				if !strings.Contains(text, squash(w)) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "21020219880504123X") || strings.Contains(text, "张三") {
				t.Error("unmasked personal data in the document")
			}
			shot := "a4-" + strings.ReplaceAll(tt.name, " ", "-") + ".png"
			png := render(t, path, 1, 150, 0.005, shot)
			if got := printtest.MustQRFromPNG(t, png); got != header.QR {
				t.Errorf("QR code reads %q, want %q", got, header.QR)
			}
		})
	}
}

// A long list runs onto more pages; every material is there, the table
// heading repeats, and each page is numbered out of the total.
func TestLongNoticeRunsOver(t *testing.T) {
	poppler(t)
	var many []a4.Material
	for i := 1; i <= 40; i++ {
		m := missing[i%2]
		many = append(many, a4.Material{Name: fmt.Sprintf("材料%02d：%s", i, m.Name), Criteria: m.Criteria})
	}
	// One criterion longer than a page is split by line, not cut off.
	many[20].Criteria = strings.Repeat("须加盖单位公章并由法定代表人签字确认。", 120) + "【完】"
	pdf, err := a4.OneTimeNotice(a4.Notice{Header: header, Missing: many})
	if err != nil {
		t.Fatal(err)
	}
	path := writePDF(t, pdf)
	n := pages(t, path)
	if n < 3 {
		t.Fatalf("%d pages for 40 materials and a page-long criterion, want at least 3", n)
	}
	text := squash(string(run(t, "pdftotext", "-layout", path, "-")))
	for i := 1; i <= 40; i++ {
		if w := fmt.Sprintf("材料%02d", i); !strings.Contains(text, w) {
			t.Errorf("material %s is missing", w)
		}
	}
	for _, w := range []string{"【完】", fmt.Sprintf("第%d页共%d页", n, n)} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q", w)
		}
	}
	// The table fills every page but the last, which ends the notice.
	if h := strings.Count(text, "序号材料名称审查要求"); h < n-1 {
		t.Errorf("table heading appears %d times on %d pages", h, n)
	}
	for p := 1; p < n; p++ {
		render(t, path, p, 40, 0.02, "")
	}
	render(t, path, n, 40, 0.002, "")
}

func TestRefusals(t *testing.T) {
	unmasked := header
	unmasked.IDNumber = "21020219880504123X"
	named := header
	named.Applicant = "张三"
	noCase := header
	noCase.CaseNo = ""
	tests := []struct {
		name string
		make func() ([]byte, error)
		err  string
	}{
		{"unmasked ID", func() ([]byte, error) { return a4.OneTimeNotice(a4.Notice{Header: unmasked, Missing: missing}) }, "ID number is not masked"},
		{"unmasked name", func() ([]byte, error) { return a4.AcceptanceNotice(a4.Acceptance{Header: named}) }, "name is not masked"},
		{"no case number", func() ([]byte, error) { return a4.AcceptanceNotice(a4.Acceptance{Header: noCase}) }, "no case number"},
		{"notice with nothing missing", func() ([]byte, error) { return a4.OneTimeNotice(a4.Notice{Header: header}) }, "no missing materials"},
		{"letter with nothing deferred", func() ([]byte, error) { return a4.CommitmentLetter(a4.Commitment{Header: header}) }, "no deferred materials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.make(); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
		})
	}
}
