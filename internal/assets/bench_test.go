package assets_test

import (
	"context"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// BenchmarkScanLatency50 measures the latency of one scan while 50 scanners
// scan the same session at once, on each engine. Each iteration is a round of
// 50 goroutines × 20 scans of distinct assets (so every scan is a real
// "found" write); p50 and p99 are reported over all rounds. `stocktrail
// bench --only scans` runs the same load (benchdata.ScanLoad) on the bench's
// database with the ledger's sealer running.
//
//	go test -run '^$' -bench ScanLatency50 -benchtime 3x ./internal/assets/
func BenchmarkScanLatency50(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			f := storetest.NewFixture(b, db)
			load := benchdata.ScanLoad{Scanners: 50, PerScanner: 20, Rounds: b.N}
			s, err := benchdata.NewScanSession(f.Ctx, db, load.Scans())
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			lat, err := load.Run(context.WithoutCancel(f.Ctx), db, s)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(benchdata.Percentile(lat, 50)), "p50-ms")
			b.ReportMetric(ms(benchdata.Percentile(lat, 99)), "p99-ms")
			b.ReportMetric(float64(len(lat)), "scans")
		})
	}
}
