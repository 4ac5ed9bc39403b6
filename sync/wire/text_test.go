package wire

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name, s string
		bad     string // part of the error; "" for valid
	}{
		{"chinese name", "张三", ""},
		{"name with middle dot", "阿依古丽·买买提", ""},
		{"latin with inner space", "Anna Müller", ""},
		{"code", "M-PHOTO", ""},
		{"64 runes", strings.Repeat("张", 64), ""},
		{"empty", "", "empty"},
		{"65 runes", strings.Repeat("张", 65), "65 characters"},
		{"invalid UTF-8", "张\xff三", "UTF-8"},
		{"truncated rune", "张\xe5\xbc", "UTF-8"},
		{"replacement character", "张\ufffd三", "U+FFFD"},
		{"NUL", "张\x00三", "U+0000"},
		{"newline", "张\n三", "U+000A"},
		{"tab", "张\t三", "U+0009"},
		{"DEL", "张\x7f", "U+007F"},
		{"C1 control", "张\u0085三", "U+0085"},
		{"C1 CSI", "张\u009b三", "U+009B"},
		{"RLO U+202E", "张\u202e三", "U+202E"},
		{"LRE U+202A", "\u202a张三", "U+202A"},
		{"LRI U+2066", "张三\u2066", "U+2066"},
		{"PDI U+2069", "张\u2069三", "U+2069"},
		{"LRM U+200E", "张\u200e三", "U+200E"},
		{"RLM U+200F", "张\u200f三", "U+200F"},
		{"ALM U+061C", "张\u061c三", "U+061C"},
		{"leading space", " 张三", "white space"},
		{"trailing space", "张三 ", "white space"},
		{"trailing ideographic space", "张三\u3000", "white space"},
		{"leading no-break space", "\u00a0张三", "white space"},
	} {
		err := ValidName(c.s)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.bad)
		case err != nil && c.s != "" && strings.Contains(err.Error(), c.s):
			t.Errorf("%s: the error %q repeats the text", c.name, err)
		}
	}
	if err := CheckText(strings.Repeat("长", MaxTextRunes), MaxTextRunes); err != nil {
		t.Errorf("text of %d runes: %v", MaxTextRunes, err)
	}
}

// FuzzValidName checks ValidName against a slower statement of its rules.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"张三", "", " ", "a", "张\u202e三", "\x00", "\xff", "a b", "a\u3000", strings.Repeat("x", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidName(s)
		rs := []rune(s)
		want := utf8.ValidString(s) && len(rs) >= 1 && len(rs) <= MaxNameRunes &&
			!unicode.IsSpace(rs[0]) && !unicode.IsSpace(rs[len(rs)-1])
		for _, r := range rs {
			if unicode.IsControl(r) || r == utf8.RuneError || strings.ContainsRune("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", r) {
				want = false
			}
		}
		if want != (err == nil) {
			t.Fatalf("ValidName(%q) = %v, want valid %v", s, err, want)
		}
	})
}

// Event.Check applies the same rules to the text an event carries.
func TestEventCheckText(t *testing.T) {
	base := Event{ID: "ev-1", Kind: EventRejection, At: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), Case: "case-1",
		Clerk: "窗口3 王丽", Material: "M-PHOTO", Criterion: "M-PHOTO-2", Reason: "背景不是白色"}
	if err := base.Check(); err != nil {
		t.Fatalf("a good rejection: %v", err)
	}
	for _, c := range []struct {
		name string
		mod  func(*Event)
		want string
	}{
		{"clerk with RLO", func(e *Event) { e.Clerk = "王\u202e丽" }, "clerk"},
		{"material with NUL", func(e *Event) { e.Material = "M-\x00PHOTO" }, "material"},
		{"criterion too long", func(e *Event) { e.Criterion = strings.Repeat("M", 65) }, "criterion"},
		{"reason with escape", func(e *Event) { e.Reason = "\x1b[2J" }, "reason"},
		{"reason too long", func(e *Event) { e.Reason = strings.Repeat("长", MaxTextRunes+1) }, "reason"},
		{"rating reason with C1", func(e *Event) {
			e.Kind, e.Material, e.Criterion, e.Reason = EventRating, "", "", ""
			e.Level, e.Channel, e.Reasons = 1, "pad", []string{"态度差\u0085"}
		}, "reason 0"},
	} {
		e := base
		c.mod(&e)
		if err := e.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", c.name, err, c.want)
		}
	}
}
