package catalog

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"yici/assets"
)

// withRevision is the sample under another revision number.
func withRevision(t *testing.T, rev int) []byte {
	t.Helper()
	return bytes.Replace(assets.SampleCatalog, []byte(`"revision": 2,`), []byte(`"revision": `+strconv.Itoa(rev)+`,`), 1)
}

func TestLiveUpdate(t *testing.T) {
	l := NewLive(sample(t))
	var seen []int
	l.OnUpdate(func(c *Catalog) { seen = append(seen, c.Revision) })
	for _, tc := range []struct {
		data    []byte
		swapped bool
		err     string
		current int
	}{
		{withRevision(t, 1), false, "", 2}, // older: a late reply must not roll back
		{withRevision(t, 2), false, "", 2},
		{[]byte(`{"revision": 9, "items": [{}]}`), false, "item #1: code is required", 2},
		{withRevision(t, 3), true, "", 3},
	} {
		swapped, err := l.Update(tc.data)
		if swapped != tc.swapped || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Update: swapped %v, err %v; want %v, %q", swapped, err, tc.swapped, tc.err)
		}
		if got := l.Current().Revision; got != tc.current {
			t.Errorf("current revision %d, want %d", got, tc.current)
		}
	}
	if !reflect.DeepEqual(seen, []int{3}) {
		t.Errorf("watchers saw %v", seen)
	}
}

func TestDiff(t *testing.T) {
	old := sample(t)
	c2 := sample(t)
	c2.Items[0].PromisedDays = 1
	c2.Items = c2.Items[:len(c2.Items)-1]
	c2.Bundles = append(c2.Bundles, Bundle{Code: "B-NEW", Name: "新一件事"})
	got := Diff(old, c2)
	want := Changes{Added: []string{"B-NEW"}, Removed: []string{old.Items[len(old.Items)-1].Code}, Changed: []string{"GA-0101"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %+v, want %+v", got, want)
	}
}
