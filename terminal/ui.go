package terminal

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	yicitheme "yici/assets/theme"
	"yici/drivers/idcard"
	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/store"
	"yici/sync/wire"
)

// Kiosk is the kiosk window's content and the visit it serves.
type Kiosk struct {
	cfg  Config
	win  fyne.Window
	root fyne.CanvasObject

	// ui serialises the kiosk's UI work: every callback of its goroutines
	// runs through do or doAndWait, which hold it. Under the real driver
	// those run on the main thread anyway; Fyne's test driver runs them
	// inline on the goroutine that asks, and tests hold ui around their
	// taps and reads too (doAndWait). Code holding it must never call do or
	// doAndWait itself: only goroutines the kiosk starts, and the off-UI
	// entry points ScanMaterial and Submit, do.
	ui sync.Mutex
	bg sync.WaitGroup // the scan, print and rating goroutines

	mu        sync.Mutex // guards sess, lastTouch and shown against the polling goroutines
	sess      *session
	shown     fyne.CanvasObject // the screen laid out last (Screen)
	lastTouch time.Time

	readerFault string           // the card reader's last error, for the status line; UI thread
	nextCat     *catalog.Catalog // a newer revision, used from the next visit on; UI thread

	// Screens, built once.
	welcome, items, question, materials, done fyne.CanvasObject
	body                                      *fyne.Container

	greeting   *canvas.Text
	find       finder
	qTitle     *canvas.Text
	qText      *canvas.Text
	qHelp      *widget.Label
	qChoices   *fyne.Container
	itemTitle  *canvas.Text
	itemGuide  *widget.Label
	matList    *fyne.Container
	submitBtn  *widget.Button
	doneTitle  *canvas.Text
	doneDetail *widget.Label
	doneSync   *widget.Label
	doneRating *widget.Label
	stopRating context.CancelFunc // ends a pending pad rating when the visit ends
	status     *widget.Label
	countdown  *widget.Label
	message    *widget.Label
}

// New builds the kiosk's screens in w. Call Run to start reading cards.
func New(cfg Config, w fyne.Window) *Kiosk {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.Scale == 0 {
		cfg.Scale = 1.5
	}
	// The kiosk's large type is the app's theme, not a ThemeOverride: an
	// override re-applied to new widgets keeps every primitive it saw in a
	// map that is never emptied (fyne 2.7 internal/cache), about 64 KB a
	// visit. The kiosk is the app; the demo sizes its other windows for it.
	setScale(cfg.Scale)
	k := &Kiosk{cfg: cfg, win: w}
	k.build()
	k.root = k.content()
	w.SetContent(k.root)
	return k
}

func bigText(s string, size float32) *canvas.Text {
	t := canvas.NewText(s, theme.Color(theme.ColorNameForeground))
	t.TextSize = size
	t.Alignment = fyne.TextAlignCenter
	return t
}

func (k *Kiosk) build() {
	// Welcome: the only thing to do is place the card.
	k.welcome = container.NewVBox(
		layout.NewSpacer(),
		bigText("请将身份证放在读卡区", 48),
		bigText("Place your ID card on the reader", 24),
		layout.NewSpacer(),
		bigText("一次提交 · 免于重复 —— 政府已有的材料无需再交", 22),
		layout.NewSpacer(),
	)

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
	k.submitBtn = widget.NewButtonWithIcon("提交并打印回执 / Submit and print", theme.DocumentPrintIcon(), func() { k.touch(); k.submit() })
	k.submitBtn.Importance = widget.HighImportance
	k.materials = container.NewBorder(
		container.NewVBox(k.itemTitle, k.itemGuide),
		k.submitBtn, nil, nil, container.NewVScroll(k.matList)) // a bundle can list more than fits

	// Done: the receipt is printed; the status follows the upload.
	k.doneTitle = bigText("已受理 · 回执已打印", 40)
	k.doneDetail = widget.NewLabel("")
	k.doneDetail.Alignment = fyne.TextAlignCenter
	k.doneSync = widget.NewLabel("")
	k.doneSync.Alignment = fyne.TextAlignCenter
	k.doneRating = widget.NewLabel("")
	k.doneRating.Alignment = fyne.TextAlignCenter
	k.doneRating.Wrapping = fyne.TextWrapWord
	finish := widget.NewButtonWithIcon("完成 / Finish", theme.ConfirmIcon(), func() { k.wipe() })
	finish.Importance = widget.HighImportance
	k.done = container.NewVBox(layout.NewSpacer(), k.doneTitle, k.doneDetail, k.doneSync, k.doneRating, layout.NewSpacer(), finish)

	k.status = widget.NewLabel("")
	k.countdown = widget.NewLabel("")
	k.message = widget.NewLabel("")
	k.message.Wrapping = fyne.TextWrapWord
	k.message.Importance = widget.DangerImportance
	k.body = container.NewStack(k.welcome)
}

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
	bar := container.NewHBox(back, home, layout.NewSpacer(), k.countdown, elder, help)
	band := canvas.NewRectangle(color.NRGBA{R: 0xC8, G: 0x1E, B: 0x1E, A: 0xFF})
	title := canvas.NewText("一次办 Yici · "+k.cfg.Hall, color.White)
	title.TextSize = 26
	title.TextStyle.Bold = true
	header := container.NewStack(band, container.NewPadded(title))
	return container.NewBorder(
		container.NewVBox(header, bar),
		container.NewVBox(k.message, widget.NewSeparator(), k.status),
		nil, nil, container.NewPadded(k.body))
}

