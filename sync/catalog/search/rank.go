package search

import "sort"

// scratch is per-query working memory, pooled so that a query allocates
// little: the DP tables, each term's candidate cursors and a stamp per
// document.
type scratch struct {
	dp, st []int32
	terms  []cands
	seen   []uint32 // seen[doc] == stamp: already scored in this pass
	stamp  uint32
	hits   []found
}

type found struct {
	doc   uint32
	score float64
	via   uint32
}

// add keeps each document's best score; hits are few, so a scan is cheapest.
func (sc *scratch) add(f found) {
	for i := range sc.hits {
		if sc.hits[i].doc == f.doc {
			if f.score > sc.hits[i].score {
				sc.hits[i] = f
			}
			return
		}
	}
	sc.hits = append(sc.hits, f)
}

// Penalties of the later passes, so that what the query says exactly
// always ranks above what a guess about it finds.
const (
	bundleBonus  = 5
	fuzzyPenalty = 10
	typoPenalty  = 20
)

// limits bound one pass's work: it stops after this many matching
// documents or this many checked ones, whichever comes first.
type limits struct{ hits, verify int }

// Search returns up to k hits, best first. It tries the query as typed;
// when that finds fewer than k, it allows near homophones; when that still
// finds nothing, it allows one typo (a wrong, extra or swapped letter, a
// wrong character, or two words in the other order). A typo is only
// assumed when nothing matches: a query that matches something as typed
// most likely meant it.
func (ix *Index) Search(query string, k int) []Hit {
	ts := parse(query)
	if len(ts) == 0 || k <= 0 {
		return nil
	}
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.hits = sc.hits[:0]
	lim := limits{hits: max(3*k, minHits), verify: maxVerify}
	ix.pass(ts, false, 0, sc, lim)
	if len(sc.hits) < k {
		fz := make([]term, len(ts))
		for i, t := range ts {
			fz[i] = t.folded()
		}
		ix.pass(fz, true, fuzzyPenalty, sc, lim)
	}
	if len(sc.hits) == 0 {
		// Each reading of a typo gets a small share of the work: most of
		// them match nothing, and one of them is what was meant.
		for _, v := range typoVariants(ts) {
			for i := range v {
				v[i] = v[i].folded()
			}
			ix.pass(v, true, typoPenalty, sc, limits{hits: k, verify: maxVerify / 16})
		}
	}
	out := make([]Hit, 0, len(sc.hits))
	for _, f := range sc.hits {
		doc := &ix.docs[f.doc]
		h := Hit{Code: doc.code, Name: doc.name, Kind: doc.kind, Score: f.score}
		if t := ix.entries[f.via].text; t != doc.name {
			h.Via = t
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Code < out[j].Code
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// pass scores the documents whose texts match every term. The term with
// the fewest candidates drives; with several terms, the others are checked
// on each candidate's document (a name may match one word and a synonym
// the other).
func (ix *Index) pass(ts []term, fuzzy bool, penalty float64, sc *scratch, lim limits) {
	sc.stamp++
	if sc.stamp == 0 { // wrapped: forget every old stamp
		clear(sc.seen)
		sc.stamp = 1
	}
	for len(sc.terms) < len(ts) {
		sc.terms = append(sc.terms, cands{})
	}
	drive := &sc.terms[0]
	for i, t := range ts {
		c := &sc.terms[i]
		ix.candidates(t, c)
		if c.size() < drive.size() {
			drive = c
		}
	}
	got, verified := 0, 0
	for got < lim.hits && verified < lim.verify {
		id, ok := drive.next()
		if !ok {
			break
		}
		d := ix.entries[id].doc
		verified++
		if len(ts) == 1 {
			// One term: each text is its own candidate, and the document
			// keeps the best of its texts that turn up.
			e := &ix.entries[id]
			if cost, s, en, m := match(ts[0], e, fuzzy, sc); m {
				got++
				sc.add(found{d, ix.final(d, score(cost, s, en, e), penalty), id})
			}
			continue
		}
		if sc.seen[d] == sc.stamp {
			continue
		}
		sc.seen[d] = sc.stamp
		total, via, ok := 0.0, uint32(0), true
		for ti, t := range ts {
			best, bestAt := -1e9, uint32(0)
			for _, eid := range ix.docs[d].entries {
				e := &ix.entries[eid]
				if cost, s, en, m := match(t, e, fuzzy, sc); m {
					if v := score(cost, s, en, e); v > best {
						best, bestAt = v, eid
					}
				}
			}
			if best == -1e9 {
				ok = false
				break
			}
			total += best
			if ti == 0 {
				via = bestAt
			}
		}
		if !ok {
			continue
		}
		got++
		sc.add(found{d, ix.final(d, total/float64(len(ts)), penalty), via})
	}
}

// final is a document's score from its texts' score.
func (ix *Index) final(d uint32, s, penalty float64) float64 {
	if ix.docs[d].kind == KindBundle {
		s += bundleBonus
	}
	return s - penalty
}

// typoVariants are the query read with one typo undone: each letter
// dropped, each pair of neighbouring letters swapped, each character of a
// three-or-more-character Chinese word replaced by a wildcard, and each
// Chinese word split in two (补身份证 finds 居民身份证补领).
func typoVariants(ts []term) [][]term {
	var out [][]term
	with := func(i int, repl ...term) {
		v := append(append(append([]term(nil), ts[:i]...), repl...), ts[i+1:]...)
		out = append(out, v)
	}
	for i, t := range ts {
		letters, han := 0, 0
		for _, q := range t {
			if q.letter != 0 {
				letters++
			} else {
				han++
			}
		}
		if letters >= 4 {
			for j := range t {
				if t[j].letter == 0 {
					continue
				}
				with(i, append(append(term(nil), t[:j]...), t[j+1:]...))
				if j+1 < len(t) && t[j+1].letter != 0 && t[j].letter != t[j+1].letter {
					sw := append(term(nil), t...)
					sw[j], sw[j+1] = sw[j+1], sw[j]
					with(i, sw)
				}
			}
		}
		if han >= 3 {
			for j := range t {
				if t[j].han != 0 {
					wc := append(term(nil), t...)
					wc[j] = qsym{wild: true}
					with(i, wc)
				}
			}
		}
		if han >= 3 && letters == 0 {
			for j := 1; j < len(t); j++ {
				with(i, t[:j], t[j:])
			}
		}
	}
	return out
}
