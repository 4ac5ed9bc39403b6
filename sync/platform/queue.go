package platform

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"yici/sync/wire"
)

// The hall queue (docs/sync-protocol.md §16). A kiosk issues a ticket
// under an id of its own: online it puts it without a number, the
// platform numbers it (printing), the kiosk prints the slip and reports it
// printed (waiting); a slip that does not print never enters the queue,
// and a double tap puts the same id again and gets the same number.
// Offline the kiosk numbers it from its band, prints it and puts it when
// the link returns, waiting at once. Desks take tickets with next, which
// storage does atomically; the display reads the board.

// QueueTicket is a ticket as the platform holds it.
type QueueTicket struct {
	Ticket  wire.Ticket `json:"ticket"`
	Hall    string      `json:"hall"`              // the issuing kiosk's hall: who may call it
	Day     string      `json:"day"`               // YYYYMMDD in the hall's time: numbers are per day
	Kiosk   string      `json:"kiosk"`             // the issuing kiosk
	Offline bool        `json:"offline,omitempty"` // numbered by the kiosk from its band
}

// hallZone is the time of the halls (China Standard Time): a day of
// numbers runs from local midnight to midnight.
var hallZone = time.FixedZone("CST", 8*3600)

func hallDay(t time.Time) string { return t.In(hallZone).Format("20060102") }

// lastCalls is how many of the last calls the board shows.
const lastCalls = 10

// sameIssue reports whether a and b were issued alike: what makes a
// repeated PUT of a ticket idempotent. The platform's number and the
// ticket's later states are not part of it.
func sameIssue(a, b QueueTicket) bool {
	x, y := a.Ticket, b.Ticket
	return x.ID == y.ID && x.Category == y.Category && x.Priority == y.Priority && x.Case == y.Case &&
		x.IssuedAt.Equal(y.IssuedAt) && a.Offline == b.Offline && (!a.Offline || x.Number == y.Number) &&
		a.Hall == b.Hall && a.Kiosk == b.Kiosk
}

func (s *Server) putTicket(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid ticket id", id), nil)
		return
	}
	if !ownID(c.Terminal.Name, id) {
		forbidden(w, fmt.Sprintf("ticket id %q does not begin with this terminal's name %q and a '-'", id, c.Terminal.Name))
		return
	}
	var req wire.TicketRequest
	if !s.decode(w, r, &req) {
		return
	}
	bad := func(format string, args ...any) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf(format, args...), nil)
	}
	switch {
	case !wire.ValidCategory(req.Category):
		bad("category %q is not one letter A–Z", req.Category)
		return
	case req.IssuedAt.UTC().Year() < 2000 || req.IssuedAt.UTC().Year() > 9000:
		bad("issued_at %v is out of range", req.IssuedAt)
		return
	case req.Case != "" && !ownID(c.Terminal.Name, req.Case):
		forbidden(w, fmt.Sprintf("case %q is not this kiosk's: a ticket carries the pre-application made with it", req.Case))
		return
	case req.Case != "" && !wire.ValidCaseID(req.Case):
		bad("case %q is not a valid case id", req.Case)
		return
	}
	now := s.now().UTC()
	q := QueueTicket{Hall: c.Terminal.Hall, Kiosk: c.Terminal.Name, Day: hallDay(now),
		Ticket: wire.Ticket{ID: id, Category: req.Category, Priority: req.Priority, Case: req.Case,
			IssuedAt: req.IssuedAt.UTC(), QueuedAt: req.IssuedAt.UTC(), State: wire.TicketPrinting}}
	if req.Number != "" {
		if _, ok := wire.ValidOfflineNumber(req.Category, req.Number); !ok {
			bad("number %q is not of an offline band of category %s (the letter, a band 1–9, three digits: %s)",
				req.Number, req.Category, wire.OfflineNumber(req.Category, 1, 1))
			return
		}
		// Printed before it was put; of the day the kiosk issued it.
		q.Offline, q.Day, q.Ticket.Number, q.Ticket.State = true, hallDay(req.IssuedAt), req.Number, wire.TicketWaiting
	}
	held, stored, err := s.st.PutTicket(r.Context(), q)
	switch {
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, wire.CodeConflict, "ticket "+id+" is held issued otherwise; a ticket id must not be reused", nil)
	case errors.Is(err, ErrNumberTaken):
		s.logf("platform: ALERT: kiosk %s: %v (two kiosks of the hall with one offline band?)", c.Terminal.Name, err)
		writeError(w, http.StatusConflict, wire.CodeNumberTaken, err.Error(), nil)
	case errors.Is(err, ErrExhausted):
		writeError(w, http.StatusConflict, wire.CodeQueueExhausted, err.Error(), nil)
	case err != nil:
		s.internal(w, "store ticket", err)
	case stored:
		writeJSON(w, http.StatusCreated, held.Ticket)
	default:
		writeJSON(w, http.StatusOK, held.Ticket)
	}
}

