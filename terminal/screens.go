package terminal

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	yicitheme "yici/assets/theme"
	"yici/sync/wire"
)

// bigText is centred large type of one of the theme's sizes: it grows
// with the theme's Scale (elder mode), and wraps rather than widen the
// window.
func bigText(s string, size fyne.ThemeSizeName) *widget.Label {
	t := widget.NewLabel(s)
	t.SizeName = size
	t.Alignment = fyne.TextAlignCenter
	t.Wrapping = fyne.TextWrapWord
	return t
}

// target makes o, a button, at least minTarget square: 15 mm, about
// 60 px at a kiosk panel's 100 dpi, whatever the type size.
func target(o fyne.CanvasObject) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSquareSize(minTarget))
	return container.NewStack(r, o)
}

// quietLabel is a label that takes no room while it says nothing (the
// message line, why Submit is grey).
type quietLabel struct{ widget.Label }

func newQuietLabel() *quietLabel {
	l := &quietLabel{}
	l.ExtendBaseWidget(l)
	l.Hide()
	return l
}

func (l *quietLabel) SetText(s string) {
	l.Hidden = s == ""
	l.Label.SetText(s)
}

// minTarget is the least size of a touch target, in device-independent
// units (the kiosk runs at a canvas scale of 1).
const minTarget = 60

