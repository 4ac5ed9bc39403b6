package search

// The comparison with bleve lives only in this test file, so the appliance
// binaries never link bleve.

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"

	"yici/sync/catalog"
	"yici/sync/catalog/gen"
)

// bleveIndex indexes the same texts as New: each bundle's and item's name
// and synonyms, analysed by bleve's CJK analyzer (bigrams of Han
// characters, width folding, lower case), in memory.
func bleveIndex(tb testing.TB, c *catalog.Catalog) bleve.Index {
	tb.Helper()
	m := bleve.NewIndexMapping()
	m.DefaultAnalyzer = cjk.AnalyzerName
	idx, err := bleve.NewMemOnly(m)
	if err != nil {
		tb.Fatal(err)
	}
	type doc struct {
		Name     string   `json:"name"`
		Synonyms []string `json:"synonyms"`
	}
	b := idx.NewBatch()
	add := func(code, name string, syn []string) {
		if err := b.Index(code, doc{name, syn}); err != nil {
			tb.Fatal(err)
		}
		if b.Size() >= 1000 {
			if err := idx.Batch(b); err != nil {
				tb.Fatal(err)
			}
			b = idx.NewBatch()
		}
	}
	for _, bd := range c.Bundles {
		add(bd.Code, bd.Name, bd.Synonyms)
	}
	for _, it := range c.Items {
		add(it.Code, it.Name, it.Synonyms)
	}
	if err := idx.Batch(b); err != nil {
		tb.Fatal(err)
	}
	return idx
}

func bleveSearch(tb testing.TB, idx bleve.Index, q string, k int) []string {
	req := bleve.NewSearchRequestOptions(bleve.NewMatchQuery(q), k, 0, false)
	res, err := idx.Search(req)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

// TestRecallVsBleve: on the labelled set our recall@5 is at least bleve's.
func TestRecallVsBleve(t *testing.T) {
	c, ix := sampleIndex(t)
	bl := bleveIndex(t, c)
	defer bl.Close()
	qs := loadQueries(t)
	ours, _ := recallAt5(qs, func(q string) []string { return codes(ix.Search(q, 5)) })
	theirs, _ := recallAt5(qs, func(q string) []string { return bleveSearch(t, bl, q, 5) })
	t.Logf("recall@5 on %d labelled queries: yici %.3f, bleve %.3f", len(qs), ours, theirs)
	if ours < theirs {
		t.Errorf("recall@5 yici %.3f below bleve %.3f", ours, theirs)
	}
}

// The benchmark catalogue and queries, as the issue sets them: 50,000
// generated items and 1,000 mixed queries.
const (
	benchItems   = 50000
	benchQueries = 1000
)

type built struct {
	c                  *catalog.Catalog
	qs                 []gen.Query
	ours               *Index
	theirs             bleve.Index
	oursBuild, blBuild time.Duration
	oursHeap, blHeap   float64 // MB
}

var (
	oursOnce, bleveOnce sync.Once
	bench               built
)

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// setup builds our index once per run, and bleve's too when withBleve,
// measuring the time and the heap each one takes.
func setup(b *testing.B, withBleve bool) *built {
	oursOnce.Do(func() {
		bench.c = gen.Catalog(benchItems, 1)
		bench.qs = gen.Queries(bench.c, benchQueries, 2)
		h0 := heapMB()
		t0 := time.Now()
		bench.ours = New(bench.c)
		bench.oursBuild = time.Since(t0)
		bench.oursHeap = heapMB() - h0
	})
	if withBleve {
		bleveOnce.Do(func() {
			h0 := heapMB()
			t0 := time.Now()
			bench.theirs = bleveIndex(b, bench.c)
			bench.blBuild = time.Since(t0)
			bench.blHeap = heapMB() - h0
		})
	}
	return &bench
}

func mean(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum.Nanoseconds()) / 1e3 / float64(len(ds))
}

func pct(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Nanoseconds()) / 1e3
}

// BenchmarkVsBleve runs the 1,000 queries through both engines in each
// iteration and reports, from the same run: mean and percentile latency per
// query (µs), the speed-ups, build time and heap, and recall@5 — on the
// labelled sample set and on the generated queries (whose source item
// counts as the answer; generated names overlap heavily, so this is low
// for both).
func BenchmarkVsBleve(b *testing.B) {
	s := setup(b, true)
	var ours, theirs []time.Duration
	oursHit, blHit := 0, 0
	b.ResetTimer()
	// Each engine runs the whole query set in turn, so neither runs in
	// the other's cache and garbage.
	for range b.N {
		for _, q := range s.qs {
			t0 := time.Now()
			hs := s.ours.Search(q.Text, 5)
			ours = append(ours, time.Since(t0))
			if slices.Contains(codes(hs), q.Want) {
				oursHit++
			}
		}
		for _, q := range s.qs {
			t0 := time.Now()
			ids := bleveSearch(b, s.theirs, q.Text, 5)
			theirs = append(theirs, time.Since(t0))
			if slices.Contains(ids, q.Want) {
				blHit++
			}
		}
	}
	b.StopTimer()
	n := float64(b.N * len(s.qs))
	b.ReportMetric(pct(ours, 0.5), "yici-p50-µs")
	b.ReportMetric(pct(ours, 0.99), "yici-p99-µs")
	b.ReportMetric(pct(theirs, 0.5), "bleve-p50-µs")
	b.ReportMetric(pct(theirs, 0.99), "bleve-p99-µs")
	b.ReportMetric(mean(ours), "yici-mean-µs")
	b.ReportMetric(mean(theirs), "bleve-mean-µs")
	b.ReportMetric(mean(theirs)/mean(ours), "mean-speedup-ratio")
	b.ReportMetric(pct(theirs, 0.5)/pct(ours, 0.5), "p50-speedup-ratio")
	b.ReportMetric(pct(theirs, 0.99)/pct(ours, 0.99), "p99-speedup-ratio")
	b.ReportMetric(float64(s.oursBuild.Milliseconds()), "yici-build-ms")
	b.ReportMetric(float64(s.blBuild.Milliseconds()), "bleve-build-ms")
	b.ReportMetric(s.oursHeap, "yici-heap-MB")
	b.ReportMetric(s.blHeap, "bleve-heap-MB")
	b.ReportMetric(float64(oursHit)/n, "yici-gen-hit@5")
	b.ReportMetric(float64(blHit)/n, "bleve-gen-hit@5")

	c, ix := sampleIndex(b)
	bl := bleveIndex(b, c)
	defer bl.Close()
	qs := loadQueries(b)
	r1, _ := recallAt5(qs, func(q string) []string { return codes(ix.Search(q, 5)) })
	r2, _ := recallAt5(qs, func(q string) []string { return bleveSearch(b, bl, q, 5) })
	b.ReportMetric(r1, "yici-recall@5")
	b.ReportMetric(r2, "bleve-recall@5")
	if testing.Verbose() {
		fmt.Printf("%d items, %d queries: yici p50 %.1fµs p99 %.1fµs; bleve p50 %.1fµs p99 %.1fµs\n",
			benchItems, len(s.qs), pct(ours, 0.5), pct(ours, 0.99), pct(theirs, 0.5), pct(theirs, 0.99))
	}
}

// BenchmarkSearch is our engine alone, one query per op, on the same
// catalogue and queries.
func BenchmarkSearch(b *testing.B) {
	s := setup(b, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.ours.Search(s.qs[i%len(s.qs)].Text, 5)
	}
}

// BenchmarkBuild is the index build on the benchmark catalogue.
func BenchmarkBuild(b *testing.B) {
	s := setup(b, false)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		New(s.c)
	}
}
