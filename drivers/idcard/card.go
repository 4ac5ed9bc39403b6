package idcard

import (
	"fmt"
	"image"
	"log/slog"

	"yici/sync/mask"
)

// CardType is the type flag at offset 248 of the text block.
type CardType byte

// The card types a GA 467 reader returns.
const (
	Resident   CardType = ' ' // resident identity card (居民身份证)
	ForeignerI CardType = 'I' // foreigner's permanent residence card, 2017
	PermitJ    CardType = 'J' // Hong Kong, Macao and Taiwan residents' residence permit
	ForeignerY CardType = 'Y' // foreigner's permanent residence ID card, 2023
)

func (t CardType) String() string {
	switch t {
	case Resident:
		return "resident"
	case ForeignerI:
		return "foreigner-I"
	case PermitJ:
		return "permit-J"
	case ForeignerY:
		return "foreigner-Y"
	}
	return fmt.Sprintf("unknown card type %q", rune(t))
}

// Card is what a card holds. Which fields are set depends on Type; text
// fields are as printed on the card, without padding.
//
// Card carries personal data: String, GoString and LogValue print it masked,
// and Masked gives a copy fit for screens and logs. Marshal a Card to JSON
// only into the person's own record.
type Card struct {
	Type        CardType
	Name        string // Chinese name (on 'I' and 'Y' cards only if the holder has one)
	EnglishName string // 'I', 'Y'
	Gender      string // 男, 女, 未知 or 未说明 (GB/T 2261.1)
	Nation      string // resident cards: name from GB 3304, e.g. 汉
	Birth       string // YYYYMMDD
	Address     string // resident, 'J'
	IDNumber    string // 18 characters; the 15-character card number on 'I'
	Authority   string // issuing authority; on 'I' the 4-character authority code
	ValidFrom   string // YYYYMMDD
	ValidTo     string // YYYYMMDD, or 长期 (no expiry)
	Country     string // 'I', 'Y': GB/T 2659 three-letter code
	PassNumber  string // 'J': the holder's travel permit number
	IssueCount  string // 'J': how many times the permit was issued
	Renewals    string // 'Y': number of card renewals
	Version     string // 'I': card version
	PrevLink    string // 'Y': link to the previous card's number (meaning unconfirmed)

	Photo       []byte      // the card's WLT photo, 1024 bytes
	Image       image.Image `json:"-"` // Photo decoded, when a PhotoDecoder is set
	Fingerprint []byte      // from a 30 10 read; empty if the card holds none
}

// Masked returns a copy fit for a screen or a log: names and document
// numbers masked, biometrics (photo, fingerprint) dropped.
func (c Card) Masked() Card {
	c.Name = mask.Name(c.Name)
	c.EnglishName = mask.Name(c.EnglishName)
	c.IDNumber = mask.ID(c.IDNumber)
	c.PassNumber = mask.ID(c.PassNumber)
	c.Photo, c.Image, c.Fingerprint = nil, nil, nil
	return c
}

// String is masked so that a card printed with %v or %s never puts a
// person's data in a log.
func (c Card) String() string {
	m := c.Masked()
	name := m.Name
	if name == "" {
		name = m.EnglishName
	}
	return fmt.Sprintf("idcard.Card{%v %s %s}", c.Type, name, m.IDNumber)
}

// GoString is masked too, for %#v.
func (c Card) GoString() string { return c.String() }

// LogValue is masked too, for log/slog (whose JSON handler would otherwise
// marshal every field).
func (c Card) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Gender codes of GB/T 2261.1 as the card stores them.
var genders = map[string]string{"0": "未知", "1": "男", "2": "女", "9": "未说明"}

// Nation codes of GB 3304 as the card stores them.
var nations = map[string]string{
	"01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
	"08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
	"15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
	"22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
	"29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉",
	"36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米", "41": "塔吉克", "42": "怒",
	"43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂", "47": "保安", "48": "裕固",
	"49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲", "54": "门巴", "55": "珞巴",
	"56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}

// codeOf finds the code for a name in a code table.
func codeOf(table map[string]string, name string) (string, bool) {
	for code, n := range table {
		if n == name {
			return code, true
		}
	}
	return "", false
}
