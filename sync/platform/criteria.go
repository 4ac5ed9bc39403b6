package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"yici/sync/catalog"
)

// revisions remembers what the server has learnt of published catalogue
// revisions. A revision never changes once published, so nothing in it is
// ever invalidated.
type revisions struct {
	mu       sync.Mutex
	held     map[int]bool                       // revisions known to be published
	criteria map[int]map[string]map[string]bool // revision → material code → criterion ids
}

// errNoRevision: the revision asked about has not been published.
var errNoRevision = errors.New("catalogue revision not published")

// publishedRevision reports whether catalogue revision rev is published
// (false, nil when it is not).
func (s *Server) publishedRevision(ctx context.Context, rev int) (bool, error) {
	if rev < 1 {
		return false, nil
	}
	s.revs.mu.Lock()
	known := s.revs.held[rev]
	s.revs.mu.Unlock()
	if known {
		return true, nil
	}
	_, err := s.st.GetCatalog(ctx, rev)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.revs.mu.Lock()
	if s.revs.held == nil {
		s.revs.held = map[int]bool{}
	}
	s.revs.held[rev] = true
	s.revs.mu.Unlock()
	return true, nil
}

// criteriaOf returns the review criteria of each material code in
// catalogue revision rev: the library's, the items' and those of materials
// that answers to a guide's questions add. The error wraps errNoRevision
// when rev is not published.
func (s *Server) criteriaOf(ctx context.Context, rev int) (map[string]map[string]bool, error) {
	s.revs.mu.Lock()
	idx, ok := s.revs.criteria[rev]
	s.revs.mu.Unlock()
	if ok {
		return idx, nil
	}
	if rev < 1 {
		return nil, fmt.Errorf("catalogue revision %d: %w", rev, errNoRevision)
	}
	doc, err := s.st.GetCatalog(ctx, rev)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("catalogue revision %d: %w", rev, errNoRevision)
	}
	if err != nil {
		return nil, err
	}
	c, err := catalog.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("published catalogue revision %d does not parse: %w", rev, err)
	}
	idx = criteriaIndex(c)
	s.revs.mu.Lock()
	if s.revs.criteria == nil {
		s.revs.criteria = map[int]map[string]map[string]bool{}
	}
	s.revs.criteria[rev] = idx
	s.revs.mu.Unlock()
	return idx, nil
}

func criteriaIndex(c *catalog.Catalog) map[string]map[string]bool {
	idx := map[string]map[string]bool{}
	add := func(ms []catalog.Material) {
		for _, m := range ms {
			if idx[m.Code] == nil {
				idx[m.Code] = map[string]bool{}
			}
			for _, cr := range m.Criteria {
				idx[m.Code][cr.ID] = true
			}
		}
	}
	tree := func(t *catalog.Tree) {
		if t == nil {
			return
		}
		for _, q := range t.Questions {
			for _, ch := range q.Choices {
				add(ch.AddMaterials)
			}
		}
	}
	add(c.Materials)
	for _, it := range c.Items {
		add(it.Materials)
		tree(it.Questions)
	}
	for _, b := range c.Bundles {
		tree(b.Questions)
	}
	return idx
}
