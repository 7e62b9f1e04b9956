package orders_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// BenchmarkAllocate100Lines allocates a 100-line outbound order (one unit
// of each of 100 items, from suggested records) in a workspace holding a
// synthetic history of STOCKTRAIL_BENCH_ENTRIES change-log entries (default
// 200,000; the target is 1,000,000) over 200 items × 10 locations.
// Only Allocate is timed; creating, confirming and cancelling (which
// releases everything again) happen with the timer stopped. The p99 of
// Allocate is reported as p99-ms. STOCKTRAIL_BENCH_ENGINE picks one engine.
func BenchmarkAllocate100Lines(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		if only := os.Getenv("STOCKTRAIL_BENCH_ENGINE"); only != "" && only != string(engine) {
			continue
		}
		db := storetest.Open(b, engine)
		f := storetest.NewFixture(b, db)
		sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "bench loader"))
		entries := 200_000
		if v, err := strconv.Atoi(os.Getenv("STOCKTRAIL_BENCH_ENTRIES")); err == nil && v > 0 {
			entries = v
		}
		began := time.Now()
		if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 200, Locations: 10, Entries: entries,
			Span: 2 * 365 * 24 * time.Hour, Seed: 1, RebuildIndexes: true}); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: loaded %d entries over 2,000 item-locations in %v", engine, entries, time.Since(began).Round(time.Millisecond))
		items, err := inventory.ListItems(f.Ctx, db, "", 1000)
		if err != nil {
			b.Fatal(err)
		}
		var lines []orders.LineInput
		for _, it := range items[:100] {
			lines = append(lines, orders.LineInput{ItemID: it.ID, Quantity: "1"})
		}
		b.Run(string(engine), func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				o, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: fmt.Sprintf("bench %d", i), Lines: lines})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := orders.Confirm(f.Ctx, db, o.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				got, err := orders.Allocate(f.Ctx, db, o.ID, orders.AllocateInput{})
				took = append(took, time.Since(t0))
				b.StopTimer()
				if err != nil || got.Status != orders.Allocated {
					b.Fatalf("allocate: %v %s", err, got.Status)
				}
				if _, err := orders.Cancel(f.Ctx, db, o.ID, orders.CancelInput{}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
				b.Fatal(err)
			}
		})
	}
}
