package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"yici/desk"
	"yici/desk/display"
	"yici/drivers/evalpad"
	"yici/drivers/sim"
	"yici/sync/appliance"
	"yici/sync/visit"
	"yici/sync/wire"
	"yici/terminal"
)

// play walks one visit through the demo as a citizen would, for machines
// without a display (make run under Xvfb) and for the real-window test:
// place the card, pick 居民身份证换领, scan the old card, submit, wait for
// the upload (when online), then open the case at the desk. With shots set
// it saves a screenshot of each step.
func play(ctx context.Context, k *terminal.Kiosk, d *desk.Desk, disp *display.Display, p *panel, ap *appliance.Appliance, shots string, online bool, wins map[string]fyne.Window) error {
	card := p.card
	var sh *shooter
	if shots != "" {
		sh = &shooter{dir: shots, wins: wins}
		if err := sh.arrange(map[string][2]int{kioskTitle: {0, 0}, panelTitle: {1040, 0}, deskTitle: {0, 790}, displayTitle: {1020, 800}}); err != nil {
			return err
		}
	}
	shot := func(title, name string) error {
		if sh == nil {
			return nil
		}
		time.Sleep(700 * time.Millisecond) // let the frame after the change be drawn
		return sh.window(title, name)
	}
	screen := func() string {
		var s string
		fyne.DoAndWait(func() { s = k.Screen() })
		return s
	}
	waitFor := func(what string, ok func() bool) error {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if ok() {
				return nil
			}
		}
		return fmt.Errorf("timed out waiting for %s", what)
	}
	var kioskCase string // the kiosk's case, attached to a ticket later
	do := func(f func() error) error {
		var err error
		fyne.DoAndWait(func() { err = f() })
		return err
	}

	if err := waitFor("the welcome screen", func() bool { return screen() == "welcome" }); err != nil {
		return err
	}
	steps := []func() error{
		func() error { return shot(kioskTitle, "kiosk-1-welcome") },
		func() error {
			card.Place(sim.SampleCard)
			if err := waitFor("the card to be read", func() bool { return screen() == "find" }); err != nil {
				return err
			}
			// The card stays on the reader for the visit: the kiosk holds a
			// visit whose card was lifted, and asks for it at the end.
			return shot(kioskTitle, "kiosk-2-find")
		},
		func() error { return do(func() error { return k.Choose("GA-0101") }) },
		func() error { return shot(kioskTitle, "kiosk-3-question") },
		func() error { return do(func() error { return k.Answer("在") }) },
		func() error { return do(func() error { return k.Answer("已满16周岁") }) },
		func() error { return shot(kioskTitle, "kiosk-4-materials") },
		func() error { return k.ScanMaterial("M-ID-OLD") },
		func() error { return shot(kioskTitle, "kiosk-5-scanned") },
		func() error { k.Submit(); return nil },
		func() error {
			if !online {
				return nil
			}
			return waitFor("the upload", func() bool { n, _, err := ap.Store.Pending(); return err == nil && n == 0 })
		},
		func() error { return waitFor("the receipt", func() bool { return p.lastReceipt() != "" }) },
		func() error {
			return waitFor("the pad to ask", func() bool { return p.pad.Press(evalpad.Satisfied) == nil })
		},
		func() error { return shot(kioskTitle, "kiosk-6-done") },
		func() error { card.Lift(); return nil }, // the citizen takes the card
		func() error { return shot(deskTitle, "desk-0-sign-in") },
		func() error { return d.SignIn(ctx, demoClerk, demoPIN, "3") },
		func() error {
			d.Refresh(ctx)
			if err := d.OpenLatest(ctx); err != nil {
				return err
			}
			fyne.DoAndWait(func() { kioskCase = d.OpenCase() })
			return shot(deskTitle, "desk-1-case")
		},
		func() error {
			// The clerk passes every material: they go into 张三's vault,
			// and his next visit is not asked for them again.
			// What the kiosk did not capture (the photo receipt) is still
			// due, so the case goes back with a one-time notice listing it.
			var a visit.Assessment
			fyne.DoAndWait(func() { d.PassAll(); a = d.Assessment() })
			kind := visit.Accept
			if !a.Accept.Open {
				kind = visit.Return
			}
			if err := d.Decide(ctx, kind); err != nil {
				return err
			}
			return shot(deskTitle, "desk-2-reviewed")
		},
		// A new application taken at the window: the card on the window's
		// reader, the item by its pinyin initials, the wizard by number keys,
		// the stack scanned at once, pages given by ranges, submitted, and
		// the desk's own case opened for review.
		func() error {
			p.window.Place(sim.SampleCard)
			if err := d.ReadCard(ctx); err != nil {
				return err
			}
			fyne.DoAndWait(func() {
				d.Press(fyne.KeyF6)
				d.Type("sfz")
				d.Press(fyne.KeyReturn)
				d.Type("12") // 在，只是到期了 · 已满16周岁
			})
			return shot(deskTitle, "desk-3-new-application")
		},
		func() error {
			fyne.DoAndWait(func() { d.Press(fyne.KeyF7) })
			if err := waitFor("the stack scanned", func() bool {
				var s string
				fyne.DoAndWait(func() { s = d.Progress() })
				return strings.Contains(s, "已扫")
			}); err != nil {
				return err
			}
			return shot(deskTitle, "desk-4-scanned")
		},
		func() error {
			// The old card is on file since the kiosk visit (confirmed at the
			// window): only the photo receipt is to scan; its page goes to it.
			fyne.DoAndWait(func() {
				d.Press(fyne.KeyDown)   // 2. 数码相片回执
				d.Press(fyne.KeyReturn) // the next free page, page 1
				d.Press(fyne.KeyF8)
			})
			if err := waitFor("the window's own case open for review", func() bool {
				var id string
				fyne.DoAndWait(func() { id = d.OpenCase() })
				return strings.HasPrefix(id, "W01-")
			}); err != nil {
				return err
			}
			return shot(deskTitle, "desk-5-own-case")
		},
		// The hall queue: two tickets from the kiosk, as it issues them (put,
		// slip printed, reported), the second 绿色通道 with the kiosk's
		// pre-application; the desk calls next (Ctrl+N), gets the priority
		// one with its case open, and the call display flashes it.
		func() error {
			stamp := time.Now().Format("20060102-150405")
			for i, req := range []wire.TicketRequest{
				{Category: "A", IssuedAt: time.Now().UTC()},
				{Category: "A", Priority: true, Case: kioskCase, IssuedAt: time.Now().UTC()},
			} {
				t, err := ap.Client.PutTicket(ctx, fmt.Sprintf("K01-%s-t%d", stamp, i+1), req)
				if err != nil {
					return err
				}
				if _, err := ap.Client.Printed(ctx, t.ID); err != nil {
					return err
				}
			}
			t, ok, err := d.Next(ctx)
			if err != nil {
				return err
			}
			if !ok || t.Case != kioskCase {
				return fmt.Errorf("next called %+v, want the priority ticket with case %s", t, kioskCase)
			}
			if err := waitFor("the display to flash "+t.Number, func() bool { return disp.Flashing() == t.Number }); err != nil {
				return err
			}
			return shot(displayTitle, "display-1-calls")
		},
		func() error { return shot(deskTitle, "desk-6-called") },
		func() error { return shot(panelTitle, "devices-panel") },
		func() error {
			if sh == nil {
				return nil
			}
			return sh.screen("hall")
		},
		func() error {
			if sh == nil {
				return nil
			}
			return copyFile(p.lastReceipt(), filepath.Join(shots, "receipt.png"))
		},
	}
	for i, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}
