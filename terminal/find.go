package terminal

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"yici/sync/catalog"
	"yici/sync/catalog/search"
)

// resultsPerPage keeps every result button large enough for a finger;
// finger drags do not scroll in Fyne (fyne-io/fyne#5755), so lists page.
// Elder mode shows fewer, in one column, for its larger type.
func (k *Kiosk) resultsPerPage() (n, columns int) {
	if scale() > k.cfg.Scale {
		return 1, 1
	}
	return 4, 2
}

// entry is a result line: an item or a bundle (一件事).
type entry struct {
	code, name string
	bundle     bool
}

// finder is the find screen: an on-screen keyboard that searches as
// letters are typed (no input method needed, S10), life-cycle themes, and
// a paged list of results.
type finder struct {
	index   *search.Index
	query   string
	shown   []entry
	page    int
	queryTx *widget.Label
	results *fyne.Container
	pageLbl *widget.Label
	lower   *fyne.Container // the keyboard or the themes
	keys    fyne.CanvasObject
	themes  *fyne.Container
	toggle  *widget.Button
	large   bool // elder mode's type
}

func (k *Kiosk) buildFind() fyne.CanvasObject {
	f := &k.find
	f.queryTx = bigText("", theme.SizeNameText)
	f.results = container.NewGridWithColumns(2)
	f.pageLbl = widget.NewLabel("")
	f.pageLbl.Alignment = fyne.TextAlignCenter
	prev := widget.NewButtonWithIcon("上一页", theme.NavigateBackIcon(), func() { k.touch(); k.showResults(f.page - 1) })
	next := widget.NewButtonWithIcon("下一页", theme.NavigateNextIcon(), func() { k.touch(); k.showResults(f.page + 1) })

	var rows []fyne.CanvasObject
	for _, row := range []string{"QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"} {
		var keys []fyne.CanvasObject
		for _, r := range row {
			letter := strings.ToLower(string(r))
			keys = append(keys, key(widget.NewButton(string(r), func() { k.touch(); k.typeQuery(f.query + letter) })))
		}
		if row == "ZXCVBNM" {
			keys = append(keys,
				key(widget.NewButton("退格", func() {
					k.touch()
					if r := []rune(f.query); len(r) > 0 {
						k.typeQuery(string(r[:len(r)-1]))
					}
				})),
				key(widget.NewButton("清空", func() { k.touch(); k.typeQuery("") })))
		}
		rows = append(rows, container.NewGridWithColumns(10, keys...))
	}
	f.keys = container.NewVBox(rows...)

	f.themes = container.NewGridWithColumns(5)
	k.useCatalog(k.cfg.Catalog)
	f.lower = container.NewStack(f.keys)
	f.toggle = widget.NewButton("按主题找 / By life event", func() {
		k.touch()
		if f.lower.Objects[0] == f.keys {
			f.lower.Objects[0] = f.themes
			f.toggleText()
			f.queryTx.Text = "请点下方的主题 / pick a life event below"
			f.queryTx.Refresh()
		} else {
			f.lower.Objects[0] = f.keys
			f.toggleText()
			k.typeQuery(f.query)
		}
		f.lower.Refresh()
	})
	// The pager flanks the results and the toggle the greeting, for the
	// keyboard to fit under elder mode's type.
	top := container.NewBorder(nil, nil, nil, target(f.toggle), container.NewVBox(k.greeting, f.queryTx))
	f.pageLbl.Wrapping = fyne.TextWrapWord
	results := container.NewBorder(nil, nil, target(prev), target(next), container.NewBorder(nil, f.pageLbl, nil, nil, f.results))
	return container.NewBorder(top, f.lower, nil, nil, results)
}

// key is a key of the on-screen keyboard, or a theme: minTarget square at
// least, but not as large as its label's padding would make it, for ten
// keys (four themes) in elder mode's type to fit a 1024×768 screen (their
// words do).
func key(b *widget.Button) fyne.CanvasObject { return container.New(keyLayout{}, b) }

type keyLayout struct{}

func (keyLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSquareSize(minTarget)
}

func (keyLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.Position{})
	objs[0].Resize(size)
}

// layoutFor sets the themes' columns for the type size: four in elder
// mode, for their names to fit a 1024 px wide screen.
func (f *finder) layoutFor(large bool) {
	cols := 5
	if large {
		cols = 4
	}
	f.large = large
	f.themes.Layout = layout.NewGridLayoutWithColumns(cols)
	f.themes.Refresh()
	f.toggleText()
}

