package catalog

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
)

// Live is the catalogue a running terminal or desk works from. The platform
// publishes revisions, uploader.SyncCatalog fetches them into the store's
// cache, and Update swaps a newer one in without a restart, while a case
// already started keeps the *Catalog (and so the revision) it began with (S3).
type Live struct {
	cur  atomic.Pointer[Catalog]
	mu   sync.Mutex // serialises Update and the watchers list
	subs []func(*Catalog)
}

// NewLive starts from c, typically the cached or the embedded catalogue.
func NewLive(c *Catalog) *Live {
	l := &Live{}
	l.cur.Store(c)
	return l
}

// Current is the latest revision; safe from any goroutine.
func (l *Live) Current() *Catalog { return l.cur.Load() }

// OnUpdate registers f to be called, after the swap, with each new revision
// (the kiosk redraws its home screen, the search index is rebuilt).
func (l *Live) OnUpdate(f func(*Catalog)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs = append(l.subs, f)
}

// Update decodes data and makes it current if its revision is newer. An
// older or equal revision is ignored (a late reply from the platform must
// not roll a terminal back); an invalid catalogue is an error and leaves the
// current one in place.
func (l *Live) Update(data []byte) (swapped bool, err error) {
	c, err := Parse(data)
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.cur.Load(); old != nil && c.Revision <= old.Revision {
		return false, nil
	}
	l.cur.Store(c)
	for _, f := range l.subs {
		f(c)
	}
	return true, nil
}

// Changes lists what a new revision changed, by item and bundle code, for
// the terminal's log and the platform's publication notice.
type Changes struct {
	Added, Removed, Changed []string
}

// Diff compares two revisions.
func Diff(old, new *Catalog) Changes {
	var ch Changes
	before := entries(old)
	after := entries(new)
	for code, a := range after {
		b, ok := before[code]
		switch {
		case !ok:
			ch.Added = append(ch.Added, code)
		case b != a:
			ch.Changed = append(ch.Changed, code)
		}
	}
	for code := range before {
		if _, ok := after[code]; !ok {
			ch.Removed = append(ch.Removed, code)
		}
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Removed)
	sort.Strings(ch.Changed)
	return ch
}

// entries maps each item and bundle code to its canonical JSON, which is
// what "changed" means to an applicant: any element of the guide.
func entries(c *Catalog) map[string]string {
	m := map[string]string{}
	for i := range c.Items {
		b, _ := json.Marshal(&c.Items[i])
		m[c.Items[i].Code] = string(b)
	}
	for i := range c.Bundles {
		b, _ := json.Marshal(&c.Bundles[i])
		m[c.Bundles[i].Code] = string(b)
	}
	return m
}