// do runs fn as UI work, without waiting: on the main thread, holding ui.
func (k *Kiosk) do(fn func()) {
	fyne.Do(func() { k.ui.Lock(); defer k.ui.Unlock(); fn() })
}

// doAndWait runs fn as UI work, as do does, and returns when it is done.
// Never call it from UI work (a button's handler, or fn itself): ui is not
// re-entrant, and the main thread would wait for itself.
func (k *Kiosk) doAndWait(fn func()) {
	fyne.DoAndWait(func() { k.ui.Lock(); defer k.ui.Unlock(); fn() })
}

func (k *Kiosk) show(screen fyne.CanvasObject) {
	k.body.Objects = []fyne.CanvasObject{screen}
	k.body.Refresh()
	// Screen reports the new screen once it is laid out, for callers off
	// the UI thread.
	k.mu.Lock()
	k.shown = screen
	k.mu.Unlock()
}

func setScale(s float32) { fyne.CurrentApp().Settings().SetTheme(yicitheme.Theme{Scale: s}) }

func scale() float32 {
	t, _ := fyne.CurrentApp().Settings().Theme().(yicitheme.Theme)
	return t.Scale
}

func (k *Kiosk) say(msg string) {
	k.message.SetText(msg)
}

// touch restarts the idle timer; every button calls it.
func (k *Kiosk) touch() {
	k.mu.Lock()
	k.lastTouch = k.cfg.now()
	k.mu.Unlock()
}

// Run reads cards while the welcome screen is up, keeps the status line
// current and wipes idle sessions, until ctx ends.
func (k *Kiosk) Run(ctx context.Context) {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.mu.Lock()
		idle := k.sess == nil
		k.mu.Unlock()
		if idle {
			k.pollCard(ctx)
		}
		k.doAndWait(k.tick)
	}
}

func (k *Kiosk) pollCard(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	card, err := k.cfg.Reader.ReadCard(rctx)
	switch {
	case errors.Is(err, idcard.ErrNoCard):
		k.doAndWait(func() { k.readerFault = "" })
	case err != nil:
		msg := fmt.Sprintf("读卡器故障，请联系工作人员 / card reader fault: %v", err)
		k.doAndWait(func() { k.readerFault = msg })
	default:
		s := &session{card: card}
		k.lookupVault(ctx, s)
		k.doAndWait(func() { k.start(s) })
	}
}

// start begins the visit s, whose card has been read and vault asked.
func (k *Kiosk) start(s *session) {
	k.mu.Lock()
	k.sess = s
	k.mu.Unlock()
	card := s.card
	k.touch()
	k.say("")
	k.greeting.Text = fmt.Sprintf("您好，%s（%s）", mask.Name(card.Name), mask.ID(card.IDNumber))
	k.greeting.Refresh()
	k.typeQuery("")
	k.show(k.items)
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
			action = widget.NewLabel("✓ 已收 / received")
		case onFile:
			src := "已有电子证照"
			if e.Source == wire.SourceCase {
				src = "此前已提交"
			}
			action = widget.NewLabel("✓ 免提交 / on file（" + src + "）")
		default:
			b := widget.NewButtonWithIcon("扫描 / Scan", theme.ContentAddIcon(), func() { k.touch(); k.scanMaterial(m) })
			action = b
		}
		rows = append(rows, container.NewBorder(nil, nil, nil, action, container.NewVBox(name, rule)))
	}
	k.matList.Objects = rows
	k.matList.Refresh()
	k.submitBtn.Enable()
	if len(s.captured)+len(s.exempt) == 0 {
		k.submitBtn.Disable()
	}
}