// toggleText names what the toggle turns to: in elder mode in Chinese
// only, for the greeting beside it to keep to one line.
func (f *finder) toggleText() {
	zh, en := "按主题找", "By life event"
	if f.lower.Objects[0] != f.keys {
		zh, en = "用键盘找", "Keyboard"
	}
	if !f.large {
		zh += " / " + en
	}
	f.toggle.SetText(zh)
}

// reset puts the find screen as a new visit finds it: the keyboard, not
// the themes, and the first page.
func (f *finder) reset() {
	f.lower.Objects[0] = f.keys
	f.toggleText()
	f.lower.Refresh()
	f.page = 0
}

// useCatalog builds the search index and theme buttons of c.
func (k *Kiosk) useCatalog(c *catalog.Catalog) {
	f := &k.find
	k.cfg.Catalog = c
	f.index = search.New(c)
	themes := make([]fyne.CanvasObject, 0, len(c.Themes))
	for _, t := range c.Themes {
		themes = append(themes, key(widget.NewButton(t.Name, func() { k.touch(); k.showTheme(&t) })))
	}
	f.themes.Objects = themes
}

// SetCatalog makes c the catalogue of the next visit: a visit under way
// keeps the revision it started with, which its case records (S3). Call it
// on the UI thread.
func (k *Kiosk) SetCatalog(c *catalog.Catalog) {
	if k.sess == nil {
		k.useCatalog(c)
	} else {
		k.nextCat = c
	}
}

// typeQuery searches for q as the citizen types; an empty query lists the
// catalogue from the top.
func (k *Kiosk) typeQuery(q string) {
	f := &k.find
	f.query = q
	if q == "" {
		f.queryTx.Text = "输入拼音或首字母，如 jhdj 结婚登记 / type pinyin"
		f.shown = k.allEntries()
	} else {
		f.queryTx.Text = "查找：" + strings.ToUpper(q)
		f.shown = nil
		for _, h := range f.index.Search(q, 30) {
			f.shown = append(f.shown, entry{h.Code, h.Name, h.Kind == search.KindBundle})
		}
		if len(f.shown) == 0 {
			f.queryTx.Text += "（没有找到，可点“找我办”请工作人员帮忙）"
		}
	}
	f.queryTx.Refresh()
	k.showResults(0)
}

// allEntries lists the bundles first, then the items, in catalogue order.
func (k *Kiosk) allEntries() []entry {
	c := k.cfg.Catalog
	out := make([]entry, 0, len(c.Bundles)+len(c.Items))
	for _, b := range c.Bundles {
		out = append(out, entry{b.Code, b.Name, true})
	}
	for _, it := range c.Items {
		out = append(out, entry{it.Code, it.Name, false})
	}
	return out
}

func (k *Kiosk) showTheme(t *catalog.Theme) {
	f := &k.find
	f.query = ""
	f.queryTx.Text = "主题：" + t.Name
	f.queryTx.Refresh()
	f.shown = nil
	for _, code := range t.Members {
		if b, ok := k.cfg.Catalog.Bundle(code); ok {
			f.shown = append(f.shown, entry{b.Code, b.Name, true})
		} else if it, ok := k.cfg.Catalog.Item(code); ok {
			f.shown = append(f.shown, entry{it.Code, it.Name, false})
		}
	}
	k.showResults(0)
}

func (k *Kiosk) showResults(p int) {
	f := &k.find
	resultsPerPage, cols := k.resultsPerPage()
	f.results.Layout = layout.NewGridLayoutWithColumns(cols)
	pages := max(1, (len(f.shown)+resultsPerPage-1)/resultsPerPage)
	if p < 0 || p >= pages {
		return
	}
	f.page = p
	objs := make([]fyne.CanvasObject, 0, resultsPerPage)
	for i := p * resultsPerPage; i < len(f.shown) && i < (p+1)*resultsPerPage; i++ {
		e := f.shown[i]
		label := e.name
		if e.bundle {
			label = "【一件事】" + e.name
		}
		b := widget.NewButton(label, func() { k.touch(); k.choose(e.code) })
		if e.bundle {
			b.Importance = widget.HighImportance
		}
		objs = append(objs, target(b))
	}
	f.results.Objects = objs
	f.pageLbl.SetText(fmt.Sprintf("第 %d / %d 页", p+1, pages))
	f.results.Refresh()
}

