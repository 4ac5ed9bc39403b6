package idcard

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestCheckID(t *testing.T) {
	for _, c := range []struct {
		id, err string // err: part of the error, "" for valid
	}{
		{"11010519491231002X", ""},
		{"440524188001010014", ""},
		{"21020219880504123X", ""},
		{"810000199001011230", ""},
		{"921840198503150018", ""},
		{"110105194912310021", "check character '1', want 'X'"},
		{"440524188001010015", "check character '5', want '4'"},
		{"21020219880504123x", "check character 'x', want 'X'"},
		{"21020219880504132X", "check character 'X'"}, // two digits swapped
		{"2102021988050412X3", "has 'X' at position 17"},
		{"21020219880504123", "has 17 characters, want 18"},
		{"", "has 0 characters, want 18"},
		{"张三0219880504123X", "has 16 characters, want 18"},
	} {
		err := CheckID(c.id)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("CheckID(%q) = %v, want nil", c.id, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("CheckID(%q) = %v, want error containing %q", c.id, err, c.err)
		case err != nil && c.id != "" && strings.Contains(err.Error(), c.id):
			t.Errorf("CheckID(%q) error shows the number unmasked: %v", c.id, err)
		}
	}
}

// Every single-digit change to a valid number is caught.
func TestCheckIDCatchesEveryDigitChange(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "440524188001010014", "21020219880504123X"} {
		for i := 0; i < 17; i++ {
			for d := byte('0'); d <= '9'; d++ {
				if id[i] == d {
					continue
				}
				bad := id[:i] + string(d) + id[i+1:]
				if CheckID(bad) == nil {
					t.Errorf("CheckID(%q) = nil, changed from %q", bad, id)
				}
			}
		}
	}
}

// The text block of the main sample, byte by byte where the reference
// gives bytes: 张三 = 20 5F 09 4E then spaces, gender '1', nation "01".
func TestEncodeTextBytes(t *testing.T) {
	c := SampleCards()[0]
	b, err := EncodeText(&c)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x20, 0x5F, 0x09, 0x4E}
	for range 13 {
		want = append(want, 0x20, 0x00)
	}
	want = append(want, '1', 0, '0', 0, '1', 0)
	if !bytes.Equal(b[:len(want)], want) {
		t.Errorf("start of block\n got % X\nwant % X", b[:len(want)], want)
	}
	if got := string(utf16Of(b[122:158])); got != "21020219880504123X" {
		t.Errorf("ID number field = %q", got)
	}
	if b[248] != ' ' || b[249] != 0 {
		t.Errorf("type flag = % X, want 20 00", b[248:250])
	}
	// 长期 is 7F 95 1F 67.
	c = SampleCards()[1]
	b, err = EncodeText(&c)
	if err != nil {
		t.Fatal(err)
	}
	if got := b[204:208]; !bytes.Equal(got, []byte{0x7F, 0x95, 0x1F, 0x67}) {
		t.Errorf("长期 = % X, want 7F 95 1F 67", got)
	}
}

// plain prints a card's text fields unmasked, for test failures.
func plain(c *Card) string {
	s := fmt.Sprintf("%v English=%q", c.Type, c.EnglishName)
	for _, f := range fields(c.Type, c) {
		s += fmt.Sprintf(" %s=%q", f.name, *f.s)
	}
	return s
}

func utf16Of(b []byte) []rune {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return []rune(strings.TrimRight(string(utf16.Decode(u)), " "))
}

func TestTextRoundTrip(t *testing.T) {
	for _, want := range SampleCards() {
		t.Run(want.Type.String()+"/"+want.Birth, func(t *testing.T) {
			b, err := EncodeText(&want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeText(b)
			if err != nil {
				t.Fatal(err)
			}
			want.Photo = nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %s\nwant %s", plain(got), plain(&want))
			}
		})
	}
}

