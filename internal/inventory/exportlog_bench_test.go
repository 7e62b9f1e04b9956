package inventory_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// BenchmarkExportLog measures ExportLog of a whole synthetic log
// (STOCKTRAIL_EXPORT_ENTRIES entries, default 20,000 so that a plain
// `go test -bench .` stays quick; the figure is 1,000,000) to CSV and
// XLSX into io.Discard, on a file-backed SQLite database and on PostgreSQL
// (the pgtest throwaway server). The data is loaded once per engine and
// sealed into the ledger, as a running server keeps it (each row then shows
// its ledger sequence; STOCKTRAIL_EXPORT_UNSEALED=1 leaves it unsealed);
// each iteration exports everything and reports rows/s and the peak heap in
// use.
//
// STOCKTRAIL_EXPORT_SQLITE_DIR keeps the SQLite database in that folder and
// reuses it on the next run when it already holds the same number of
// entries, which saves the load (about a minute for 1M) while iterating:
//
//	STOCKTRAIL_EXPORT_ENTRIES=1000000 STOCKTRAIL_EXPORT_SQLITE_DIR=/tmp/exportbench \
//	  go test ./internal/inventory/ -run '^$' -bench '^BenchmarkExportLog$' -benchtime 1x
func BenchmarkExportLog(b *testing.B) {
	entries := benchEnv("STOCKTRAIL_EXPORT_ENTRIES", 20_000)
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		if only := os.Getenv("STOCKTRAIL_BENCH_ENGINE"); only != "" && only != string(engine) {
			continue
		}
		db, ctx := exportBenchData(b, engine, entries)
		if os.Getenv("STOCKTRAIL_EXPORT_UNSEALED") == "" {
			sealBench(b, db)
		}
		for _, format := range []inventory.ExportFormat{inventory.CSV, inventory.XLSX} {
			b.Run(string(engine)+"/"+string(format), func(b *testing.B) {
				pm := startHeapPeak()
				start, cpu := time.Now(), processCPU()
				for i := 0; i < b.N; i++ {
					n, err := inventory.ExportLog(ctx, db, inventory.LogFilter{}, format, io.Discard)
					if err != nil {
						b.Fatal(err)
					}
					if n != entries {
						b.Fatalf("exported %d rows, want %d", n, entries)
					}
				}
				elapsed, cpu := time.Since(start), processCPU()-cpu
				b.ReportMetric(pm.stop(), "peak-heap-MB")
				// CPU time of the whole process (every goroutine): a figure
				// that other work on the machine disturbs less than the
				// elapsed time.
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(entries*b.N)/elapsed.Seconds(), "rows/s")
			})
		}
	}
}

// exportBenchData returns a database holding entries synthetic log entries
// over 100 items × 10 locations, and a context acting as its admin.
func exportBenchData(b *testing.B, engine store.Engine, entries int) (*store.DB, context.Context) {
	b.Helper()
	// Only SQLite keeps its database in a folder of ours.
	dir := store.Pick(engine, os.Getenv("STOCKTRAIL_EXPORT_SQLITE_DIR"), "")
	if dir == "" {
		db := storetest.Open(b, engine)
		f := storetest.NewFixture(b, db)
		loadExportBench(b, db, f.Workspace.ID, entries)
		return db, f.Ctx
	}
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var have int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_log`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have != entries {
		// Start over: a database of another size is no use.
		db.Close()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		if db, err = store.Open(ctx, store.Config{DataDir: dir}); err != nil {
			b.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		f := storetest.NewFixture(b, db)
		loadExportBench(b, db, f.Workspace.ID, entries)
		return db, f.Ctx
	}
	b.Cleanup(func() { db.Close() })
	ws, err := workspace.First(ctx, db.Read())
	if err != nil {
		b.Fatal(err)
	}
	sys := actor.With(ctx, actor.SystemActor(ws.ID, "bench"))
	users, err := auth.New(db).ListUsers(sys)
	if err != nil || len(users) == 0 {
		b.Fatalf("list users: %v %v", users, err)
	}
	u := users[0]
	return db, actor.With(ctx, actor.Actor{WorkspaceID: u.WorkspaceID, Kind: actor.User, ID: u.ID, Name: u.Name, Role: u.Role})
}

// sealBench seals every pending entry (on the SQLite folder, those of an
// earlier run stay sealed).
func sealBench(b *testing.B, db *store.DB) {
	b.Helper()
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(b.TempDir(), "ledger.key"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	s := &ledger.Sealer{DB: db, Key: key}
	if err := s.Register(context.Background()); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	n, err := s.Seal(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: sealed %d entries in %v", db.Engine(), n, time.Since(began).Round(time.Millisecond))
}

func loadExportBench(b *testing.B, db *store.DB, workspaceID int64, entries int) {
	b.Helper()
	sys := actor.With(context.Background(), actor.SystemActor(workspaceID, "bench loader"))
	began := time.Now()
	if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 100, Locations: 10, Entries: entries, Span: 2 * 365 * 24 * time.Hour, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: loaded %d entries in %v", db.Engine(), entries, time.Since(began).Round(time.Millisecond))
}

// heapPeak samples HeapInuse every 10 ms until stopped.
type heapPeak struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	p := &heapPeak{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(heapSampleEvery)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			p.peak = max(p.peak, ms.HeapInuse)
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// stop ends sampling and returns the peak in MB.
func (p *heapPeak) stop() float64 {
	close(p.done)
	p.wg.Wait()
	return float64(p.peak) / (1 << 20)
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapSampleEvery spaces the samples: each ReadMemStats stops the world.
var heapSampleEvery = time.Duration(benchEnvMS("STOCKTRAIL_HEAP_SAMPLE_MS", 10)) * time.Millisecond

func benchEnvMS(name string, def int) int { return benchEnv(name, def) }