// choose starts the guide for an item or bundle.
func (k *Kiosk) choose(code string) {
	s := k.sess
	if code != s.code {
		s.later = nil
	} else {
		s.later = append(s.answers, s.later...) // the same again: its answers are the earlier choices
	}
	s.code, s.answers = code, nil
	k.advance()
}

// answer records a choice for the question on screen.
func (k *Kiosk) answer(choice string) {
	s := k.sess
	if len(s.later) > 0 && s.later[0] == choice {
		s.later = s.later[1:]
	} else {
		s.later = nil // another way: what came after the old choice no longer applies
	}
	s.answers = append(s.answers, choice)
	k.advance()
}

// advance resolves the guide with the answers so far: the next question,
// or, once complete, the case draft and its material list.
func (k *Kiosk) advance() {
	s := k.sess
	g, err := k.cfg.Catalog.Resolve(s.code, s.answers)
	if err != nil {
		k.say("事项指南有误，请联系工作人员 / guide error: " + err.Error())
		return
	}
	s.guide = g
	if g.Next != nil {
		k.askQuestion(g)
		return
	}
	if s.caseID != "" && s.draftCode == s.code && slices.Equal(s.draftAnswers, s.answers) {
		k.showGuide() // the same list as before Back: its draft and pages
		return
	}
	dropped, err := k.startCase()
	if err != nil {
		k.say("无法开始办件，请联系工作人员 / cannot start the case: " + err.Error())
		return
	}
	k.showGuide()
	if len(dropped) > 0 {
		k.say("按您的新选择，以下已扫描的材料不再需要，已删除：" + strings.Join(dropped, "、") +
			" / no longer needed, their scans were removed")
	}
}

func (k *Kiosk) buildQuestion() fyne.CanvasObject {
	k.qTitle = bigText("", theme.SizeNameSubHeadingText)
	k.qStep = bigText("", theme.SizeNameText)
	k.qText = bigText("", theme.SizeNameHeadingText)
	k.qHelp = widget.NewLabel("")
	k.qHelp.Wrapping = fyne.TextWrapWord
	k.qChoices = container.NewVBox()
	return container.NewVBox(k.qTitle, k.qStep, layout.NewSpacer(), k.qText, k.qHelp, k.qChoices, layout.NewSpacer())
}

func (k *Kiosk) askQuestion(g *catalog.Guide) {
	q := g.Next
	k.qTitle.Text = g.Name
	k.qTitle.Refresh()
	k.qText.Text = q.Text
	k.qText.Refresh()
	k.qHelp.SetText(q.Help)
	n := len(k.sess.answers) + 1
	k.qStep.Text = fmt.Sprintf("问题 %d / %d · Question %d of %d", n, n-1+k.questionsLeft(g), n, n-1+k.questionsLeft(g))
	k.qStep.Refresh()
	var earlier string // the choice made here before Back, highlighted
	if len(k.sess.later) > 0 {
		earlier = k.sess.later[0]
	}
	objs := make([]fyne.CanvasObject, 0, len(q.Choices))
	for _, c := range q.Choices {
		id := c.ID
		b := widget.NewButton(c.Label, func() { k.touch(); k.answer(id) })
		if id == earlier {
			b.SetText("✓ " + c.Label + "（您上次的选择 / your earlier answer）")
			b.Importance = widget.HighImportance
		}
		objs = append(objs, target(b))
	}
	k.qChoices.Objects = objs
	k.qChoices.Refresh()
	k.show(k.question)
}

// questionsLeft is how many questions are still to come at most, the one
// on screen included: the longest way through the rest of the guide's
// question tree. Another item an answer switches to may ask more; the
// count then grows.
func (k *Kiosk) questionsLeft(g *catalog.Guide) int {
	var tree *catalog.Tree
	if it, ok := k.cfg.Catalog.Item(g.Code); ok {
		tree = it.Questions
	} else if b, ok := k.cfg.Catalog.Bundle(g.Code); ok {
		tree = b.Questions
	}
	if tree == nil || g.Next == nil {
		return 1
	}
	byID := map[string]*catalog.Question{}
	for i := range tree.Questions {
		byID[tree.Questions[i].ID] = &tree.Questions[i]
	}
	var depth func(q *catalog.Question, seen int) int
	depth = func(q *catalog.Question, seen int) int {
		d := 1
		for _, c := range q.Choices {
			if next, ok := byID[c.Next]; ok && seen < len(tree.Questions) {
				d = max(d, 1+depth(next, seen+1))
			}
		}
		return d
	}
	if q, ok := byID[g.Next.ID]; ok {
		return depth(q, 0)
	}
	return 1
}
