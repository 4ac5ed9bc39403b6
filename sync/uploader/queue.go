package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"yici/sync/wire"
)

// The hall queue (docs/sync-protocol.md §16).

// PutTicket puts the ticket id as the kiosk issued it and returns it as
// the platform holds it. Online (req.Number empty) the answer carries the
// number to print, in state printing; print it, then call Printed. A
// double tap puts the same id again and gets the same ticket. Offline
// tickets (req.Number from the kiosk's band, printed already) are waiting
// at once. A refusal is a *StatusError: wire.CodeConflict (the id was
// issued otherwise), wire.CodeNumberTaken, wire.CodeQueueExhausted.
func (c *Client) PutTicket(ctx context.Context, id string, req wire.TicketRequest) (wire.Ticket, error) {
	var t wire.Ticket
	body, err := json.Marshal(req)
	if err != nil {
		return t, err
	}
	err = c.do(ctx, http.MethodPut, "/v1/queue/tickets/"+url.PathEscape(id), body, "application/json", &t)
	return t, err
}

// Printed reports the slip of the ticket id printed: it enters the queue.
// Repeating it is harmless.
func (c *Client) Printed(ctx context.Context, id string) (wire.Ticket, error) {
	var t wire.Ticket
	err := c.do(ctx, http.MethodPost, "/v1/queue/tickets/"+url.PathEscape(id)+"/printed", nil, "application/json", &t)
	return t, err
}

// Next calls the next ticket of categories at window (empty: the window
// the clerk signed in at), at a desk with a clerk signed in. ok is false
// when none is waiting.
func (c *Client) Next(ctx context.Context, window string, categories ...string) (t wire.Ticket, ok bool, err error) {
	body, err := json.Marshal(wire.NextRequest{Window: window, Categories: categories})
	if err != nil {
		return t, false, err
	}
	const path = "/v1/queue/next"
	resp, err := c.roundTrip(ctx, http.MethodPost, path, bytes.NewReader(body), int64(len(body)), http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return t, false, err
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusNoContent {
		return t, false, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return t, false, fmt.Errorf("POST %s: decode answer: %w", path, err)
	}
	return t, true, nil
}

// Act does action (wire.ActRecall, ActNoShow, ActHold, ActTransfer,
// ActFinish) on the ticket id at a desk with a clerk signed in; transfer,
// for ActTransfer only, says where to. A ticket that is not the clerk's
// or not in a state for action is a *StatusError wire.CodeTicketState.
func (c *Client) Act(ctx context.Context, id, action string, transfer *wire.TransferRequest) (wire.Ticket, error) {
	var t wire.Ticket
	var body []byte
	if transfer != nil {
		var err error
		if body, err = json.Marshal(transfer); err != nil {
			return t, err
		}
	}
	err := c.do(ctx, http.MethodPost, "/v1/queue/tickets/"+url.PathEscape(id)+"/"+url.PathEscape(action), body, "application/json", &t)
	return t, err
}

// Board reads the hall's call board (a display, or a desk).
func (c *Client) Board(ctx context.Context) (wire.Board, error) {
	var b wire.Board
	err := c.do(ctx, http.MethodGet, "/v1/queue/board", nil, "application/json", &b)
	return b, err
}
