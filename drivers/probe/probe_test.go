package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yici/drivers/idcard"
	"yici/drivers/probe"
	"yici/drivers/serialport"
	"yici/drivers/sim"
)

// zhang is invented; the ID number's check digit is valid.
var zhang = idcard.Card{
	Type: idcard.Resident, Name: "张三", Gender: "男", Nation: "汉", Birth: "19880504",
	Address: "辽宁省大连市中山区示例街道幸福路12号", IDNumber: "21020219880504123X",
	Authority: "大连市公安局中山分局", ValidFrom: "20180504", ValidTo: "20380504",
}

func newReader(t *testing.T) *sim.IDCard {
	t.Helper()
	s, err := sim.NewIDCard()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newPrinter(t *testing.T) *sim.Printer {
	t.Helper()
	s, err := sim.NewPrinter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// silent is a port with nothing on the other end: a pty nobody answers.
func silent(t *testing.T) string {
	t.Helper()
	pt, err := sim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pt.Close() })
	return pt.Path
}

// runAfter runs the probe and calls then once it reports on stderr (for
// the idcard subcommand: once the SAM has answered).
func runAfter(then func(), args ...string) (code int, stdout, stderr string) {
	var o bytes.Buffer
	e := &notifyWriter{then: then}
	code = probe.Main(args, &o, e)
	return code, o.String(), e.b.String()
}

type notifyWriter struct {
	b    bytes.Buffer
	then func()
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	if w.then != nil {
		w.then()
		w.then = nil
	}
	return w.b.Write(p)
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = probe.Main(args, &o, &e)
	return code, o.String(), e.String()
}

// The port listing tells the reader, the printer and an empty port apart,
// each on its own line.
func TestListIdentifies(t *testing.T) {
	reader, prn, none := newReader(t), newPrinter(t), silent(t)
	code, out, errOut := run("--port", reader.Path(), "--port", prn.Path(), "--port", none, "--baud", "115200", "--timeout", "200ms")
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PORT") {
		t.Fatalf("listing:\n%s", out)
	}
	want := map[string]string{
		reader.Path(): "ID-card reader (GA 467) at 115200 8N1: SAM 05.01-20260101-000000001-123456789",
		prn.Path():    "receipt printer (ESC/POS) at 115200 8N1: 正常 / ready",
		none:          "nothing answered on " + none + ": check cable/power/baud (tried receipt printer (ESC/POS), ID-card reader (GA 467) at 115200 baud)",
	}
	for _, l := range lines[1:] {
		path := strings.Fields(l)[0]
		if w, ok := want[path]; !ok || !strings.HasSuffix(l, w) {
			t.Errorf("line %q, want it to end %q", l, w)
		}
	}
	// The probe printed nothing on the printer: status queries only.
	if r := prn.Receipts(); len(r) != 0 {
		t.Errorf("the probe printed %d receipts", len(r))
	}
}

