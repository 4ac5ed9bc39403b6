// Package desk is the comprehensive window (综合窗口): a clerk signs in
// with a staff number and PIN, sees the cases of the hall, opens one with
// each material's page beside its published criteria, gives each a
// verdict — pass, or fail citing one of that material's criteria and
// nothing else (S4) — and decides: accept, accept with gaps (容缺, S6), or
// return with a one-time notice (否定备案, S18). The review and decision
// are sync/visit's; this package shows them, talks to the platform off the
// UI thread, and prints the A4 documents.
package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/uploader"
	"yici/sync/visit"
	"yici/sync/wire"
)

// Platform is what the desk needs of the platform (*uploader.Client).
// Reads and decisions act for the clerk signed in with SignIn.
type Platform interface {
	SignIn(ctx context.Context, clerk, pin, window string) (wire.SessionAnswer, error)
	SignOut(ctx context.Context) error
	WhoAmI(ctx context.Context) (wire.WhoAmI, error)
	Cases(ctx context.Context) ([]wire.CaseSummary, error)
	CasesOf(ctx context.Context, idNumber string) ([]wire.CaseSummary, error)
	Case(ctx context.Context, id string) (*wire.Manifest, error)
	Catalog(ctx context.Context, rev int) ([]byte, error)
	Vault(ctx context.Context, idNumber string) (wire.VaultAnswer, error)
	Blob(ctx context.Context, caseID, sha256 string, max int64) ([]byte, error)
	Confirm(ctx context.Context, caseID string, req wire.ConfirmRequest) (wire.ConfirmAnswer, error)
	PutEvent(ctx context.Context, e wire.Event) error
	// The hall queue (§16).
	Next(ctx context.Context, window string, categories ...string) (wire.Ticket, bool, error)
	Act(ctx context.Context, id, action string, transfer *wire.TransferRequest) (wire.Ticket, error)
}

// Printer prints an A4 PDF (*lp.Queue: the system's CUPS queue).
type Printer interface {
	Print(ctx context.Context, title string, pdf []byte) (job string, err error)
}

// Pad is the window's evaluation pad (评价器, *evalpad.Pad).
type Pad interface {
	Prompt(ctx context.Context, p evalpad.Prompt) error
	AskRating(ctx context.Context, timeout time.Duration) (evalpad.Rating, error)
}

// Options are the window's settings.
type Options struct {
	Hall      string        // on the documents
	Phone     string        // the hall's enquiry phone, on the documents
	Printer   Printer       // nil: documents are only saved
	Pad       Pad           // nil: no pad at this window; the receipt's QR code remains
	Reader    CardReader    // nil: no card reader at this window
	RateWait  time.Duration // how long the pad waits for a rating; default 90 s
	Documents string        // directory the PDFs are saved in; "" keeps none
	Timeout   time.Duration // of each platform call; default 15 s
	Now       func() time.Time

	// A new application taken at the window (F6) needs a store and a
	// scanner; without them the window only reviews.
	Store      Store           // the desk's local store (*store.Store)
	Scanner    docscan.Scanner // the window's document scanner
	Kick       func()          // wakes the uploader after a submission; may be nil
	UploadWait time.Duration   // how long F8 waits for the case to be up before saying it is queued; default 2 min

	Categories []string // the queue categories this window calls (one letter each); default all
}

// Desk is the clerk's window content.
type Desk struct {
	p      Platform
	opt    Options
	w      fyne.Window
	review fyne.CanvasObject // the review screen, shown while a clerk is signed in
	signin *signInForm

	mu       sync.Mutex // signed, clerk, window, me and cats: read off the UI thread
	signed   bool
	clerk    string // "name（staff number）" of the clerk signed in
	session  wire.SessionAnswer
	window   string
	me       string // this desk's terminal name: its event ids begin with it
	cats     map[int]*catalog.Catalog
	current  *catalog.Catalog // the newest revision, for the list's item names
	outcomes map[string]visit.Kind
	rated    map[string]bool // one pad rating per case and visit (S17)
	person   *applicant      // the person at the window, met by their card
	inquired map[string]bool // cases whose first inquiry is recorded

	// On the UI thread only.
	selecting   bool // OpenLatest selects the line it opens itself
	cases       []wire.CaseSummary
	list        *widget.List
	who         *widget.Label
	count       *widget.Label // what the list holds
	personLabel *widget.Label
	status      *widget.Label
	rv          *reviewPane
	in          *intake
	q           *queueBar
}

