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
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/drivers/printer"
	"yici/drivers/printer/a4"
	"yici/sync/catalog"
	"yici/sync/mask"
	"yici/sync/store"
	"yici/sync/visit"
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
}

// VaultLookup asks what the applicant already has on file (S13): the
// platform's answer, or the cached one when offline (fresh false, with the
// time it was fetched).
type VaultLookup func(ctx context.Context, idNumber string) (a wire.VaultAnswer, fetched time.Time, fresh bool, err error)

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
	Documents      string      // directory for A4 PDFs (one-time notices) the hall prints; "" for none
	Kick           func()      // wakes the uploader after a submission; may be nil
	QueryURL       string      // the receipt's QR code is QueryURL + case id
	IdleTimeout    time.Duration
	Scale          float32 // type size: 1.5 by default (24 px body text), 2 in elder mode
	Now            func() time.Time
}

// session is one citizen's visit; wiped whole on Home, on finish and on idle.
type session struct {
	card     *idcard.Card
	code     string          // the item or bundle chosen
	answers  []string        // choice ids of its questions, in the order asked
	guide    *catalog.Guide  // resolved from code and answers
	caseID   string          // set once the guide is complete and the draft saved
	captured map[string]bool // material code → stored

	vault        wire.VaultAnswer
	vaultFetched time.Time
	vaultFresh   bool
	vaultErr     error
	exempt       map[string]wire.VaultEntry // material code → what is on file for it
}

