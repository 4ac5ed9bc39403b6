package search

import (
	"sort"
	"strings"
	"unicode"
)

// qsym is one symbol of a query term: a Chinese character, a typed letter
// or digit, or a wildcard standing for one mistyped character.
type qsym struct {
	han    rune
	letter byte
	syls   []string // readings of han
	folded []string
	ids    []uint16 // syls and folded numbered, as in cell
	fids   []uint16
	wild   bool
}

type term []qsym

// fillers are the words around a matter that name no matter: the kiosk
// keyboard has a 我要… button row, and people type whole requests.
var fillers = []string{"我要办理", "我想办理", "我要办", "我想办", "我要", "我想", "怎么办理", "如何办理", "怎么办", "怎么",
	"如何", "在哪里办", "在哪办", "去哪办", "需要什么材料", "要什么材料", "需要什么", "办理"}

// parse splits a query into terms at spaces and punctuation; letters and
// digits are lower-cased and full-width forms made half-width.
func parse(q string) []term {
	q = strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 0xff01 && r <= 0xff5e {
			return r - 0xfee0 // full-width ASCII from a Chinese keyboard
		}
		if r == 0x3000 {
			return ' '
		}
		return r
	}, q))
	q = strings.ReplaceAll(q, "'", "") // xi'an: the apostrophe only separates syllables
	for _, f := range fillers {
		if rest := strings.ReplaceAll(q, f, " "); strings.TrimSpace(rest) != "" {
			q = rest
		}
	}
	var ts []term
	var cur term
	for _, r := range q {
		switch {
		case unicode.Is(unicode.Han, r):
			s := Readings(r)
			f := make([]string, len(s))
			for i := range s {
				f[i] = fold(s[i])
			}
			cur = append(cur, qsym{han: r, syls: s, folded: f, ids: sylIDsOf(s), fids: sylIDsOf(f)})
		case isAlnum(r):
			cur = append(cur, qsym{letter: byte(r)})
		default:
			if len(cur) > 0 {
				ts = append(ts, cur)
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		ts = append(ts, cur)
	}
	return joinPinyin(ts)
}

// joinPinyin makes neighbouring all-letter terms one: spaces in typed
// pinyin separate syllables ("jie hun deng ji"), not words.
func joinPinyin(ts []term) []term {
	out := ts[:0]
	for _, t := range ts {
		if n := len(out); n > 0 && t.letters() && out[n-1].letters() {
			out[n-1] = append(out[n-1], t...)
			continue
		}
		out = append(out, t)
	}
	return out
}

func (t term) letters() bool {
	for _, q := range t {
		if q.letter == 0 {
			return false
		}
	}
	return true
}

// folded is the term with its letters in near-homophone classes, for the
// fuzzy pass: each run of letters is folded as a whole ("zheng" → "zen").
func (t term) folded() term {
	out := make(term, 0, len(t))
	for i := 0; i < len(t); {
		if t[i].letter == 0 {
			out = append(out, t[i])
			i++
			continue
		}
		j := i
		var b []byte
		for ; j < len(t) && t[j].letter != 0; j++ {
			b = append(b, t[j].letter)
		}
		for _, c := range []byte(fold(string(b))) {
			out = append(out, qsym{letter: c})
		}
		i = j
	}
	return out
}

// pieces are the initial-letter sets of the cells a term must cover, in
// order; nil marks a wildcard. A run of letters can be read in several
// ways; segs returns the fewest-syllables reading ("jiehun" → jie hun) and,
// when every letter can start a syllable, the all-initials one ("jhdj").
func (t term) segs() [][][]byte {
	var min, all [][]byte
	allOK := true
	for i := 0; i < len(t); {
		q := t[i]
		switch {
		case q.wild:
			min, all = append(min, nil), append(all, nil)
			i++
			continue
		case q.han != 0:
			in := initials(q.syls)
			min, all = append(min, in), append(all, in)
			i++
			continue
		}
		j := i
		for j < len(t) && t[j].letter != 0 {
			j++
		}
		run := make([]byte, 0, j-i)
		for _, s := range t[i:j] {
			run = append(run, s.letter)
		}
		for _, p := range minSegment(string(run)) {
			min = append(min, initials([]string{p}))
		}
		for _, c := range run {
			allOK = allOK && isSyllablePrefix(string(c))
			all = append(all, initials([]string{string(c)}))
		}
		i = j
	}
	if !allOK || len(all) == len(min) {
		return [][][]byte{min}
	}
	return [][][]byte{min, all}
}

// minSegment splits letters into the fewest syllable prefixes; letters that
// begin no syllable (a typo, a digit) stand alone.
func minSegment(s string) []string {
	n := len(s)
	best := make([]int, n+1)
	from := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i], from[i] = best[i-1]+1, i-1
		for j := max(0, i-6); j < i-1; j++ {
			if best[j]+1 < best[i] && isSyllablePrefix(s[j:i]) {
				best[i], from[i] = best[j]+1, j
			}
		}
	}
	var out []string
	for i := n; i > 0; i = from[i] {
		out = append(out, s[from[i]:i])
	}
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	return out
}