// build makes every screen once; a visit only changes their contents
// (see the package doc for why they are never rebuilt).
func (k *Kiosk) build() {
	// Welcome: the only thing to do is place the card (its words change
	// with the reader's state), or show the app code where there is a
	// code scanner.
	k.welcomeTx = [2]*widget.Label{bigText("", yicitheme.SizeNameDisplay), bigText("", theme.SizeNameSubHeadingText)}
	welcome := []fyne.CanvasObject{layout.NewSpacer(), k.welcomeTx[0], k.welcomeTx[1]}
	if k.cfg.CodeScanner != nil && k.cfg.AppCodes != nil {
		welcome = append(welcome, bigText("或扫描手机“掌上办”身份码", theme.SizeNameHeadingText), bigText("or scan the identity code in your phone's app", theme.SizeNameText))
	}
	k.walkInBtn = widget.NewButtonWithIcon("无卡取号 / Ticket without a card", theme.ListIcon(), nil)
	k.walkInBtn.OnTapped = func() { k.takeTicket(k.walkInBtn) }
	slogan := fyne.CanvasObject(bigText("一次提交 · 免于重复 —— 政府已有的材料无需再交", theme.SizeNameText))
	if k.cfg.Queue != nil { // beside the slogan: 1024×768 in elder mode has no room for another row
		slogan = container.NewBorder(nil, nil, nil, target(k.walkInBtn), slogan)
	}
	welcome = append(welcome, layout.NewSpacer(), slogan, layout.NewSpacer())
	k.welcome = container.NewVBox(welcome...)

	// Find: keyboard search, themes and results; then the situation's
	// questions.
	k.greeting = bigText("", theme.SizeNameSubHeadingText)
	k.items = k.buildFind()
	k.question = k.buildQuestion()

	// Materials of the chosen item, with their review criteria (S4).
	k.itemTitle = bigText("", theme.SizeNameSubHeadingText)
	k.itemGuide = widget.NewLabel("")
	k.itemGuide.Wrapping = fyne.TextWrapWord
	k.matFit = &fitRows{onFit: func() { k.matPaged() }}
	k.matList = container.New(k.matFit)
	k.submitBtn = widget.NewButtonWithIcon("提交并打印回执 / Submit and print", theme.DocumentPrintIcon(), func() { k.touch(); k.submitTapped() })
	k.submitBtn.Importance = widget.HighImportance
	k.submitWhy = newQuietLabel()
	k.submitWhy.Wrapping = fyne.TextWrapWord
	k.submitWhy.Importance = widget.WarningImportance
	sure := widget.NewButtonWithIcon("确定提交 / Submit anyway", theme.ConfirmIcon(), func() { k.touch(); k.confirm.Hide(); k.submit() })
	sure.Importance = widget.HighImportance
	notYet := widget.NewButtonWithIcon("取消，去扫描 / Cancel", theme.CancelIcon(), func() { k.touch(); k.confirm.Hide() })
	ask := bigText("您本次没有扫描任何材料，只凭已有材料提交吗？ / Nothing was scanned: submit with what is on file only?", theme.SizeNameSubHeadingText)
	ask.Wrapping = fyne.TextWrapWord
	// The question takes the whole screen while asked, over the checklist
	// (one decision per screen), and its taps: a 1024×768 screen in elder
	// mode's type has no room for it under the list.
	k.confirm = container.NewStack(
		newShield(func() {}),
		canvas.NewRectangle(theme.Color(theme.ColorNameBackground)),
		container.NewVBox(layout.NewSpacer(), ask, container.NewGridWithColumns(2, target(notYet), target(sure)), layout.NewSpacer()))
	k.confirm.Hide()
	// A bundle can list more than fits: the list pages, with big buttons
	// (finger drags do not scroll in Fyne, fyne-io/fyne#5755).
	k.matPageLbl = widget.NewLabel("")
	k.matPageLbl.Alignment = fyne.TextAlignCenter
	k.matPageLbl.Wrapping = fyne.TextWrapWord
	k.matPrev = widget.NewButtonWithIcon("上一页", theme.NavigateBackIcon(), func() { k.touch(); k.matPage(-1) })
	k.matNext = widget.NewButtonWithIcon("下一页", theme.NavigateNextIcon(), func() { k.touch(); k.matPage(1) })
	k.matPager = container.NewBorder(nil, nil, target(k.matPrev), target(k.matNext), k.matPageLbl)
	k.materials = container.NewStack(container.NewBorder(
		k.itemTitle,
		container.NewVBox(k.matPager, k.submitWhy, target(k.submitBtn)), nil, nil, k.matList), k.confirm)

	k.buildPages()

	// Done: the receipt is printed; the status follows the upload.
	k.doneTitle = bigText("已受理 · 回执已打印", theme.SizeNameHeadingText)
	k.doneDetail = widget.NewLabel("")
	k.doneDetail.Alignment = fyne.TextAlignCenter
	k.doneSync = widget.NewLabel("")
	k.doneSync.Alignment = fyne.TextAlignCenter
	k.doneRating = widget.NewLabel("")
	k.doneRating.Alignment = fyne.TextAlignCenter
	k.doneRating.Wrapping = fyne.TextWrapWord
	k.doneCard = bigText("请取走您的身份证 / Please take your ID card", theme.SizeNameHeadingText)
	k.doneCard.Importance = widget.DangerImportance
	k.doneCard.Hide()
	finish := widget.NewButtonWithIcon("完成 / Finish", theme.ConfirmIcon(), func() { k.wipe() })
	finish.Importance = widget.HighImportance
	k.ticketBtn = widget.NewButtonWithIcon("取号 / Take a ticket", theme.ListIcon(), nil)
	k.ticketBtn.OnTapped = func() { k.touch(); k.takeTicket(k.ticketBtn) }
	buttons := target(finish)
	if k.cfg.Queue != nil {
		buttons = container.NewGridWithColumns(2, target(k.ticketBtn), target(finish))
	}
	k.done = container.NewVBox(layout.NewSpacer(), k.doneTitle, k.doneDetail, k.doneSync, k.doneRating, k.doneCard, layout.NewSpacer(), buttons)

	k.status = widget.NewLabel("")
	k.status.SizeName = theme.SizeNameCaptionText   // for the hall's staff
	k.status.Truncation = fyne.TextTruncateEllipsis // a long fault must not widen the window
	k.buildIdle()
	k.welcomeText()
	k.message = newQuietLabel()
	k.message.Wrapping = fyne.TextWrapWord
	k.message.Importance = widget.DangerImportance
	k.body = container.NewStack(k.welcome)
}

