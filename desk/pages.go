package desk

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // pages scanned as JPEG
	_ "image/png"  // pages scanned as PNG

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// pageView shows the page of one material beside its criteria, so a
// clerk reviews what was handed in, not its size. Zoom is by steps; the
// page scrolls when it is larger than the pane.
type pageView struct {
	title  *widget.Label
	img    *canvas.Image
	note   *widget.Label
	scroll *container.Scroll

	page image.Image // nil: nothing, or not an image
	zoom float32     // 1: the page fits the pane's width
}

// zooms are the steps of zoom in and out: fit, then larger.
var zooms = []float32{1, 1.5, 2, 3}

func newPageView() *pageView {
	p := &pageView{title: widget.NewLabel(""), note: widget.NewLabel("选择一件材料查看 / Choose a material to see its page"), zoom: 1}
	p.title.TextStyle = fyne.TextStyle{Bold: true}
	p.note.Wrapping = fyne.TextWrapWord
	p.img = canvas.NewImageFromImage(nil)
	p.img.FillMode = canvas.ImageFillContain
	p.img.ScaleMode = canvas.ImageScaleSmooth
	p.scroll = container.NewScroll(p.img)
	return p
}

// show shows data, the page of material name, or says why it cannot.
func (p *pageView) show(name string, data []byte) {
	p.title.SetText(name)
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		p.page = nil
		p.img.Image = nil
		p.img.Refresh()
		p.note.SetText(fmt.Sprintf("此材料不是可显示的图像（%d 字节）/ not an image this desk can show: %v", len(data), err))
		return
	}
	p.page = img
	b := img.Bounds()
	p.note.SetText(fmt.Sprintf("%s · %d×%d · +/- 缩放 zoom", format, b.Dx(), b.Dy()))
	p.img.Image = img
	p.layout()
}

// message shows msg instead of a page (loading, missing, an error).
func (p *pageView) message(name, msg string) {
	p.title.SetText(name)
	p.page = nil
	p.img.Image = nil
	p.img.Refresh()
	p.note.SetText(msg)
}

// step zooms in (+1) or out (-1) by one step.
func (p *pageView) step(dir int) {
	i := 0
	for j, z := range zooms {
		if z == p.zoom {
			i = j
		}
	}
	i = min(max(i+dir, 0), len(zooms)-1)
	p.zoom = zooms[i]
	p.layout()
}

// layout sizes the page: at zoom 1 it fills the pane, whole (the scroll
// gives its content at least the pane's size); larger, it is the pane's
// size times the zoom and scrolls.
func (p *pageView) layout() {
	if p.page == nil {
		return
	}
	size := fyne.NewSize(0, 0)
	if p.zoom > 1 {
		v := p.scroll.Size()
		size = fyne.NewSize(v.Width*p.zoom, v.Height*p.zoom)
	}
	p.img.SetMinSize(size)
	p.img.Refresh()
	p.scroll.Refresh()
}
