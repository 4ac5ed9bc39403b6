// Package terminal is the self-service kiosk (自助终端): a citizen places an
// ID card, picks a service item, scans the materials the platform does not
// already hold, and takes a printed receipt. Everything captured is durable
// in the local store before the screen moves on (D3); the uploader sends it.
//
// Screens are built once and reused, never rebuilt per session: calling
// SetContent over and over leaks on long-running devices (fyne-io/fyne#3818).
package terminal

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/sync/appcode"
	"yici/sync/catalog"
	"yici/sync/store"
	"yici/sync/wire"
)

// CardReader reads the resident ID card on the reader, or returns an error
// wrapping idcard.ErrNoCard when none is there.
type CardReader interface {
	ReadCard(ctx context.Context) (*idcard.Card, error)
}

// Printer prints an ESC/POS document and reports failure, never a silent
// half print.
type Printer interface {
	Print(ctx context.Context, doc []byte) error
}

// Store is what the kiosk needs of the local store: each call is durable
// when it returns.
type Store interface {
	SaveCase(m wire.Manifest) error
	Capture(caseID string, ref wire.MaterialRef, data []byte) (sha256 string, err error)
	Submit(caseID string) error
	QueueEvent(e wire.Event, data []byte) error
	DiscardCase(caseID string) error
	CaseState(caseID string) (store.State, error)
	Case(caseID string) (wire.Manifest, error)
	Pending() (n int, oldest time.Time, err error)
	// Tickets issued offline, and the band's count (ticket.go).
	BandSeq(day, category string) (int, error)
	HoldTicket(id string, req wire.TicketRequest, day string, seq int) error
	HeldTickets() ([]store.HeldTicket, error)
	DropTicket(id string) error
}

// VaultLookup asks what the applicant already has on file (S13): the
// platform's answer, or the cached one when offline (fresh false, with the
// time it was fetched).
type VaultLookup func(ctx context.Context, idNumber string) (a wire.VaultAnswer, fetched time.Time, fresh bool, err error)

// CodeScanner is the QR/barcode scanner: Next waits for the next code read
// (drivers/codescan's Scanner). Errors wrapping codescan's line errors are
// about one unreadable code; others are the port's.
type CodeScanner interface {
	Next(ctx context.Context) (string, error)
}

// AppCodes verifies an app code (掌上办, sync/appcode) offline and refuses
// its second use; errors wrap appcode's.
type AppCodes interface {
	Verify(code string) (appcode.Person, error)
}

// Pad is the evaluation pad (评价器) the citizen rates the service on.
type Pad interface {
	Prompt(ctx context.Context, p evalpad.Prompt) error
	AskRating(ctx context.Context, timeout time.Duration) (evalpad.Rating, error)
}

// Config is everything a kiosk is made of.
type Config struct {
	Hall, Terminal string
	Catalog        *catalog.Catalog
	Store          Store
	Reader         CardReader
	Scanner        docscan.Scanner
	Printer        Printer
	Vault          VaultLookup // nil: nothing is known to be on file
	Pad            Pad         // nil: rating by the receipt's QR code only
	CodeScanner    CodeScanner // with AppCodes: identify by app code as by card; nil: by card only
	AppCodes       AppCodes    // the platform's keys, kept for offline use (appliance.AppCodes)
	Documents      string      // directory for A4 PDFs (one-time notices) the hall prints; "" for none
	Kick           func()      // wakes the uploader after a submission; may be nil
	QueryURL       string      // the receipt's QR code is QueryURL + case id
	// Queue issues hall queue tickets (uploader.Client); nil: the kiosk
	// issues none.
	Queue Queue
	// TicketBand (1–9) is the kiosk's band of offline numbers (A1001… for
	// band 1), unique in the hall; 0: no tickets while the platform is
	// unreachable.
	TicketBand       int
	MinutesPerPerson int // a ticket's estimated wait per person ahead; 5 when 0
	IdleTimeout      time.Duration
	Scale            float32 // type size: 1.5 by default (24 px body text), 2 in elder mode
	Now              func() time.Time
}

