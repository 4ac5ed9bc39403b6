package evalpad

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// The worked examples of docs/evalpad-protocol.md, whose CRCs were checked
// with an independent bit-by-bit implementation.
const (
	exHeartbeat = "02 0000 13 01 C2C1 03"
	exAck       = "02 0000 06 01 3E47 03"
	exRatingPay = `{"ask":2,"case_no":"DL2026000123","level":4,"reasons":[3]}`
	exRating    = "02 003A 20 01 " +
		"7B2261736B223A322C22636173655F6E6F223A22444C32303236303030313233222C226C6576656C223A342C22726561736F6E73223A5B335D7D" +
		" 31E7 03"
)

func TestCRC16(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint16
	}{
		{"123456789", 0x29B1}, // the catalogue's check value
		{"", 0xFFFF},
		{"\x00\x00\x13\x01", 0xC2C1},
	} {
		if got := CRC16([]byte(c.in)); got != c.want {
			t.Errorf("CRC16(%q) = 0x%04X, want 0x%04X", c.in, got, c.want)
		}
	}
}

func TestAppendFrame(t *testing.T) {
	for _, c := range []struct {
		f    Frame
		want string
	}{
		{Frame{Type: TypeHeartbeat, Seq: 1}, exHeartbeat},
		{Frame{Type: TypeAck, Seq: 1}, exAck},
		{Frame{Type: TypeRating, Seq: 1, Payload: []byte(exRatingPay)}, exRating},
	} {
		if got := AppendFrame(nil, c.f); !bytes.Equal(got, unhex(c.want)) {
			t.Errorf("%v: got % X, want %s", c.f.Type, got, c.want)
		}
	}
}

func TestCut(t *testing.T) {
	rating := unhex(exRating)
	badCRC := bytes.Clone(rating)
	badCRC[len(badCRC)-2] ^= 0xFF
	for _, c := range []struct {
		name string
		in   []byte
		want []string // what successive Cut calls give, until one needs more bytes: a type, or error text
		rest int      // bytes left over
	}{
		{"one frame", unhex(exHeartbeat), []string{"HEARTBEAT"}, 0},
		{"two frames", unhex(exHeartbeat + exAck), []string{"HEARTBEAT", "ACK"}, 0},
		{"garbage first", unhex("FF 00 41 " + exAck), []string{"ACK"}, 0},
		{"payload", rating, []string{"RATING"}, 0},
		{"half a frame", rating[:20], nil, 20},
		{"header only", unhex("02 00"), nil, 2},
		{"garbage only", unhex("41 42 43"), nil, 0},
		{"bad crc", badCRC, []string{"evalpad: frame: crc 0x3118, want 0x31E7"}, 0},
		{"misplaced ETX, frame behind it", unhex("02 0001 " + exAck), []string{"evalpad: frame: byte 0x3E where ETX belongs", "ACK"}, 0},
		{"length over max", unhex("02 0401 " + exHeartbeat), []string{"length 1025, over 1024", "HEARTBEAT"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			buf := c.in
			var got []string
			for {
				f, n, err := Cut(buf)
				buf = buf[n:]
				switch {
				case err != nil:
					var fe *FrameError
					if !errors.As(err, &fe) {
						t.Fatalf("error %v is not a *FrameError", err)
					}
					got = append(got, err.Error())
					continue
				case f != nil:
					got = append(got, f.Type.String())
					continue
				}
				break
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("cut %d: got %q, want it to contain %q", i, got[i], w)
				}
			}
			if len(buf) != c.rest {
				t.Errorf("%d bytes left, want %d", len(buf), c.rest)
			}
		})
	}
}

// FuzzCut: any bytes give frames that were in the input, re-encode to
// themselves, and carry bodies that decode or fail cleanly; Cut always
// makes progress or asks for more, and never panics.
func FuzzCut(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := in
		for range len(in) + 1 {
			fr, n, err := Cut(buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("consumed %d of %d bytes", n, len(buf))
			}
			buf = buf[n:]
			if fr == nil && err == nil {
				if len(buf) > 0 && buf[0] != STX {
					t.Fatalf("stopped at 0x%02X, not at an STX", buf[0])
				}
				return
			}
			if fr == nil {
				continue
			}
			if len(fr.Payload) > MaxPayload {
				t.Fatalf("payload of %d bytes", len(fr.Payload))
			}
			if enc := AppendFrame(nil, *fr); !bytes.Contains(in, enc) {
				t.Fatalf("frame % X is not in the input", enc)
			}
			var r RatingBody
			if Decode(fr.Payload, &r) == nil && (!r.Level.Valid() || r.Level.Poor() != (len(r.Reasons) > 0)) {
				t.Fatalf("invalid rating %+v passed", r)
			}
			var p Prompt
			if Decode(fr.Payload, &p) == nil && (p.CaseNo == "" || p.Validate() != nil) {
				t.Fatalf("invalid prompt %+v passed", p)
			}
		}
		t.Fatal("more cuts than input bytes")
	})
}

func BenchmarkCut(b *testing.B) {
	in := unhex(exRating)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if f, _, err := Cut(in); f == nil || err != nil {
			b.Fatal(f, err)
		}
	}
}

func BenchmarkCutAndDecodeRating(b *testing.B) {
	in := unhex(exRating)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		f, _, _ := Cut(in)
		var r RatingBody
		if err := Decode(f.Payload, &r); err != nil {
			b.Fatal(err)
		}
	}
}
