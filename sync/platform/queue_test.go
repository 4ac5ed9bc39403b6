package platform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yici/sync/wire"
)

// issue puts a ticket from the kiosk of token, reports it printed when it
// was numbered by the platform, and returns it.
func (f *fixture) issue(token, id string, req wire.TicketRequest) wire.Ticket {
	f.t.Helper()
	code, b := f.do("PUT", "/v1/queue/tickets/"+id, token, strings.NewReader(mustJSON(req)))
	if code != 201 {
		f.t.Fatalf("put ticket %s: %d %s", id, code, b)
	}
	if req.Number == "" {
		if code, b = f.do("POST", "/v1/queue/tickets/"+id+"/printed", token, nil); code != 200 {
			f.t.Fatalf("printed %s: %d %s", id, code, b)
		}
	}
	var t wire.Ticket
	if err := json.Unmarshal(b, &t); err != nil {
		f.t.Fatal(err)
	}
	return t
}

// next calls the next ticket from desk (token, session) at window.
func (f *fixture) next(token, session, window string, cats ...string) (int, wire.Ticket) {
	f.t.Helper()
	code, _, b := f.send("POST", "/v1/queue/next", token, map[string]string{wire.HeaderSession: session},
		strings.NewReader(mustJSON(wire.NextRequest{Window: window, Categories: cats})))
	// Errorf, not Fatalf: the concurrent test calls this from goroutines,
	// where a test may not stop.
	var t wire.Ticket
	if code == 200 {
		if err := json.Unmarshal(b, &t); err != nil {
			f.t.Errorf("next: decode %s: %v", b, err)
		}
	} else if code != 204 {
		f.t.Errorf("next: %d %s", code, b)
	}
	return code, t
}

func (f *fixture) act(id, action string, body any) (int, wire.Ticket, []byte) {
	f.t.Helper()
	var rd *strings.Reader
	if body != nil {
		rd = strings.NewReader(mustJSON(body))
	} else {
		rd = strings.NewReader("")
	}
	code, b := f.asClerk("POST", "/v1/queue/tickets/"+id+"/"+action, rd)
	var t wire.Ticket
	if code == 200 {
		json.Unmarshal(b, &t)
	}
	return code, t, b
}

func (f *fixture) board(token string) wire.Board {
	f.t.Helper()
	code, b := f.do("GET", "/v1/queue/board", token, nil)
	var bd wire.Board
	if code != 200 || json.Unmarshal(b, &bd) != nil {
		f.t.Fatalf("board: %d %s", code, b)
	}
	return bd
}

func TestQueueIssueAndCall(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := time.Now().Add(-time.Hour)
	tickets := []struct {
		id       string
		cat      string
		priority bool
		want     string
	}{
		{"kiosk-01-t1", "A", false, "A001"},
		{"kiosk-01-t2", "A", false, "A002"},
		{"kiosk-01-t3", "B", false, "B001"},
		{"kiosk-01-t4", "A", true, "A003"}, // 绿色通道: issued last, called first
	}
	for i, tc := range tickets {
		got := f.issue(f.token, tc.id, wire.TicketRequest{Category: tc.cat, Priority: tc.priority, IssuedAt: t0.Add(time.Duration(i) * time.Minute)})
		if got.Number != tc.want || got.State != wire.TicketWaiting {
			t.Errorf("%s: number %s state %s, want %s waiting once printed", tc.id, got.Number, got.State, tc.want)
		}
	}
	// A ticket numbered and never printed is not in the queue.
	code, b := f.do("PUT", "/v1/queue/tickets/kiosk-01-t5", f.token, strings.NewReader(mustJSON(wire.TicketRequest{Category: "A", IssuedAt: t0})))
	if !strings.Contains(string(b), `"state":"printing"`) || code != 201 {
		t.Fatalf("put t5: %d %s, want 201 printing", code, b)
	}
	if bd := f.board(f.token2display()); bd.Waiting["A"] != 3 || bd.Waiting["B"] != 1 {
		t.Errorf("waiting %v, want A 3 (the unprinted one not counted), B 1", bd.Waiting)
	}
	for _, want := range []string{"A003", "A001", "A002", "B001", ""} {
		code, got := f.next(f.desk, f.session, "5", "A", "B")
		if want == "" {
			if code != 204 {
				t.Errorf("empty queue: %d %+v, want 204", code, got)
			}
			continue
		}
		if got.Number != want || got.State != wire.TicketCalled || got.Window != "5" || got.Clerk != "0001" {
			t.Errorf("next: %+v, want %s called at 5 by 0001", got, want)
		}
	}
}