// The 'Y' English name is split at 35 characters; a space there is kept.
func TestYEnglishNameSplit(t *testing.T) {
	c := SampleCards()[4]
	c.EnglishName = strings.Repeat("A", 34) + " " + "BCDEFGHIJK"
	b, err := EncodeText(&c)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(utf16Of(b[220:242])); got != "BCDEFGHIJK" {
		t.Errorf("second part = %q", got)
	}
	got, err := DecodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.EnglishName != c.EnglishName {
		t.Errorf("English name = %q, want %q", got.EnglishName, c.EnglishName)
	}
}

// A block that is wrong anywhere gives an error and no card.
func TestDecodeTextRejects(t *testing.T) {
	resident := SampleCards()[0]
	for _, c := range []struct {
		name string
		edit func(c *Card)         // applied before encoding
		raw  func(b []byte) []byte // applied after encoding
		err  string
	}{
		{"short block", nil, func(b []byte) []byte { return b[:255] }, "text block is 255 bytes, want 256"},
		{"unknown type", nil, func(b []byte) []byte { b[248] = 'Q'; return b }, "unknown card type flag 0x0051"},
		{"check digit", func(c *Card) { c.IDNumber = "210202198805041230" }, nil, "check character '0', want 'X'"},
		{"birth not in ID", func(c *Card) { c.Birth = "19880505" }, nil, "does not hold birth date 19880505"},
		{"bad birth", func(c *Card) { c.Birth = "19880230" }, nil, `birth "19880230" is not a YYYYMMDD date`},
		{"bad valid to", func(c *Card) { c.ValidTo = "2035" }, nil, `valid to "2035" is not a YYYYMMDD date`},
		{"expiry before issue", func(c *Card) { c.ValidTo = "20150101" }, nil, "valid to 20150101 is not after valid from 20150601"},
		{"no name", func(c *Card) { c.Name = "" }, nil, "no name"},
		{"gender code", nil, func(b []byte) []byte { b[30] = '3'; return b }, `gender code "3"`},
		{"nation code", nil, func(b []byte) []byte { b[34] = 'A'; return b }, `nation code "0A"`},
		{"nation 60", nil, func(b []byte) []byte { b[32], b[34] = '6', '0'; return b }, `nation code "60" is not in GB 3304`},
		{"control char", nil, func(b []byte) []byte { b[4] = 0x07; return b }, "name: bad character U+0007 at 2"},
		{"lone surrogate", nil, func(b []byte) []byte { b[4], b[5] = 0x00, 0xD8; return b }, "name: bad character U+FFFD"},
		{"J prefix", func(c *Card) { c.Type, c.IDNumber, c.Birth, c.Nation = PermitJ, "820000197511200026", "19751120", "" }, nil, ""},
		{"J wrong prefix", func(c *Card) { c.Type, c.Nation = PermitJ, "" }, nil, "does not start with 810000, 820000 or 830000"},
		{"Y wrong prefix", func(c *Card) { c.Type, c.Nation, c.Country = ForeignerY, "", "USA" }, nil, "does not start with 9"},
		{"I number", func(c *Card) {
			c.Type, c.Nation, c.Country, c.IDNumber, c.Authority = ForeignerI, "", "USA", "USA21029001010X", "1500"
		}, nil, "is not 3 capital letters and 12 digits"},
		{"I country", func(c *Card) {
			c.Type, c.Nation, c.Country, c.IDNumber, c.Authority = ForeignerI, "", "usa", "USA210290010101", "1500"
		}, nil, `country code "usa"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			card := resident
			if c.edit != nil {
				c.edit(&card)
			}
			b, err := EncodeText(&card)
			if err != nil {
				t.Fatal(err)
			}
			if c.raw != nil {
				b = c.raw(b)
			}
			got, err := DecodeText(b)
			if c.err == "" {
				if err != nil {
					t.Fatalf("DecodeText: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("DecodeText error = %v, want it to contain %q", err, c.err)
			}
			if got != nil {
				t.Errorf("DecodeText gave a card with its error: %v", got)
			}
			if strings.Contains(err.Error(), card.IDNumber) {
				t.Errorf("error shows the ID number unmasked: %v", err)
			}
		})
	}
}

func TestEncodeTextRejects(t *testing.T) {
	for _, c := range []struct {
		edit func(c *Card)
		err  string
	}{
		{func(c *Card) { c.Gender = "M" }, `gender "M"`},
		{func(c *Card) { c.Nation = "火星" }, `nation "火星"`},
		{func(c *Card) { c.Name = strings.Repeat("张", 16) }, "name: 16 characters, the field holds 15"},
		{func(c *Card) { c.Type = 'Q' }, "unknown card type 'Q'"},
	} {
		card := SampleCards()[0]
		c.edit(&card)
		if _, err := EncodeText(&card); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("EncodeText error = %v, want it to contain %q", err, c.err)
		}
	}
}

func TestDecodeRead(t *testing.T) {
	card := SampleCards()[0]
	text, _ := EncodeText(&card)
	build := func(tl, pl, fl int, fp bool, body int) []byte {
		d := binary.BigEndian.AppendUint16(nil, uint16(tl))
		d = binary.BigEndian.AppendUint16(d, uint16(pl))
		if fp {
			d = binary.BigEndian.AppendUint16(d, uint16(fl))
		}
		d = append(d, text...)
		return append(d, make([]byte, body-len(text))...)
	}
	for _, c := range []struct {
		name string
		d    []byte
		fp   bool
		err  string
	}{
		{"30 01", build(256, 1024, 0, false, 1280), false, ""},
		{"30 10", build(256, 1024, 1024, true, 2304), true, ""},
		{"30 10 no fingerprint", build(256, 1024, 0, true, 1280), true, ""},
		{"short photo", build(256, 1000, 0, false, 1256), false, "text 256 and photo 1000 bytes, want 256 and 1024"},
		{"missing byte", build(256, 1024, 0, false, 1279), false, "1283 data bytes, want 1284"},
		{"extra byte", build(256, 1024, 0, false, 1281), false, "1285 data bytes, want 1284"},
		{"no header", []byte{1}, false, "1 data bytes, too short"},
	} {
		got, err := decodeRead(c.d, c.fp)
		if c.err == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.err != "" && (err == nil || got != nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: got %v, %v; want error containing %q", c.name, got, err, c.err)
		}
	}
}

func TestMasking(t *testing.T) {
	c := SampleCards()[0]
	c.Fingerprint = []byte{1, 2, 3}
	m := c.Masked()
	if m.Name != "张*" || m.IDNumber != "2102**********123X" || m.Photo != nil || m.Fingerprint != nil {
		t.Errorf("Masked = %+v", m)
	}
	if c.Name != "张三" || c.Photo == nil {
		t.Error("Masked changed the original")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("read", "card", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v|%+v|%s|%#v", &c, c, c, c), buf.String(),
	} {
		if strings.Contains(s, "张三") || strings.Contains(s, "21020219880504123X") {
			t.Errorf("unmasked: %s", s)
		}
		if !strings.Contains(s, "2102**********123X") {
			t.Errorf("no masked ID in %s", s)
		}
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{
		0x80: "find card failed (SW3 0x80)",
		0x90: "success (SW3 0x90)",
		0x23: "operation not authorised (SW3 0x23)",
		0x55: "unknown status (SW3 0x55)",
	} {
		if got := s.String(); got != want {
			t.Errorf("Status(0x%02X) = %q, want %q", byte(s), got, want)
		}
	}
	if len(statusText) != 18 {
		t.Errorf("%d SW3 codes have text, the reference lists 18", len(statusText))
	}
}

// FuzzDecodeText: no panic on any input, and a block that decodes
// re-encodes to one that decodes to the same card.
func FuzzDecodeText(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeText(b)
		if err != nil {
			if c != nil {
				t.Fatalf("card and error: %v, %v", c, err)
			}
			return
		}
		b2, err := EncodeText(c)
		if err != nil {
			t.Fatalf("decoded card does not encode: %v", err)
		}
		c2, err := DecodeText(b2)
		if err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the card:\n%s\n%s", plain(c), plain(c2))
		}
	})
}

func BenchmarkDecodeText(b *testing.B) {
	c := SampleCards()[0]
	block, err := EncodeText(&c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeText(block); err != nil {
			b.Fatal(err)
		}
	}
}
