package sim

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"yici/drivers/idcard"
	"yici/drivers/serialport"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The simulator answers with the very bytes captured from real readers,
// and rejects bad host frames as a SAM does.
func TestIDCardBytes(t *testing.T) {
	s, err := NewIDCard()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := serialport.Open(s.Path(), serialport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	card := idcard.Card{
		Type: idcard.Resident, Name: "张三", Gender: "男", Nation: "汉", Birth: "19880504",
		Address: "辽宁省大连市中山区人民路1号", IDNumber: "21020219880504123X",
		Authority: "大连市公安局中山分局", ValidFrom: "20150601", ValidTo: "20350601",
	}
	steps := []struct {
		name, send, want string
		place            bool
	}{
		{"find, no card", "AAAAAA9669 0003 2001 22", "AAAAAA9669 0004 000080 84", false},
		{"bad checksum", "AAAAAA9669 0003 2001 23", "AAAAAA9669 0004 000010 14", false},
		{"length too short", "AAAAAA9669 0001 20", "AAAAAA9669 0004 000011 15", false},
		{"unknown command", "AAAAAA9669 0003 7701 75", "AAAAAA9669 0004 000021 25", false},
		{"garbage, then find", "0102 AAAAAA9669 0003 2001 22", "AAAAAA9669 0008 00009F 00000000 97", true},
		{"select", "AAAAAA9669 0003 2002 21", "AAAAAA9669 000C 000090 0000000000000000 9C", false},
		{"read", "AAAAAA9669 0003 3001 32", "AAAAAA9669 0508 000090 0100 0400", false},
		{"find after read", "AAAAAA9669 0003 2001 22", "AAAAAA9669 0004 000080 84", false},
		{"read without select", "AAAAAA9669 0003 3001 32", "AAAAAA9669 0004 000041 45", false},
	}
	for _, st := range steps {
		if st.place {
			s.Place(card)
		}
		if _, err := p.Write(unhex(t, st.send)); err != nil {
			t.Fatal(err)
		}
		want := unhex(t, st.want)
		n := len(want)
		if st.name == "read" {
			n = 1295
		}
		got := make([]byte, n)
		if err := serialport.ReadFull(p, got, time.Second); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !bytes.Equal(got[:len(want)], want) {
			t.Errorf("%s: got % X, want % X", st.name, got[:len(want)], want)
		}
		if st.name == "read" {
			text, _ := idcard.EncodeText(&card)
			if !bytes.Equal(got[14:270], text) || got[1294] != idcard.Checksum(got[5:1294]) {
				t.Errorf("read: text block or CHK wrong")
			}
		}
	}
}
