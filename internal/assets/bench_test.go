package assets_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// BenchmarkScanLatency50 measures the latency of one scan while 50 scanners
// scan the same session at once, on each engine. Each iteration is a round of
// 50 goroutines × 20 scans of distinct assets (so every scan is a real
// "found" write); p50 and p99 are reported over all rounds.
//
//	go test -run '^$' -bench ScanLatency50 -benchtime 3x ./internal/assets/
func BenchmarkScanLatency50(b *testing.B) {
	const scanners, perScanner = 50, 20
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			f := storetest.NewFixture(b, db)
			ctx := f.Ctx
			rounds := b.N
			var csv strings.Builder
			csv.WriteString("tag,name\n")
			for i := 0; i < rounds*scanners*perScanner; i++ {
				fmt.Fprintf(&csv, "B-%06d,Bench asset %d\n", i, i)
			}
			if _, err := assets.ImportAssets(ctx, db, strings.NewReader(csv.String())); err != nil {
				b.Fatal(err)
			}
			s, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := assets.StartSession(ctx, db, s.ID); err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			for round := 0; round < rounds; round++ {
				var wg sync.WaitGroup
				for g := 0; g < scanners; g++ {
					wg.Add(1)
					go func(g int) {
						defer wg.Done()
						mine := make([]time.Duration, 0, perScanner)
						for i := 0; i < perScanner; i++ {
							n := (round*scanners+g)*perScanner + i
							start := time.Now()
							_, err := assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: fmt.Sprintf("B-%06d", n), ClientScanID: fmt.Sprintf("bench-%d", n)})
							mine = append(mine, time.Since(start))
							if err != nil {
								b.Error(err)
								return
							}
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}(g)
				}
				wg.Wait()
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(lat)), "scans")
			p, _ := assets.GetSessionProgress(context.WithoutCancel(ctx), db, s.ID)
			if p.Scanned != len(lat) {
				b.Fatalf("scanned %d, measured %d", p.Scanned, len(lat))
			}
		})
	}
}
