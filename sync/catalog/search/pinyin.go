package search

import (
	"strings"
	"sync"

	"github.com/mozillazg/go-pinyin"
)

// polyphones adds the readings people type for characters whose
// go-pinyin default is not the one a service name uses (长期 chang,
// 重新 chong, 银行 hang, 还款 huan, 单位 dan/shan …). go-pinyin's heteronym
// lists also carry archaic readings (还 fu, 省 xian) that would only add
// noise, so the extras are chosen here, by hand.
var polyphones = map[rune][]string{
	'长': {"chang"}, '重': {"chong"}, '行': {"hang"}, '还': {"huan"}, '调': {"tiao"},
	'藏': {"zang"}, '单': {"shan"}, '会': {"kuai"}, '乐': {"yue"}, '省': {"xing"},
	'参': {"shen", "cen"}, '传': {"zhuan"}, '都': {"du"}, '朝': {"zhao"}, '曾': {"zeng"},
	'地': {"de"}, '给': {"ji"}, '系': {"ji"}, '种': {"chong"}, '强': {"jiang"},
	'解': {"xie"}, '校': {"jiao"}, '率': {"shuai"}, '区': {"ou"}, '属': {"zhu"},
	'降': {"xiang"}, '车': {"ju"}, '卡': {"qia"}, '处': {"chu"}, '了': {"liao"},
	'便': {"pian"}, '的': {"di"}, '和': {"huo", "he"}, '期': {"ji"}, '抹': {"ma"},
	'差': {"cha", "chai", "ci"}, '露': {"lou"}, '薄': {"bo"}, '血': {"xie"}, '宿': {"xiu"},
}

var readingCache sync.Map // rune → []string

// Readings are the toneless pinyin readings of r, its usual one first; ü is
// written v, as on a keyboard. A letter or digit reads as itself (lower
// case); anything else has no reading.
func Readings(r rune) []string {
	if v, ok := readingCache.Load(r); ok {
		return v.([]string)
	}
	var rs []string
	switch {
	case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
		rs = []string{string(r)}
	case r >= 'A' && r <= 'Z':
		rs = []string{string(r + 'a' - 'A')}
	default:
		rs = pinyin.SinglePinyin(r, pinyinArgs)
		for _, extra := range polyphones[r] {
			if !containsStr(rs, extra) {
				rs = append(rs, extra)
			}
		}
	}
	readingCache.Store(r, rs)
	return rs
}

var pinyinArgs = pinyin.NewArgs() // toneless, default reading only

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// fold maps a pinyin string to its near-homophone class: the sounds many
// speakers (and northeastern ears) merge — zh/z, ch/c, sh/s, n/l, -ng/-n,
// ü/u — so "zen" finds 证 (zheng) and "lv" finds 女 (nv).
func fold(s string) string {
	if !strings.ContainsAny(s, "hlgv") {
		return s
	}
	return folder.Replace(s)
}

var folder = strings.NewReplacer("zh", "z", "ch", "c", "sh", "s", "ng", "n", "l", "n", "v", "u")

// Syllables are numbered so that comparing two characters' readings is
// comparing small integers, not strings, in the innermost loop.
var (
	sylMu  sync.Mutex
	sylIDs = map[string]uint16{}
)

func sylID(s string) uint16 {
	sylMu.Lock()
	defer sylMu.Unlock()
	id, ok := sylIDs[s]
	if !ok {
		id = uint16(len(sylIDs))
		sylIDs[s] = id
	}
	return id
}

func sylIDsOf(ss []string) []uint16 {
	out := make([]uint16, len(ss))
	for i, s := range ss {
		out[i] = sylID(s)
	}
	return out
}

var syllableOnce sync.Once
var syllablePrefix map[string]bool // every prefix of every pinyin syllable

// isSyllablePrefix reports whether s can begin a pinyin syllable, used to
// split typed letters into the syllables or initials they stand for.
func isSyllablePrefix(s string) bool {
	syllableOnce.Do(func() {
		syllablePrefix = map[string]bool{}
		h := pinyin.NewArgs()
		h.Heteronym = true
		for r := rune(0x4e00); r <= 0x9fa5; r++ {
			for _, p := range pinyin.SinglePinyin(r, h) {
				for i := 1; i <= len(p); i++ {
					syllablePrefix[p[:i]] = true
				}
			}
		}
	})
	return syllablePrefix[s]
}
