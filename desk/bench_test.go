package desk

import (
	"context"
	"testing"
	"time"

	"yici/drivers/idcard"
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
