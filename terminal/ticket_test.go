package terminal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"yici/drivers/printer/printtest"
	"yici/drivers/sim"
	"yici/sync/appliance"
	"yici/sync/platform"
	"yici/sync/wire"
)

// take issues a ticket as btn's tap does, and waits for the attempt.
func (h *hall) take(t *testing.T, btn func() *widget.Button) {
	t.Helper()
	var finished <-chan struct{}
	h.ui(func() { finished = h.k.takeTicket(btn()) })
	select {
	case <-finished:
	case <-time.After(patience):
		t.Fatal("ticket not issued in time")
	}
}

// slip reads the next slip the printer received: its text and QR code.
func (h *hall) slip(t *testing.T) (text, qr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	rec, err := h.prn.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range rec.Lines {
		b.WriteString(l.Text + "\n")
	}
	pic, err := rec.PNG()
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), printtest.MustQRFromPNG(t, pic)
}

func (h *hall) message() (m string) {
	h.ui(func() { m = h.k.message.Text })
	return m
}

// Online: the platform numbers the ticket, the slip prints with its
// number, category, people ahead and the ticket id in its QR code, and
// the ticket is waiting once printed. A second walk-in sees one ahead; a
// double tap issues nothing more.
func TestTicketOnline(t *testing.T) {
	h := newHall(t, t.TempDir())
	walkIn := func() *widget.Button { return h.k.walkInBtn }
	// The platform shows the board to displays and desks only (§2): the
	// waiting count comes from the hall's display.
	tok, err := h.srv.Enrol(platform.RoleDisplay, "DL01", "D01")
	if err != nil {
		t.Fatal(err)
	}
	display, err := appliance.Client(h.url, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	h.ui(func() { h.k.wipe(); h.k.cfg.Queue = boardOf{h.client, display} })
	h.take(t, walkIn)
	text, id := h.slip(t)
	if !strings.Contains(text, "A001") || !strings.Contains(text, "A 类窗口") || !strings.Contains(text, "前面还有 0 人") {
		t.Errorf("first slip:\n%s", text)
	}
	q, err := h.pst.GetTicket(t.Context(), id)
	if err != nil {
		t.Fatalf("the QR's ticket id %q: %v", id, err)
	}
	if q.Ticket.Number != "A001" || q.Ticket.State != wire.TicketWaiting || q.Ticket.Priority {
		t.Errorf("platform holds %+v, want A001 waiting, not priority", q.Ticket)
	}
	if m := h.message(); !strings.Contains(m, "已取号 A001") {
		t.Errorf("message %q", m)
	}

	// A double tap: the second tap finds the button grey.
	var finished <-chan struct{}
	h.ui(func() {
		finished = h.k.takeTicket(h.k.walkInBtn)
		if !h.k.walkInBtn.Disabled() {
			t.Error("button not grey while issuing")
		}
		<-h.k.takeTicket(h.k.walkInBtn) // refused at once
	})
	<-finished
	text, id2 := h.slip(t)
	if !strings.Contains(text, "A002") || !strings.Contains(text, "前面还有 1 人") || !strings.Contains(text, "预计等候约 5 分钟") {
		t.Errorf("second slip:\n%s", text)
	}
	if id2 == id {
		t.Error("the next walk-in got the same ticket id")
	}
	b, err := display.Board(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if b.Waiting["A"] != 2 {
		t.Errorf("%d waiting in A, want 2 (a double tap issues one ticket)", b.Waiting["A"])
	}
}

// A slip that does not print is no ticket: the platform keeps it in
// printing, out of the queue, and the citizen is told. The next tap puts
// the same ticket and prints it. The applicant born in 1950 is priority
// (绿色通道), and the ticket carries the submitted case.
func TestTicketPrinterFaultAndPriority(t *testing.T) {
	h := newHall(t, t.TempDir())
	old := sim.SampleCard
	old.Birth = "19500101"
	caseID := wire.NewCaseID("K01", time.Now())
	h.ui(func() {
		h.k.start(&session{card: &old})
		h.k.sess.caseID = caseID
		h.k.show(h.k.done)
	})
	h.prn.SetFaults(sim.PrinterFaults{PaperOut: true})
	btn := func() *widget.Button { return h.k.ticketBtn }
	h.take(t, btn)
	var id string
	var disabled bool
	h.ui(func() { id, disabled = h.k.sess.ticket.id, h.k.ticketBtn.Disabled() })
	var title string
	h.ui(func() { title = h.k.doneTitle.Text })
	if title != "号票未打印：打印机缺纸" {
		t.Errorf("done screen says %q, want the fault told plainly", title)
	}
	if disabled {
		t.Error("ticket button grey after a failed print: the citizen cannot try again")
	}
	q, err := h.pst.GetTicket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if q.Ticket.State != wire.TicketPrinting || !q.Ticket.Priority || q.Ticket.Case != caseID {
		t.Errorf("platform holds %+v, want printing, priority, case %s", q.Ticket, caseID)
	}

	h.prn.SetFaults(sim.PrinterFaults{})
	h.take(t, btn)
	text, qr := h.slip(t)
	if qr != id || !strings.Contains(text, q.Ticket.Number) || !strings.Contains(text, "绿色通道") {
		t.Errorf("slip of %q after the fault, want %s with %s priority:\n%s", qr, id, q.Ticket.Number, text)
	}
	if q, _ = h.pst.GetTicket(t.Context(), id); q.Ticket.State != wire.TicketWaiting {
		t.Errorf("state %s after printing, want waiting", q.Ticket.State)
	}
	h.ui(func() {
		if !h.k.ticketBtn.Disabled() {
			t.Error("ticket button still on after the visit's ticket printed")
		}
	})
}

func TestPriorityAge(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.Local)
	for birth, want := range map[string]bool{
		"19500101": true, "19550301": true, "19550302": false, "19880504": false, "": false, "1950": false,
	} {
		if got := priority(birth, now); got != want {
			t.Errorf("born %q: priority %v, want %v", birth, got, want)
		}
	}
}

// boardOf is the kiosk's queue with the board read by another terminal.
type boardOf struct {
	Queue
	board interface {
		Board(context.Context) (wire.Board, error)
	}
}

func (q boardOf) Board(ctx context.Context) (wire.Board, error) { return q.board.Board(ctx) }

// unreachable is a platform that cannot be reached.
type unreachable struct{}

var errDown = errors.New("dial tcp: connection refused")

func (unreachable) PutTicket(context.Context, string, wire.TicketRequest) (wire.Ticket, error) {
	return wire.Ticket{}, errDown
}
func (unreachable) Printed(context.Context, string) (wire.Ticket, error) {
	return wire.Ticket{}, errDown
}
func (unreachable) Board(context.Context) (wire.Board, error) { return wire.Board{}, errDown }

// Offline the kiosk numbers from its band (1: A1001…), a failed print
// takes no number, the tickets and the count are in the store (so they
// outlive a restart), and the tickets reach the platform, waiting, once it
// answers again, and leave the store.
func TestTicketOffline(t *testing.T) {
	h := newHall(t, t.TempDir())
	walkIn := func() *widget.Button { return h.k.walkInBtn }
	h.ui(func() { h.k.wipe(); h.k.cfg.Queue = unreachable{} })
	h.take(t, walkIn)
	text1, id1 := h.slip(t)
	h.prn.SetFaults(sim.PrinterFaults{PaperOut: true})
	h.take(t, walkIn)
	h.prn.SetFaults(sim.PrinterFaults{})
	h.take(t, walkIn)
	text2, id2 := h.slip(t)
	if !strings.Contains(text1, "A1001") || !strings.Contains(text2, "A1002") || strings.Contains(text1, "前面还有") {
		t.Errorf("offline slips:\n%s\n%s", text1, text2)
	}
	held, err := h.st.HeldTickets()
	if err != nil || len(held) != 2 || held[0].ID != id1 || held[1].Req.Number != "A1002" {
		t.Errorf("held in the store: %+v, %v; want %s=A1001 and %s=A1002", held, err, id1, id2)
	}
	if n, err := h.st.BandSeq(time.Now().Format("20060102"), "A"); n != 2 || err != nil {
		t.Errorf("band count in the store %d, %v; want 2", n, err)
	}
	h.ui(func() { h.k.cfg.Queue = h.client })
	h.k.FlushTickets(t.Context())
	if held, err := h.st.HeldTickets(); len(held) != 0 || err != nil {
		t.Errorf("held after the flush: %+v, %v", held, err)
	}
	for id, want := range map[string]string{id1: "A1001", id2: "A1002"} {
		q, err := h.pst.GetTicket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if q.Ticket.Number != want || q.Ticket.State != wire.TicketWaiting || !q.Offline {
			t.Errorf("platform holds %+v, want %s waiting, offline", q.Ticket, want)
		}
	}
}