// candidates sets c to the texts that may contain the term, in static order.
func (ix *Index) candidates(t term, c *cands) {
	allHan := len(t) >= 2
	for _, q := range t {
		allHan = allHan && q.han != 0
	}
	switch {
	case allHan:
		// Exact characters first: the rarest pair lists are short.
		var lists [][]uint32
		for i := 0; i+1 < len(t); i++ {
			lists = append(lists, ix.han2[hanKey(t[i].han, t[i+1].han)])
		}
		c.set(lists)
	case len(t) == 1 && t[0].han != 0:
		c.set([][]uint32{ix.han1[t[0].han]})
	default:
		segs := t.segs()
		c.set(ix.byInitials(segs[0]))
		if len(segs) == 2 {
			c.also(ix.byInitials(segs[1]))
		}
	}
}

// byInitials lists the posting lists to intersect: one for every window of
// three (or, in short runs, two or one) neighbouring pieces.
func (ix *Index) byInitials(ps [][]byte) [][]uint32 {
	var lists [][]uint32
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j] != nil {
			j++
		}
		run := ps[i:j]
		switch {
		case len(run) >= 3:
			for w := 0; w+3 <= len(run); w++ {
				var l []uint32
				for _, a := range run[w] {
					for _, b := range run[w+1] {
						for _, c := range run[w+2] {
							l = union(l, ix.ini3[(int(a)*26+int(b))*26+int(c)])
						}
					}
				}
				lists = append(lists, l)
			}
		case len(run) == 2:
			var l []uint32
			for _, a := range run[0] {
				for _, b := range run[1] {
					l = union(l, ix.ini2[int(a)*26+int(b)])
				}
			}
			lists = append(lists, l)
		case len(run) == 1:
			var l []uint32
			for _, a := range run[0] {
				l = union(l, ix.ini1[a])
			}
			lists = append(lists, l)
		}
		i = j + 1
	}
	return lists
}

// iter walks the intersection of posting lists lazily, in static order:
// the shortest list drives and the others are searched by galloping (they
// are often a hundred times longer). A pass usually stops after a few dozen
// candidates, so most of the intersection is never computed.
type iter struct {
	lists [][]uint32
	cur   []int
	i     int
}

func (it *iter) reset(lists [][]uint32) {
	sort.Slice(lists, func(i, j int) bool { return len(lists[i]) < len(lists[j]) })
	it.lists, it.i = lists, 0
	it.cur = it.cur[:0]
	for range lists {
		it.cur = append(it.cur, 0)
	}
}

// size is an upper bound of the intersection's length.
func (it *iter) size() int {
	if len(it.lists) == 0 {
		return 0
	}
	return len(it.lists[0])
}

func (it *iter) next() (uint32, bool) {
	if len(it.lists) == 0 {
		return 0, false
	}
	l0 := it.lists[0]
next:
	for it.i < len(l0) {
		id := l0[it.i]
		it.i++
		for k, l := range it.lists[1:] {
			j := seek(l, it.cur[k], id)
			it.cur[k] = j
			if j == len(l) {
				it.i = len(l0)
				return 0, false
			}
			if l[j] != id {
				continue next
			}
		}
		return id, true
	}
	return 0, false
}

// cands is the union of one or two intersections (the two readings of
// typed letters), merged in static order.
type cands struct {
	its  [2]iter
	n    int
	head [2]uint32
	ok   [2]bool
}

func (c *cands) set(lists [][]uint32) {
	c.n = 1
	c.its[0].reset(lists)
	c.head[0], c.ok[0] = c.its[0].next()
}

func (c *cands) also(lists [][]uint32) {
	c.n = 2
	c.its[1].reset(lists)
	c.head[1], c.ok[1] = c.its[1].next()
}

func (c *cands) size() int {
	s := 0
	for k := range c.n {
		s += c.its[k].size()
	}
	return s
}

func (c *cands) next() (uint32, bool) {
	best, found := uint32(0), false
	for k := range c.n {
		if c.ok[k] && (!found || c.head[k] < best) {
			best, found = c.head[k], true
		}
	}
	for k := range c.n {
		if c.ok[k] && c.head[k] == best {
			c.head[k], c.ok[k] = c.its[k].next()
		}
	}
	return best, found
}

