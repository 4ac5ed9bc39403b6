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

// bigText is a line of centred large type, sized in the theme's units.
func bigText(s string, size float32) *canvas.Text {
	t := canvas.NewText(s, theme.Color(theme.ColorNameForeground))
	t.TextSize = size
	t.Alignment = fyne.TextAlignCenter
	return t
}

// build makes every screen once; a visit only changes their contents
// (see the package doc for why they are never rebuilt).
func (k *Kiosk) build() {
	// Welcome: the only thing to do is place the card (its words change
	// with the reader's state), or show the app code where there is a
	// code scanner.
	k.welcomeTx = [2]*canvas.Text{bigText("", 48), bigText("", 24)}
	welcome := []fyne.CanvasObject{layout.NewSpacer(), k.welcomeTx[0], k.welcomeTx[1]}
	if k.cfg.CodeScanner != nil && k.cfg.AppCodes != nil {
		welcome = append(welcome, bigText("或扫描手机“掌上办”身份码", 36), bigText("or scan the identity code in your phone's app", 22))
	}
	welcome = append(welcome, layout.NewSpacer(), bigText("一次提交 · 免于重复 —— 政府已有的材料无需再交", 22), layout.NewSpacer())
	k.welcome = container.NewVBox(welcome...)

	// Find: keyboard search, themes and results; then the situation's
	// questions.
	k.greeting = bigText("", 28)
	k.items = k.buildFind()
	k.question = k.buildQuestion()

	// Materials of the chosen item, with their review criteria (S4).
	k.itemTitle = bigText("", 32)
	k.itemGuide = widget.NewLabel("")
	k.itemGuide.Wrapping = fyne.TextWrapWord
	k.matList = container.NewVBox()
	k.submitBtn = widget.NewButtonWithIcon("提交并打印回执 / Submit and print", theme.DocumentPrintIcon(), func() { k.touch(); k.submitTapped() })
	k.submitBtn.Importance = widget.HighImportance
	k.submitWhy = widget.NewLabel("")
	k.submitWhy.Wrapping = fyne.TextWrapWord
	k.submitWhy.Importance = widget.WarningImportance
	sure := widget.NewButtonWithIcon("确定提交 / Submit anyway", theme.ConfirmIcon(), func() { k.touch(); k.confirm.Hide(); k.submit() })
	sure.Importance = widget.HighImportance
	notYet := widget.NewButtonWithIcon("取消，去扫描 / Cancel", theme.CancelIcon(), func() { k.touch(); k.confirm.Hide() })
	ask := widget.NewLabel("您本次没有扫描任何材料，只凭已有材料提交吗？ / Nothing was scanned: submit with what is on file only?")
	ask.Wrapping = fyne.TextWrapWord
	k.confirm = container.NewVBox(ask, container.NewGridWithColumns(2, notYet, sure))
	k.confirm.Hide()
	k.matScroll = container.NewVScroll(k.matList) // a bundle can list more than fits
	k.materials = container.NewBorder(
		container.NewVBox(k.itemTitle, k.itemGuide),
		container.NewVBox(k.submitWhy, k.confirm, k.submitBtn), nil, nil, k.matScroll)

	k.buildPages()

	// Done: the receipt is printed; the status follows the upload.
	k.doneTitle = bigText("已受理 · 回执已打印", 40)
	k.doneDetail = widget.NewLabel("")
	k.doneDetail.Alignment = fyne.TextAlignCenter
	k.doneSync = widget.NewLabel("")
	k.doneSync.Alignment = fyne.TextAlignCenter
	k.doneRating = widget.NewLabel("")
	k.doneRating.Alignment = fyne.TextAlignCenter
	k.doneRating.Wrapping = fyne.TextWrapWord
	k.doneCard = bigText("请取走您的身份证 / Please take your ID card", 32)
	k.doneCard.Color = theme.Color(theme.ColorNameError)
	k.doneCard.Hide()
	finish := widget.NewButtonWithIcon("完成 / Finish", theme.ConfirmIcon(), func() { k.wipe() })
	finish.Importance = widget.HighImportance
	k.done = container.NewVBox(layout.NewSpacer(), k.doneTitle, k.doneDetail, k.doneSync, k.doneRating, k.doneCard, layout.NewSpacer(), finish)

	k.status = widget.NewLabel("")
	k.status.Truncation = fyne.TextTruncateEllipsis // a long fault must not widen the window
	k.buildIdle()
	k.welcomeText()
	k.message = widget.NewLabel("")
	k.message.Wrapping = fyne.TextWrapWord
	k.message.Importance = widget.DangerImportance
	k.body = container.NewStack(k.welcome)
}

// content lays out the window around the screens: the header, the bar of
// buttons every screen shares, the screen on show (body), and the message
// and status lines.
func (k *Kiosk) content() fyne.CanvasObject {
	home := widget.NewButtonWithIcon("首页 / Home", theme.HomeIcon(), func() { k.wipe() })
	back := widget.NewButtonWithIcon("返回 / Back", theme.NavigateBackIcon(), func() { k.touch(); k.back() })
	help := widget.NewButtonWithIcon("找我办 / Help", theme.HelpIcon(), func() {
		k.touch()
		k.say("已呼叫工作人员，请稍候。 / A staff member is on the way.")
	})
	// Elder mode (适老化): larger type for the rest of the visit and after.
	elder := widget.NewButton("大字 / Large text", nil)
	elder.OnTapped = func() {
		k.touch()
		if scale() > k.cfg.Scale {
			setScale(k.cfg.Scale)
			elder.SetText("大字 / Large text")
		} else {
			setScale(k.cfg.Scale * 4 / 3)
			elder.SetText("标准字 / Normal text")
		}
	}
	bar := container.NewHBox(back, home, layout.NewSpacer(), elder, help)
	band := canvas.NewRectangle(color.NRGBA{R: 0xC8, G: 0x1E, B: 0x1E, A: 0xFF})
	title := canvas.NewText("一次办 Yici · "+k.cfg.Hall, color.White)
	title.TextSize = 26
	title.TextStyle.Bold = true
	header := container.NewStack(band, container.NewPadded(title))
	return container.NewStack(container.NewBorder(
		container.NewVBox(header, bar),
		container.NewVBox(k.message, widget.NewSeparator(), k.status),
		nil, nil, container.NewPadded(k.body)), k.idle)
}

// buildIdle makes the overlay that asks, before the idle wipe, whether
// the citizen is still there: any touch on it, or its big button, goes on
// with the visit.
func (k *Kiosk) buildIdle() {
	goOn := func() { k.touch(); k.idle.Hide() }
	k.idleSecs = bigText("", 26)
	cont := widget.NewButtonWithIcon("继续 / Continue", theme.ConfirmIcon(), goOn)
	cont.Importance = widget.HighImportance
	panel := container.NewStack(
		canvas.NewRectangle(theme.Color(theme.ColorNameBackground)),
		container.NewPadded(container.NewVBox(
			bigText("还在吗？", 48),
			bigText("Are you still there?", 28),
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
	k.matScroll.ScrollToTop()
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
			action = widget.NewButtonWithIcon("扫描 / Scan", theme.ContentAddIcon(), func() { k.touch(); k.scanMaterial(m) })
		}
		rows = append(rows, container.NewBorder(nil, nil, nil, action, container.NewVBox(name, rule)))
	}
	k.matList.Objects = rows
	k.matList.Refresh()
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