// Kiosk is the kiosk window's content and the visit it serves.
type Kiosk struct {
	cfg  Config
	root fyne.CanvasObject // the window's content

	// ui serialises the kiosk's UI work: every callback of its goroutines
	// runs through do or doAndWait, which hold it. Under the real driver
	// those run on the main thread anyway; Fyne's test driver runs them
	// inline on the goroutine that asks, and tests hold ui around their
	// taps and reads too (doAndWait). Code holding it must never call do or
	// doAndWait itself: only goroutines the kiosk starts, and the off-UI
	// entry points ScanMaterial and Submit, do.
	ui sync.Mutex
	bg sync.WaitGroup // the scan, print, rating and ticket goroutines

	// tk serialises issuing tickets (ticket.go): the printer is one, and
	// the band's count in the store is read, printed and then kept.
	tk sync.Mutex

	walkIn    ticketJob      // the welcome screen's ticket without a card; UI thread
	ticketBtn *widget.Button // 取号 on the done screen
	walkInBtn *widget.Button // 无卡取号 on the welcome screen

	mu        sync.Mutex // guards sess, lastTouch, shown, senses and liftCard against the polling goroutines
	sess      *session
	shown     fyne.CanvasObject // the screen laid out last (Screen)
	lastTouch time.Time
	senses    bool      // the reader tells a card left on it from none (cardPresent), as seen at the last read
	liftCard  bool      // the last visit's card is still on the reader: ask for it to be taken, start nothing
	lastSense time.Time // when watchCard last looked; Run's goroutine only

	readerFault string           // the card reader's last error, for the status line; UI thread
	codeFault   string           // the code scanner's last port error, for the status line; UI thread
	online      int              // the platform was reached (1), not (-1), or unknown (0); UI thread
	lastPending int              // cases waiting at the last tick; UI thread
	nextCat     *catalog.Catalog // a newer revision, used from the next visit on; UI thread

	// Screens, built once.
	welcome, items, question, materials, pagesScreen, done fyne.CanvasObject
	body                                                   *fyne.Container

	greeting   *widget.Label
	welcomeTx  [2]*widget.Label // what to do, in Chinese and English
	find       finder
	qTitle     *widget.Label
	qStep      *widget.Label // 问题 2 / 3
	qText      *widget.Label
	qHelp      *widget.Label
	qChoices   *fyne.Container
	itemTitle  *widget.Label
	itemGuide  *widget.Label
	matList    *fyne.Container
	matRows    []fyne.CanvasObject // every row of the checklist; matList shows a page of them
	matFirst   int                 // the first row on show
	matStarts  []int               // the first rows of the pages before, for 上一页
	matFit     *fitRows
	matPager   *fyne.Container
	matPageLbl *widget.Label
	matPrev    *widget.Button
	matNext    *widget.Button
	submitBtn  *widget.Button
	submitWhy  *quietLabel     // why Submit is grey, when it is
	confirm    *fyne.Container // asks before a submission with nothing scanned
	// The pages screen (pages.go): the material on it, the page chosen,
	// whether a scan or capture runs; UI thread.
	pgMat                                                 catalog.Material
	pgSel, pgSeq                                          int
	pgBusy                                                bool
	pgTitle                                               *widget.Label
	pgStep                                                *widget.Label
	pgImage                                               *canvas.Image
	pgThumbs                                              *fyne.Container
	pgAdd, pgRetake, pgDelete, pgEarlier, pgLater, pgDone *widget.Button
	doneTitle                                             *widget.Label
	doneDetail                                            *widget.Label
	doneSync                                              *widget.Label
	doneRating                                            *widget.Label
	doneCard                                              *widget.Label      // 请取走身份证, while the card is on the reader
	stopRating                                            context.CancelFunc // ends a pending pad rating when the visit ends
	status                                                *widget.Label
	idle                                                  *fyne.Container // the 还在吗？ overlay over everything, before the idle wipe
	idleSecs                                              *widget.Label
	message                                               *quietLabel
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
	k := &Kiosk{cfg: cfg}
	k.build()
	k.root = k.content()
	w.SetContent(k.root)
	return k
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

// session is one citizen's visit; wiped whole on Home, on finish and on idle.
type session struct {
	card     *idcard.Card
	code     string          // the item or bundle chosen
	answers  []string        // choice ids of its questions, in the order asked
	later    []string        // answers Back took off, the next first: shown as the earlier choice
	guide    *catalog.Guide  // resolved from code and answers
	caseID   string          // set once the guide is complete and the draft saved
	captured map[string]bool // material code → stored
	// The draft survives Back: it is the one for draftCode and
	// draftAnswers (whose list is draftGuide), and pages holds what was
	// scanned into it, so that a changed list can take the pages still
	// needed into a new draft.
	draftCode    string
	draftAnswers []string
	draftGuide   *catalog.Guide
	pages        map[string][]docscan.Page // material code → its scanned pages, in order (never changed in place)

	vault        wire.VaultAnswer
	vaultFetched time.Time
	vaultFresh   bool
	vaultErr     error
	exempt       map[string]wire.VaultEntry // material code → what is on file for it

	printerZh, printerEn string // why the printer could not print when the visit began; "" if it could

	cardGone bool // the card left the reader: nothing is submitted until it is back

	ticket ticketJob // the queue ticket taken after the submission
}

// snapshot copies the visit for a goroutine that reads it while the UI
// thread goes on (the receipt's printing, the notice, the rating).
func (s *session) snapshot() *session {
	c := *s
	c.answers = slices.Clone(s.answers)
	c.later = slices.Clone(s.later)
	c.captured = maps.Clone(s.captured)
	c.draftAnswers = slices.Clone(s.draftAnswers)
	c.pages = maps.Clone(s.pages)
	c.exempt = maps.Clone(s.exempt)
	return &c
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// kick wakes the uploader, if there is one, after something was queued.
func (c *Config) kick() {
	if c.Kick != nil {
		c.Kick()
	}
}

// startCase records the case draft before any material is scanned, so a
// crash after the first capture still leaves a complete, sendable record.
// Materials on file are in it from the start, marked exempt.
//
// A draft made earlier in the visit for another list (the citizen went
// Back and answered otherwise) is replaced: the pages scanned for
// materials the new list still needs go into the new draft, the rest are
// discarded with the old one. It returns the names of the materials whose
// pages were dropped, for the screen to say.
func (k *Kiosk) startCase() (dropped []string, err error) {
	s := k.sess
	old, oldPages, oldGuide := s.caseID, s.pages, s.draftGuide
	id := wire.NewCaseID(k.cfg.Terminal, k.cfg.now())
	captured := map[string]bool{}
	exempt := map[string]wire.VaultEntry{}
	pages := map[string][]docscan.Page{}
	var refs []wire.MaterialRef
	items := make([]string, len(s.guide.Items))
	for i, it := range s.guide.Items {
		items[i] = it.Code
	}
	for _, m := range s.guide.Materials {
		if _, scanned := oldPages[m.Code]; scanned {
			continue // the page is handed in again below
		}
		if e, ok := s.vault.OnFile(m.Code, k.cfg.now()); ok {
			exempt[m.Code] = e
			refs = append(refs, wire.MaterialRef{Code: m.Code, Name: m.Name, Exempt: true})
		}
	}
	err = k.cfg.Store.SaveCase(wire.Manifest{
		ID:              id,
		Terminal:        k.cfg.Terminal,
		CatalogRevision: s.guide.Revision,
		Applied:         s.code,
		Answers:         slices.Clone(s.answers),
		Items:           items,
		Applicant:       wire.Applicant{Name: s.card.Name, IDNumber: s.card.IDNumber},
		Materials:       refs,
		CreatedAt:       k.cfg.now().UTC(),
	})
	if err != nil {
		return nil, err
	}
	needed := map[string]bool{}
	for _, m := range s.guide.Materials {
		needed[m.Code] = true
		ps, ok := oldPages[m.Code]
		if !ok {
			continue
		}
		if err := k.capture(id, m.Material, ps); err != nil {
			k.cfg.Store.DiscardCase(id)
			return nil, err
		}
		captured[m.Code], pages[m.Code] = true, ps
	}
	if old != "" {
		for _, m := range oldGuide.Materials {
			if _, ok := oldPages[m.Code]; ok && !needed[m.Code] {
				dropped = append(dropped, m.Name)
			}
		}
		k.discardDraft()
	}
	s.caseID, s.captured, s.exempt, s.pages = id, captured, exempt, pages
	s.draftCode, s.draftAnswers, s.draftGuide = s.code, slices.Clone(s.answers), s.guide
	return dropped, nil
}

// lookupVault asks what the person has on file; called off the UI thread
// before the visit starts, so the material lists can mark 免提交 at once.
func (k *Kiosk) lookupVault(ctx context.Context, s *session) {
	if k.cfg.Vault == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.vault, s.vaultFetched, s.vaultFresh, s.vaultErr = k.cfg.Vault(ctx, s.card.IDNumber)
}