// f.token2display enrols a display of the fixture's hall once.
func (f *fixture) token2display() string {
	f.t.Helper()
	if f.display == "" {
		tok, err := f.srv.Enrol(RoleDisplay, "中山区政务服务中心", "display-01")
		if err != nil {
			f.t.Fatal(err)
		}
		f.display = tok
	}
	return f.display
}

func TestQueuePutIdempotent(t *testing.T) {
	f := newFixture(t, Options{})
	at := time.Now()
	req := wire.TicketRequest{Category: "A", IssuedAt: at, Case: "kiosk-01-case-9"}
	first := f.issue(f.token, "kiosk-01-t1", req)
	cases := []struct {
		name string
		id   string
		req  wire.TicketRequest
		tok  string
		code int
		err  string
	}{
		{"double tap", "kiosk-01-t1", req, f.token, 200, ""},
		{"same id, other category", "kiosk-01-t1", wire.TicketRequest{Category: "B", IssuedAt: at}, f.token, 409, wire.CodeConflict},
		{"another's id", "kiosk-02-t1", req, f.token, 403, wire.CodeForbidden},
		{"another's case", "kiosk-01-t2", wire.TicketRequest{Category: "A", IssuedAt: at, Case: "kiosk-02-c"}, f.token, 403, wire.CodeForbidden},
		{"bad category", "kiosk-01-t3", wire.TicketRequest{Category: "AB", IssuedAt: at}, f.token, 400, wire.CodeBadRequest},
		{"online-looking number", "kiosk-01-t4", wire.TicketRequest{Category: "A", Number: "A007", IssuedAt: at}, f.token, 400, wire.CodeBadRequest},
		{"a desk issues", "desk-00-t1", req, f.desk, 403, wire.CodeForbidden},
	}
	for _, tc := range cases {
		code, b := f.do("PUT", "/v1/queue/tickets/"+tc.id, tc.tok, strings.NewReader(mustJSON(tc.req)))
		var eb wire.ErrorBody
		json.Unmarshal(b, &eb)
		if code != tc.code || eb.Error.Code != tc.err {
			t.Errorf("%s: %d %s, want %d %s", tc.name, code, b, tc.code, tc.err)
		}
		if tc.code == 200 {
			var got wire.Ticket
			json.Unmarshal(b, &got)
			if got.Number != first.Number || got.State != wire.TicketWaiting {
				t.Errorf("%s: %+v, want the first ticket %s, waiting", tc.name, got, first.Number)
			}
		}
	}
	if code, got := f.next(f.desk, f.session, "1", "A"); code != 200 || got.Number != "A001" || got.Case != "kiosk-01-case-9" {
		t.Errorf("next: %d %+v", code, got)
	}
	if code, _ := f.next(f.desk, f.session, "1", "A"); code != 204 {
		t.Errorf("a double tap issued two tickets: next %d", code)
	}
}

