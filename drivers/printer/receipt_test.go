package printer

import (
	"reflect"
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		name  string
		s     string
		width int
		hang  int
		want  []string
	}{
		{"fits", "居民身份证", 10, 0, []string{"居民身份证"}},
		{"breaks by columns", "居民身份证", 6, 0, []string{"居民身", "份证"}},
		{"ASCII takes one column", "ab居民", 5, 0, []string{"ab居", "民"}},
		{"hanging indent", "1. 房屋买卖合同", 10, 3, []string{"1. 房屋买", "   卖合同"}},
		{"punctuation does not start a line", "一二三。四", 6, 0, []string{"一二", "三。四"}},
		{"a character wider than the line stays", "居", 1, 0, []string{"居"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.s, tt.width, tt.hang)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, l := range got {
				if Width(l) > tt.width && len([]rune(l)) > 1 {
					t.Errorf("line %q is %d columns, over %d", l, Width(l), tt.width)
				}
			}
		})
	}
}

func TestReceiptRefusesUnknownState(t *testing.T) {
	d := sampleData()
	d.Materials = append(d.Materials, ReceiptMaterial{"户口簿", "收到"})
	if _, err := Receipt(d); err == nil || !strings.Contains(err.Error(), `"收到"`) {
		t.Fatalf("err = %v, want the bad state named", err)
	}
}

func TestReceiptRefusesControlCharacters(t *testing.T) {
	d := sampleData()
	d.Applicant = "张\x1bi" // ESC i would cut the paper mid-receipt
	if _, err := Receipt(d); err == nil || !strings.Contains(err.Error(), "U+001B") {
		t.Fatalf("err = %v, want the control character refused", err)
	}
}

// A hall name too long for double width keeps double height only.
func TestReceiptLongHallName(t *testing.T) {
	d := sampleData()
	d.Hall = "示例省示例市示例区政务服务中心第二分中心"
	doc, err := Receipt(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc.Bytes()), "\x1d!\x01\x1c!\x08") {
		t.Error("long hall name not set in double height only")
	}
}
