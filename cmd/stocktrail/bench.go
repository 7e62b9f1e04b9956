package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
)

// benchCommand loads a synthetic inventory history and measures what the
// issue sets targets for: change-log pages, as-of for one item and for the
// whole workspace, the XLSX export of every entry, and single movements
// over HTTP from concurrent clients. Point it at a scratch database: it
// adds thousands of items and millions of entries.
func benchCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	entries := fs.Int("entries", 1_000_000, "log entries to load (0 to reuse what is there)")
	items := fs.Int("items", 1000, "synthetic items")
	locations := fs.Int("locations", 100, "synthetic locations (items × locations item-locations)")
	clients := fs.Int("clients", 16, "concurrent HTTP clients for the movement test")
	seconds := fs.Int("seconds", 10, "duration of the movement test")
	queries := fs.Int("queries", 200, "queries per latency measurement")
	export := fs.Bool("export", true, "measure the XLSX export of every entry")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for `go tool pprof`)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	authSvc := auth.New(db)
	if _, _, err := authSvc.Bootstrap(ctx, "", ""); err != nil {
		db.Close()
		return err
	}
	db.Close()
	ctx, db, err = cliContext(ctx, &d, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	authSvc = auth.New(db)
	who, _ := actor.From(ctx)
	fmt.Fprintf(stdout, "engine %s (%s), %d CPUs\n", db.Engine(), db.Location, runtime.NumCPU())

	if *entries > 0 {
		began := time.Now()
		err := inventory.LoadSynthetic(ctx, db, inventory.Synthetic{Items: *items, Locations: *locations, Entries: *entries,
			Span: 2 * 365 * 24 * time.Hour, Seed: uint64(time.Now().UnixNano()), RebuildIndexes: *entries >= 100_000, Progress: func(done int) {
				if done%1_000_000 == 0 || done == *entries {
					fmt.Fprintf(stdout, "  loaded %d entries (%v)\n", done, time.Since(began).Round(time.Second))
				}
			}, Log: func(msg string) { fmt.Fprintf(stdout, "  %s\n", msg) }})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "load: %d entries over %d item-locations in %v\n", *entries, *items**locations, time.Since(began).Round(time.Millisecond))
	}
	var total int64
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1`, who.WorkspaceID).Scan(&total); err != nil {
		return err
	}
	var pairs int64
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM stock_levels WHERE workspace_id = $1`, who.WorkspaceID).Scan(&pairs); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "workspace holds %d log entries, %d item-locations\n", total, pairs)
	catalogue, err := inventory.ListItems(ctx, db.Read(), who.WorkspaceID, "", 1000)
	if err != nil || len(catalogue) == 0 {
		return fmt.Errorf("no items to query: %v", err)
	}
	locs, err := inventory.ListLocations(ctx, db.Read(), who.WorkspaceID, false)
	if err != nil {
		return err
	}
	first, err := inventory.ListLog(ctx, db, inventory.LogFilter{Limit: 1})
	if err != nil || len(first.Entries) == 0 {
		return fmt.Errorf("empty log: %v", err)
	}
	top := first.Entries[0].ID
	rng := rand.New(rand.NewPCG(1, 2))

	p99 := func(name, target string, fn func() error) error {
		var took []time.Duration
		for i := 0; i < *queries; i++ {
			t0 := time.Now()
			if err := fn(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			took = append(took, time.Since(t0))
		}
		slices.Sort(took)
		fmt.Fprintf(stdout, "%-34s p50 %8v  p99 %8v  (target %s)\n", name, took[len(took)/2].Round(time.Microsecond),
			took[len(took)*99/100].Round(time.Microsecond), target)
		return nil
	}
	filters := []func() inventory.LogFilter{
		func() inventory.LogFilter { return inventory.LogFilter{SKU: catalogue[rng.IntN(len(catalogue))].SKU} },
		func() inventory.LogFilter { return inventory.LogFilter{LocationID: locs[rng.IntN(len(locs))].ID} },
		func() inventory.LogFilter { return inventory.LogFilter{Action: inventory.SystemAction} },
		func() inventory.LogFilter { return inventory.LogFilter{ActorKind: "system"} },
		func() inventory.LogFilter {
			return inventory.LogFilter{From: time.Now().Add(-time.Duration(rng.Int64N(int64(700 * 24 * time.Hour))))}
		},
	}
	if err := p99("change-log page (100, filtered)", "≤ 50ms", func() error {
		f := filters[rng.IntN(len(filters))]()
		f.Before, f.Limit = 1+rng.Int64N(top), 100
		_, err := inventory.ListLog(ctx, db, f)
		return err
	}); err != nil {
		return err
	}
	span := 2 * 365 * 24 * time.Hour
	if err := p99("one item as of a moment", "≤ 10ms", func() error {
		at := time.Now().Add(-time.Duration(rng.Int64N(int64(span))))
		_, err := inventory.StockAsOf(ctx, db, at, inventory.StockFilter{ItemID: catalogue[rng.IntN(len(catalogue))].ID})
		return err
	}); err != nil {
		return err
	}
	saved := *queries
	*queries = 5
	if err := p99(fmt.Sprintf("whole workspace as of (%d)", pairs), "≤ 2s", func() error {
		at := time.Now().Add(-time.Duration(rng.Int64N(int64(span))))
		_, err := inventory.StockAsOf(ctx, db, at, inventory.StockFilter{})
		return err
	}); err != nil {
		return err
	}
	*queries = saved

	if *export {
		if err := benchExport(ctx, db, stdout); err != nil {
			return err
		}
	}
	return benchHTTP(ctx, db, authSvc, catalogue, locs, *clients, time.Duration(*seconds)*time.Second, stdout)
}

