package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"io"
	"strings"
	"syscall"

	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
	"yici/sync/platform"
)

// TestRealWindow builds yici, runs the demo hall in real windows under
// Xvfb playing one visit by itself, and checks each screenshot it took:
// the expected size, not blank, and saying what that screen should (its
// widgets' texts, saved beside it). With YICI_SCREENS set the pictures are
// copied there (make screens → docs/screens).
func TestRealWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("real window test needs Xvfb and a build; skipped with -short")
	}
	if _, err := exec.LookPath("xvfb-run"); err != nil {
		t.Fatal("xvfb-run not installed: run make deps (Debian package xvfb)")
	}
	dir := t.TempDir()
	shots := filepath.Join(dir, "shots")
	runDemo(t, buildYici(t), "--data", filepath.Join(dir, "data"), "--autoplay", "--shots", shots, "--exit")

	// Each picture's size, that it is not blank, and what its window's
	// widgets said when it was taken: the right screen, masked.
	for _, c := range []struct {
		name string
		w, h int
		says []string
	}{
		{"kiosk-1-welcome", 1024, 768, []string{"请将身份证放在读卡区", "或扫描手机“掌上办”身份码"}},
		{"kiosk-2-find", 1024, 768, []string{"您好，张*（2102**********123X）", "【一件事】出生一件事"}},
		{"kiosk-3-question", 1024, 768, []string{"您的旧身份证还在手上吗？"}},
		{"kiosk-4-materials", 1024, 768, []string{"原居民身份证", "审核准则：须为本人证件原件", "扫描 / Scan"}},
		{"kiosk-5-scanned", 1024, 768, []string{"✓ 已收 / received"}},
		{"kiosk-6-done", 1024, 768, []string{"已受理 · 回执已打印", "尚缺材料已列入一次性告知书", "打印在回执", "请取走您的身份证"}},
		{"desk-0-sign-in", 1400, 640, []string{"综合窗口 · 工作人员登录"}},
		{"desk-1-case", 1400, 640, []string{"请审核 / review it", "[M-ID-OLD-1] 须为本人证件原件", "未交 / missing", "免提交 / on file"}},
		{"desk-2-reviewed", 1400, 640, []string{"符合 / passes", "已记录：已退回", "一次性告知书已保存"}},
		// At the window, the next visit: the old card confirmed at the last
		// one is on file now (S13), only the photo receipt is scanned.
		{"desk-3-new-application", 1400, 640, []string{"1. 原居民身份证（必交）", "免提交 / on file · 已确认的材料", "2. 数码相片回执（必交）", "按 F7 扫描"}},
		{"desk-4-scanned", 1400, 640, []string{"已扫 1 页"}},
		{"desk-5-own-case", 1400, 640, []string{"终端 W01", "已收 / received", "[M-PHOTO-1]", "请审核 / review it"}},
		// The hall queue: the priority ticket (the second issued) called at
		// window 3, flashing on the call display; its case open at the desk.
		{"display-1-calls", 900, 620, []string{"A002", "→ 3号窗口", "A002 → 3号窗口", "A 类 1 人"}},
		{"desk-6-called", 1400, 640, []string{"当前 A002 · A 类 · 绿色通道", "Ctrl+N 叫号", "Ctrl+F 办结", "终端 K01"}},
		{"devices-panel", 870, 960, []string{"身份证读卡器", "掌上办码（张三）"}},
	} {
		img := loadPNG(t, filepath.Join(shots, c.name+".png"))
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s is %dx%d, want %dx%d", c.name, b.Dx(), b.Dy(), c.w, c.h)
		}
		if n := colours(img); n < 8 {
			t.Errorf("%s has %d colours: blank", c.name, n)
		}
		said, err := os.ReadFile(filepath.Join(shots, c.name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.says {
			if !strings.Contains(string(said), want) {
				t.Errorf("%s does not say %q; it says:\n%s", c.name, want, said)
			}
		}
		if strings.Contains(string(said), "21020219880504123X") {
			t.Errorf("%s shows the whole ID number", c.name)
		}
	}
	if n := colours(loadPNG(t, filepath.Join(shots, "receipt.png"))); n < 2 {
		t.Errorf("receipt.png has %d colours: blank", n)
	}
	if dst := os.Getenv("YICI_SCREENS"); dst != "" {
		files, _ := filepath.Glob(filepath.Join(shots, "*.png"))
		for _, f := range files {
			if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil {
				t.Error(err)
			}
		}
	}
}

// buildYici builds this command into a temporary directory.
func buildYici(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Xvfb and a build; skipped with -short")
	}
	if _, err := exec.LookPath("xvfb-run"); err != nil {
		t.Fatal("xvfb-run not installed: run make deps (Debian package xvfb)")
	}
	bin := filepath.Join(t.TempDir(), "yici")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// runDemo runs yici demo with args in real windows under Xvfb until it
// exits by itself, and returns what it logged.
func runDemo(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("xvfb-run", append([]string{"-a", "-s", "-screen 0 1920x1440x24", bin, "demo"}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=zh_CN.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo %v: %v\n%s", args, err, out.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("demo %v did not finish in 2 minutes\n%s", args, out.String())
	}
	return out.String()
}

// TestDemoKilledBeforeUploadSendsOnce: the demo runs a visit with the
// uploader stopped, is killed with SIGKILL, and a second start sends the
// case: the platform then holds it exactly once, with its material.
func TestDemoKilledBeforeUploadSendsOnce(t *testing.T) {
	bin := buildYici(t)
	data := filepath.Join(t.TempDir(), "data")

	cmd := exec.Command("xvfb-run", "-a", "-s", "-screen 0 1920x1440x24", bin, "demo", "--data", data, "--autoplay", "--offline")
	cmd.Env = append(os.Environ(), "LANG=zh_CN.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	played := make(chan bool, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "receipt printed") {
				played <- true
			}
		}
	}()
	select {
	case <-played:
	case <-time.After(90 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("the offline visit did not finish:\n%s", log.String())
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the demo, xvfb-run and Xvfb, mid-run
	cmd.Wait()
	pw.Close()

	out := runDemo(t, bin, "--data", data, "--exit-when-sent")
	if !strings.Contains(out, "1 case(s) left from an earlier run") {
		t.Errorf("second start did not find the waiting case:\n%s", out)
	}
	st, err := platform.OpenBolt(filepath.Join(data, "platform"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cases, err := st.ListCases(context.Background(), "DL01", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 {
		t.Fatalf("platform holds %d cases, want exactly 1", len(cases))
	}
	c, err := st.GetCase(context.Background(), cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	scanned := 0
	for _, m := range c.Manifest.Materials {
		if !m.Exempt {
			scanned++
		}
	}
	if scanned != 1 {
		t.Fatalf("the case holds %d scanned materials, want 1: %+v", scanned, c.Manifest.Materials)
	}
}

func loadPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// colours counts distinct colours, up to 64: a blank or black window has 1.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 64 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