// TestQueueNextConcurrent: twenty desks of the hall press next at once on
// ten tickets; each ticket goes to exactly one of them.
func TestQueueNextConcurrent(t *testing.T) {
	f := newFixture(t, Options{})
	const desks, tickets = 20, 10
	for i := range tickets {
		f.issue(f.token, fmt.Sprintf("kiosk-01-t%d", i), wire.TicketRequest{Category: "A", IssuedAt: time.Now()})
	}
	type desk struct{ token, session, clerk string }
	ds := make([]desk, desks)
	for i := range ds {
		name, clerk := fmt.Sprintf("desk-%02d", i+1), fmt.Sprintf("%04d", 1001+i)
		tok, err := f.srv.Enrol(RoleDesk, "中山区政务服务中心", name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.srv.AddClerk("中山区政务服务中心", clerk, "职员", "730461"); err != nil {
			t.Fatal(err)
		}
		ds[i] = desk{tok, f.signIn(tok, clerk, "730461"), clerk}
	}
	var wg sync.WaitGroup
	codes := make([]int, desks)
	got := make([]wire.Ticket, desks)
	start := make(chan struct{})
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], got[i] = f.next(d.token, d.session, fmt.Sprint(i+1), "A")
		}()
	}
	close(start)
	wg.Wait()
	seen := map[string]string{}
	none := 0
	for i := range ds {
		switch codes[i] {
		case 204:
			none++
		case 200:
			if prev, ok := seen[got[i].ID]; ok {
				t.Errorf("ticket %s called twice: by %s and %s", got[i].Number, prev, ds[i].clerk)
			}
			seen[got[i].ID] = ds[i].clerk
			if got[i].Clerk != ds[i].clerk || got[i].Window != fmt.Sprint(i+1) {
				t.Errorf("desk %d got %+v", i, got[i])
			}
		}
	}
	if len(seen) != tickets || none != desks-tickets {
		t.Errorf("%d tickets called, %d answered 204; want %d and %d", len(seen), none, tickets, desks-tickets)
	}
	if bd := f.board(f.desk); len(bd.Calls) != tickets || bd.Waiting["A"] != 0 {
		t.Errorf("board: %d calls, %d waiting", len(bd.Calls), bd.Waiting["A"])
	}
}

func TestQueueActions(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := time.Now().Add(-time.Hour)
	f.issue(f.token, "kiosk-01-t1", wire.TicketRequest{Category: "A", IssuedAt: t0})
	f.issue(f.token, "kiosk-01-t2", wire.TicketRequest{Category: "A", IssuedAt: t0.Add(time.Minute)})
	call := func(want string) {
		t.Helper()
		if code, got := f.next(f.desk, f.session, "3", "A", "B"); code != 200 || got.Number != want {
			t.Fatalf("next: %d %+v, want %s", code, got, want)
		}
	}
	call("A001")
	steps := []struct {
		action string
		body   any
		code   int
		state  string
	}{
		{wire.ActRecall, nil, 200, wire.TicketCalled},
		{wire.ActNoShow, nil, 200, wire.TicketWaiting}, // once: back in the queue, at its end
		{wire.ActNoShow, nil, 409, ""},                 // not called now
	}
	for _, s := range steps {
		code, got, b := f.act("kiosk-01-t1", s.action, s.body)
		if code != s.code || (s.state != "" && got.State != s.state) {
			t.Errorf("%s: %d %s, want %d %s", s.action, code, b, s.code, s.state)
		}
	}
	call("A002") // A001 went to the end of the queue
	call("A001")
	if code, got, b := f.act("kiosk-01-t1", wire.ActNoShow, nil); code != 200 || got.State != wire.TicketAbandoned || got.NoShows != 2 {
		t.Errorf("second no-show: %d %s, want abandoned", code, b)
	}
	if code, _ := f.next(f.desk, f.session, "3", "A"); code != 204 {
		t.Errorf("an abandoned ticket was called again: %d", code)
	}

	// A002: hold, transfer to category B, called there, finish.
	for _, s := range []struct {
		action string
		body   any
		code   int
		state  string
	}{
		{wire.ActHold, nil, 200, wire.TicketHeld},
		{wire.ActHold, nil, 200, wire.TicketHeld}, // a retry
		{wire.ActTransfer, wire.TransferRequest{}, 400, ""},
		{wire.ActTransfer, wire.TransferRequest{Category: "B"}, 200, wire.TicketWaiting},
		{wire.ActFinish, nil, 409, ""}, // waiting: nobody's
	} {
		code, got, b := f.act("kiosk-01-t2", s.action, s.body)
		if code != s.code || (s.state != "" && got.State != s.state) {
			t.Errorf("%s: %d %s, want %d %s", s.action, code, b, s.code, s.state)
		}
	}
	if code, _ := f.next(f.desk, f.session, "3", "A"); code != 204 {
		t.Errorf("transferred ticket still in A: %d", code)
	}
	if code, got := f.next(f.desk, f.session, "4", "B"); code != 200 || got.Number != "A002" || got.Category != "B" {
		t.Errorf("next in B: %d %+v", code, got)
	}
	// Transfer to a window: called there; another clerk's call is not ours.
	if code, got, b := f.act("kiosk-01-t2", wire.ActTransfer, wire.TransferRequest{Window: "9"}); code != 200 || got.Window != "9" || got.Clerk != "" {
		t.Errorf("transfer to window: %d %s", code, b)
	}
	if code, _, b := f.act("kiosk-01-t2", wire.ActFinish, nil); code != 409 {
		t.Errorf("finish of a ticket sent to window 9 by a clerk at 3: %d %s", code, b)
	}
	if bd := f.board(f.desk); len(bd.Calls) != 1 || bd.Calls[0] != (wire.BoardCall{Number: "A002", Window: "9", At: bd.Calls[0].At}) {
		t.Errorf("board calls %+v, want A002 → 9", bd.Calls)
	}
	if code, _, b := f.act("kiosk-01-nope", wire.ActFinish, nil); code != 404 {
		t.Errorf("unknown ticket: %d %s", code, b)
	}
}