// scanMaterial scans m in the background, so the screen stays alive and
// says what is happening; the result arrives on the UI thread, and on the
// returned channel for automation. A visit wiped meanwhile keeps nothing:
// its draft is gone, so the capture fails and the page is not stored.
func (k *Kiosk) scanMaterial(m catalog.Material) <-chan error {
	done := make(chan error, 1)
	s := k.sess
	caseID := s.caseID // Back or Home may clear it while the scan runs
	k.say("正在扫描，请稍候… / Scanning…")
	k.submitBtn.Disable()
	k.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err := k.scan(ctx, caseID, m)
		k.do(func() {
			if k.sess != s {
				return
			}
			if err != nil {
				k.say("扫描未成功，请重试或联系工作人员 / scan failed: " + err.Error())
			} else {
				k.say("")
				s.captured[m.Code] = true
			}
			k.refreshMaterials()
		})
		done <- err
	})
	return done
}

// submit submits the visit's case and prints its papers in the background;
// the returned channel closes when they are done (or at once on failure).
func (k *Kiosk) submit() <-chan struct{} {
	printed := make(chan struct{})
	s := k.sess
	if err := k.cfg.Store.Submit(s.caseID); err != nil {
		k.say("提交未成功，材料已保存，请联系工作人员 / submit failed, materials are kept: " + err.Error())
		close(printed)
		return printed
	}
	if k.cfg.Kick != nil {
		k.cfg.Kick()
	}
	k.doneDetail.SetText("办件编号 Case " + s.caseID)
	k.doneTitle.Text = "已受理 · 正在打印回执…"
	k.doneTitle.Refresh()
	k.show(k.done)
	k.tick()
	// The printer answers status before and after the job: about a second,
	// off the UI thread. The goroutines work on a copy of the visit: the
	// UI thread may wipe it meanwhile.
	doc, err := k.receipt(s)
	snap := s.snapshot()
	k.bg.Go(func() {
		defer close(printed)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = k.cfg.Printer.Print(ctx, doc)
			cancel()
		}
		notice, nerr := k.notice(snap)
		k.do(func() {
			if k.sess != s {
				return
			}
			var msg []string
			if err != nil {
				k.doneTitle.Text = "已受理 · 回执未打印"
				msg = append(msg, "回执打印失败，办件已受理，请到窗口领取回执 / receipt not printed: "+err.Error())
			} else {
				k.doneTitle.Text = "已受理 · 回执已打印"
			}
			switch {
			case nerr != nil:
				msg = append(msg, "一次性告知书未能生成，请到窗口询问 / notice not written: "+nerr.Error())
			case notice != "":
				k.doneDetail.SetText(k.doneDetail.Text + "\n尚缺材料已列入一次性告知书，请到综合窗口领取")
			}
			k.say(strings.Join(msg, "\n"))
			k.doneTitle.Refresh()
		})
	})
	if k.cfg.Pad != nil {
		k.doneRating.SetText("请在评价器上为本次服务评价 / Please rate this service on the pad")
		ctx, cancel := context.WithCancel(context.Background())
		k.stopRating = cancel
		caseID, name := snap.caseID, snap.guide.Name
		k.bg.Go(func() {
			msg := k.rate(ctx, caseID, name)
			k.do(func() {
				if ctx.Err() == nil { // the visit is still on screen
					k.doneRating.SetText(msg)
				}
			})
		})
	}
	return printed
}

// back steps back one screen: from the materials or a question to the
// previous question (dropping its answer, and the unsubmitted draft), or
// to the find screen.
func (k *Kiosk) back() {
	s := k.sess
	if s == nil {
		return
	}
	switch k.body.Objects[0] {
	case k.materials, k.question:
		k.discardDraft()
		if len(s.answers) == 0 {
			k.show(k.items)
			return
		}
		s.answers = s.answers[:len(s.answers)-1]
		k.advance()
	case k.items:
		k.wipe()
	}
}

// discardDraft drops the case draft of the session, if it has one that
// was not submitted, with every page scanned into it (S19).
func (k *Kiosk) discardDraft() {
	s := k.sess
	if s == nil || s.caseID == "" {
		return
	}
	id := s.caseID
	s.caseID = ""
	if st, err := k.cfg.Store.CaseState(id); err == nil && st == store.StateDraft {
		if err := k.cfg.Store.DiscardCase(id); err != nil {
			k.say("未提交的材料未能清除，请联系工作人员 / could not discard the unsubmitted case: " + err.Error())
		}
	}
}

