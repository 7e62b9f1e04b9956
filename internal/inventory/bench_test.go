package inventory_test

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Benchmarks load a synthetic history (STOCKTRAIL_BENCH_ENTRIES entries,
// default 200,000, over 100 items × 10 locations and two years; with
// STOCKTRAIL_BENCH_ALLOCATIONS=1 about three entries in eight allocate,
// release or ship) and report the p99 latency of each query as a metric
// next to ns/op.

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type benchData struct {
	db    *store.DB
	ctx   context.Context
	items []inventory.Item
	start time.Time
}

func loadBench(b *testing.B, engine store.Engine, items, locations int) benchData {
	b.Helper()
	db := storetest.Open(b, engine)
	f := storetest.NewFixture(b, db)
	sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "bench loader"))
	entries := benchEnv("STOCKTRAIL_BENCH_ENTRIES", 200_000)
	span := 2 * 365 * 24 * time.Hour
	began := time.Now()
	if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: items, Locations: locations, Entries: entries, Span: span, Seed: 1,
		Allocations: os.Getenv("STOCKTRAIL_BENCH_ALLOCATIONS") == "1"}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: loaded %d entries over %d item-locations in %v", engine, entries, items*locations, time.Since(began).Round(time.Millisecond))
	list, err := inventory.ListItems(f.Ctx, db, "", 1000)
	if err != nil {
		b.Fatal(err)
	}
	return benchData{db: db, ctx: f.Ctx, items: list, start: time.Now().Add(-span)}
}

func reportP99(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

func engines(b *testing.B, fn func(b *testing.B, engine store.Engine)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		if only := os.Getenv("STOCKTRAIL_BENCH_ENGINE"); only != "" && only != string(e) {
			continue
		}
		b.Run(string(e), func(b *testing.B) { fn(b, e) })
	}
}

// loaded runs fn per engine on data loaded once in the parent benchmark
// (which Go runs once), not once per b.N round.
func loaded(b *testing.B, items, locations int, fn func(b *testing.B, d benchData)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		if only := os.Getenv("STOCKTRAIL_BENCH_ENGINE"); only != "" && only != string(e) {
			continue
		}
		d := loadBench(b, e, items, locations)
		b.Run(string(e), func(b *testing.B) { fn(b, d) })
	}
}

// BenchmarkChangeLogPage reads 100-entry pages of the log filtered by SKU,
// starting at random depths (keyset cursor).
func BenchmarkChangeLogPage(b *testing.B) {
	loaded(b, 100, 10, func(b *testing.B, d benchData) {
		first, err := inventory.ListLog(d.ctx, d.db, inventory.LogFilter{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		top := first.Entries[0].ID
		rng := rand.New(rand.NewPCG(2, 3))
		var took []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			it := d.items[rng.IntN(len(d.items))]
			f := inventory.LogFilter{SKU: it.SKU, Before: 1 + rng.Int64N(top), Limit: 100}
			if i%2 == 1 {
				f = inventory.LogFilter{Action: inventory.SystemAction, Before: 1 + rng.Int64N(top), Limit: 100}
			}
			t0 := time.Now()
			if _, err := inventory.ListLog(d.ctx, d.db, f); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(t0))
		}
		reportP99(b, took)
	})
}

// BenchmarkStockAsOfItem rebuilds one item's levels at a random moment.
func BenchmarkStockAsOfItem(b *testing.B) {
	loaded(b, 100, 10, func(b *testing.B, d benchData) {
		rng := rand.New(rand.NewPCG(4, 5))
		span := time.Since(d.start)
		var took []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			it := d.items[rng.IntN(len(d.items))]
			at := d.start.Add(time.Duration(rng.Int64N(int64(span))))
			t0 := time.Now()
			if _, err := inventory.StockAsOf(d.ctx, d.db, at, inventory.StockFilter{ItemID: it.ID}); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(t0))
		}
		reportP99(b, took)
	})
}

