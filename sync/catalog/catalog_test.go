package catalog

import (
	"bytes"
	"strings"
	"testing"

	"yici/assets"
)

func TestSampleDecodes(t *testing.T) {
	c, err := Decode(bytes.NewReader(assets.SampleCatalog))
	if err != nil {
		t.Fatal(err)
	}
	it, ok := c.Item("GA-0101")
	if !ok || it.Name != "居民身份证换领" {
		t.Fatalf("Item(GA-0101) = %v, %v", it, ok)
	}
}

func TestDecodeRejects(t *testing.T) {
	crit := `"criteria":[{"id":"A-1","text":"t"}]`
	for _, c := range []struct{ name, json, want string }{
		{"no revision", `{"items":[]}`, "revision 0"},
		{"duplicate item", `{"revision":1,"items":[{"code":"X","name":"x"},{"code":"X","name":"y"}]}`, "item X: duplicate code"},
		{"material without criteria", `{"revision":1,"items":[{"code":"X","name":"x","materials":[{"code":"A","name":"a"}]}]}`, "no review criteria"},
		{"duplicate material", `{"revision":1,"items":[{"code":"X","name":"x","materials":[{"code":"A","name":"a",` + crit + `},{"code":"A","name":"a",` + crit + `}]}]}`, "material A: duplicate"},
		{"unknown field", `{"revision":1,"itemz":[]}`, "unknown field"},
	} {
		_, err := Decode(strings.NewReader(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}