// errTicket refuses an action on a ticket: status and code.
type errTicket struct {
	status int
	code   string
	msg    string
}

func (e *errTicket) Error() string { return e.msg }

func stateErr(format string, args ...any) error {
	return &errTicket{http.StatusConflict, wire.CodeTicketState, fmt.Sprintf(format, args...)}
}

// updateTicket applies f to the ticket of the path and answers.
func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, f func(*QueueTicket) error) {
	id := r.PathValue("id")
	if !wire.ValidCaseID(id) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("%q is not a valid ticket id", id), nil)
		return
	}
	q, err := s.st.UpdateTicket(r.Context(), id, f)
	var et *errTicket
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "ticket "+id+" is not held", nil)
	case errors.As(err, &et):
		writeError(w, et.status, et.code, et.msg, nil)
	case err != nil:
		s.internal(w, "update ticket", err)
	default:
		writeJSON(w, http.StatusOK, q.Ticket)
	}
}

// printed: the kiosk's slip of the ticket printed; it enters the queue.
func (s *Server) ticketPrinted(w http.ResponseWriter, r *http.Request, c *Caller) {
	if id := r.PathValue("id"); !ownID(c.Terminal.Name, id) {
		forbidden(w, fmt.Sprintf("ticket %q is not this kiosk's", id))
		return
	}
	s.updateTicket(w, r, func(q *QueueTicket) error {
		if q.Ticket.State == wire.TicketPrinting {
			q.Ticket.State = wire.TicketWaiting
		}
		return nil // printed again: as it stands
	})
}

func (s *Server) queueNext(w http.ResponseWriter, r *http.Request, c *Caller) {
	var req wire.NextRequest
	if !s.decode(w, r, &req) {
		return
	}
	window := req.Window
	if window == "" {
		window = c.Window
	}
	if !validName(window, 32) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "a window is needed: in the request, or the one the clerk signed in at", nil)
		return
	}
	if len(req.Categories) == 0 || len(req.Categories) > 26 {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "categories: 1 to 26 letters", nil)
		return
	}
	cats := slices.Clone(req.Categories)
	for _, cat := range cats {
		if !wire.ValidCategory(cat) {
			writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("category %q is not one letter A–Z", cat), nil)
			return
		}
	}
	slices.Sort(cats)
	cats = slices.Compact(cats)
	now := s.now().UTC()
	q, err := s.st.NextTicket(r.Context(), c.Terminal.Hall, hallDay(now), cats, window, c.Clerk, now)
	switch {
	case errors.Is(err, ErrNotFound):
		w.WriteHeader(http.StatusNoContent)
	case err != nil:
		s.internal(w, "call next ticket", err)
	default:
		writeJSON(w, http.StatusOK, q.Ticket)
	}
}