// Nothing answering anywhere is a failure, with every baud rate tried.
func TestListNothingAnswers(t *testing.T) {
	none := silent(t)
	code, out, _ := run("--port", none, "--timeout", "50ms")
	if code != 1 || !strings.Contains(out, "nothing answered on "+none+": check cable/power/baud") || !strings.Contains(out, "at 115200, 9600 baud") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

// With a configuration file, the listing probes its ports and shows
// which role each is configured for.
func TestListWithConfig(t *testing.T) {
	reader := newReader(t)
	cfg := filepath.Join(t.TempDir(), "devices.json")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `{"idcard": {"port": %q}}`, reader.Path()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("--config", cfg, "--port", reader.Path(), "--baud", "115200")
	if code != 0 || !strings.Contains(out, "CONFIGURED AS") || !strings.Contains(out, " idcard ") || !strings.Contains(out, "ID-card reader") {
		t.Fatalf("exit %d, output:\n%s\nstderr: %s", code, out, errOut)
	}
}

func TestIDCard(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		name_    string
		idNumber string
		birth    string
		address  string
		warn     string
	}{
		{name: "masked by default", name_: "张*", idNumber: "2102**********123X", birth: "1988****", address: "辽宁省大连市" + strings.Repeat("*", 13)},
		{name: "unmasked on request", args: []string{"--unmasked"}, name_: "张三", idNumber: "21020219880504123X", birth: "19880504", address: zhang.Address, warn: "unmasked personal data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader := newReader(t)
			reader.Place(zhang)
			code, out, errOut := run(append([]string{"idcard", "--port", reader.Path()}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d; stderr: %s", code, errOut)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got["name"] != tt.name_ || got["id_number"] != tt.idNumber || got["type"] != "resident" ||
				got["valid_to"] != "20380504" || got["photo_bytes"] != 1024.0 || got["masked"] != (tt.warn == "") ||
				got["birth"] != tt.birth || got["address"] != tt.address {
				t.Fatalf("card JSON: %s", out)
			}
			if _, ok := got["photo"]; ok {
				t.Error("the photo was printed")
			}
			if !strings.Contains(errOut, "SAM 05.01-20260101-000000001-123456789") {
				t.Errorf("stderr does not show the SAM: %s", errOut)
			}
			if tt.warn != "" && !strings.Contains(errOut, tt.warn) {
				t.Errorf("stderr lacks the warning %q: %s", tt.warn, errOut)
			}
			if tt.warn == "" && (strings.Contains(out, "张三") || strings.Contains(out, "21020219880504123X") || strings.Contains(out, "幸福路")) {
				t.Error("unmasked data in the default output")
			}
		})
	}
}

func TestIDCardFailures(t *testing.T) {
	t.Run("no card", func(t *testing.T) {
		reader := newReader(t)
		code, out, errOut := run("idcard", "--port", reader.Path(), "--wait", "300ms")
		if code != 1 || out != "" || !strings.Contains(errOut, "no card on the reader at "+reader.Path()+" at 115200 8N1 within 300ms") {
			t.Fatalf("exit %d, stdout %q, stderr: %s", code, out, errOut)
		}
	})
	t.Run("bad checksum", func(t *testing.T) {
		reader := newReader(t)
		reader.Place(zhang)
		reader.SetFaults(sim.Faults{BadChecksum: true})
		code, out, errOut := run("idcard", "--port", reader.Path(), "--timeout", "200ms")
		if code != 1 || out != "" || !strings.Contains(errOut, "something answered on "+reader.Path()+" at 115200 8N1, but not as a GA 467 reader should") ||
			!strings.Contains(errOut, "checksum") {
			t.Fatalf("exit %d, stderr: %s", code, errOut)
		}
	})
	t.Run("truncated read", func(t *testing.T) {
		reader := newReader(t)
		reader.Place(zhang)
		// The SAM answers whole; the card's data arrives cut short.
		code, out, errOut := runAfter(func() { reader.SetFaults(sim.Faults{Truncate: true}) }, "idcard", "--port", reader.Path(), "--timeout", "200ms")
		if code != 1 || out != "" || !strings.Contains(errOut, "reading the card on "+reader.Path()) {
			t.Fatalf("exit %d, stdout %q, stderr: %s", code, out, errOut)
		}
	})
	t.Run("nothing answers", func(t *testing.T) {
		none := silent(t)
		code, _, errOut := run("idcard", "--port", none, "--timeout", "100ms")
		if want := "yici probe idcard: nothing answered on " + none + ": check cable/power/baud (tried GA 467 SAM status at 115200 8N1)"; code != 1 || !strings.HasPrefix(errOut, want) {
			t.Fatalf("exit %d, stderr: %s\nwant: %s", code, errOut, want)
		}
	})
	t.Run("missing port", func(t *testing.T) {
		code, _, errOut := run("idcard", "--port", "/dev/yici-no-such-port")
		if code != 1 || !strings.Contains(errOut, "the port does not exist; run yici probe to list the ports") {
			t.Fatalf("exit %d, stderr: %s", code, errOut)
		}
	})
}

// The test page comes out of the simulated printer with its Chinese lines
// and QR code as sent.
func TestPrinterTestPage(t *testing.T) {
	for _, raster := range []bool{false, true} {
		t.Run(fmt.Sprintf("raster %v", raster), func(t *testing.T) {
			prn := newPrinter(t)
			args := []string{"printer", "--port", prn.Path(), "--test-page"}
			if raster {
				args = append(args, "--raster-qr")
			}
			code, out, errOut := run(args...)
			if code != 0 {
				t.Fatalf("exit %d; stderr: %s", code, errOut)
			}
			if !strings.Contains(out, "receipt printer on "+prn.Path()+" at 115200 8N1: 正常 / ready") || !strings.Contains(out, "test page printed") {
				t.Fatalf("output: %s", out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			rc, err := prn.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var text []string
			for _, l := range rc.Lines {
				text = append(text, l.Text)
			}
			all := strings.Join(text, "\n")
			for _, w := range []string{"打印机测试页", "中文：政务服务 一次办好 身份证 营业执照", "GB18030：〇一二三 ¥100.00 （全角）", "端口 port: " + prn.Path()} {
				if !strings.Contains(all, w) {
					t.Errorf("printed text lacks %q:\n%s", w, all)
				}
			}
			if !rc.Lines[0].Bold || !rc.Lines[0].DoubleW {
				t.Errorf("title line %+v, want bold double size", rc.Lines[0])
			}
			if raster {
				if len(rc.Images) != 1 || len(rc.QR) != 0 {
					t.Fatalf("raster QR: %d images, %d native codes", len(rc.Images), len(rc.QR))
				}
			} else if len(rc.QR) != 1 || rc.QR[0] != probe.TestPageQR {
				t.Fatalf("QR payloads %q, want %q", rc.QR, probe.TestPageQR)
			}
		})
	}
}

func TestPrinterFailures(t *testing.T) {
	t.Run("paper out", func(t *testing.T) {
		prn := newPrinter(t)
		prn.SetFaults(sim.PrinterFaults{PaperOut: true})
		code, out, errOut := run("printer", "--port", prn.Path(), "--test-page")
		if code != 1 || !strings.Contains(out, "缺纸") || !strings.Contains(errOut, "not printing") || len(prn.Receipts()) != 0 {
			t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
		}
	})
	t.Run("nothing answers", func(t *testing.T) {
		none := silent(t)
		code, _, errOut := run("printer", "--port", none, "--timeout", "100ms")
		if want := "yici probe printer: nothing answered on " + none + ": check cable/power/baud (tried ESC/POS DLE EOT status at 115200 8N1)\n"; code != 1 || errOut != want {
			t.Fatalf("exit %d, stderr %q\nwant %q", code, errOut, want)
		}
	})
	t.Run("switched off", func(t *testing.T) {
		prn := newPrinter(t)
		prn.SetFaults(sim.PrinterFaults{Silent: true})
		code, _, errOut := run("printer", "--port", prn.Path(), "--timeout", "100ms", "--baud", "9600")
		if code != 1 || !strings.Contains(errOut, "nothing answered on "+prn.Path()+": check cable/power/baud (tried ESC/POS DLE EOT status at 9600 8N1)") {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
	})
}

// --config stands in for --port, with the file's settings.
func TestConfigGivesPort(t *testing.T) {
	prn := newPrinter(t)
	cfg := filepath.Join(t.TempDir(), "devices.json")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `{"printer": {"port": %q, "baud": 19200, "framing": "8N1"}}`, prn.Path()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("printer", "--config", cfg)
	if code != 0 || !strings.Contains(out, "at 19200 8N1: 正常 / ready") {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
	}
	code, _, errOut = run("idcard", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, `configures no "idcard" device`) {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}

func TestHooks(t *testing.T) {
	none := silent(t)
	t.Run("not wired", func(t *testing.T) {
		for _, sub := range []string{"codescan", "evalpad"} {
			code, _, errOut := run(sub, "--port", none)
			if code != 1 || !strings.Contains(errOut, "no "+map[string]string{"codescan": "code scanner", "evalpad": "evaluation pad"}[sub]+" driver wired") {
				t.Errorf("%s: exit %d, stderr %s", sub, code, errOut)
			}
		}
	})
	t.Run("wired", func(t *testing.T) {
		var seen serialport.Port
		h := probe.Hooks{
			EvalPad: func(ctx context.Context, p serialport.Port, out io.Writer) error {
				seen = p
				fmt.Fprintln(out, "pad answered heartbeat")
				return nil
			},
			CodeScan: func(ctx context.Context, p serialport.Port, out io.Writer) error {
				<-ctx.Done()
				return ctx.Err()
			},
		}
		var o, e bytes.Buffer
		if code := probe.MainWith(h, []string{"evalpad", "--port", none}, &o, &e); code != 0 || seen == nil || o.String() != "pad answered heartbeat\n" {
			t.Fatalf("evalpad: exit %d, out %q, err %q", code, o.String(), e.String())
		}
		o.Reset()
		e.Reset()
		code := probe.MainWith(h, []string{"codescan", "--port", none, "--wait", "50ms"}, &o, &e)
		if code != 1 || !strings.Contains(e.String(), "nothing answered on "+none+": check cable/power/baud (tried code scanner exchange at 115200 8N1)") {
			t.Fatalf("codescan: exit %d, stderr %s", code, e.String())
		}
	})
	t.Run("extra identifier", func(t *testing.T) {
		var o, e bytes.Buffer
		h := probe.Hooks{Identify: []probe.Identifier{fakePad{}}}
		code := probe.MainWith(h, []string{"--port", none, "--baud", "115200", "--timeout", "50ms"}, &o, &e)
		if code != 0 || !strings.Contains(o.String(), "evaluation pad (test) at 115200 8N1: heartbeat ok") {
			t.Fatalf("exit %d, out %s", code, o.String())
		}
	})
}

type fakePad struct{}

func (fakePad) Kind() string { return "evaluation pad (test)" }
func (fakePad) Identify(ctx context.Context, p serialport.Port, timeout time.Duration) (string, error) {
	return "heartbeat ok", nil
}

func TestUsage(t *testing.T) {
	tests := [][]string{
		{"fax"},
		{"idcard"},
		{"printer", "--port", "/dev/a", "--config", "c.json"},
		{"--baud", "fast"},
		{"--bogus"},
		{"extra"},
	}
	for _, args := range tests {
		code, _, errOut := run(args...)
		if code != 2 || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d, stderr %s", args, code, errOut)
		}
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "yici probe idcard") {
		t.Errorf("help: exit %d", code)
	}
}

// The scanner subcommand scans from SANE's test device where sane-utils
// is installed (make deps installs it).
func TestScanner(t *testing.T) {
	if _, err := exec.LookPath("scanimage"); err != nil {
		t.Skip("scanimage not installed")
	}
	out := filepath.Join(t.TempDir(), "page.png")
	code, stdout, errOut := run("scanner", "--device", "test", "--out", out)
	if code != 0 || !strings.Contains(stdout, "page 1 from test:") {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, errOut)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("saved page: %v", err)
	}
	code, _, errOut = run("scanner", "--device", "nosuch:device")
	if code != 1 || !strings.HasPrefix(errOut, "yici probe scanner: ") {
		t.Fatalf("missing device: exit %d, stderr %s", code, errOut)
	}
}

// A device that answers with bytes no protocol expects, as one at another
// baud rate does, is told apart from silence.
func TestListGarbled(t *testing.T) {
	pt, err := sim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := pt.Master.Read(buf)
			if err != nil {
				return
			}
			pt.Master.Write(bytes.Repeat([]byte{0xFF}, n))
		}
	}()
	code, out, _ := run("--port", pt.Path, "--baud", "115200", "--timeout", "100ms")
	if code != 1 || !strings.Contains(out, "something answered on "+pt.Path+" but no known device: check the baud rate and framing (at 115200 baud, to the receipt printer (ESC/POS) query: ") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}
