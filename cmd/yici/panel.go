package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/evalpad"
	"yici/drivers/sim"
)

const panelTitle = "Yici devices 设备模拟"

// panel is the demo's stand-in for the hall's hardware: it places and lifts
// the simulated ID card, shows a phone's app code to the code scanner,
// sets printer faults, and shows the last receipt.
type panel struct {
	win     fyne.Window
	card    *sim.IDCard
	window  *sim.IDCard // the window desk's reader
	prn     *sim.Printer
	pad     *sim.Pad
	dir     string
	receipt *canvas.Image
	info    *widget.Label

	mu       sync.Mutex
	last     string // path of the last receipt PNG
	lastCode string // the last app code scanned
}

// newPanel makes the panel; phone issues an app code, which the 掌上办
// button shows to the simulated code scanner.
func newPanel(a fyne.App, card, window *sim.IDCard, prn *sim.Printer, pad *sim.Pad, codes *sim.CodeScanner, phone func() (string, error), dir string) *panel {
	p := &panel{win: a.NewWindow(panelTitle), card: card, window: window, prn: prn, pad: pad, dir: dir}
	p.receipt = canvas.NewImageFromImage(nil)
	p.receipt.FillMode = canvas.ImageFillContain
	p.receipt.SetMinSize(fyne.NewSize(300, 420))
	p.info = widget.NewLabel(fmt.Sprintf("读卡器 %s · 打印机 %s · 评价器 %s · 扫码器 %s", card.Path(), prn.Path(), pad.Path(), codes.Path()))
	padMsg := widget.NewLabel("")
	press := func(l evalpad.Level, reasons ...evalpad.Reason) func() {
		return func() {
			if err := pad.Press(l, reasons...); err != nil {
				padMsg.SetText(err.Error())
			} else {
				padMsg.SetText("已评价：" + l.String())
			}
		}
	}
	rate := container.NewHBox(
		widget.NewButton("非常满意", press(evalpad.VerySatisfied)),
		widget.NewButton("满意", press(evalpad.Satisfied)),
		widget.NewButton("基本满意", press(evalpad.FairlySatisfied)),
		widget.NewButton("不满意·效率低", press(evalpad.Dissatisfied, evalpad.ReasonSlow)),
		widget.NewButton("非常不满意·多次跑", press(evalpad.VeryDissatisfied, evalpad.ReasonManyTrips)))
	codeMsg := widget.NewLabel("")
	// scanCode shows a new code to the scanner, or with again the last
	// one shown (which the kiosk refuses as used).
	scanCode := func(again bool) func() {
		return func() {
			p.mu.Lock()
			code := p.lastCode
			p.mu.Unlock()
			var err error
			if !again || code == "" {
				code, err = phone()
			}
			if err == nil {
				p.mu.Lock()
				p.lastCode = code
				p.mu.Unlock()
				err = codes.Scan(code)
			}
			if err != nil {
				codeMsg.SetText(err.Error())
			} else {
				codeMsg.SetText(fmt.Sprintf("已扫码（%d 字符）", len(code)))
			}
		}
	}
	var faults sim.PrinterFaults
	setFault := func(f *bool) func(bool) {
		return func(on bool) { *f = on; prn.SetFaults(faults) }
	}
	var cardFaults sim.Faults
	p.win.SetContent(container.NewBorder(
		container.NewVBox(
			widget.NewLabelWithStyle("身份证读卡器 · 扫码器 / ID-card reader, code scanner (掌上办)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewHBox(
				widget.NewButton("放置身份证（张三）", func() { card.Place(sim.SampleCard) }),
				widget.NewButton("拿走身份证", card.Lift),
				widget.NewCheck("拔出（无应答）", func(on bool) { cardFaults.Silent = on; card.SetFaults(cardFaults) }),
				widget.NewButton("掌上办码（张三）", scanCode(false)),
				widget.NewButton("同一码再扫", scanCode(true))),
			widget.NewLabelWithStyle("窗口读卡器 / the window's reader (F2 at the desk)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewHBox(
				widget.NewButton("放置身份证（张三）", func() { window.Place(sim.SampleCard) }),
				widget.NewButton("拿走身份证", window.Lift)),
			widget.NewLabelWithStyle("回执打印机 / receipt printer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewHBox(
				widget.NewCheck("缺纸", setFault(&faults.PaperOut)),
				widget.NewCheck("开盖", setFault(&faults.CoverOpen)),
				widget.NewCheck("离线", setFault(&faults.Offline))),
			widget.NewLabelWithStyle("评价器 / rating pad", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			rate, container.NewHBox(padMsg, codeMsg),
			p.info),
		nil, nil, nil, p.receipt))
	p.win.Resize(fyne.NewSize(870, 960))
	return p
}

// collectReceipts renders every receipt the simulated printer cuts to a PNG
// in dir and shows the newest.
func (p *panel) collectReceipts(ctx context.Context) {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		log.Printf("demo: receipts: %v", err)
		return
	}
	for n := 1; ; n++ {
		r, err := p.prn.Next(ctx)
		if err != nil {
			return
		}
		png, err := r.PNG()
		if err != nil {
			log.Printf("demo: render receipt: %v", err)
			continue
		}
		path := filepath.Join(p.dir, fmt.Sprintf("receipt-%03d.png", n))
		if err := os.WriteFile(path, png, 0o600); err != nil {
			log.Printf("demo: save receipt: %v", err)
		}
		log.Printf("demo: receipt printed, saved as %s", path)
		p.mu.Lock()
		p.last = path
		p.mu.Unlock()
		fyne.Do(func() {
			p.receipt.Resource = fyne.NewStaticResource(filepath.Base(path), png)
			p.receipt.Image = nil
			p.receipt.Refresh()
		})
	}
}

func (p *panel) lastReceipt() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