// snapshot copies the visit for a goroutine that reads it while the UI
// thread goes on (the receipt's printing, the notice, the rating).
func (s *session) snapshot() *session {
	c := *s
	c.answers = slices.Clone(s.answers)
	c.captured = maps.Clone(s.captured)
	c.exempt = maps.Clone(s.exempt)
	return &c
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// startCase records the case draft before any material is scanned, so a
// crash after the first capture still leaves a complete, sendable record.
// Materials on file are in it from the start, marked exempt.
func (k *Kiosk) startCase() error {
	s := k.sess
	s.caseID = wire.NewCaseID(k.cfg.Terminal, k.cfg.now())
	s.captured = map[string]bool{}
	s.exempt = map[string]wire.VaultEntry{}
	var refs []wire.MaterialRef
	items := make([]string, len(s.guide.Items))
	for i, it := range s.guide.Items {
		items[i] = it.Code
	}
	for _, m := range s.guide.Materials {
		if e, ok := s.vault.OnFile(m.Code, k.cfg.now()); ok {
			s.exempt[m.Code] = e
			refs = append(refs, wire.MaterialRef{Code: m.Code, Name: m.Name, Exempt: true})
		}
	}
	return k.cfg.Store.SaveCase(wire.Manifest{
		ID:              s.caseID,
		Terminal:        k.cfg.Terminal,
		CatalogRevision: s.guide.Revision,
		Applied:         s.code,
		Answers:         slices.Clone(s.answers),
		Items:           items,
		Applicant:       wire.Applicant{Name: s.card.Name, IDNumber: s.card.IDNumber},
		Materials:       refs,
		CreatedAt:       k.cfg.now().UTC(),
	})
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

// scan captures one material: the scanner's first page goes to the store
// with its outbox entry in one transaction.
// It runs off the UI thread (a real scanner takes seconds) and touches no
// session state: the caller marks the material captured.
func (k *Kiosk) scan(ctx context.Context, caseID string, m catalog.Material) error {
	pages, err := k.cfg.Scanner.Scan(ctx, docscan.Options{MaxPages: 1})
	if err != nil {
		return err
	}
	if len(pages) == 0 {
		return errors.New("扫描仪没有送出页面 / the scanner returned no page")
	}
	ref := wire.MaterialRef{Code: m.Code, Name: m.Name, ContentType: "image/png"}
	_, err = k.cfg.Store.Capture(caseID, ref, pages[0].PNG)
	return err
}

// receipt lays out the acceptance receipt of visit s: masked applicant,
// the items, each material's state (the 待补 lines are the one-time notice
// of what is still missing), and a QR code to follow the case and rate it
// (S17).
func (k *Kiosk) receipt(s *session) ([]byte, error) {
	var mats []printer.ReceiptMaterial
	for _, m := range s.guide.Materials {
		st := printer.MaterialPending
		if s.captured[m.Code] {
			st = printer.MaterialReceived
		} else if _, ok := s.exempt[m.Code]; ok {
			st = printer.MaterialExempt
		}
		mats = append(mats, printer.ReceiptMaterial{Name: m.Name, State: st})
	}
	doc, err := printer.Receipt(printer.ReceiptData{
		Hall:      k.cfg.Hall,
		CaseNo:    s.caseID,
		Time:      k.cfg.now(),
		Applicant: mask.Name(s.card.Name),
		IDNumber:  mask.ID(s.card.IDNumber),
		Items:     names(s.guide.Items),
		Materials: mats,
		QR:        k.cfg.QueryURL + s.caseID,
		Footer:    []string{"待补材料请于承诺时限内补交", "咨询电话 " + s.guide.Items[0].Contact},
	})
	if err != nil {
		return nil, err
	}
	return doc.Bytes(), nil
}

// notice writes the A4 one-time notice (一次性告知书) of visit s to the
// documents directory when required materials are still missing: everything
// missing, with its review criteria, told once (S18). It returns the file
// written, or "" when nothing is missing or no directory is set.
func (k *Kiosk) notice(s *session) (string, error) {
	if k.cfg.Documents == "" {
		return "", nil
	}
	// The case as stored, reviewed as the window would see it: what is
	// still to come is the same list there and here.
	m, err := k.cfg.Store.Case(s.caseID)
	if err != nil {
		return "", err
	}
	v, err := visit.New(k.cfg.Catalog, m, s.vault, k.cfg.now())
	if err != nil {
		return "", err
	}
	n := v.Outstanding(a4.Header{Hall: k.cfg.Hall, CaseNo: s.caseID, Date: k.cfg.now(),
		Applicant: mask.Name(s.card.Name), IDNumber: mask.ID(s.card.IDNumber),
		Items: names(s.guide.Items), Window: "综合窗口", Phone: s.guide.Items[0].Contact,
		QR: k.cfg.QueryURL + s.caseID})
	if len(n.Missing) == 0 {
		return "", nil
	}
	n.Deadline = k.cfg.now().AddDate(0, 0, 7*max(1, s.guide.PromisedDays/5))
	pdf, err := a4.OneTimeNotice(n)
	if err != nil {
		return "", err
	}
	path := filepath.Join(k.cfg.Documents, s.caseID+"-一次性告知书.pdf")
	if err := os.MkdirAll(k.cfg.Documents, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, pdf, 0o600)
}

func names(items []*catalog.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Name
	}
	return out
}

// rate asks for a rating of this visit on the pad (一次一评, S17) and
// queues it as an event; it runs off the UI thread and returns what the
// done screen should say.
func (k *Kiosk) rate(ctx context.Context, caseID, item string) string {
	p := evalpad.Prompt{CaseNo: caseID, ClerkName: "自助服务", ClerkID: k.cfg.Terminal, Window: "自助终端 " + k.cfg.Terminal, Item: item}
	if err := k.cfg.Pad.Prompt(ctx, p); err != nil {
		return "评价器暂不可用，可扫回执二维码评价 / rating pad unavailable: " + err.Error()
	}
	r, err := k.cfg.Pad.AskRating(ctx, 90*time.Second)
	if errors.Is(err, evalpad.ErrNoRating) {
		return "未评价，可扫回执二维码评价 / not rated; use the receipt's QR code"
	}
	if err != nil {
		return "评价未收到，可扫回执二维码评价 / rating failed: " + err.Error()
	}
	reasons := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		reasons[i] = x.String()
	}
	e := wire.Event{ID: caseID + "-rating", Kind: wire.EventRating, At: k.cfg.now().UTC(), Case: caseID,
		Level: r.Level.Stars(), Reasons: reasons, Channel: "pad"}
	if err := k.cfg.Store.QueueEvent(e, nil); err != nil {
		return "评价未能保存，请告知工作人员 / rating not saved: " + err.Error()
	}
	if k.cfg.Kick != nil {
		k.cfg.Kick()
	}
	return "感谢您的评价：" + r.Level.String() + " / thank you"
}
