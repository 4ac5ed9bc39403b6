package gen

import (
	"encoding/json"
	"testing"

	"yici/sync/catalog"
)

func TestCatalogIsValidAndRepeatable(t *testing.T) {
	for _, n := range []int{2, 100, 5000} {
		c := Catalog(n, 7)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := catalog.Parse(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(got.Items) != n || len(got.Bundles) != n/50 {
			t.Errorf("n=%d: %d items, %d bundles", n, len(got.Items), len(got.Bundles))
		}
		b2, _ := json.Marshal(Catalog(n, 7))
		if string(b) != string(b2) {
			t.Errorf("n=%d: the same seed made a different catalogue", n)
		}
	}
}

func TestQueries(t *testing.T) {
	c := Catalog(500, 1)
	qs := Queries(c, 300, 2)
	kinds := map[string]int{}
	for _, q := range qs {
		kinds[q.Kind]++
		if q.Text == "" {
			t.Errorf("empty query for %s", q.Want)
		}
		if _, ok := c.Item(q.Want); !ok {
			if _, ok := c.Bundle(q.Want); !ok {
				t.Errorf("query %q wants unknown %s", q.Text, q.Want)
			}
		}
	}
	if len(qs) != 300 || len(kinds) != 7 {
		t.Errorf("%d queries of kinds %v", len(qs), kinds)
	}
}
