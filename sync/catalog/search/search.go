// Package search finds catalogue items and bundles from what a person types
// at the kiosk, where there is no input method (S10): Chinese substrings,
// pinyin initials (jhdj → 结婚登记), full pinyin with or without spaces,
// mixtures (身份zheng), synonyms and colloquial names, near homophones
// (zen → 证) and one-character typos. It answers as letters are typed.
//
// Every searchable text (an item's or bundle's name and synonyms) becomes a
// row of cells, one per character, each with its pinyin readings. A query
// term matches a contiguous run of cells: a Chinese character matches the
// same character or a homophone; typed letters match any prefix of a cell's
// reading, so "j", "ji" and "jie" all match 结. Candidates come from posting
// lists keyed by the initials of two or three neighbouring cells (or by
// neighbouring characters, for Chinese), and a small dynamic programme
// verifies and scores each one.
package search

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"yici/sync/catalog"
)

// Kind says whether a hit is a single item or a bundle (一件事).
type Kind string

const (
	KindItem   Kind = "item"
	KindBundle Kind = "bundle"
)

// Hit is one search result.
type Hit struct {
	Code  string  `json:"code"`
	Name  string  `json:"name"`
	Kind  Kind    `json:"kind"`
	Score float64 `json:"score"`
	Via   string  `json:"via,omitempty"` // the synonym that matched, when it was not the name
}

type doc struct {
	code, name string
	kind       Kind
	entries    []uint32
}

// cell is one character of a searchable text.
type cell struct {
	han    rune     // 0 for a letter or digit
	syls   []string // readings, usual one first
	folded []string // the readings' near-homophone classes
	ids    []uint16 // syls numbered
	fids   []uint16 // folded numbered
}

// entry is one searchable text: a name or a synonym.
type entry struct {
	doc      uint32
	text     string
	cells    []*cell // interned: one cell per distinct character
	official bool
}

// Index answers queries over one catalogue revision. It is immutable once
// built and safe for concurrent use; a new revision gets a new Index.
type Index struct {
	docs    []doc
	entries []entry
	han1    map[rune][]uint32
	han2    map[uint64][]uint32
	ini1    [26][]uint32
	ini2    [26 * 26][]uint32
	ini3    [][]uint32 // 26³ initial trigrams
	chars   map[rune]*cell
	scratch sync.Pool
}

// Limits that bound the work per query on a big catalogue. Posting lists
// are in static order (short texts first, official names before synonyms),
// and a short text that matches scores higher than a long one, so the first
// few dozen matches hold the best ones and the rest need not be looked at.
const (
	minHits   = 16  // matching texts to collect per pass, at least 3k
	maxVerify = 256 // candidate texts (or, for several terms, documents) to check per pass
)

// New builds the index for a catalogue: every bundle and item, by name and
// by synonyms.
func New(c *catalog.Catalog) *Index {
	ix := &Index{han1: map[rune][]uint32{}, han2: map[uint64][]uint32{}, ini3: make([][]uint32, 26*26*26), chars: map[rune]*cell{}}
	type text struct {
		doc      uint32
		s        string
		n        int
		official bool
	}
	var texts []text
	add := func(code, name string, kind Kind, synonyms []string) {
		d := uint32(len(ix.docs))
		ix.docs = append(ix.docs, doc{code: code, name: name, kind: kind})
		texts = append(texts, text{d, name, len([]rune(name)), true})
		for _, s := range synonyms {
			texts = append(texts, text{d, s, len([]rune(s)), false})
		}
	}
	for _, b := range c.Bundles {
		add(b.Code, b.Name, KindBundle, b.Synonyms)
	}
	for _, it := range c.Items {
		add(it.Code, it.Name, KindItem, it.Synonyms)
	}
	sort.SliceStable(texts, func(i, j int) bool {
		a, b := texts[i], texts[j]
		if a.n != b.n {
			return a.n < b.n
		}
		return a.official && !b.official
	})
	ix.entries = make([]entry, len(texts))
	for id, t := range texts {
		e := entry{doc: t.doc, text: t.s, cells: ix.cellsOf(t.s), official: t.official}
		ix.entries[id] = e
		ix.docs[t.doc].entries = append(ix.docs[t.doc].entries, uint32(id))
		ix.post(uint32(id), e.cells)
	}
	ix.compact()
	isSyllablePrefix("a") // build the syllable table now, not in the first query
	ix.scratch.New = func() any { return &scratch{seen: make([]uint32, len(ix.docs))} }
	return ix
}

