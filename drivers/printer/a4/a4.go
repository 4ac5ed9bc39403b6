// Package a4 lays out the A4 documents a service hall hands to an
// applicant, as PDF: the one-time notice (一次性告知书) listing what is
// missing, the acceptance notice (受理通知书), and the commitment letter
// (容缺受理承诺书) an applicant signs for materials supplied later.
//
// It sits under drivers/printer because these are the hall's printed
// output, next to the ESC/POS receipt, but apart from it: the receipt
// package speaks bytes to an 80 mm printer, this one makes files for the
// office A4 printer (through CUPS) or the applicant's phone, and keeping
// gopdf out of the receipt driver keeps that driver small.
//
// Text is set in the bundled CJK font (assets.FontTTF), subset into each
// file. Documents leave the hall, so names and ID numbers must come
// masked; a document with an unmasked ID number is refused.
package a4

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is what every document states about the case.
type Header struct {
	Hall      string    // 某某区政务服务中心
	CaseNo    string    // 办件编号
	Date      time.Time // when the case was received
	Applicant string    // masked by the caller, e.g. 张*
	IDNumber  string    // masked by the caller, e.g. 2102**********123X
	Items     []string  // the service items applied for (事项)
	Window    string    // where to come back to, e.g. 3号窗口
	Phone     string    // the hall's enquiry phone
	QR        string    // payload of the QR code (progress and rating page); empty means none
	QRCaption string    // under the code; empty gives each document's own
}

// Material is a material named in a document, with the review criteria
// (审查要求) it must meet, so the applicant gets it right the first time.
type Material struct {
	Name     string
	Criteria string
}

// Deferred is a material accepted now and supplied later (容缺).
type Deferred struct {
	Material
	Due time.Time // the day it must be in by
}

// Notice is a one-time notice: everything missing, told once.
type Notice struct {
	Header
	Missing  []Material
	Deadline time.Time // when to supply them by; zero means no date is set
}

// Acceptance is an acceptance notice.
type Acceptance struct {
	Header
	Received []string   // materials handed in and checked
	Exempt   []string   // materials the hall already holds ("submit only once")
	Deferred []Deferred // materials accepted to follow, under a commitment letter
	Due      time.Time  // the promised completion date (承诺办结时限)
}

// Commitment is a commitment letter for deferred materials.
type Commitment struct {
	Header
	Deferred []Deferred
}

// OneTimeNotice lays out a one-time notice.
func OneTimeNotice(n Notice) ([]byte, error) {
	if len(n.Missing) == 0 {
		return nil, fmt.Errorf("a4: one-time notice for case %s: no missing materials to list", n.CaseNo)
	}
	l, err := begin(n.Header, "一次性告知书")
	if err != nil {
		return nil, err
	}
	l.para(n.Applicant+"：", false)
	l.para(fmt.Sprintf("您于%s申请办理的%s，经审查，尚缺以下材料或材料不符合要求。根据一次性告知制度，现将需要补正的材料及其审查要求一次性告知如下：",
		day(n.Date), items(n.Items)), true)
	l.space(4)
	rows := make([][]string, len(n.Missing))
	for i, m := range n.Missing {
		rows[i] = []string{strconv.Itoa(i + 1), m.Name, m.Criteria}
	}
	l.table([]column{{"序号", 0.08}, {"材料名称", 0.3}, {"审查要求", 0.62}}, rows)
	come := "补齐后"
	if !n.Deadline.IsZero() {
		come = "请于" + day(n.Deadline) + "前补齐上述材料，"
	}
	l.para(come+"到"+orDefault(n.Window, "本中心窗口")+"办理。已提交的材料无需重复提交；除上述材料外，不再要求提交其他材料。", true)
	enquiries(l, n.Header)
	end(l, n.Header, "扫码查看补正要求和办理进度")
	return l.finish()
}

// AcceptanceNotice lays out an acceptance notice.
func AcceptanceNotice(a Acceptance) ([]byte, error) {
	l, err := begin(a.Header, "受理通知书")
	if err != nil {
		return nil, err
	}
	l.para(a.Applicant+"：", false)
	basis := "申请材料齐全、符合法定形式"
	if len(a.Deferred) > 0 {
		basis = "申请材料基本齐全、符合法定形式，暂缺材料已由申请人书面承诺限期补交"
	}
	l.para(fmt.Sprintf("您于%s提交的%s申请，经审查，%s，本中心决定予以受理。", day(a.Date), items(a.Items), basis), true)
	l.space(4)
	var rows [][]string
	add := func(name, state string) { rows = append(rows, []string{strconv.Itoa(len(rows) + 1), name, state}) }
	for _, m := range a.Received {
		add(m, "已收")
	}
	for _, m := range a.Exempt {
		add(m, "免提交（本中心已有）")
	}
	for _, d := range a.Deferred {
		add(d.Name, "容缺，"+day(d.Due)+"前补交")
	}
	if len(rows) > 0 {
		l.table([]column{{"序号", 0.08}, {"材料名称", 0.57}, {"状态", 0.35}}, rows)
	}
	if !a.Due.IsZero() {
		l.para("承诺办结时限："+day(a.Due)+"前。办理结果将以短信通知，您也可扫描下方二维码查询进度。", true)
	}
	enquiries(l, a.Header)
	end(l, a.Header, "扫码查询进度、评价服务")
	return l.finish()
}