// content lays out the window around the screens: the header, the bar of
// buttons every screen shares, the screen on show (body), and the message
// and status lines.
func (k *Kiosk) content() fyne.CanvasObject {
	home := widget.NewButtonWithIcon("", theme.HomeIcon(), func() { k.wipe() })
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { k.touch(); k.back() })
	help := widget.NewButtonWithIcon("", theme.HelpIcon(), func() {
		k.touch()
		k.say("已呼叫工作人员，请稍候。 / A staff member is on the way.")
	})
	// Elder mode (适老化): larger type for the rest of the visit and after.
	elder := widget.NewButton("", nil)
	title := canvas.NewText("一次办 Yici · "+k.cfg.Hall, color.White)
	title.TextStyle.Bold = true
	// The toolbar's words: in elder mode Chinese only, for the larger type
	// to fit a 1024 px wide screen.
	words := func() {
		large := scale() > k.cfg.Scale
		for _, b := range []struct {
			b      *widget.Button
			zh, en string
		}{{back, "返回", "Back"}, {home, "首页", "Home"}, {help, "找我办", "Help"}, {elder, "大字", "Large text"}} {
			text := b.zh + " / " + b.en
			if large {
				text = b.zh
			}
			if b.b == elder && large {
				text = "标准字"
			} else if b.b == elder {
				text = "大字 / Large text"
			}
			b.b.SetText(text)
		}
		title.TextSize = max(26, theme.Size(theme.SizeNameText)) // the hall, not the task: as large as body text in elder mode
		title.Refresh()
	}
	words()
	elder.OnTapped = func() {
		k.touch()
		if scale() > k.cfg.Scale {
			setScale(k.cfg.Scale)
		} else {
			setScale(max(k.cfg.Scale*4/3, elderScale))
		}
		words()
		k.find.layoutFor(scale() > k.cfg.Scale)
		k.showResults(0) // fewer, larger results a page
		k.showMatPage()
	}
	bar := container.NewHBox(target(back), target(home), layout.NewSpacer(), target(elder), target(help))
	band := canvas.NewRectangle(color.NRGBA{R: 0xC8, G: 0x1E, B: 0x1E, A: 0xFF})
	header := container.NewStack(band, container.NewPadded(title))
	return container.NewStack(container.NewBorder(
		container.NewVBox(header, bar),
		container.NewVBox(k.message, k.status), // the status in caption type, for the staff
		nil, nil, container.NewPadded(k.body)), k.idle)
}

// buildIdle makes the overlay that asks, before the idle wipe, whether
// the citizen is still there: any touch on it, or its big button, goes on
// with the visit.
func (k *Kiosk) buildIdle() {
	goOn := func() { k.touch(); k.idle.Hide() }
	k.idleSecs = bigText("", theme.SizeNameSubHeadingText)
	cont := widget.NewButtonWithIcon("继续 / Continue", theme.ConfirmIcon(), goOn)
	cont.Importance = widget.HighImportance
	panel := container.NewStack(
		canvas.NewRectangle(theme.Color(theme.ColorNameBackground)),
		container.NewPadded(container.NewVBox(
			bigText("还在吗？", yicitheme.SizeNameDisplay),
			bigText("Are you still there?", theme.SizeNameHeadingText),
			k.idleSecs,
			container.NewGridWrap(fyne.NewSize(420, 96), cont))))
	k.idle = container.NewStack(newShield(goOn), container.NewCenter(panel))
	k.idle.Hide()
}

// shield dims what is under it and takes its taps.
type shield struct {
	widget.BaseWidget
	tapped func()
}

func newShield(tapped func()) *shield {
	s := &shield{tapped: tapped}
	s.ExtendBaseWidget(s)
	return s
}

func (s *shield) Tapped(*fyne.PointEvent) { s.tapped() }

func (s *shield) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.NRGBA{A: 0xA0}))
}

// welcomeText says on the welcome screen what to do now: place the card,
// or, with the reader failing, that cards cannot be read and who helps.
func (k *Kiosk) welcomeText() {
	zh, en := "请将身份证放在读卡区", "Place your ID card on the reader"
	k.mu.Lock()
	lift := k.liftCard
	k.mu.Unlock()
	if lift {
		zh, en = "请取走您的身份证", "Please take your ID card from the reader"
	}
	if k.readerFault != "" {
		zh, en = "暂时无法读取身份证，请点右上角“找我办”", "Cards cannot be read now: tap Help (找我办) for a staff member"
	}
	for i, s := range [2]string{zh, en} {
		if k.welcomeTx[i].Text != s {
			k.welcomeTx[i].Text = s
			k.welcomeTx[i].Refresh()
		}
	}
}

