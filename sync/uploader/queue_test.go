package uploader

import (
	"context"
	"errors"
	"testing"
	"time"

	"yici/sync/platform"
	"yici/sync/wire"
)

func TestQueueClient(t *testing.T) {
	p := newPlatform(t, t.TempDir())
	const hall = "甘井子区政务服务中心"
	ktok, err := p.srv.Enrol(platform.RoleKiosk, hall, "kiosk-05")
	if err != nil {
		t.Fatal(err)
	}
	dtok, err := p.srv.Enrol(platform.RoleDesk, hall, "desk-02")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kiosk := &Client{BaseURL: p.url, Token: ktok}
	desk := &Client{BaseURL: p.url, Token: dtok}
	if _, err := desk.SignIn(ctx, "0007", "730461", "3号窗口"); err != nil {
		t.Fatal(err)
	}

	req := wire.TicketRequest{Category: "A", IssuedAt: time.Now()}
	tk, err := kiosk.PutTicket(ctx, "kiosk-05-t1", req)
	if err != nil || tk.Number != "A001" || tk.State != wire.TicketPrinting {
		t.Fatalf("put: %+v %v", tk, err)
	}
	if again, err := kiosk.PutTicket(ctx, "kiosk-05-t1", req); err != nil || again.Number != "A001" {
		t.Fatalf("double tap: %+v %v", again, err)
	}
	if _, ok, err := desk.Next(ctx, "", "A"); err != nil || ok {
		t.Fatalf("next before printed: ok %v %v", ok, err)
	}
	if tk, err = kiosk.Printed(ctx, "kiosk-05-t1"); err != nil || tk.State != wire.TicketWaiting {
		t.Fatalf("printed: %+v %v", tk, err)
	}
	tk, ok, err := desk.Next(ctx, "", "A")
	if err != nil || !ok || tk.Number != "A001" || tk.Window != "3号窗口" {
		t.Fatalf("next: %+v %v %v", tk, ok, err)
	}
	if b, err := desk.Board(ctx); err != nil || len(b.Calls) != 1 || b.Calls[0].Window != "3号窗口" {
		t.Fatalf("board: %+v %v", b, err)
	}
	if tk, err = desk.Act(ctx, tk.ID, wire.ActTransfer, &wire.TransferRequest{Category: "B"}); err != nil || tk.Category != "B" {
		t.Fatalf("transfer: %+v %v", tk, err)
	}
	if _, err = desk.Act(ctx, tk.ID, wire.ActFinish, nil); err == nil {
		t.Fatal("finish of a waiting ticket accepted")
	} else if se := (*StatusError)(nil); !errors.As(err, &se) || se.Body.Code != wire.CodeTicketState {
		t.Fatalf("finish of a waiting ticket: %v", err)
	}
	if _, _, err := kiosk.Next(ctx, "1", "A"); err == nil {
		t.Fatal("a kiosk called next")
	}
}
