package printer

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		p, o, s byte
		want    Status
		ready   bool
		says    string
	}{
		{"ready", 0x12, 0x12, 0x12, Status{}, true, "ready"},
		{"near end", 0x12, 0x12, 0x1E, Status{PaperNearEnd: true}, true, "paper near end"},
		{"paper out", 0x1A, 0x32, 0x72, Status{Offline: true, PaperOut: true}, false, "缺纸：请装入打印纸 / paper out: load paper"},
		{"paper out on n=4 only", 0x12, 0x12, 0x72, Status{PaperOut: true}, false, "paper out"},
		{"cover open", 0x1A, 0x16, 0x12, Status{Offline: true, CoverOpen: true}, false, "cover open: close the printer cover"},
		{"offline alone", 0x1A, 0x12, 0x12, Status{Offline: true}, false, "offline: check its power"},
		{"waiting recovery", 0x3A, 0x12, 0x12, Status{Offline: true, WaitingRecovery: true}, false, "offline"},
		{"error", 0x1A, 0x52, 0x12, Status{Offline: true, Error: true}, false, "printer error"},
		{"drawer and feed button bits ignored", 0x56, 0x1A, 0x12, Status{}, true, "ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(tt.p, tt.o, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Raw = [3]byte{tt.p, tt.o, tt.s}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.Ready() != tt.ready {
				t.Errorf("Ready() = %v", got.Ready())
			}
			if !strings.Contains(got.String(), tt.says) {
				t.Errorf("String() = %q, want it to say %q", got.String(), tt.says)
			}
		})
	}
}

// A cover open or paper out also sets offline; the clerk is told the
// cause, not to check the cable.
func TestStatusStringNamesCause(t *testing.T) {
	s := Status{Offline: true, PaperOut: true, PaperNearEnd: true}
	if got := s.String(); strings.Contains(got, "offline") || strings.Contains(got, "near end") {
		t.Errorf("String() = %q: should name only paper out", got)
	}
}

func TestParseStatusFixedBits(t *testing.T) {
	tests := []struct {
		name    string
		p, o, s byte
		want    string
	}{
		{"bit 1 clear", 0x10, 0x12, 0x12, "DLE EOT 1 reply 0x10"},
		{"bit 4 clear", 0x12, 0x02, 0x12, "DLE EOT 2 reply 0x02"},
		{"bit 0 set", 0x12, 0x12, 0x13, "DLE EOT 4 reply 0x13"},
		{"bit 7 set", 0x92, 0x12, 0x12, "DLE EOT 1 reply 0x92"},
		{"zero", 0x00, 0x12, 0x12, "DLE EOT 1 reply 0x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatus(tt.p, tt.o, tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add(byte(0x12), byte(0x12), byte(0x12))
	f.Fuzz(func(t *testing.T, p, o, s byte) {
		st, err := ParseStatus(p, o, s)
		valid := p&0x93 == 0x12 && o&0x93 == 0x12 && s&0x93 == 0x12
		if (err == nil) != valid {
			t.Fatalf("ParseStatus(%#x, %#x, %#x) err = %v, fixed bits valid = %v", p, o, s, err, valid)
		}
		if err != nil {
			return
		}
		if st.Raw != [3]byte{p, o, s} {
			t.Fatalf("Raw = % x", st.Raw)
		}
		if st.String() == "" {
			t.Fatal("empty String()")
		}
		if st.Ready() == (st.PaperOut || st.CoverOpen || st.Offline || st.Error) {
			t.Fatalf("Ready() = %v for %+v", st.Ready(), st)
		}
	})
}
