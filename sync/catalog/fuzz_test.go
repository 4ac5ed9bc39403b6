package catalog

import (
	"encoding/json"
	"testing"
)

// FuzzParse feeds the decoder arbitrary bytes: it must never panic, and
// whatever it accepts must resolve every entry and survive a round trip, since
// terminals take catalogues from the network and from disk. The seed corpus
// is in testdata/fuzz/FuzzParse; run with go test -fuzz FuzzParse.
func FuzzParse(f *testing.F) {
	// Small catalogues only: mutating the 150 KB sample crawls at a few
	// runs a second. testdata/fuzz/FuzzParse covers each part of the format.
	b, _ := json.Marshal(base())
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		codes := []string{}
		for _, it := range c.Items {
			codes = append(codes, it.Code)
		}
		for _, b := range c.Bundles {
			codes = append(codes, b.Code)
		}
		for _, code := range codes {
			// Walk the tree taking the first choice each time, as far as it goes.
			var answers []string
			for range 64 {
				g, err := c.Resolve(code, answers)
				if err != nil {
					t.Fatalf("Resolve(%s, %v): %v", code, answers, err)
				}
				if g.Next == nil {
					break
				}
				answers = append(answers, g.Next.Choices[0].ID)
			}
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded catalogue fails: %v", err)
		}
		if c2.Revision != c.Revision || len(c2.Items) != len(c.Items) || len(c2.Bundles) != len(c.Bundles) {
			t.Fatal("round trip changed the catalogue")
		}
	})
}