// BenchmarkStockAsOfWorkspace rebuilds the whole workspace
// (STOCKTRAIL_BENCH_ITEMS × 100 item-locations, default 1000 × 100) at a
// random moment.
func BenchmarkStockAsOfWorkspace(b *testing.B) {
	loaded(b, benchEnv("STOCKTRAIL_BENCH_ITEMS", 1000), 100, func(b *testing.B, d benchData) {
		rng := rand.New(rand.NewPCG(6, 7))
		span := time.Since(d.start)
		var took []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			at := d.start.Add(time.Duration(rng.Int64N(int64(span))))
			t0 := time.Now()
			if _, err := inventory.StockAsOf(d.ctx, d.db, at, inventory.StockFilter{}); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(t0))
		}
		reportP99(b, took)
	})
}

// BenchmarkMovements runs receipts and issues from 16 goroutines on 100
// records, in process (no HTTP).
func BenchmarkMovements(b *testing.B) {
	engines(b, func(b *testing.B, engine store.Engine) {
		db := storetest.Open(b, engine)
		w := &world{f: storetest.NewFixture(b, db), db: db}
		w.ctx = w.f.Ctx
		loc, err := inventory.CreateLocation(w.ctx, db, inventory.LocationInput{Code: "B"})
		if err != nil {
			b.Fatal(err)
		}
		var skus []string
		for i := 0; i < 100; i++ {
			sku := "B-" + strconv.Itoa(i)
			if _, err := inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: sku, Name: sku}); err != nil {
				b.Fatal(err)
			}
			skus = append(skus, sku)
		}
		b.SetParallelism(16 / max(1, runtimeProcs()))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for pb.Next() {
				_, err := inventory.Receive(w.ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: skus[rng.IntN(len(skus))]},
					LocationRef: inventory.LocationRef{LocationID: loc.ID}, Quantity: "1"})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "movements/s")
	})
}

// BenchmarkExportXLSX writes the whole generated log as XLSX and reports
// rows per second.
func BenchmarkExportXLSX(b *testing.B) {
	loaded(b, 100, 10, func(b *testing.B, d benchData) {
		for i := 0; i < b.N; i++ {
			n, err := inventory.ExportLog(d.ctx, d.db, inventory.LogFilter{}, inventory.XLSX, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds()*float64(i+1), "rows/s")
		}
	})
}

// BenchmarkAllocateOrder allocates one unit from each of 100 records in one
// transaction (an order of 100 lines, as orders do it through ApplyIn) and
// reports the p99.
func BenchmarkAllocateOrder(b *testing.B) {
	engines(b, func(b *testing.B, engine store.Engine) {
		db := storetest.Open(b, engine)
		w := &world{f: storetest.NewFixture(b, db), db: db}
		w.ctx = w.f.Ctx
		loc, err := inventory.CreateLocation(w.ctx, db, inventory.LocationInput{Code: "B"})
		if err != nil {
			b.Fatal(err)
		}
		var receipts []inventory.Movement
		for i := 0; i < 100; i++ {
			sku := "B-" + strconv.Itoa(i)
			if _, err := inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: sku, Name: sku}); err != nil {
				b.Fatal(err)
			}
			receipts = append(receipts, &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: sku}, LocationRef: inventory.LocationRef{LocationID: loc.ID},
				Quantity: "1000000"})
		}
		res, err := inventory.Apply(w.ctx, db, receipts...)
		if err != nil {
			b.Fatal(err)
		}
		var took []time.Duration
		b.ResetTimer()
		for n := 0; n < b.N; n++ {
			order := make([]inventory.Movement, 0, 100)
			for _, r := range res.Records {
				order = append(order, &inventory.Allocate{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "1", Holder: "SO-" + strconv.Itoa(n)})
			}
			began := time.Now()
			if err := db.InTx(w.ctx, func(tx *store.Tx) error {
				_, err := inventory.ApplyIn(w.ctx, tx, order...)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(began))
		}
		b.StopTimer()
		reportP99(b, took)
	})
}
