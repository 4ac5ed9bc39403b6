package desk

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"yici/drivers/docscan"
	"yici/drivers/idcard"
	"yici/sync/store"
	"yici/sync/wire"
)

// BenchmarkCardToChecklist measures the clerk's wait from a card read at
// the window to the case's checklist and page on screen (Meet: the
// person's cases found, the one there opened: manifest, catalogue, vault,
// page), against the same platform reads made bare in the same run.
func BenchmarkCardToChecklist(b *testing.B) {
	h := newHall(b, nil)
	ctx := context.Background()
	m := h.putCase("20261127-090000-0009", 2, []string{"GA-0101"},
		map[string][]byte{"M-ID-OLD": page(200), "M-PHOTO": page(120)}, "M-HUKOU")
	h.signIn()
	card := &idcard.Card{Name: "张三", IDNumber: zhangSan}
	var full, bare time.Duration
	for b.Loop() {
		start := time.Now()
		if err := h.d.Meet(ctx, card); err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
		if h.d.rv.v == nil || len(h.d.rv.v.Checklist()) == 0 {
			b.Fatal("no checklist on screen")
		}

		start = time.Now()
		if _, err := h.cl.CasesOf(ctx, zhangSan); err != nil {
			b.Fatal(err)
		}
		got, err := h.cl.Case(ctx, m.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.cl.Vault(ctx, zhangSan); err != nil {
			b.Fatal(err)
		}
		for _, r := range got.Materials {
			if !r.Exempt {
				if _, err := h.cl.Blob(ctx, m.ID, r.SHA256, maxPage); err != nil {
					b.Fatal(err)
				}
			}
		}
		bare += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(full.Microseconds())/n/1000, "ms-card-to-checklist")
	b.ReportMetric(float64(bare.Microseconds())/n/1000, "ms-platform-reads")
	b.ReportMetric(float64(full)/float64(bare), "ratio")
}

// BenchmarkStackToStore measures the window's capture path at the rate a
// clerk's scanner feeds it: a stack of 10 simulated A4 pages (150 dpi;
// rendered once, so the scanner itself costs nothing here) is scanned,
// bound per material as the intake binds it (two pages to a material: one
// PDF) and made durable through the encrypted store (seal, bbolt commit,
// fsync). It reports pages a minute made durable and their ratio to a
// 60-page-a-minute feeder: at 1 or more the store never holds the
// scanner back.
func BenchmarkStackToStore(b *testing.B) {
	st, err := store.OpenWithKeyFile(filepath.Join(b.TempDir(), "desk.db"), filepath.Join(b.TempDir(), "desk.key"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const stack, ppm = 10, 60
	sc := docscan.Simulated{Pages: stack}
	ctx := context.Background()
	var pages int
	var spent time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("W01-bench-%d", i)
		if err := st.SaveCase(wire.Manifest{ID: id, CatalogRevision: 2, Items: []string{"GA-0101"},
			Applicant: wire.Applicant{Name: "张三", IDNumber: zhangSan}}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ps, err := sc.Scan(ctx, docscan.Options{MaxPages: stack})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j+1 < len(ps); j += 2 {
			data, ct, err := docscan.Bind(ps[j : j+2])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Capture(id, wire.MaterialRef{Code: fmt.Sprintf("M-%d", j/2), ContentType: ct}, data); err != nil {
				b.Fatal(err)
			}
		}
		spent += time.Since(start)
		pages += len(ps)
		if err := st.DiscardCase(id); err != nil {
			b.Fatal(err)
		}
	}
	perMinute := float64(pages) / spent.Minutes()
	b.ReportMetric(perMinute, "pages/min-durable")
	b.ReportMetric(perMinute/ppm, "ratio-to-60ppm")
}
