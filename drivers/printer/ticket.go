package printer

import (
	"fmt"
	"time"
)

// TicketData is what a hall queue ticket (排队号票) shows: the number,
// large, its category, how many are ahead and the wait that makes, and a
// QR code of the ticket id. Nothing about the person.
type TicketData struct {
	Hall     string
	Number   string // A012, or A1007 from a kiosk's offline band
	Category string // the window group, e.g. A
	Priority bool   // 绿色通道
	// Ahead is how many wait before it in its category; negative when not
	// known (offline), then neither it nor the wait is printed.
	Ahead       int
	WaitMinutes int // estimated wait
	Time        time.Time
	QR          string // the ticket id; empty means no code
	Footer      []string
}

// Ticket lays out a queue ticket and ends it with a cut.
func Ticket(t TicketData) (*Doc, error) {
	d := &Doc{}
	var err error
	line := func(s string) {
		if err == nil {
			err = d.Line(s)
		}
	}
	startSlip(d, t.Hall, line)
	d.Size(false, false)
	line("排队号 / Queue number")
	d.Bold(true)
	d.Size(true, true)
	line(t.Number)
	d.Size(false, false)
	d.Bold(false)
	line(fmt.Sprintf("类别 Category：%s 类窗口", t.Category))
	if t.Priority {
		d.Bold(true)
		line("绿色通道 · 优先办理 / Priority")
		d.Bold(false)
	}
	if t.Ahead >= 0 {
		line(fmt.Sprintf("前面还有 %d 人 / %d ahead", t.Ahead, t.Ahead))
		line(fmt.Sprintf("预计等候约 %d 分钟 / about %d min", t.WaitMinutes, t.WaitMinutes))
	}
	if !t.Time.IsZero() {
		line("取号时间：" + t.Time.Format("2006-01-02 15:04"))
	}
	if err != nil {
		return nil, fmt.Errorf("printer: ticket %s: %w", t.Number, err)
	}
	if t.QR != "" {
		if err = d.QR(t.QR, receiptQRModule); err != nil {
			return nil, fmt.Errorf("printer: ticket %s: %w", t.Number, err)
		}
	}
	line("请留意叫号屏幕与广播 / Watch the call display")
	for _, f := range t.Footer {
		line(f)
	}
	d.Feed(2)
	d.Cut()
	if err != nil {
		return nil, fmt.Errorf("printer: ticket %s: %w", t.Number, err)
	}
	return d, nil
}