// New builds the desk in w over cat (the newest catalogue revision); it
// shows the sign-in form until a clerk signs in.
func New(p Platform, cat *catalog.Catalog, w fyne.Window, opt Options) *Desk {
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.RateWait <= 0 {
		opt.RateWait = 90 * time.Second
	}
	if opt.UploadWait <= 0 {
		opt.UploadWait = 2 * time.Minute
	}
	d := &Desk{p: p, opt: opt, w: w, current: cat, cats: map[int]*catalog.Catalog{}, outcomes: map[string]visit.Kind{}, rated: map[string]bool{}, inquired: map[string]bool{}}
	if cat != nil {
		d.cats[cat.Revision] = cat
	}
	d.status = widget.NewLabel("")
	d.status.Wrapping = fyne.TextWrapWord
	d.list = widget.NewList(
		func() int { return len(d.cases) },
		func() fyne.CanvasObject {
			// Two lines: who, then what — an item list as long as a bundle's
			// is cut with an ellipsis, never mid-name without one.
			who, what := widget.NewLabel(""), widget.NewLabel("")
			who.Truncation, what.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
			return container.NewVBox(who, what)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			who, what := d.caseLines(d.cases[i])
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(who)
			box.Objects[1].(*widget.Label).SetText(what)
		})
	d.list.OnSelected = func(i widget.ListItemID) {
		if !d.selecting {
			go d.Open(context.Background(), d.cases[i].ID)
		}
	}
	d.rv = newReviewPane(d)
	// The count of the list stands above it, so the periodic refresh never
	// overwrites what the status line tells the clerk.
	d.count = widget.NewLabel("")
	split := container.NewHSplit(container.NewBorder(d.count, nil, nil, nil, d.list), d.rv.content)
	split.Offset = 0.28
	d.in = newIntake(d)
	w.Canvas().SetOnTypedRune(d.rune)
	d.in.other = split
	d.who = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	refresh := widget.NewButton("F5 刷新 / Refresh", func() { go d.Refresh(context.Background()) })
	read := widget.NewButton("F2 读卡 / Read card", func() { go d.ReadCard(context.Background()) })
	apply := widget.NewButton("F6 新办件 / New application", func() { d.NewApplication() })
	d.personLabel = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.personLabel.Truncation = fyne.TextTruncateEllipsis // the window keeps its width
	out := widget.NewButton("F4 退出登录 / Sign out", func() { go d.SignOut(context.Background()) })
	title := widget.NewLabelWithStyle("综合窗口 / Window desk", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.q = newQueueBar(d)
	top := container.NewVBox(container.NewBorder(nil, nil, title, container.NewHBox(d.who, read, refresh, out), d.personLabel), d.q.content)
	// F6 stands at the status line's end: the top bar is as wide as the
	// window allows.
	bottom := container.NewBorder(nil, nil, nil, apply, d.status)
	d.review = container.NewBorder(top, bottom, nil, nil, container.NewStack(split, d.in.content))
	d.signin = newSignInForm(func(clerk, pin, window string) {
		go d.SignIn(context.Background(), clerk, pin, window)
	})
	w.SetContent(d.signin.content)
	w.Canvas().SetOnTypedKey(d.key)
	return d
}

// caseLines are the two lines of a case in the list: when and who
// (masked), with what this desk decided of it; then what was applied for.
func (d *Desk) caseLines(c wire.CaseSummary) (who, what string) {
	d.mu.Lock()
	out := d.outcomes[c.ID]
	d.mu.Unlock()
	who = fmt.Sprintf("%s  %s  %s", c.ReceivedAt.Local().Format("01-02 15:04"), mask.Name(c.Applicant.Name), mask.ID(c.Applicant.IDNumber))
	if out != "" {
		who = "【" + kindName(out) + "】" + who
	}
	return who, fmt.Sprintf("%s · %d 件材料", d.itemNames(c.Items), c.Materials)
}

func (d *Desk) itemNames(codes []string) string {
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		if it, ok := d.current.Item(c); d.current != nil && ok {
			names = append(names, it.Name)
		} else {
			names = append(names, c)
		}
	}
	return strings.Join(names, "、")
}

// Refresh reloads the case list; call it off the UI thread.
func (d *Desk) Refresh(ctx context.Context) {
	if !d.SignedIn() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	var cs []wire.CaseSummary
	var err error
	if a := d.applicant(); a != nil {
		cs, err = d.p.CasesOf(ctx, a.idNumber)
	} else {
		cs, err = d.p.Cases(ctx)
	}
	if sessionEnded(err) {
		d.lock("会话已结束，请重新登录 / Session ended: sign in again")
		return
	}
	fyne.DoAndWait(func() {
		if err != nil {
			d.say("平台暂不可达，稍后自动重试 / platform unreachable: " + err.Error())
			return
		}
		d.cases = cs
		whose := "本厅办件"
		if d.applicant() != nil {
			whose = "此申请人在本厅的办件"
		}
		d.count.SetText(fmt.Sprintf("%s %d 件 · 更新于 %s", whose, len(cs), d.opt.Now().Format("15:04:05")))
		d.list.Refresh()
	})
}

