package mask

import "testing"

func TestID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"21020219900101123X", "2102**********123X"},
		{"810000199001011234", "8100**********1234"},
		{"123456789", "1234*6789"},
		{"12345678", "*******8"},
		{"", ""},
	} {
		if got := ID(c.in); got != c.want {
			t.Errorf("ID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳小明", "欧***"},
		{"李", "*"},
		{"SMITH", "S****"},
		{"", ""},
	} {
		if got := Name(c.in); got != c.want {
			t.Errorf("Name(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
