package wire

import (
	"fmt"
	"regexp"
	"time"
)

// The hall queue (docs/sync-protocol.md §16; SPEC S7, S16, S18): tickets
// issued at a kiosk, called at a desk, shown on the call display.
//
//	PUT  /v1/queue/tickets/{id}           kiosk: TicketRequest → 201 Ticket (numbered),
//	                                      200 same request again, 409 conflict,
//	                                      409 number_taken, 409 queue_exhausted
//	POST /v1/queue/tickets/{id}/printed   kiosk: the slip printed → 200 Ticket, waiting
//	POST /v1/queue/next                   NextRequest → 200 Ticket called, 204 none waiting
//	POST /v1/queue/tickets/{id}/recall    desk + clerk → 200 Ticket
//	POST /v1/queue/tickets/{id}/no_show   desk + clerk → 200 Ticket
//	POST /v1/queue/tickets/{id}/hold      desk + clerk → 200 Ticket
//	POST /v1/queue/tickets/{id}/transfer  TransferRequest, desk + clerk → 200 Ticket
//	POST /v1/queue/tickets/{id}/finish    desk + clerk → 200 Ticket
//	GET  /v1/queue/board                  display, desk → Board (numbers only)

// Ticket states.
const (
	// TicketPrinting: numbered, its slip not yet reported printed; not in
	// the queue, not on the board. A slip that fails to print leaves the
	// ticket here, and its number is never called nor given again.
	TicketPrinting  = "printing"
	TicketWaiting   = "waiting"
	TicketCalled    = "called"
	TicketHeld      = "held"
	TicketServed    = "served"
	TicketNoShow    = "no_show" // not used as a resting state: a no-show is waiting again or abandoned
	TicketAbandoned = "abandoned"
)

// Ticket actions at a desk: the last segment of POST /v1/queue/tickets/{id}/….
const (
	ActRecall   = "recall"
	ActNoShow   = "no_show"
	ActHold     = "hold"
	ActTransfer = "transfer"
	ActFinish   = "finish"
	// ActPriority gives a waiting ticket 绿色通道 by a clerk's judgement
	// (pregnancy, disability, …), where the card's age did not.
	ActPriority = "priority"
)

// Ticket is one queue ticket as the platform holds it.
type Ticket struct {
	ID       string    `json:"id"`     // made by the kiosk: "<terminal>-…", as case ids
	Number   string    `json:"number"` // category letter + sequence: "A012" (platform), "A1007" (a kiosk's offline band 1)
	Category string    `json:"category"`
	Priority bool      `json:"priority,omitempty"` // 绿色通道: called before the others of its category
	Case     string    `json:"case,omitempty"`     // a pre-application made at the kiosk, attached
	IssuedAt time.Time `json:"issued_at"`          // the kiosk's clock when it issued the ticket
	// QueuedAt orders the queue within a priority: IssuedAt at first, the
	// time of its return after a first no-show.
	QueuedAt time.Time `json:"queued_at,omitzero"`
	State    string    `json:"state"`
	Window   string    `json:"window,omitempty"`
	Clerk    string    `json:"clerk,omitempty"` // staff number of the clerk who has it
	CalledAt time.Time `json:"called_at,omitzero"`
	Recalls  int       `json:"recalls,omitempty"`
	NoShows  int       `json:"no_shows,omitempty"`
}

// TicketRequest is what a kiosk puts: the ticket as it issued it. Number
// is empty online: the platform numbers the ticket, the kiosk prints that
// number and then reports it printed. Number is set for a ticket issued
// offline from the kiosk's band, printed before it was put: it is waiting
// at once.
type TicketRequest struct {
	Number   string    `json:"number,omitempty"`
	Category string    `json:"category"`
	Priority bool      `json:"priority,omitempty"`
	Case     string    `json:"case,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
}

// NextRequest asks for the next ticket at a desk. Window defaults to the
// window the clerk signed in at.
type NextRequest struct {
	Window     string   `json:"window,omitempty"`
	Categories []string `json:"categories"`
}

// TransferRequest sends a called or held ticket to another window (it is
// called there at once) or into the queue of another category (at its
// place of arrival). Exactly one is set.
type TransferRequest struct {
	Window   string `json:"window,omitempty"`
	Category string `json:"category,omitempty"`
}

// Board is what the call display shows: numbers and windows, never who.
type Board struct {
	Calls   []BoardCall    `json:"calls"`   // tickets called now, newest first
	Last    []BoardCall    `json:"last"`    // the last calls of the day, newest first
	Waiting map[string]int `json:"waiting"` // category → tickets waiting
}

// BoardCall is one call: a number to a window.
type BoardCall struct {
	Number string    `json:"number"`
	Window string    `json:"window"`
	At     time.Time `json:"at"`
}

// Error codes of the queue. Append only.
const (
	// CodeNumberTaken (409): an offline number already given that day in
	// the hall, or of a band another kiosk of the hall used that day.
	CodeNumberTaken = "number_taken"
	// CodeQueueExhausted (409): the platform's numbers of the category
	// (001–999) are used up for the day.
	CodeQueueExhausted = "queue_exhausted"
	// CodeTicketState (409): the action does not apply to the ticket as it
	// stands (not called, finished already, another clerk's).
	CodeTicketState = "ticket_state"
)

var (
	categoryPattern = regexp.MustCompile(`^[A-Z]$`)
	onlineNumber    = regexp.MustCompile(`^[A-Z][0-9]{3}$`)
	offlineNumber   = regexp.MustCompile(`^[A-Z][1-9][0-9]{3}$`)
)

// ValidCategory reports whether s is a queue category: one letter A–Z.
func ValidCategory(s string) bool { return categoryPattern.MatchString(s) }

// OnlineNumber is the platform's number seq (1–999) of category.
func OnlineNumber(category string, seq int) string { return fmt.Sprintf("%s%03d", category, seq) }

// OfflineNumber is the number seq (1–999) of category in a kiosk's offline
// band (1–9): "A" band 2 seq 7 is "A2007". Four digits, so it never looks
// like the platform's three.
func OfflineNumber(category string, band, seq int) string {
	return fmt.Sprintf("%s%d%03d", category, band, seq)
}

// ValidOfflineNumber reports whether n is a number of an offline band of
// category, and returns the band.
func ValidOfflineNumber(category, n string) (band int, ok bool) {
	if !offlineNumber.MatchString(n) || n[:1] != category || n[2:] == "000" {
		return 0, false
	}
	return int(n[1] - '0'), true
}

// ValidOnlineNumber reports whether n has the form of a platform number.
func ValidOnlineNumber(n string) bool { return onlineNumber.MatchString(n) }
