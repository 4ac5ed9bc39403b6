package idcard

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"yici/sync/mask"
)

// TextLen is the size of the text block: 128 UCS-2LE characters.
const TextLen = 256

const (
	typeOffset = 248  // the type flag, one character
	longTerm   = "长期" // ValidTo of a card that does not expire

	// A 'Y' card splits the English name: 35 characters at 52, 11 at 220.
	yNameOff1, yNameLen1 = 52, 70
	yNameOff2, yNameLen2 = 220, 22
)

// field is one text field of a layout: its offset and size in bytes in the
// block, and where it lives in a Card.
type field struct {
	off, size int
	name      string
	s         *string
}

// fields lists the text fields of a card type, bound to c. Gender and
// Nation hold their codes here; decode and encode translate them. The
// 'Y' English name is split and is handled apart.
func fields(t CardType, c *Card) []field {
	switch t {
	case Resident:
		return []field{
			{0, 30, "name", &c.Name}, {30, 2, "gender", &c.Gender}, {32, 4, "nation", &c.Nation},
			{36, 16, "birth", &c.Birth}, {52, 70, "address", &c.Address}, {122, 36, "ID number", &c.IDNumber},
			{158, 30, "authority", &c.Authority}, {188, 16, "valid from", &c.ValidFrom}, {204, 16, "valid to", &c.ValidTo},
		}
	case ForeignerI:
		return []field{
			{0, 120, "English name", &c.EnglishName}, {120, 2, "gender", &c.Gender}, {122, 30, "card number", &c.IDNumber},
			{152, 6, "country", &c.Country}, {158, 30, "name", &c.Name}, {188, 16, "valid from", &c.ValidFrom},
			{204, 16, "valid to", &c.ValidTo}, {220, 16, "birth", &c.Birth}, {236, 4, "version", &c.Version},
			{240, 8, "authority code", &c.Authority},
		}
	case PermitJ:
		return []field{
			{0, 30, "name", &c.Name}, {30, 2, "gender", &c.Gender}, {36, 16, "birth", &c.Birth},
			{52, 70, "address", &c.Address}, {122, 36, "ID number", &c.IDNumber}, {158, 30, "authority", &c.Authority},
			{188, 16, "valid from", &c.ValidFrom}, {204, 16, "valid to", &c.ValidTo}, {220, 18, "pass number", &c.PassNumber},
			{238, 4, "issue count", &c.IssueCount},
		}
	case ForeignerY:
		return []field{
			{0, 30, "name", &c.Name}, {30, 2, "gender", &c.Gender}, {32, 4, "renewals", &c.Renewals},
			{36, 16, "birth", &c.Birth}, {122, 36, "ID number", &c.IDNumber}, {188, 16, "valid from", &c.ValidFrom},
			{204, 16, "valid to", &c.ValidTo}, {242, 6, "country", &c.Country}, {250, 6, "previous link", &c.PrevLink},
		}
	}
	return nil
}