func (ix *Index) cellsOf(s string) []*cell {
	var cs []*cell
	for _, r := range strings.ToLower(s) {
		if !unicode.Is(unicode.Han, r) && !isAlnum(r) {
			continue // punctuation: 出生登记（入户） reads as 出生登记入户
		}
		c := ix.chars[r]
		if c == nil {
			c = &cell{syls: Readings(r)}
			if !isAlnum(r) {
				c.han = r
			}
			for _, s := range c.syls {
				c.folded = append(c.folded, fold(s))
			}
			c.ids, c.fids = sylIDsOf(c.syls), sylIDsOf(c.folded)
			ix.chars[r] = c
		}
		cs = append(cs, c)
	}
	return cs
}

// compact trims the posting lists' spare capacity, which append leaves at
// up to half of each list.
func (ix *Index) compact() {
	trim := func(l []uint32) []uint32 { return append(make([]uint32, 0, len(l)), l...) }
	for k, l := range ix.han1 {
		ix.han1[k] = trim(l)
	}
	for k, l := range ix.han2 {
		ix.han2[k] = trim(l)
	}
	for _, ls := range [][][]uint32{ix.ini1[:], ix.ini2[:], ix.ini3} {
		for i := range ls {
			ls[i] = trim(ls[i])
		}
	}
}

func isAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

// initials of a cell: the first letters of its readings, with l and n in one
// class (they are the same sound to many). Digits have none.
func initials(syls []string) []byte {
	var out []byte
	for _, s := range syls {
		if b := initialOf(s[0]); b != 0xff && !containsByte(out, b) {
			out = append(out, b)
		}
	}
	return out
}

func initialOf(b byte) byte {
	if b < 'a' || b > 'z' {
		return 0xff
	}
	if b == 'l' {
		b = 'n'
	}
	return b - 'a'
}

func containsByte(xs []byte, x byte) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// appendID adds id to a posting list once; ids arrive in increasing order.
func appendID(l []uint32, id uint32) []uint32 {
	if n := len(l); n > 0 && l[n-1] == id {
		return l
	}
	return append(l, id)
}

func (ix *Index) post(id uint32, cs []*cell) {
	ins := make([][]byte, len(cs))
	for j, c := range cs {
		ins[j] = initials(c.syls)
		for _, a := range ins[j] {
			ix.ini1[a] = appendID(ix.ini1[a], id)
		}
		if c.han != 0 {
			ix.han1[c.han] = appendID(ix.han1[c.han], id)
			if j+1 < len(cs) && cs[j+1].han != 0 {
				k := hanKey(c.han, cs[j+1].han)
				ix.han2[k] = appendID(ix.han2[k], id)
			}
		}
		if j >= 1 {
			for _, a := range ins[j-1] {
				for _, b := range ins[j] {
					ix.ini2[int(a)*26+int(b)] = appendID(ix.ini2[int(a)*26+int(b)], id)
				}
			}
		}
		if j >= 2 {
			for _, a := range ins[j-2] {
				for _, b := range ins[j-1] {
					for _, c := range ins[j] {
						k := (int(a)*26+int(b))*26 + int(c)
						ix.ini3[k] = appendID(ix.ini3[k], id)
					}
				}
			}
		}
	}
}

func hanKey(a, b rune) uint64 { return uint64(a)<<32 | uint64(b) }

// Len is the number of bundles and items indexed.
func (ix *Index) Len() int { return len(ix.docs) }