// ticketAct returns the handler of one desk action on a ticket.
func (s *Server) ticketAct(action string) callerHandler {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		var tr wire.TransferRequest
		if action == wire.ActTransfer {
			if !s.decode(w, r, &tr) {
				return
			}
			switch {
			case (tr.Window == "") == (tr.Category == ""):
				writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "transfer: give a window or a category, one of them", nil)
				return
			case tr.Window != "" && !validName(tr.Window, 32):
				writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "transfer: window is not a valid name", nil)
				return
			case tr.Category != "" && !wire.ValidCategory(tr.Category):
				writeError(w, http.StatusBadRequest, wire.CodeBadRequest, fmt.Sprintf("transfer: category %q is not one letter A–Z", tr.Category), nil)
				return
			}
		}
		now := s.now().UTC()
		s.updateTicket(w, r, func(q *QueueTicket) error {
			return applyAct(q, action, tr, c, now)
		})
	}
}

// applyAct is the rule of action on q by the clerk of c at now. A called
// or held ticket is the clerk's who has it; one transferred to a window
// and taken by nobody yet is the clerk's of that window.
func applyAct(q *QueueTicket, action string, tr wire.TransferRequest, c *Caller, now time.Time) error {
	t := &q.Ticket
	if q.Hall != c.Terminal.Hall {
		return &errTicket{http.StatusForbidden, wire.CodeForbidden, "ticket " + t.ID + " is not a ticket of hall " + c.Terminal.Hall}
	}
	if action == wire.ActPriority {
		// Any clerk of the hall, on a ticket nobody has yet: it moves
		// ahead of the others of its category at its place of arrival.
		if t.State != wire.TicketWaiting {
			return stateErr("ticket %s is %s; priority is for a waiting ticket", t.Number, t.State)
		}
		t.Priority = true
		return nil
	}
	active := t.State == wire.TicketCalled || t.State == wire.TicketHeld
	mine := t.Clerk == c.Clerk || (t.Clerk == "" && t.Window != "" && t.Window == c.Window)
	switch {
	case action == wire.ActFinish && t.State == wire.TicketServed && t.Clerk == c.Clerk,
		action == wire.ActHold && t.State == wire.TicketHeld && mine:
		return nil // done already: a retry
	case !active:
		return stateErr("ticket %s is %s; %s needs it called or held", t.Number, t.State, action)
	case !mine:
		return stateErr("ticket %s is called by another clerk", t.Number)
	}
	t.Clerk = c.Clerk
	switch action {
	case wire.ActRecall:
		t.State, t.CalledAt = wire.TicketCalled, now
		t.Recalls++
	case wire.ActHold:
		t.State = wire.TicketHeld
	case wire.ActFinish:
		t.State = wire.TicketServed
	case wire.ActNoShow:
		if t.State != wire.TicketCalled {
			return stateErr("ticket %s is held, not called; a held applicant is not a no-show", t.Number)
		}
		t.NoShows++
		if t.NoShows >= 2 {
			t.State = wire.TicketAbandoned
			return nil
		}
		// Back into the queue once, at its end (priority kept).
		t.State, t.QueuedAt, t.Window, t.Clerk = wire.TicketWaiting, now, "", ""
	case wire.ActTransfer:
		if tr.Window != "" {
			// Called at that window at once; its clerk takes it by acting on it.
			t.State, t.Window, t.Clerk, t.CalledAt = wire.TicketCalled, tr.Window, "", now
			return nil
		}
		if tr.Category == t.Category {
			return stateErr("ticket %s is of category %s already", t.Number, t.Category)
		}
		// Into the other category's queue at its place of arrival.
		t.State, t.Category, t.Window, t.Clerk = wire.TicketWaiting, tr.Category, "", ""
	default:
		return stateErr("no action %q", action)
	}
	return nil
}

func (s *Server) queueBoard(w http.ResponseWriter, r *http.Request, c *Caller) {
	b, err := s.st.QueueBoard(r.Context(), c.Terminal.Hall, hallDay(s.now()), lastCalls)
	if err != nil {
		s.internal(w, "read board", err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