// TestQueueRefusals: who may not do what, and the board names no one.
// A clerk gives a waiting ticket priority: it is called before the others
// of its category; a ticket called already cannot be.
func TestQueueClerkPriority(t *testing.T) {
	f := newFixture(t, Options{})
	t0 := time.Now().Add(-time.Hour)
	for i, id := range []string{"kiosk-01-t1", "kiosk-01-t2", "kiosk-01-t3"} {
		f.issue(f.token, id, wire.TicketRequest{Category: "A", IssuedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	for range 2 { // again: as it stands
		if code, got, b := f.act("kiosk-01-t3", wire.ActPriority, nil); code != 200 || !got.Priority || got.State != wire.TicketWaiting || got.Clerk != "" {
			t.Fatalf("priority: %d %s, want 200, waiting, priority, nobody's", code, b)
		}
	}
	if bd := f.board(f.token2display()); bd.Waiting["A"] != 3 {
		t.Errorf("waiting %v after priority, want A 3", bd.Waiting)
	}
	for _, want := range []string{"A003", "A001"} {
		if code, got := f.next(f.desk, f.session, "3", "A"); code != 200 || got.Number != want {
			t.Errorf("next: %d %+v, want %s", code, got, want)
		}
	}
	if code, _, b := f.act("kiosk-01-t1", wire.ActPriority, nil); code != 409 {
		t.Errorf("priority on a called ticket: %d %s, want 409", code, b)
	}
}

func TestQueueRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	f.issue(f.token, "kiosk-01-t1", wire.TicketRequest{Category: "A", IssuedAt: time.Now(), Case: "kiosk-01-case-1"})
	const hallB = "西岗区政务服务中心"
	farDesk, err := f.srv.Enrol(RoleDesk, hallB, "desk-09")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.AddClerk(hallB, "0009", "李四", "730461"); err != nil {
		t.Fatal(err)
	}
	farSession := f.signIn(farDesk, "0009", "730461")
	rows := []struct {
		name          string
		method, path  string
		token, sessio string
		body          string
		code          int
	}{
		{"kiosk calls next", "POST", "/v1/queue/next", f.token, "", `{"window":"1","categories":["A"]}`, 403},
		{"display calls next", "POST", "/v1/queue/next", f.token2display(), "", `{"window":"1","categories":["A"]}`, 403},
		{"desk without clerk", "POST", "/v1/queue/next", f.desk, "", `{"window":"1","categories":["A"]}`, 401},
		{"kiosk finishes", "POST", "/v1/queue/tickets/kiosk-01-t1/finish", f.token, "", "", 403},
		{"kiosk gives its own ticket priority", "POST", "/v1/queue/tickets/kiosk-01-t1/priority", f.token, "", "", 403},
		{"desk without clerk: priority", "POST", "/v1/queue/tickets/kiosk-01-t1/priority", f.desk, "", "", 401},
		{"other hall's desk: priority", "POST", "/v1/queue/tickets/kiosk-01-t1/priority", farDesk, farSession, "", 403},
		{"kiosk reads board (numbers only, for people ahead)", "GET", "/v1/queue/board", f.token, "", "", 200},
		{"other hall's desk: next", "POST", "/v1/queue/next", farDesk, farSession, `{"window":"1","categories":["A"]}`, 204},
		{"other hall's desk: printed", "POST", "/v1/queue/tickets/kiosk-01-t1/printed", farDesk, farSession, "", 403},
		{"no such action", "POST", "/v1/queue/tickets/kiosk-01-t1/delete", f.desk, f.session, "", 404},
	}
	for _, r := range rows {
		hdr := map[string]string{}
		if r.sessio != "" {
			hdr[wire.HeaderSession] = r.sessio
		}
		code, _, b := f.send(r.method, r.path, r.token, hdr, strings.NewReader(r.body))
		if code != r.code {
			t.Errorf("%s: %d %s, want %d", r.name, code, b, r.code)
		}
	}
	// The other hall's board is empty, and it cannot act on the ticket.
	if bd := f.board(farDesk); bd.Waiting["A"] != 0 {
		t.Errorf("other hall's board: %+v", bd)
	}
	code, _, b := f.send("POST", "/v1/queue/tickets/kiosk-01-t1/hold", farDesk, map[string]string{wire.HeaderSession: farSession}, nil)
	if code != 403 {
		t.Errorf("other hall's desk holds the ticket: %d %s", code, b)
	}
	f.next(f.desk, f.session, "7", "A")
	_, raw := f.do("GET", "/v1/queue/board", f.token2display(), nil)
	for _, secret := range []string{"kiosk-01", "case", "0001", "王丽", "张三"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("board shows %q: %s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), `"A001"`) {
		t.Errorf("board lacks the call: %s", raw)
	}
}

// TestQueueOfflineBand: a kiosk's offline numbers are accepted once per
// day, its band is its own for the day, and online numbers never meet
// them.
func TestQueueOfflineBand(t *testing.T) {
	f := newFixture(t, Options{})
	k2, err := f.srv.Enrol(RoleKiosk, "中山区政务服务中心", "kiosk-02")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.issue(f.token, "kiosk-01-on1", wire.TicketRequest{Category: "A", IssuedAt: now.Add(-time.Minute)})
	rows := []struct {
		name, tok, id, number string
		code                  int
		err                   string
	}{
		{"band 1, first", f.token, "kiosk-01-off1", "A1001", 201, ""},
		{"band 1, again (reconnect retry)", f.token, "kiosk-01-off1", "A1001", 200, ""},
		{"band 1, next", f.token, "kiosk-01-off2", "A1002", 201, ""},
		{"same number, other id", f.token, "kiosk-01-off3", "A1001", 409, wire.CodeNumberTaken},
		{"another kiosk in band 1", k2, "kiosk-02-off1", "A1003", 409, wire.CodeNumberTaken},
		{"another kiosk, band 2", k2, "kiosk-02-off1", "A2001", 201, ""},
		{"same number, other category", f.token, "kiosk-01-off4", "B1001", 201, ""},
	}
	for _, r := range rows {
		code, b := f.do("PUT", "/v1/queue/tickets/"+r.id, r.tok, strings.NewReader(mustJSON(
			wire.TicketRequest{Category: r.number[:1], Number: r.number, IssuedAt: now})))
		var eb wire.ErrorBody
		json.Unmarshal(b, &eb)
		if code != r.code || eb.Error.Code != r.err {
			t.Errorf("%s: %d %s, want %d %s", r.name, code, b, r.code, r.err)
		}
	}
	// Offline tickets are waiting at once (printed before they were put),
	// in order of issue with the online one.
	var got []string
	for {
		code, tk := f.next(f.desk, f.session, "3", "A")
		if code == 204 {
			break
		}
		got = append(got, tk.Number)
	}
	if strings.Join(got, " ") != "A001 A1001 A1002 A2001" {
		t.Errorf("called %v", got)
	}
	// Yesterday's band 1 does not hold today's: the day is the kiosk's
	// day of issue.
	code, b := f.do("PUT", "/v1/queue/tickets/kiosk-02-old", k2, strings.NewReader(mustJSON(
		wire.TicketRequest{Category: "A", Number: "A1001", IssuedAt: now.Add(-24 * time.Hour)})))
	if code != 201 {
		t.Errorf("yesterday's A1001 from kiosk-02: %d %s", code, b)
	}
}

func TestQueueSealedAtRest(t *testing.T) {
	f := newFixture(t, Options{})
	f.issue(f.token, "kiosk-01-t1", wire.TicketRequest{Category: "A", IssuedAt: time.Now(), Case: "kiosk-01-secret-case"})
	f.st.Close()
	raw, err := os.ReadFile(filepath.Join(f.dir, "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "secret-case") {
		t.Errorf("platform.db holds the ticket's case id in the clear")
	}
}