// seek returns the first index at or after j where l holds id or more.
func seek(l []uint32, j int, id uint32) int {
	if j >= len(l) || l[j] >= id {
		return j
	}
	lo, hi, step := j, j+1, 1 // l[lo] < id
	for hi < len(l) && l[hi] < id {
		lo, step = hi, step*2
		hi = lo + step
	}
	hi = min(hi, len(l))
	for lo+1 < hi { // l[lo] < id, and hi is the end or l[hi] >= id
		if mid := (lo + hi) / 2; l[mid] < id {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

func union(a, b []uint32) []uint32 {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return append(append(out, a[i:]...), b[j:]...)
}

// Costs of the ways a query symbol can meet a cell; the score drops by
// costUnit for each.
const (
	costPartial   = 1 // typed letters cover only a prefix of the reading (an initial)
	costHomophone = 4 // another character with the same reading
	costNear      = 6 // a near homophone (zh/z, n/l, -ng/-n …)
	costWild      = 8 // a mistyped character
	costUnit      = 8.0
	inf           = 1 << 30
)

// match finds the cheapest contiguous run of e's cells that t covers:
// dp[i][j] is the cost of consuming t[:i] and ending just before cell j.
func match(t term, e *entry, fuzzy bool, sc *scratch) (cost, start, end int, ok bool) {
	n, m := len(t), len(e.cells)
	if n == 0 || m == 0 {
		return 0, 0, 0, false
	}
	if s, ok := exact(t, e); ok {
		return 0, s, s + n, true // the common case, without the DP
	}
	w := m + 1
	size := (n + 1) * w
	if cap(sc.dp) < size {
		sc.dp, sc.st = make([]int32, size), make([]int32, size)
	}
	dp, st := sc.dp[:size], sc.st[:size]
	for i := range dp {
		dp[i] = inf
	}
	for j := 0; j < m; j++ {
		dp[j], st[j] = 0, int32(j)
	}
	for i := 0; i < n; i++ {
		q := t[i]
		for j := 0; j < m; j++ {
			c0 := dp[i*w+j]
			if c0 == inf {
				continue
			}
			s0 := st[i*w+j]
			c := e.cells[j]
			switch {
			case q.wild:
				relax(dp, st, (i+1)*w+j+1, c0+costWild, s0)
			case q.han != 0:
				switch {
				case c.han == q.han:
					relax(dp, st, (i+1)*w+j+1, c0, s0)
				case overlap(c.ids, q.ids):
					relax(dp, st, (i+1)*w+j+1, c0+costHomophone, s0)
				case fuzzy && overlap(c.fids, q.fids):
					relax(dp, st, (i+1)*w+j+1, c0+costNear, s0)
				}
			default:
				rs := c.syls
				if fuzzy {
					rs = c.folded
				}
				for _, r := range rs {
					l := 0
					for l < len(r) && i+l < n && t[i+l].letter == r[l] {
						l++
					}
					for k := 1; k <= l; k++ {
						cc := c0
						if k < len(r) {
							cc += costPartial
						}
						relax(dp, st, (i+k)*w+j+1, cc, s0)
					}
				}
			}
		}
	}
	best := int32(inf)
	start = m
	for j := 1; j <= m; j++ {
		if c := dp[n*w+j]; c < best || c == best && st[n*w+j] < int32(start) {
			best, start, end = c, int(st[n*w+j]), j
		}
	}
	return int(best), start, end, best < inf
}

// exact finds the first place where t's characters appear verbatim in e.
func exact(t term, e *entry) (int, bool) {
	if t[0].han == 0 {
		return 0, false
	}
	for s := 0; s+len(t) <= len(e.cells); s++ {
		i := 0
		for i < len(t) && t[i].han != 0 && e.cells[s+i].han == t[i].han {
			i++
		}
		if i == len(t) {
			return s, true
		}
	}
	return 0, false
}

// relax keeps the cheaper way into a DP cell (on a tie, the earlier start).
func relax(dp, st []int32, at int, c, s int32) {
	if c < dp[at] || c == dp[at] && s < st[at] {
		dp[at], st[at] = c, s
	}
}

func overlap(a, b []uint16) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// score of one term's match in one text: cheaper matches, matches at the
// start of the text, texts the query covers more of, and official names
// rank higher.
func score(cost, start, end int, e *entry) float64 {
	s := 100 - costUnit*float64(cost) + 30*float64(end-start)/float64(len(e.cells))
	if start > 0 {
		s -= 6
	}
	if e.official {
		s += 4
	}
	return s
}