// benchExport writes the whole log as XLSX to a temporary file, sampling
// the heap to report the peak.
func benchExport(ctx context.Context, db *store.DB, stdout io.Writer) error {
	f, err := os.CreateTemp("", "stocktrail-bench-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	began := time.Now()
	n, err := inventory.ExportLog(ctx, db, inventory.LogFilter{}, inventory.XLSX, f)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	info, _ := f.Stat()
	fmt.Fprintf(stdout, "%-34s %d rows in %v, file %d MB, peak heap %d MB  (target ≤ 30s, ≤ 256MB at 1M)\n", "XLSX export of the whole log",
		n, time.Since(began).Round(time.Millisecond), info.Size()>>20, peak.Load()>>20)
	return nil
}

// benchHTTP runs receipts over HTTP through the real server from clients
// goroutines, each with its own connection, for the given duration.
func benchHTTP(ctx context.Context, db *store.DB, authSvc *auth.Service, items []inventory.Item, locs []inventory.Location, clients int,
	dur time.Duration, stdout io.Writer) error {
	key, err := authSvc.CreateAPIKey(ctx, fmt.Sprintf("bench %d", time.Now().UnixNano()), actor.Manager)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: authSvc, Logger: quiet}))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: transport}
	var done, failed atomic.Int64
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 9))
			for time.Now().Before(deadline) {
				it := items[rng.IntN(len(items))]
				loc := locs[rng.IntN(len(locs))]
				body := fmt.Sprintf(`{"item_id":%d,"location_id":%d,"quantity":"1"}`, it.ID, loc.ID)
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/inventory/receipts", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key.Secret)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					done.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}(c)
	}
	wg.Wait()
	fmt.Fprintf(stdout, "%-34s %.0f/s over %v (%d ok, %d failed)  (target SQLite ≥ 8000/s, PG ≥ 5000/s)\n",
		fmt.Sprintf("receipts over HTTP, %d clients", clients), float64(done.Load())/dur.Seconds(), dur, done.Load(), failed.Load())
	return nil
}
