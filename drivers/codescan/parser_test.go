package codescan

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// run feeds in to a parser in chunks of chunk bytes and gives each line's
// code, or its error text after a NUL, which no code can hold.
func run(p parser, in []byte, chunk int) []string {
	var got []string
	for off := 0; off < len(in); {
		b := in[off:min(off+chunk, len(in))]
		off += len(b)
		for len(b) > 0 {
			n, code, ended, err := p.feed(b)
			b = b[n:]
			switch {
			case err != nil:
				got = append(got, "\x00"+err.Error())
			case ended:
				got = append(got, code)
			}
		}
	}
	return got
}

func TestParser(t *testing.T) {
	crlf := []byte("\r\n")
	for _, c := range []struct {
		name           string
		prefix, suffix []byte
		max            int
		in             string
		want           []string
	}{
		{"CR LF", nil, crlf, 64, "ABC123\r\nXYZ\r\n", []string{"ABC123", "XYZ"}},
		{"CR alone", nil, crlf, 64, "ABC123\rXYZ\r", []string{"ABC123", "XYZ"}},
		{"LF alone", nil, crlf, 64, "ABC123\nXYZ\n", []string{"ABC123", "XYZ"}},
		{"blank lines skipped", nil, crlf, 64, "\r\n\r\n\nA\r\r\n", []string{"A"}},
		{"unterminated tail waits", nil, crlf, 64, "A\r\nB", []string{"A"}},
		{"Chinese and spaces", nil, crlf, 64, "电子证照 No.1\r\n", []string{"电子证照 No.1"}},
		{"URL", nil, crlf, 64, "https://example.gov.cn/v?c=9f3a&t=1\r\n", []string{"https://example.gov.cn/v?c=9f3a&t=1"}},
		{"exactly max", nil, crlf, 4, "ABCD\r\n", []string{"ABCD"}},
		{"over max, then fine", nil, crlf, 4, "ABCDE\r\nOK\r\n", []string{"\x00codescan: line too long: 5 bytes before the suffix, over 4; discarded", "OK"}},
		{"far over max", nil, crlf, 4, strings.Repeat("9", 5000) + "\n", []string{"\x00codescan: line too long: 5000 bytes before the suffix, over 4; discarded"}},
		{"BEL", nil, crlf, 64, "AB\aC\r\n", []string{"\x00" + `codescan: non-printable byte: U+0007 at offset 2 of "AB\aC"; discarded`}},
		{"NUL", nil, crlf, 64, "\x00\r\n", []string{"\x00" + `codescan: non-printable byte: U+0000 at offset 0 of "\x00"; discarded`}},
		{"DEL", nil, crlf, 64, "A\x7f\r\n", []string{"\x00" + `codescan: non-printable byte: U+007F at offset 1 of "A\x7f"; discarded`}},
		{"GBK bytes", nil, crlf, 64, "\xc9\xed\xb7\xdd\r\n", []string{"\x00" + `codescan: non-printable byte: 0xC9 at offset 0 of "\xc9\xed\xb7\xdd" is not UTF-8; discarded`}},
		{"ideographic space is not printable", nil, crlf, 64, "A\u3000B\r\n", []string{"\x00" + `codescan: non-printable byte: U+3000 at offset 1 of "A\u3000B"; discarded`}},
		{"prefix stripped", []byte{0x01}, []byte{0x0D}, 64, "\x01CODE\r\x01X\r", []string{"CODE", "X"}},
		{"prefix missing", []byte{0x01}, []byte{0x0D}, 64, "CODE\r", []string{"\x00" + `codescan: prefix missing: "CODE" does not start with "\x01"; discarded`}},
		{"prefix alone is empty", []byte{0x01}, []byte{0x0D}, 64, "\x01\r\x01Y\r", []string{"Y"}},
		{"over max with prefix", []byte("]Q"), crlf, 3, "]QABCD\r\n]QABC\r\n", []string{"\x00codescan: line too long: 6 bytes before the suffix, over 5; discarded", "ABC"}},
		{"custom two-byte suffix", nil, []byte("#!"), 64, "A#B#!C#!", []string{"A#B", "C"}},
		{"custom suffix: CR is a bad byte", nil, []byte("#!"), 64, "A\rB#!", []string{"\x00" + `codescan: non-printable byte: U+000D at offset 1 of "A\rB"; discarded`}},
		{"custom suffix, over max", nil, []byte("#!"), 2, "ABCDEFG#!OK#!", []string{"\x00codescan: line too long: 7 bytes before the suffix, over 2; discarded", "OK"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 3, 1 << 20} {
				got := run(newParser(c.prefix, c.suffix, c.max), []byte(c.in), chunk)
				if strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Fatalf("chunks of %d: got %q, want %q", chunk, got, c.want)
				}
			}
		})
	}
}

// FuzzParser: for any stream, every code is non-empty, within the maximum,
// printable UTF-8 and present in the input; how the stream is split into
// reads does not change the result; nothing panics.
func FuzzParser(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, cfg := range []struct{ prefix, suffix []byte }{
			{nil, []byte("\r\n")},
			{[]byte{0x01}, []byte{0x0D}},
			{nil, []byte("##")},
		} {
			whole := run(newParser(cfg.prefix, cfg.suffix, 16), in, len(in)+1)
			if byByte := run(newParser(cfg.prefix, cfg.suffix, 16), in, 1); strings.Join(byByte, "\n") != strings.Join(whole, "\n") {
				t.Fatalf("byte by byte %q, whole %q", byByte, whole)
			}
			for _, code := range whole {
				if strings.HasPrefix(code, "\x00") {
					continue
				}
				if code == "" || len(code) > 16 || !utf8.ValidString(code) || strings.IndexFunc(code, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
					t.Fatalf("code %q passed", code)
				}
				if !bytes.Contains(in, append(bytes.Clone(cfg.prefix), code...)) {
					t.Fatalf("code %q is not in the input", code)
				}
			}
		}
	})
}

func BenchmarkParser(b *testing.B) {
	in := []byte(strings.Repeat("https://example.gov.cn/v?c=9f3a0b7e2d&t=1\r\n", 100))
	b.SetBytes(int64(len(in)))
	p := newParser(nil, []byte("\r\n"), 1024)
	for b.Loop() {
		for rest := in; len(rest) > 0; {
			n, _, _, err := p.feed(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}