// wipe ends the visit: everything personal leaves the screen and memory,
// and a case left unsubmitted leaves the store with its scans (S19).
func (k *Kiosk) wipe() {
	k.discardDraft()
	k.mu.Lock()
	k.sess = nil
	k.mu.Unlock()
	if k.nextCat != nil {
		k.useCatalog(k.nextCat)
		k.nextCat = nil
	}
	k.greeting.Text = ""
	k.greeting.Refresh()
	k.find.query, k.find.shown = "", nil
	k.find.results.Objects = nil
	k.qChoices.Objects = nil
	k.matList.Objects = nil
	k.doneDetail.SetText("")
	k.doneSync.SetText("")
	k.doneRating.SetText("")
	if k.stopRating != nil {
		k.stopRating()
		k.stopRating = nil
	}
	k.countdown.SetText("")
	k.say("")
	k.show(k.welcome)
}

// tick updates the status line and the idle countdown; on the UI thread.
func (k *Kiosk) tick() {
	var upload string
	n, oldest, err := k.cfg.Store.Pending()
	switch {
	case err != nil:
		upload = "本地存储故障 / local store fault: " + err.Error()
	case n == 0:
		upload = "上传：全部已送达平台 / all sent"
	default:
		upload = fmt.Sprintf("上传：%d 件待上传（最早 %s） / %d waiting", n, oldest.Local().Format("01-02 15:04"), n)
	}
	reader := "读卡器正常 / reader ready"
	if k.readerFault != "" {
		reader = k.readerFault
	}
	k.status.SetText(reader + "  ·  " + upload)
	if k.sess == nil {
		return
	}
	if k.body.Objects[0] == k.done {
		st, err := k.cfg.Store.CaseState(k.sess.caseID)
		switch {
		case err != nil:
			k.doneSync.SetText("上传状态未知 / upload state unknown: " + err.Error())
		case st == store.StateSent:
			k.doneSync.SetText("已上传至平台 / sent")
		case st == store.StateFailed:
			k.doneSync.SetText("平台拒收，请联系工作人员 / refused by the platform")
		default:
			k.doneSync.SetText("待上传（断网时自动重试） / pending")
		}
	}
	left := k.cfg.IdleTimeout - k.cfg.now().Sub(k.lastTouch)
	switch {
	case left <= 0:
		k.wipe()
	case left <= 30*time.Second:
		k.countdown.SetText(fmt.Sprintf("%d 秒后自动退出", int(left.Seconds())))
	default:
		k.countdown.SetText("")
	}
}

// Screen names the screen on show: welcome, find, question, materials or done.
func (k *Kiosk) Screen() string {
	k.mu.Lock()
	shown := k.shown
	k.mu.Unlock()
	switch shown {
	case k.items:
		return "find"
	case k.question:
		return "question"
	case k.materials:
		return "materials"
	case k.done:
		return "done"
	}
	return "welcome"
}

// The methods below do what the buttons do, for the demo's autoplay. Call
// them on the UI thread (fyne.DoAndWait); under Fyne's test driver, which
// has no UI thread, hold the kiosk's UI lock as well (doAndWait does both).

// Choose picks the item or bundle with this code, as its result button does.
func (k *Kiosk) Choose(code string) error {
	if k.sess == nil {
		return fmt.Errorf("terminal: cannot choose %q on the %s screen", code, k.Screen())
	}
	k.touch()
	k.choose(code)
	return nil
}

// Answer picks a choice of the question on screen, by its label's start.
func (k *Kiosk) Answer(label string) error {
	s := k.sess
	if s == nil || s.guide == nil || s.guide.Next == nil {
		return fmt.Errorf("terminal: no question on the %s screen", k.Screen())
	}
	for _, c := range s.guide.Next.Choices {
		if strings.HasPrefix(c.Label, label) {
			k.touch()
			k.answer(c.ID)
			return nil
		}
	}
	return fmt.Errorf("terminal: question %q has no choice %q", s.guide.Next.Text, label)
}

// ScanMaterial scans the material with this code of the guide on screen
// and waits for the page to be stored. Unlike the methods above, call it
// off the UI thread.
func (k *Kiosk) ScanMaterial(code string) error {
	var done <-chan error
	err := fmt.Errorf("terminal: no case on the %s screen", "current")
	k.doAndWait(func() {
		if k.sess == nil || k.sess.caseID == "" {
			err = fmt.Errorf("terminal: no case on the %s screen", k.Screen())
			return
		}
		err = fmt.Errorf("terminal: %s needs no material %q", k.sess.guide.Code, code)
		for _, m := range k.sess.guide.Materials {
			if m.Code == code {
				k.touch()
				done = k.scanMaterial(m.Material)
			}
		}
	})
	if done == nil {
		return err
	}
	return <-done
}

// Submit submits the case and prints the receipt, as its button does,
// and waits for the papers. Call it off the UI thread.
func (k *Kiosk) Submit() {
	var printed <-chan struct{}
	k.doAndWait(func() { k.touch(); printed = k.submit() })
	<-printed
}
