package desk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"yici/drivers/docscan"
)

// batch is the stack scanned at the window for one application, numbered
// from 1 in the order the feeder took it, and which of its pages make up
// each material. A page belongs to one material at most. It is plain Go:
// the screen shows it, a test drives it.
type batch struct {
	pages []docscan.Page
	of    map[string][]int // material code → its page numbers, in order
	owner map[int]string   // page number → material code
}

func newBatch() *batch { return &batch{of: map[string][]int{}, owner: map[int]string{}} }

// add appends pages scanned to the batch; they are numbered after those
// already there.
func (b *batch) add(ps []docscan.Page) { b.pages = append(b.pages, ps...) }

// replace puts p, a page scanned again, in place of page n.
func (b *batch) replace(n int, p docscan.Page) error {
	if n < 1 || n > len(b.pages) {
		return fmt.Errorf("没有第 %d 页 / no page %d", n, n)
	}
	b.pages[n-1] = p
	return nil
}

// parsePages reads page numbers as a clerk types them: "3", "1-3,5",
// "2 4"; each must be one of the n pages scanned.
func parsePages(s string, n int) ([]int, error) {
	var out []int
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '，' }) {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("页码 %q 看不懂 / page numbers like 1-3,5", part)
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("页码 %q 看不懂 / page numbers like 1-3,5", part)
			}
		}
		if a > z {
			a, z = z, a
		}
		if a < 1 || z > n {
			return nil, fmt.Errorf("只有第 1–%d 页 / pages run from 1 to %d", n, n)
		}
		for p := a; p <= z; p++ {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("请输入页码 / type page numbers")
	}
	return out, nil
}

// assign makes pages the pages of material code, in that order, taking
// them from the materials that had them; it returns the codes whose pages
// changed. It refuses to leave another material with none: a material once
// captured stays in the draft, so it keeps at least one page.
func (b *batch) assign(code string, pages []int) ([]string, error) {
	took := map[string][]int{}
	for _, p := range pages {
		if o := b.owner[p]; o != "" && o != code {
			took[o] = append(took[o], p)
		}
	}
	for o, ps := range took {
		if len(b.of[o]) == len(ps) {
			return nil, fmt.Errorf("第 %v 页是另一件材料仅有的页，请先给它指定别的页 / those are all the pages of another material: give it others first", ps)
		}
	}
	changed := []string{code}
	for o, ps := range took {
		b.of[o] = slices.DeleteFunc(b.of[o], func(p int) bool { return slices.Contains(ps, p) })
		changed = append(changed, o)
	}
	for _, p := range b.of[code] {
		delete(b.owner, p)
	}
	b.of[code] = slices.Clone(pages)
	for _, p := range pages {
		b.owner[p] = code
	}
	slices.Sort(changed[1:])
	return changed, nil
}

// remove takes the i-th page (from 0) off material code; it refuses the
// last one (see assign).
func (b *batch) remove(code string, i int) error {
	ps := b.of[code]
	if i < 0 || i >= len(ps) {
		return errors.New("没有选中的页 / no page chosen")
	}
	if len(ps) == 1 {
		return errors.New("材料至少保留一页；要换页请直接指定新页 / a material keeps at least one page: assign the right one instead")
	}
	delete(b.owner, ps[i])
	b.of[code] = slices.Delete(slices.Clone(ps), i, i+1)
	return nil
}

// move moves the i-th page of material code one place earlier (dir -1) or
// later (+1) and returns its new place.
func (b *batch) move(code string, i, dir int) int {
	ps := b.of[code]
	j := i + dir
	if i < 0 || i >= len(ps) || j < 0 || j >= len(ps) {
		return i
	}
	ps[i], ps[j] = ps[j], ps[i]
	return j
}

// free returns the first page no material has, or 0.
func (b *batch) free() int {
	for p := 1; p <= len(b.pages); p++ {
		if b.owner[p] == "" {
			return p
		}
	}
	return 0
}

// pagesOf returns the pages of material code, in order, to capture off
// the UI thread.
func (b *batch) pagesOf(code string) []docscan.Page {
	ps := make([]docscan.Page, len(b.of[code]))
	for i, n := range b.of[code] {
		ps[i] = b.pages[n-1]
	}
	return ps
}

// ranges writes page numbers as a clerk reads them: 1-3,5.
func ranges(ps []int) string {
	var parts []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, fmt.Sprintf("%d-%d", ps[i], ps[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(ps[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
