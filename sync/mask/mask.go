// Package mask hides personal data for screens, paper and logs (S19).
// Every place that shows a person's ID number or name to anyone but the
// person's own data record goes through here.
package mask

import "unicode/utf8"

// ID masks an identity-document number, keeping the first four and last
// four characters: 21020219900101123X → 2102**********123X. Numbers of
// eight characters or fewer are masked whole but for the last one.
func ID(id string) string {
	r := []rune(id)
	if len(r) <= 8 {
		if len(r) == 0 {
			return ""
		}
		return stars(len(r)-1) + string(r[len(r)-1])
	}
	return string(r[:4]) + stars(len(r)-8) + string(r[len(r)-4:])
}

// Name keeps the first character of a name: 张三 → 张*, 欧阳小明 → 欧***.
// Latin names keep their first letter too: SMITH JOHN → S*********.
func Name(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(name)
	if n == 1 {
		return "*"
	}
	return string(first) + stars(n-1)
}

func stars(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '*'
	}
	return string(b)
}
