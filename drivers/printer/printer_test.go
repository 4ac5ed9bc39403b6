package printer

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yici/drivers/printer/printtest"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

// startSim starts a simulated printer and a Printer on it through a real
// pseudo-terminal.
// printThroughSim prints doc on a simulated printer over a pseudo-terminal
// and returns what the simulator decoded from the bytes it received; a
// command the simulator does not know fails t.
func printThroughSim(t *testing.T, doc *Doc) sim.PrinterReceipt {
	t.Helper()
	s, p, _ := startSim(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Print(ctx, doc.Bytes()); err != nil {
		t.Fatal(err)
	}
	r, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.Unknown(); len(u) != 0 {
		t.Errorf("sim skipped commands it does not know: %q", u)
	}
	return r
}

func startSim(t *testing.T, opts Options) (*sim.Printer, *Printer, serialport.Port) {
	t.Helper()
	s, err := sim.NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	port, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	if opts.ReplyTimeout == 0 {
		opts.ReplyTimeout = 300 * time.Millisecond
	}
	if opts.Settle == 0 {
		opts.Settle = 50 * time.Millisecond
	}
	return s, New(port, opts), port
}

func sampleData() ReceiptData {
	return ReceiptData{
		Hall:      "示例区政务服务中心",
		CaseNo:    "YC20250601-0007",
		Time:      time.Date(2025, 6, 1, 10, 32, 0, 0, time.FixedZone("CST", 8*3600)),
		Applicant: "张*",
		IDNumber:  "2102**********123X",
		Items:     []string{"不动产登记（转移登记）", "居住证明开具"},
		Materials: []ReceiptMaterial{
			{"居民身份证", MaterialReceived},
			{"不动产权证书", MaterialExempt},
			{"房屋买卖合同（网签备案版，须由买卖双方签字并按手印）", MaterialPending},
		},
		QR:     "https://yici.example.org/q/YC20250601-0007",
		Footer: []string{"咨询电话 0411-12345", "一次提交 · 全程网办"},
	}
}

// The Chinese text the sim decodes is exactly what the receipt was laid
// out with.
var sampleLines = []string{
	"示例区政务服务中心",
	"受理回执",
	strings.Repeat("-", 48),
	"受理编号：YC20250601-0007",
	"受理时间：2025-06-01 10:32",
	"申 请 人：张*",
	"证件号码：2102**********123X",
	"办理事项：",
	"  不动产登记（转移登记）",
	"  居住证明开具",
	strings.Repeat("-", 48),
	"材料                                        状态",
	"1. 居民身份证                               已收",
	"2. 不动产权证书                           免提交",
	"3. 房屋买卖合同（网签备案版，须由买卖双方   待补",
	"   签字并按手印）",
	strings.Repeat("-", 48),
	"扫码查询进度、评价",
	"咨询电话 0411-12345",
	"一次提交 · 全程网办",
}

func TestPrintReceiptThroughSim(t *testing.T) {
	for _, asImage := range []bool{false, true} {
		name := map[bool]string{false: "native QR", true: "QR as image"}[asImage]
		t.Run(name, func(t *testing.T) {
			data := sampleData()
			data.QRAsImage = asImage
			doc, err := Receipt(data)
			if err != nil {
				t.Fatal(err)
			}
			r := printThroughSim(t, doc)
			var got []string
			for _, l := range r.Lines {
				if l.Text != "" {
					got = append(got, l.Text)
				}
			}
			if strings.Join(got, "\n") != strings.Join(sampleLines, "\n") {
				t.Errorf("sim printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sampleLines, "\n"))
			}
			if l := r.Lines[0]; !l.Bold || !l.DoubleW || !l.DoubleH || l.Align != 1 {
				t.Errorf("hall line style %+v, want bold double centred", l)
			}
			if l := r.Lines[1]; l.Bold || !l.DoubleW || !l.DoubleH || l.Align != 1 {
				t.Errorf("title line style %+v, want double centred", l)
			}
			if asImage {
				if len(r.QR) != 0 || len(r.Images) != 1 {
					t.Errorf("got %d QR commands and %d images, want the code as 1 image", len(r.QR), len(r.Images))
				}
			} else if len(r.QR) != 1 || r.QR[0] != data.QR {
				t.Errorf("QR payloads %q, want [%q]", r.QR, data.QR)
			}

			pngBytes, err := r.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(pngBytes))
			if err != nil {
				t.Fatal(err)
			}
			if w := img.Bounds().Dx(); w != 576 {
				t.Errorf("paper %d dots wide, want 576", w)
			}
			if got := printtest.MustQR(t, img); got != data.QR {
				t.Errorf("QR in PNG reads %q, want %q", got, data.QR)
			}
			if dir := os.Getenv("YICI_SCREENS"); dir != "" && !asImage {
				if err := os.WriteFile(filepath.Join(dir, "receipt-sample.png"), pngBytes, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// A fault seen before the job refuses it with what the clerk must do, and
// nothing reaches the paper.
func TestPrintFaults(t *testing.T) {
	tests := []struct {
		name    string
		faults  sim.PrinterFaults
		is      error
		says    string
		printed bool
	}{
		{"ready", sim.PrinterFaults{}, nil, "", true},
		{"near end still prints", sim.PrinterFaults{NearEnd: true}, nil, "", true},
		{"paper out", sim.PrinterFaults{PaperOut: true}, ErrNotReady, "缺纸：请装入打印纸 / paper out: load paper", false},
		{"cover open", sim.PrinterFaults{CoverOpen: true}, ErrNotReady, "cover open: close the printer cover", false},
		{"offline", sim.PrinterFaults{Offline: true}, ErrNotReady, "printer offline", false},
		{"silent", sim.PrinterFaults{Silent: true}, ErrNoAnswer, "printer not answering: check power and cable", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, _ := startSim(t, Options{})
			s.SetFaults(tt.faults)
			var d Doc
			d.Init()
			if err := d.Line("测试 test"); err != nil {
				t.Fatal(err)
			}
			d.Cut()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := p.Print(ctx, d.Bytes())
			if tt.is == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.is, tt.says)
			}
			if tt.is == ErrNotReady && strings.Contains(err.Error(), "not printed in full") {
				t.Errorf("fault before the job reported as after it: %v", err)
			}
			// Clear the fault: a refused job must not print later either.
			s.SetFaults(sim.PrinterFaults{})
			if _, err := p.Status(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(s.Receipts()); (n == 1) != tt.printed {
				t.Errorf("%d receipts printed, want printed=%v", n, tt.printed)
			}
		})
	}
}

// faultOnJob is a port that runs out of paper in the sim as the first job
// byte goes out, after the check before printing passed.
type faultOnJob struct {
	serialport.Port
	s *sim.Printer
}

func (f faultOnJob) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte{0x10, 0x04}) {
		f.s.SetFaults(sim.PrinterFaults{PaperOut: true})
	}
	return f.Port.Write(b)
}

// A job that loses paper on the way is an error, never done.
func TestPrintFaultDuringJob(t *testing.T) {
	s, _, port := startSim(t, Options{})
	p := New(faultOnJob{port, s}, Options{ReplyTimeout: 300 * time.Millisecond, Settle: -1})
	doc, err := Receipt(sampleData())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Print(context.Background(), doc.Bytes())
	var nr *NotReadyError
	if !errors.As(err, &nr) || !nr.After || !nr.Status.PaperOut {
		t.Fatalf("err = %v, want a paper-out NotReadyError after the job", err)
	}
	if !strings.Contains(err.Error(), "reprint") {
		t.Errorf("message %q does not tell the clerk to reprint", err)
	}
	if n := len(s.Receipts()); n != 0 || s.Discarded() != 1 {
		t.Errorf("%d receipts printed and %d discarded, want 0 and 1", n, s.Discarded())
	}
}

func TestStatusContext(t *testing.T) {
	s, p, _ := startSim(t, Options{ReplyTimeout: 5 * time.Second})
	s.SetFaults(sim.PrinterFaults{Silent: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Status(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Status took %v past a 100 ms context", d)
	}
}

// A late reply to an earlier query is thrown away, not read as this one's.
func TestStatusDrainsStaleBytes(t *testing.T) {
	s, p, port := startSim(t, Options{})
	// An unsolicited status byte (paper out) waiting on the line.
	if _, err := port.Write([]byte{0x10, 0x04, 0x02}); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.PrinterFaults{PaperOut: true})
	time.Sleep(50 * time.Millisecond)
	s.SetFaults(sim.PrinterFaults{})
	st, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready() {
		t.Errorf("status %v: stale byte was taken as a reply", st)
	}
}
