package terminal

import (
	"fmt"
	"strings"
)

// Screen names the screen on show: welcome, find, question, materials,
// pages (one material's scan) or done.
// Unlike the methods below it may be called from any goroutine: it reads
// the screen show recorded under mu, never the widgets.
func (k *Kiosk) Screen() string {
	k.mu.Lock()
	shown := k.shown
	k.mu.Unlock()
	switch shown {
	case k.items:
		return "find"
	case k.question:
		return "question"
	case k.materials:
		return "materials"
	case k.pagesScreen:
		return "pages"
	case k.done:
		return "done"
	}
	return "welcome"
}

// The methods below do what the buttons do, for the demo's autoplay and
// the tests. Call them on the UI thread (fyne.DoAndWait); under Fyne's
// test driver, which has no UI thread, hold the kiosk's UI lock as well
// (doAndWait does both).

// Choose picks the item or bundle with this code, as its result button does.
func (k *Kiosk) Choose(code string) error {
	if k.sess == nil {
		return fmt.Errorf("terminal: cannot choose %q on the %s screen", code, k.Screen())
	}
	k.touch()
	k.choose(code)
	return nil
}

// Answer picks a choice of the question on screen, by its label's start.
func (k *Kiosk) Answer(label string) error {
	s := k.sess
	if s == nil || s.guide == nil || s.guide.Next == nil {
		return fmt.Errorf("terminal: no question on the %s screen", k.Screen())
	}
	for _, c := range s.guide.Next.Choices {
		if strings.HasPrefix(c.Label, label) {
			k.touch()
			k.answer(c.ID)
			return nil
		}
	}
	return fmt.Errorf("terminal: question %q has no choice %q", s.guide.Next.Text, label)
}

// ScanMaterial scans one page into the material with this code of the
// guide on screen, after those it has, waits for the material to be
// stored, and goes back to the material list, as 扫描 and then 完成 do.
// Unlike the methods above, call it off the UI thread.
func (k *Kiosk) ScanMaterial(code string) error {
	var done <-chan error
	var err error
	k.doAndWait(func() {
		if k.sess == nil || k.sess.caseID == "" {
			err = fmt.Errorf("terminal: no case on the %s screen", k.Screen())
			return
		}
		if k.pgBusy {
			err = fmt.Errorf("terminal: a scan is under way")
			return
		}
		err = fmt.Errorf("terminal: %s needs no material %q", k.sess.guide.Code, code)
		for _, m := range k.sess.guide.Materials {
			if m.Code == code {
				k.touch()
				k.openPages(m.Material)
				done = k.addPage()
			}
		}
	})
	if done == nil {
		return err
	}
	err = <-done
	k.doAndWait(func() {
		if k.sess != nil && k.Screen() == "pages" && k.pgMat.Code == code {
			k.pagesDone()
		}
	})
	return err
}

// Submit submits the case and prints the receipt, as its button does,
// and waits for the papers. Call it off the UI thread.
func (k *Kiosk) Submit() {
	var printed <-chan struct{}
	k.doAndWait(func() { k.touch(); printed = k.submit() })
	<-printed
}