// DecodeText decodes and checks a 256-byte text block. It returns an error,
// and no card, if any field is malformed: a card is never half-decoded.
func DecodeText(b []byte) (*Card, error) {
	if len(b) != TextLen {
		return nil, fmt.Errorf("idcard: text block is %d bytes, want %d", len(b), TextLen)
	}
	c := &Card{}
	switch flag := binary.LittleEndian.Uint16(b[typeOffset:]); flag {
	case ' ', 0: // a resident card's reserved area; accept zero should a card leave it unset
		c.Type = Resident
	case 'I', 'J', 'Y':
		c.Type = CardType(flag)
	default:
		return nil, fmt.Errorf("idcard: unknown card type flag 0x%04X", flag)
	}
	for _, f := range fields(c.Type, c) {
		s, err := text(b[f.off : f.off+f.size])
		if err != nil {
			return nil, fmt.Errorf("idcard: %s: %w", f.name, err)
		}
		*f.s = s
	}
	if c.Type == ForeignerY {
		// Join the halves before trimming: the first may end in a real space.
		joined := make([]byte, 0, yNameLen1+yNameLen2)
		joined = append(joined, b[yNameOff1:yNameOff1+yNameLen1]...)
		joined = append(joined, b[yNameOff2:yNameOff2+yNameLen2]...)
		s, err := text(joined)
		if err != nil {
			return nil, fmt.Errorf("idcard: English name: %w", err)
		}
		c.EnglishName = s
	}
	if err := c.decodeCodes(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// text decodes a UCS-2LE field and drops its padding (spaces, or NULs).
// Control characters and unpaired surrogates inside mean a corrupt block.
func text(b []byte) (string, error) {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	for len(u) > 0 && (u[len(u)-1] == ' ' || u[len(u)-1] == 0) {
		u = u[:len(u)-1]
	}
	r := utf16.Decode(u)
	for i, c := range r {
		if c < ' ' || c == 0x7F || c == utf8.RuneError {
			return "", fmt.Errorf("bad character U+%04X at %d", c, i)
		}
	}
	return string(r), nil
}

// decodeCodes turns the gender and nation codes into names.
func (c *Card) decodeCodes() error {
	g, ok := genders[c.Gender]
	if !ok {
		return fmt.Errorf("idcard: gender code %q, want 0, 1, 2 or 9", c.Gender)
	}
	c.Gender = g
	if c.Type == Resident {
		n, ok := nations[c.Nation]
		if !ok {
			return fmt.Errorf("idcard: nation code %q is not in GB 3304", c.Nation)
		}
		c.Nation = n
	}
	return nil
}

// validate checks what a genuine card always satisfies. Errors mask the
// ID number, since they end up in logs.
func (c *Card) validate() error {
	if c.Name == "" && c.EnglishName == "" {
		return fmt.Errorf("idcard: no name")
	}
	if err := checkDate("birth", c.Birth); err != nil {
		return err
	}
	if err := checkDate("valid from", c.ValidFrom); err != nil {
		return err
	}
	if c.ValidTo != longTerm {
		if err := checkDate("valid to", c.ValidTo); err != nil {
			return err
		}
		if c.ValidTo <= c.ValidFrom {
			return fmt.Errorf("idcard: valid to %s is not after valid from %s", c.ValidTo, c.ValidFrom)
		}
	}
	if (c.Type == ForeignerI || c.Type == ForeignerY) && (len(c.Country) != 3 || !isLetters(c.Country)) {
		return fmt.Errorf("idcard: country code %q is not 3 capital letters", c.Country)
	}
	if c.Type == ForeignerI {
		return checkCardNumberI(c.IDNumber)
	}
	if err := CheckID(c.IDNumber); err != nil {
		return err
	}
	switch c.Type {
	case PermitJ:
		if p := c.IDNumber[:6]; p != "810000" && p != "820000" && p != "830000" {
			return fmt.Errorf("idcard: permit ID number %s does not start with 810000, 820000 or 830000", mask.ID(c.IDNumber))
		}
	case ForeignerY:
		if c.IDNumber[0] != '9' {
			return fmt.Errorf("idcard: foreigner ID number %s does not start with 9", mask.ID(c.IDNumber))
		}
	}
	// GB 11643 puts the birth date at positions 7-14. Whether the 2023
	// foreigner number does the same is unconfirmed, so 'Y' is not checked.
	if c.Type != ForeignerY && c.IDNumber[6:14] != c.Birth {
		return fmt.Errorf("idcard: ID number %s does not hold birth date %s", mask.ID(c.IDNumber), c.Birth)
	}
	return nil
}

func checkDate(name, s string) error {
	if _, err := time.Parse("20060102", s); err != nil || len(s) != 8 {
		return fmt.Errorf("idcard: %s %q is not a YYYYMMDD date", name, s)
	}
	return nil
}

// checkCardNumberI checks that a 2017 foreigner card number is plausible:
// three capital letters (the country) then twelve digits. Its check digit
// is not public, so it is not verified.
func checkCardNumberI(n string) error {
	if len(n) != 15 || !isLetters(n[:3]) || strings.Trim(n[3:], "0123456789") != "" {
		return fmt.Errorf("idcard: card number %s is not 3 capital letters and 12 digits", mask.ID(n))
	}
	return nil
}

// isLetters reports whether s is made of capital Latin letters only.
func isLetters(s string) bool {
	return s != "" && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// idWeights are the GB 11643 weights of positions 1-17: 2^(18-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckID checks an 18-character ID number (resident, permit or 2023
// foreigner card): 17 digits and the ISO 7064 MOD 11-2 check character of
// GB 11643, a digit or a capital X. Errors show the number masked.
func CheckID(id string) error {
	if len(id) != 18 {
		return fmt.Errorf("idcard: ID number %s has %d characters, want 18", mask.ID(id), utf8.RuneCountInString(id))
	}
	sum := 0
	for i, w := range idWeights {
		d := id[i]
		if d < '0' || d > '9' {
			return fmt.Errorf("idcard: ID number %s has %q at position %d, want a digit", mask.ID(id), d, i+1)
		}
		sum += int(d-'0') * w
	}
	if want := "10X98765432"[sum%11]; id[17] != want {
		return fmt.Errorf("idcard: ID number %s has check character %q, want %q", mask.ID(id), id[17], want)
	}
	return nil
}

// EncodeText builds the 256-byte text block of c, the inverse of
// DecodeText. It checks only that every field fits and that the gender and
// nation are known, so tests and the simulator can build invalid cards.
func EncodeText(c *Card) ([]byte, error) {
	b := make([]byte, TextLen)
	for i := 0; i < TextLen; i += 2 {
		b[i] = ' '
	}
	cc := *c
	g, ok := codeOf(genders, c.Gender)
	if !ok {
		return nil, fmt.Errorf("idcard: encode: gender %q, want 男, 女, 未知 or 未说明", c.Gender)
	}
	cc.Gender = g
	if c.Type == Resident {
		n, ok := codeOf(nations, c.Nation)
		if !ok {
			return nil, fmt.Errorf("idcard: encode: nation %q is not in GB 3304", c.Nation)
		}
		cc.Nation = n
	}
	fs := fields(c.Type, &cc)
	if fs == nil {
		return nil, fmt.Errorf("idcard: encode: %v", c.Type)
	}
	for _, f := range fs {
		if err := putText(b[f.off:f.off+f.size], *f.s); err != nil {
			return nil, fmt.Errorf("idcard: encode: %s: %w", f.name, err)
		}
	}
	if c.Type == ForeignerY {
		joined := make([]byte, yNameLen1+yNameLen2)
		copy(joined, b[yNameOff1:yNameOff1+yNameLen1])
		copy(joined[yNameLen1:], b[yNameOff2:yNameOff2+yNameLen2])
		if err := putText(joined, c.EnglishName); err != nil {
			return nil, fmt.Errorf("idcard: encode: English name: %w", err)
		}
		copy(b[yNameOff1:], joined[:yNameLen1])
		copy(b[yNameOff2:], joined[yNameLen1:])
	}
	binary.LittleEndian.PutUint16(b[typeOffset:], uint16(c.Type))
	return b, nil
}

// putText writes s as UCS-2LE at the start of dst, which keeps its padding.
func putText(dst []byte, s string) error {
	u := utf16.Encode([]rune(s))
	if 2*len(u) > len(dst) {
		return fmt.Errorf("%d characters, the field holds %d", len(u), len(dst)/2)
	}
	for i, v := range u {
		binary.LittleEndian.PutUint16(dst[2*i:], v)
	}
	return nil
}