// say puts msg in the status line, which wraps rather than widens the
// window; call it on the UI thread.
func (d *Desk) say(msg string) { d.status.SetText(msg) }

// Run refreshes the list every interval until ctx ends.
func (d *Desk) Run(ctx context.Context, interval time.Duration) {
	for {
		d.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// SetCatalog makes c the newest catalogue revision; call it on the UI
// thread.
func (d *Desk) SetCatalog(c *catalog.Catalog) {
	d.mu.Lock()
	d.current = c
	d.cats[c.Revision] = c
	d.mu.Unlock()
}

// catalogAt returns catalogue revision rev, the one a case was made under,
// from the platform the first time.
func (d *Desk) catalogAt(ctx context.Context, rev int) (*catalog.Catalog, error) {
	d.mu.Lock()
	c, ok := d.cats[rev]
	d.mu.Unlock()
	if ok {
		return c, nil
	}
	doc, err := d.p.Catalog(ctx, rev)
	if err != nil {
		return nil, fmt.Errorf("catalogue revision %d: %w", rev, err)
	}
	c, err = catalog.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("catalogue revision %d: %w", rev, err)
	}
	d.mu.Lock()
	d.cats[rev] = c
	d.mu.Unlock()
	return c, nil
}

// key is the desk's keyboard: every main action has a key, shown on its
// button, so nothing needs the mouse.
func (d *Desk) key(ev *fyne.KeyEvent) {
	if !d.SignedIn() {
		return
	}
	if d.in.key(ev) {
		return
	}
	switch ev.Name {
	case fyne.KeyF6:
		d.NewApplication()
	case fyne.KeyF1:
		go d.ReadAgentCard(context.Background())
	case fyne.KeyF2:
		go d.ReadCard(context.Background())
	case fyne.KeyF3:
		d.Done()
	case fyne.KeyF4:
		go d.SignOut(context.Background())
	case fyne.KeyF5:
		go d.Refresh(context.Background())
	case fyne.KeyF9:
		go d.Decide(context.Background(), visit.Accept)
	case fyne.KeyF10:
		go d.Decide(context.Background(), visit.AcceptWithGaps)
	case fyne.KeyF11:
		go d.Decide(context.Background(), visit.Return)
	case fyne.KeyF12:
		d.rv.correct()
	case fyne.KeyPageDown:
		d.rv.move(1)
	case fyne.KeyPageUp:
		d.rv.move(-1)
	case fyne.KeyPlus, fyne.KeyEqual:
		d.rv.page.step(1)
	case fyne.KeyMinus:
		d.rv.page.step(-1)
	}
}

// rune takes the characters typed with nothing focused: the new
// application's while it is on screen, else the review's verdict keys.
func (d *Desk) rune(r rune) {
	if !d.SignedIn() {
		return
	}
	if d.in.shown() {
		d.in.rune(r)
		return
	}
	d.rv.rune(r)
}

// sessionEnded reports whether err says the clerk's session is over (idle,
// expired, or the clerk disabled): the desk then asks for the PIN again.
func sessionEnded(err error) bool {
	var se *uploader.StatusError
	return errors.As(err, &se) && se.Body.Code == wire.CodeSessionRequired
}

func kindName(k visit.Kind) string {
	switch k {
	case visit.Accept:
		return "已受理"
	case visit.AcceptWithGaps:
		return "容缺受理"
	case visit.Return:
		return "已退回"
	}
	return string(k)
}

// Press delivers keys as the window's driver does: to the widget with the
// focus, else to the window. For the demo's autoplay; call it on the UI
// thread.
func (d *Desk) Press(names ...fyne.KeyName) {
	c := d.w.Canvas()
	for _, n := range names {
		ev := &fyne.KeyEvent{Name: n}
		if f := c.Focused(); f != nil {
			f.TypedKey(ev)
		} else if h := c.OnTypedKey(); h != nil {
			h(ev)
		}
	}
}

// Type types s as Press delivers keys. Call it on the UI thread.
func (d *Desk) Type(s string) {
	c := d.w.Canvas()
	for _, r := range s {
		if f := c.Focused(); f != nil {
			f.TypedRune(r)
		} else if h := c.OnTypedRune(); h != nil {
			h(r)
		}
	}
}

// Progress is what the new application's progress line says; OpenCase is
// the case under review, or "". For the demo's autoplay; call them on the
// UI thread.
func (d *Desk) Progress() string { return d.in.progress.Text }

// OpenCase is the id of the case under review, or "".
func (d *Desk) OpenCase() string {
	if d.rv.m == nil {
		return ""
	}
	return d.rv.m.ID
}