// setReaderFault records the card reader's state after a read: "" when
// it answered (a card or none), else what went wrong.
func (k *Kiosk) setReaderFault(msg string) {
	k.readerFault = msg
	k.welcomeText()
}

// show puts screen in the body, in place of the one on show.
func (k *Kiosk) show(screen fyne.CanvasObject) {
	k.body.Objects = []fyne.CanvasObject{screen}
	k.body.Refresh()
	// Screen reports the new screen once it is laid out, for callers off
	// the UI thread.
	k.mu.Lock()
	k.shown = screen
	k.mu.Unlock()
}

// setScale sets the type size of the whole app (see New for why the app's
// theme and not an override); scale reads it back.
func setScale(s float32) { fyne.CurrentApp().Settings().SetTheme(yicitheme.Theme{Scale: s}) }

func scale() float32 {
	t, _ := fyne.CurrentApp().Settings().Theme().(yicitheme.Theme)
	return t.Scale
}

// say puts msg in the message line under every screen; "" clears it.
func (k *Kiosk) say(msg string) {
	k.message.SetText(msg)
}

// showGuide shows the resolved guide: what it costs and takes, notes from
// the answers, and each material once with its review criteria.
func (k *Kiosk) showGuide() {
	g := k.sess.guide
	k.itemTitle.Text = g.Name
	k.itemTitle.Refresh()
	it := g.Items[0]
	guide := fmt.Sprintf("承诺时限 %d 个工作日（法定 %d 日） · 收费：%s · 地点：%s · 咨询：%s",
		g.PromisedDays, g.LegalDays, it.Fees, it.Place, it.Contact)
	if len(g.Items) > 1 {
		guide = "一次办好：" + strings.Join(names(g.Items), "、") + "\n" + guide
	}
	for _, n := range g.Notes {
		guide += "\n· " + n
	}
	switch s := k.sess; {
	case s.vaultErr != nil:
		guide += "\n暂时无法查询已有材料，请按清单提交 / on-file check unavailable"
	case k.cfg.Vault != nil && !s.vaultFresh:
		guide += "\n离线：已有材料信息截至 " + s.vaultFetched.Local().Format("01-02 15:04")
	}
	k.itemGuide.SetText(guide)
	k.refreshMaterials()
	// A list shown anew starts at its top, never where the last visitor
	// (or the last item) left it.
	k.matFirst, k.matStarts = 0, nil
	k.showMatPage()
	k.show(k.materials)
}

