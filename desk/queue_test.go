package desk

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"yici/sync/wire"
)

// issue issues a ticket at the kiosk K01 as a kiosk does: put, print the
// slip, report it printed.
func (h *hall) issue(id, category string, priority bool, caseID string) wire.Ticket {
	h.t.Helper()
	ctx := context.Background()
	t, err := h.kiosk.PutTicket(ctx, "K01-"+id, wire.TicketRequest{Category: category, Priority: priority, Case: caseID, IssuedAt: time.Now().UTC()})
	if err != nil {
		h.t.Fatal(err)
	}
	if t, err = h.kiosk.Printed(ctx, t.ID); err != nil {
		h.t.Fatal(err)
	}
	return t
}

// ctrl types Ctrl+key at the desk's window as the driver does.
func (h *hall) ctrl(key fyne.KeyName) {
	fyne.DoAndWait(func() {
		h.d.w.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierControl})
	})
}

// waitTicket waits until the ticket at the window satisfies ok.
func (h *hall) waitTicket(what string, ok func(t wire.Ticket, has bool) bool) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok(h.d.Ticket()) {
			return
		}
	}
	t, has := h.d.Ticket()
	h.t.Fatalf("timed out waiting for %s: ticket %+v (%v), status %q", what, t, has, h.status())
}

// waitStatus waits until the status line says want.
func (h *hall) waitStatus(want string) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(h.status(), want) {
			return
		}
	}
	h.t.Fatalf("the status line does not say %q: %q", want, h.status())
}

func (h *hall) queueLine() string {
	var s string
	fyne.DoAndWait(func() { s = h.d.q.label.Text })
	return s
}

// TestQueueNextCallsPriorityAndOpensItsCase: two tickets from the kiosk,
// the second 绿色通道 with a pre-application; next calls it first and its
// case is open at once.
func TestQueueNextCallsPriorityAndOpensItsCase(t *testing.T) {
	h := newHall(t, nil)
	m := h.putCase("20261127-090000-0101", 2, []string{"GA-0101"},
		map[string][]byte{"M-ID-OLD": page(200)}, "M-HUKOU")
	first := h.issue("t1", "A", false, "")
	second := h.issue("t2", "A", true, m.ID)
	h.signIn()
	ctx := context.Background()
	got, ok, err := h.d.Next(ctx)
	if err != nil || !ok {
		t.Fatalf("next: %v %v", ok, err)
	}
	if got.ID != second.ID || got.State != wire.TicketCalled || got.Window != "3" {
		t.Fatalf("next called %+v, want the priority ticket %s at window 3", got, second.Number)
	}
	var open string
	fyne.DoAndWait(func() { open = h.d.OpenCase() })
	if open != m.ID {
		t.Fatalf("open case %q, want the ticket's pre-application %s", open, m.ID)
	}
	if line := h.queueLine(); !strings.Contains(line, second.Number) || !strings.Contains(line, "绿色通道") {
		t.Errorf("queue line %q", line)
	}
	// Still called here: next is refused until it is done with.
	if _, _, err := h.d.Next(ctx); err == nil {
		t.Error("next with a ticket still called here succeeded")
	}
	if _, err := h.d.Act(ctx, wire.ActFinish, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, err = h.d.Next(ctx); err != nil || !ok || got.ID != first.ID {
		t.Fatalf("second next: %+v %v %v, want %s", got, ok, err, first.Number)
	}
}

// TestQueueNoShowTwiceAbandons: a no-show goes back into the queue once;
// the second time the ticket is abandoned.
func TestQueueNoShowTwiceAbandons(t *testing.T) {
	h := newHall(t, nil)
	tk := h.issue("t1", "B", false, "")
	h.signIn()
	ctx := context.Background()
	for i, want := range []string{wire.TicketWaiting, wire.TicketAbandoned} {
		got, ok, err := h.d.Next(ctx)
		if err != nil || !ok || got.ID != tk.ID {
			t.Fatalf("next %d: %+v %v %v", i+1, got, ok, err)
		}
		after, err := h.d.Act(ctx, wire.ActNoShow, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after.State != want {
			t.Fatalf("no-show %d: %s, want %s", i+1, after.State, want)
		}
		if _, has := h.d.Ticket(); has {
			t.Fatalf("no-show %d: the ticket stays at the window", i+1)
		}
	}
	if s := h.status(); !strings.Contains(s, "已作废") {
		t.Errorf("status %q does not say abandoned", s)
	}
	if _, ok, err := h.d.Next(ctx); err != nil || ok {
		t.Fatalf("next after abandonment: %v %v, want nobody waiting", ok, err)
	}
}

// TestQueueKeys: the keys reach the actions: Ctrl+N calls, Ctrl+H holds,
// Ctrl+R recalls, Ctrl+T transfers to the category typed, Ctrl+F finishes.
func TestQueueKeys(t *testing.T) {
	h := newHall(t, nil, func(o *Options) { o.Categories = []string{"A"} })
	h.d.q.do = func(f func()) { f() } // a key's work is done when it returns
	h.issue("t0", "B", false, "")     // not this window's category
	a := h.issue("t1", "A", false, "")
	h.signIn()
	h.ctrl(fyne.KeyN)
	h.waitTicket("Ctrl+N to call", func(t wire.Ticket, has bool) bool { return has && t.ID == a.ID })
	h.ctrl(fyne.KeyH)
	h.waitTicket("Ctrl+H to hold", func(t wire.Ticket, has bool) bool { return has && t.State == wire.TicketHeld })
	h.ctrl(fyne.KeyR)
	h.waitTicket("Ctrl+R to recall", func(t wire.Ticket, has bool) bool {
		return has && t.State == wire.TicketCalled && t.Recalls == 1
	})
	// Ctrl+T with nothing typed asks where to; typed, it transfers.
	h.ctrl(fyne.KeyT)
	if s := h.status(); !strings.Contains(s, "转至") {
		t.Fatalf("Ctrl+T with no target says %q", s)
	}
	fyne.DoAndWait(func() { h.d.q.to.SetText("b") })
	h.ctrl(fyne.KeyT)
	h.waitTicket("Ctrl+T to transfer", func(t wire.Ticket, has bool) bool { return !has })
	h.waitStatus("转入 B 类")
	// Ctrl+F finishes: with the window's categories widened to B, the
	// transferred ticket is called again and finished.
	h.d.opt.Categories = []string{"B"}
	h.ctrl(fyne.KeyN)
	h.waitTicket("Ctrl+N to call a B ticket", func(t wire.Ticket, has bool) bool { return has })
	h.ctrl(fyne.KeyF)
	h.waitTicket("Ctrl+F to finish", func(t wire.Ticket, has bool) bool { return !has })
	h.waitStatus("已办结")
}