// CommitmentLetter lays out a commitment letter, with lines for the
// applicant's signature and the date.
func CommitmentLetter(c Commitment) ([]byte, error) {
	if len(c.Deferred) == 0 {
		return nil, fmt.Errorf("a4: commitment letter for case %s: no deferred materials to commit to", c.CaseNo)
	}
	l, err := begin(c.Header, "容缺受理承诺书")
	if err != nil {
		return nil, err
	}
	l.para(fmt.Sprintf("本人%s（证件号码：%s）申请办理%s，因下列材料暂不能提供，申请容缺受理，并郑重承诺：",
		c.Applicant, c.IDNumber, items(c.Items)), true)
	l.space(4)
	rows := make([][]string, len(c.Deferred))
	for i, d := range c.Deferred {
		rows[i] = []string{strconv.Itoa(i + 1), d.Name, d.Criteria, day(d.Due) + "前"}
	}
	l.table([]column{{"序号", 0.08}, {"暂缺材料", 0.25}, {"审查要求", 0.45}, {"补交期限", 0.22}}, rows)
	for _, p := range []string{
		"一、在上述期限内补齐材料，所补材料真实、有效，符合审查要求；",
		"二、如未按期补齐，同意本中心终止办理，由此产生的后果由本人承担；",
		"三、已提交材料及所作承诺均为本人真实意思表示，如有虚假，愿承担相应法律责任。",
	} {
		l.para(p, true)
	}
	enquiries(l, c.Header)
	l.space(24)
	l.right("承诺人（签字）：＿＿＿＿＿＿＿＿", "日期：＿＿＿＿年＿＿月＿＿日")
	end(l, c.Header, "扫码查看补交材料要求")
	return l.finish()
}

// begin checks the header and starts a document with its title and case
// lines.
func begin(h Header, title string) (*layout, error) {
	if h.CaseNo == "" {
		return nil, fmt.Errorf("a4: %s: no case number", title)
	}
	if h.IDNumber != "" && !strings.Contains(h.IDNumber, "*") {
		return nil, fmt.Errorf("a4: %s for case %s: the ID number is not masked (no *): pass it through mask.ID, the document leaves the hall", title, h.CaseNo)
	}
	if h.Applicant != "" && !strings.Contains(h.Applicant, "*") {
		return nil, fmt.Errorf("a4: %s for case %s: the applicant's name is not masked (no *): pass it through mask.Name", title, h.CaseNo)
	}
	l := newLayout(strings.TrimSpace(h.Hall + "　办件编号 " + h.CaseNo))
	l.setSize(sizeBody)
	l.title(title)
	l.right("编号：" + h.CaseNo)
	l.para("申请人："+orDefault(h.Applicant, "—")+"　　证件号码："+orDefault(h.IDNumber, "—"), false)
	l.para("申请事项："+items(h.Items), false)
	l.space(6)
	return l, l.err
}

// enquiries tells the applicant whom to call.
func enquiries(l *layout, h Header) {
	if h.Phone != "" {
		l.para("咨询电话："+h.Phone, true)
	}
}

// end closes a document: QR code, the hall's name and date.
func end(l *layout, h Header, caption string) {
	l.space(10)
	// The code and the stamp go together: a stamp alone on the last page
	// looks like a page from another document.
	need := 2*l.lineHeight() + 6
	if h.QR != "" {
		need += qrSide + sizeFooter*leading
	}
	l.fits(need)
	l.qr(h.QR, orDefault(h.QRCaption, caption))
	l.space(6)
	l.right(orDefault(h.Hall, "政务服务中心")+"（盖章）", day(h.Date))
}

func items(its []string) string {
	if len(its) == 0 {
		return "所申请事项"
	}
	return "“" + strings.Join(its, "”“") + "”"
}

// day writes a date as official documents do: 2026年3月5日.
func day(t time.Time) string {
	if t.IsZero() {
		return "＿＿＿＿年＿＿月＿＿日"
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
