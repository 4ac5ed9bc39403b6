package platform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"yici/sync/catalog"
)

// revisions remembers what the server has learnt of published catalogue
// revisions. A revision never changes once published, so nothing in it is
// ever invalidated.
type revisions struct {
	mu        sync.Mutex
	held      map[int]bool                         // revisions known to be published
	materials map[int]map[string]*catalog.Material // revision → material code → its definition
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

// materialsOf returns every material of catalogue revision rev by code:
// the library's, the items' and those that answers to a guide's questions
// add. The error wraps errNoRevision when rev is not published.
func (s *Server) materialsOf(ctx context.Context, rev int) (map[string]*catalog.Material, error) {
	s.revs.mu.Lock()
	idx, ok := s.revs.materials[rev]
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
	idx = materialIndex(c)
	s.revs.mu.Lock()
	if s.revs.materials == nil {
		s.revs.materials = map[int]map[string]*catalog.Material{}
	}
	s.revs.materials[rev] = idx
	s.revs.mu.Unlock()
	return idx, nil
}

// criteriaOf returns the criterion ids of material code in revision rev,
// and whether the revision has the material at all.
func (s *Server) criteriaOf(ctx context.Context, rev int, code string) ([]string, bool, error) {
	idx, err := s.materialsOf(ctx, rev)
	if err != nil {
		return nil, false, err
	}
	m, ok := idx[code]
	if !ok {
		return nil, false, nil
	}
	ids := make([]string, len(m.Criteria))
	for i, c := range m.Criteria {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	return ids, true, nil
}

// materialIndex maps each material code of c to its first definition; the
// library's comes first, so a shared material is defined once.
func materialIndex(c *catalog.Catalog) map[string]*catalog.Material {
	idx := map[string]*catalog.Material{}
	add := func(ms []catalog.Material) {
		for i := range ms {
			if _, ok := idx[ms[i].Code]; !ok {
				idx[ms[i].Code] = &ms[i]
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