// refreshMaterials redraws the material rows. The rows are rebuilt per item
// (they differ in count), but the screen around them is reused.
func (k *Kiosk) refreshMaterials() {
	s := k.sess
	rows := make([]fyne.CanvasObject, 0, len(s.guide.Materials))
	for _, n := range s.guide.Materials {
		m := n.Material
		var crit []string
		for _, c := range m.Criteria {
			crit = append(crit, c.Text)
		}
		name := widget.NewLabelWithStyle(m.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		rule := widget.NewLabel("审核准则：" + strings.Join(crit, "；"))
		rule.Wrapping = fyne.TextWrapWord
		var action fyne.CanvasObject
		e, onFile := s.exempt[m.Code]
		switch {
		case s.captured[m.Code]:
			action = container.NewHBox(
				widget.NewLabel(fmt.Sprintf("✓ 已收 / received · %d 页", len(s.pages[m.Code]))),
				widget.NewButtonWithIcon("查看 / Pages", theme.DocumentIcon(), func() { k.touch(); k.openPages(m) }))
		case onFile:
			src := "已有电子证照"
			if e.Source == wire.SourceCase {
				src = "此前已提交"
			}
			action = widget.NewLabel("✓ 免提交 / on file（" + src + "）")
		default:
			action = target(widget.NewButtonWithIcon("扫描 / Scan", theme.ContentAddIcon(), func() { k.touch(); k.scanMaterial(m) }))
		}
		rows = append(rows, container.NewBorder(nil, nil, nil, action, container.NewVBox(name, rule)))
	}
	k.matRows = rows
	k.showMatPage()
	k.confirm.Hide()
	k.submitBtn.Enable()
	k.submitWhy.SetText("")
	switch {
	case k.pgBusy:
		k.submitBtn.Disable()
		k.submitWhy.SetText("扫描完成后才能提交 / Submit once the scan is done")
	case s.cardGone:
		k.submitBtn.Disable()
		k.submitWhy.SetText("请先放回您的身份证，才能提交 / Put your ID card back to submit")
	case len(s.captured)+len(s.exempt) == 0:
		k.submitBtn.Disable()
		k.submitWhy.SetText("请先扫描至少一份材料，才能提交 / Scan at least one material to submit")
	}
}

// elderScale is the least scale of elder mode: 32 px body text (Fyne's
// 14 px times the scale).
const elderScale = 32.0 / 14

// matPage turns the checklist a page on (d > 0) or back: a page is as
// many rows as the window's height holds (fitRows), so it is known only
// once laid out, and the starts of the pages before are remembered.
func (k *Kiosk) matPage(d int) {
	switch {
	case d > 0 && k.matFirst+k.matShown() < len(k.matRows):
		k.matStarts = append(k.matStarts, k.matFirst)
		k.matFirst += k.matShown()
	case d < 0 && len(k.matStarts) > 0:
		k.matFirst = k.matStarts[len(k.matStarts)-1]
		k.matStarts = k.matStarts[:len(k.matStarts)-1]
	}
	k.showMatPage()
}

// showMatPage shows the checklist from row matFirst, as many rows as fit,
// after the guide on the first page; the pager (matPaged) follows once
// they are laid out.
func (k *Kiosk) showMatPage() {
	k.matFirst = max(0, min(k.matFirst, len(k.matRows)-1))
	objs := k.matRows[k.matFirst:]
	if k.matFirst == 0 {
		objs = append([]fyne.CanvasObject{k.itemGuide}, objs...)
	}
	k.matList.Objects = objs
	k.matList.Refresh()
	k.matPaged()
}

// matShown is how many checklist rows the page shows; on the first page,
// which starts with the guide, none may fit beside it.
func (k *Kiosk) matShown() int {
	if k.matFirst == 0 {
		return max(0, k.matFit.shown-1)
	}
	return max(1, k.matFit.shown)
}

// matPaged shows the pager only when the checklist is longer than a
// page, with what it shows now.
func (k *Kiosk) matPaged() {
	n, shown := len(k.matRows), k.matFit.shown
	if len(k.matList.Objects) > 0 && k.matList.Size().Height == 0 {
		shown = len(k.matList.Objects) // not laid out yet: as if all fit
	}
	if k.matFirst == 0 && shown > 0 {
		shown-- // the guide
	}
	more := k.matFirst+shown < n
	text := fmt.Sprintf("共 %d 项材料", n)
	if shown > 0 {
		text = fmt.Sprintf("材料 %d–%d / 共 %d 项", k.matFirst+1, k.matFirst+shown, n)
	}
	if k.matPageLbl.Text != text {
		k.matPageLbl.SetText(text)
	}
	if hide := k.matFirst == 0 && !more; k.matPager.Hidden != hide {
		k.matPager.Hidden = hide
		k.matPager.Refresh()
	}
	if k.matFirst == 0 {
		k.matPrev.Disable()
	} else {
		k.matPrev.Enable()
	}
	if more {
		k.matNext.Enable()
	} else {
		k.matNext.Disable()
	}
}

// fitRows lays its objects out top down, each at its height for the
// width, and hides those that do not fit; it needs only the first's
// height, so a long list never makes the window taller than the screen.
type fitRows struct {
	shown int    // how many fit at the last layout
	onFit func() // called after each layout
}

func (l *fitRows) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	return objs[0].MinSize()
}

func (l *fitRows) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	var y float32
	l.shown = 0
	for i, o := range objs {
		o.Resize(fyne.NewSize(size.Width, o.Size().Height)) // its width first: wrapped labels take their height from it
		h := o.MinSize().Height
		if i > 0 && (l.shown < i || y+h > size.Height) {
			o.Hide()
			continue
		}
		o.Show()
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + pad
		l.shown++
	}
	if l.onFit != nil {
		l.onFit()
	}
}

// submitTapped submits, after asking when nothing new was scanned (only
// materials on file would go in).
func (k *Kiosk) submitTapped() {
	if len(k.sess.captured) == 0 && !k.confirm.Visible() {
		k.confirm.Show()
		return
	}
	k.confirm.Hide()
	k.submit()
}
