package printer

import (
	"strings"
	"testing"
	"time"

	"yici/drivers/printer/printtest"
)

// A queue ticket through the simulated printer: the number large, the
// category, people ahead and the wait, and the ticket id in a QR code
// that decodes from the printed picture.
func TestPrintTicketThroughSim(t *testing.T) {
	data := TicketData{Hall: "示例政务服务中心", Number: "A012", Category: "A", Priority: true, Ahead: 3, WaitMinutes: 15,
		Time: time.Date(2025, 3, 1, 9, 30, 0, 0, time.Local), QR: "K01-20250301-093000-1a2b3c4d"}
	doc, err := Ticket(data)
	if err != nil {
		t.Fatal(err)
	}
	r := printThroughSim(t, doc)
	var text strings.Builder
	number := false
	for _, l := range r.Lines {
		text.WriteString(l.Text + "\n")
		if l.Text == "A012" && l.DoubleW && l.DoubleH && l.Bold {
			number = true
		}
	}
	if !number {
		t.Errorf("number A012 not printed bold at double size:\n%s", text.String())
	}
	for _, want := range []string{"A 类窗口", "绿色通道", "前面还有 3 人", "预计等候约 15 分钟", "2025-03-01 09:30"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("ticket lacks %q:\n%s", want, text.String())
		}
	}
	pic, err := r.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if got := printtest.MustQRFromPNG(t, pic); got != data.QR {
		t.Errorf("ticket QR %q, want %q", got, data.QR)
	}

}
