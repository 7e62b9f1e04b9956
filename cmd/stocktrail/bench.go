package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
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
	export := fs.Bool("export", true, "measure the XLSX export of every entry (same as leaving export out of --only)")
	only := fs.String("only", "check,proofs,pages,asof,workspace,export,http,batch,scans",
		"comma-separated parts to run: check (CheckInvariant), proofs (ledger inclusion proofs), pages, asof (one item), workspace (whole workspace as of), export, http (single receipts, sealing off and on), batch (batch endpoint vs raw inserts), scans (concurrent scanners in one inventory session, sealing on)")
	seal := fs.Bool("seal", true, "seal the ledger: all pending entries after loading, and while half the HTTP rounds run (false: never, and no proofs)")
	sealRounds := fs.Int("seal-rounds", 3, "rounds of receipts with sealing off then on (the median ratio is reported)")
	batchClients := fs.String("batch-clients", "4,16", "comma-separated client counts for the batch-vs-raw measurement")
	batchRounds := fs.Int("batch-rounds", 3, "rounds of batch endpoint then raw inserts per client count (the median ratio is reported)")
	scanners := fs.Int("scanners", 50, "concurrent scanners in one session for the scans part")
	scansPerScanner := fs.Int("scans-per-scanner", 20, "scans each scanner makes back to back in a round of the scans part")
	scanRounds := fs.Int("scan-rounds", 5, "rounds of the scans part (each scanners × scans-per-scanner scans of distinct assets)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for `go tool pprof`)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		switch p = strings.TrimSpace(p); p {
		case "check", "proofs", "pages", "asof", "workspace", "export", "http", "batch", "scans":
			parts[p] = true
		case "":
		default:
			return fmt.Errorf("--only: unknown part %q", p)
		}
	}
	if !*export {
		delete(parts, "export")
	}
	if !*seal {
		delete(parts, "proofs")
	}
	if *batchRounds < 1 || *sealRounds < 1 {
		return fmt.Errorf("--batch-rounds, --seal-rounds: give at least 1")
	}
	if *scanners < 1 || *scansPerScanner < 1 || *scanRounds < 1 {
		return fmt.Errorf("--scanners, --scans-per-scanner, --scan-rounds: give at least 1")
	}
	var batchCounts []int
	for _, c := range strings.Split(*batchClients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			return fmt.Errorf("--batch-clients: %q is not a positive number", c)
		}
		batchCounts = append(batchCounts, n)
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
	engine := string(db.Engine())
	if db.Engine() == store.SQLite {
		engine += " on " + store.SQLiteDriverName
	}
	fmt.Fprintf(stdout, "engine %s (%s), %d CPUs\n", engine, db.Location, runtime.NumCPU())

	if *entries > 0 {
		began := time.Now()
		err := benchdata.LoadSynthetic(ctx, db, benchdata.Synthetic{Items: *items, Locations: *locations, Entries: *entries,
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
	// The loader's entries wait in the ledger's pending list like any
	// others: seal them before timing anything, or every figure would carry
	// a sealer minutes behind.
	var sealer *ledger.Sealer
	if *seal {
		if sealer, err = benchSealer(ctx, &d, db); err != nil {
			return err
		}
		if err := sealBacklog(ctx, db, sealer, "seal the pending entries", stdout); err != nil {
			return err
		}
	}
	if parts["check"] {
		began := time.Now()
		if err := inventory.CheckInvariant(ctx, db); err != nil {
			return fmt.Errorf("inconsistent workspace: %w", err)
		}
		fmt.Fprintf(stdout, "%-34s ok in %v\n", "invariant (records, levels, checkpoints, allocations)", time.Since(began).Round(time.Millisecond))
	}
	if parts["proofs"] {
		if err := benchProofs(ctx, db, who.WorkspaceID, *queries, stdout); err != nil {
			return err
		}
	}
	catalogue, err := inventory.ListItems(ctx, db, "", 1000)
	if err != nil || len(catalogue) == 0 {
		return fmt.Errorf("no items to query: %v", err)
	}
	locs, err := inventory.ListLocations(ctx, db, false)
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
	filterNames := []string{"sku", "location", "action", "actor kind", "from date"}
	if parts["pages"] {
		if err := p99("change-log page (100, filtered)", "≤ 50ms", func() error {
			f := filters[rng.IntN(len(filters))]()
			f.Before, f.Limit = 1+rng.Int64N(top), 100
			_, err := inventory.ListLog(ctx, db, f)
			return err
		}); err != nil {
			return err
		}
		for i, mk := range filters {
			if err := p99("  filter: "+filterNames[i], "≤ 50ms", func() error {
				f := mk()
				f.Before, f.Limit = 1+rng.Int64N(top), 100
				_, err := inventory.ListLog(ctx, db, f)
				return err
			}); err != nil {
				return err
			}
		}
	}
	span := 2 * 365 * 24 * time.Hour
	if parts["asof"] {
		if err := p99(fmt.Sprintf("one item as of a moment (%d loc.)", len(locs)), "≤ 10ms", func() error {
			at := time.Now().Add(-time.Duration(rng.Int64N(int64(span))))
			_, err := inventory.StockAsOf(ctx, db, at, inventory.StockFilter{ItemID: catalogue[rng.IntN(len(catalogue))].ID})
			return err
		}); err != nil {
			return err
		}
	}
	if parts["workspace"] {
		saved := *queries
		*queries = max(5, *queries/20)
		if err := p99(fmt.Sprintf("whole workspace as of (%d)", pairs), "≤ 2s", func() error {
			at := time.Now().Add(-time.Duration(rng.Int64N(int64(span))))
			_, err := inventory.StockAsOf(ctx, db, at, inventory.StockFilter{})
			return err
		}); err != nil {
			return err
		}
		*queries = saved
	}

	if parts["export"] {
		if err := benchExport(ctx, db, stdout); err != nil {
			return err
		}
	}
	if parts["http"] {
		if err := benchHTTP(ctx, db, &d, authSvc, sealer, catalogue, locs, *clients, *sealRounds, time.Duration(*seconds)*time.Second, stdout); err != nil {
			return err
		}
	}
	if parts["batch"] {
		for _, n := range batchCounts {
			if err := benchBatch(ctx, db, &d, authSvc, sealer, n, *batchRounds, time.Duration(*seconds)*time.Second, stdout); err != nil {
				return err
			}
		}
	}
	if parts["scans"] {
		if err := benchScans(ctx, db, sealer, benchdata.ScanLoad{Scanners: *scanners, PerScanner: *scansPerScanner, Rounds: *scanRounds}, stdout); err != nil {
			return err
		}
	}
	return nil
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

// benchServer starts the real server on a local port, quietly, with a new
// manager API key for the load generator.
func benchServer(ctx context.Context, db *store.DB, authSvc *auth.Service, name string) (url string, key auth.APIKey, stop func(), err error) {
	key, err = authSvc.CreateAPIKey(ctx, fmt.Sprintf("%s %d", name, time.Now().UnixNano()), actor.Manager)
	if err != nil {
		return "", key, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: authSvc, Logger: quiet}))
	return srv.URL, key, srv.Close, nil
}

// benchHTTP runs receipts over HTTP through the real server, sent by
// clients concurrent clients in a child process (runLoad) for dur. With a
// sealer, it runs rounds of two: sealing off, then sealing on (the sealer
// running every 250 ms in this process, as serve runs it), and reports the
// ratio of the two rates (median over the rounds: either rate alone moves
// with the machine's other work) and the seal lag of the entries written
// while sealing was on. The off round's entries are sealed between the two,
// outside the timing.
func benchHTTP(ctx context.Context, db *store.DB, d *dbFlags, authSvc *auth.Service, sealer *ledger.Sealer, items []inventory.Item, locs []inventory.Location,
	clients, rounds int, dur time.Duration, stdout io.Writer) error {
	url, key, stop, err := benchServer(ctx, db, authSvc, "bench")
	if err != nil {
		return err
	}
	defer stop()
	who, _ := actor.From(ctx)
	rng := rand.New(rand.NewPCG(3, 9))
	bodies := make([]string, 10_000)
	for i := range bodies {
		it, loc := items[rng.IntN(len(items))], locs[rng.IntN(len(locs))]
		bodies[i] = fmt.Sprintf(`{"item_id":%d,"location_id":%d,"quantity":"1"}`, it.ID, loc.ID)
	}
	name := fmt.Sprintf("receipts over HTTP, %d clients", clients)
	receipts := func(sealing string) (loadResult, error) {
		costs := startCosts(ctx, db)
		res, err := runLoad(ctx, url+"/api/v1/inventory/receipts", key.Secret, bodies, clients, dur)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(stdout, "%-34s %.0f/s over %v (%d ok, %d failed)%s  (target SQLite ≥ 3000/s at 1M, ≥ 2800/s at 10M; PG ≥ 2000/s at 1M, ≥ 1500/s at 10M)\n",
			name, float64(res.OK)/dur.Seconds(), dur, res.OK, res.Failed, sealing)
		if res.FirstError != "" {
			fmt.Fprintf(stdout, "%-34s first failure: %.200s\n", "", res.FirstError)
		}
		costs.print(ctx, db, int(res.OK), "receipt", "  (target ≤ 250µs per receipt)", dur, stdout)
		return res, nil
	}
	var off loadResult
	if sealer == nil {
		if off, err = receipts(""); err != nil {
			return err
		}
	}
	var ratios []float64
	var lags []time.Duration
	for round := 1; sealer != nil && round <= rounds; round++ {
		if off, err = receipts(", sealing off"); err != nil {
			return err
		}
		if err := sealBacklog(ctx, db, sealer, "  sealed the off round's entries", stdout); err != nil {
			return err
		}
		fromSeq, err := treeSize(ctx, db, who.WorkspaceID)
		if err != nil {
			return err
		}
		stopSealer := runSealer(ctx, db, sealer)
		began := time.Now()
		on, err := receipts(", sealing on")
		ended := time.Now()
		if err := errors.Join(err, stopSealer()); err != nil {
			return err
		}
		roundLags, err := sealLags(ctx, db, who.WorkspaceID, fromSeq, began, ended)
		if err != nil {
			return err
		}
		lags = append(lags, roundLags...)
		fmt.Fprintf(stdout, "%-34s p50 %8v  p99 %8v  max %v over %d entries written while sealing\n", "  seal lag",
			percentile(roundLags, 50).Round(time.Millisecond), percentile(roundLags, 99).Round(time.Millisecond),
			percentile(roundLags, 100).Round(time.Millisecond), len(roundLags))
		if off.OK == 0 {
			return fmt.Errorf("receipts: none succeeded with sealing off")
		}
		ratios = append(ratios, float64(on.OK)/float64(off.OK))
		fmt.Fprintf(stdout, "%-34s %.0f%% of off\n", fmt.Sprintf("  round %d sealing on ÷ off", round), 100*ratios[len(ratios)-1])
	}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		slices.Sort(lags)
		median := (ratios[(len(ratios)-1)/2] + ratios[len(ratios)/2]) / 2
		fmt.Fprintf(stdout, "%-34s median %.0f%% of off over %d rounds (%.0f–%.0f%%)  (target ≥ 90%%)\n", "receipts, sealing on ÷ off",
			100*median, len(ratios), 100*ratios[0], 100*ratios[len(ratios)-1])
		fmt.Fprintf(stdout, "%-34s p50 %8v  p99 %8v  over %d entries  (target p99 ≤ 1s; commit time = recorded_at / occurred_at)\n", "seal lag under receipt load",
			percentile(lags, 50).Round(time.Millisecond), percentile(lags, 99).Round(time.Millisecond), len(lags))
	}
	// The yardstick: as many bare log rows, one transaction each, through
	// the driver alone. A receipt writes that row and more (record, level,
	// checkpoint, audit events), so this rate bounds what receipts can reach.
	pairs, err := benchPairs(ctx, db, who.WorkspaceID)
	if err != nil {
		return err
	}
	raw, err := openRawLog(d, db.Engine(), clients, who.WorkspaceID, key.ID, key.Name, pairs)
	if err != nil {
		return err
	}
	defer raw.close()
	rows := max(int(off.OK), 1000)
	took, err := raw.insert(ctx, 0, rows, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-34s %.0f rows/s (%d bare log rows, one transaction each)\n",
		fmt.Sprintf("  raw driver, %d writers", raw.writers), float64(rows)/took.Seconds(), rows)
	return nil
}

// costs are the counters a load's cost per movement is read from.
type costs struct {
	cpu, pg time.Duration
	writer  store.WriterStats
}

func startCosts(ctx context.Context, db *store.DB) costs {
	return costs{cpu: processCPU(), pg: postgresCPU(ctx, db), writer: db.WriterStats()}
}

// print reports the server's CPU, SQLite's writer and the PostgreSQL
// server's CPU per unit (n of them done) since c was taken. CPU per unit
// varies less than throughput on a shared machine.
func (c costs) print(ctx context.Context, db *store.DB, n int, unit, writerTarget string, dur time.Duration, stdout io.Writer) {
	if n <= 0 {
		return
	}
	cpu, pgCPU := processCPU()-c.cpu, postgresCPU(ctx, db)-c.pg
	fmt.Fprintf(stdout, "%-34s %v per %s (the server process, user+system; clients not included)\n", "  CPU",
		(cpu / time.Duration(n)).Round(time.Microsecond), unit)
	if w := db.WriterStats(); w.Groups > c.writer.Groups {
		groups, txs, busy := w.Groups-c.writer.Groups, w.Transactions-c.writer.Transactions, w.Busy-c.writer.Busy
		fmt.Fprintf(stdout, "%-34s busy %.0f%% of the run, %d commits of %.1f transactions, %v per %s%s\n", "  SQLite writer",
			100*busy.Seconds()/dur.Seconds(), groups, float64(txs)/float64(groups), (busy / time.Duration(n)).Round(time.Microsecond), unit, writerTarget)
		if syncs := w.Syncs - c.writer.Syncs; syncs > 0 {
			fmt.Fprintf(stdout, "%-34s %d fsyncs of the log beside the writer, %v each on average\n", "",
				syncs, ((w.SyncBusy - c.writer.SyncBusy) / time.Duration(syncs)).Round(time.Microsecond))
		}
	}
	if pgCPU > 0 {
		fmt.Fprintf(stdout, "%-34s %v per %s (the PostgreSQL server's processes)\n", "", (pgCPU / time.Duration(n)).Round(time.Microsecond), unit)
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by the PostgreSQL server's
// processes (the postmaster, its children, and the children it has reaped),
// when the server runs on this machine; 0 on SQLite or a remote server.
func postgresCPU(ctx context.Context, db *store.DB) time.Duration {
	if db.Engine() != store.Postgres {
		return 0
	}
	var backend int
	if err := db.Read().QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0
	}
	stat := func(pid int) []string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			return nil
		}
		return strings.Fields(string(b[i+1:]))
	}
	ticks := func(f []string, idx ...int) (t int64) {
		for _, i := range idx {
			var v int64
			fmt.Sscan(f[i], &v)
			t += v
		}
		return t
	}
	// After ')': state is field 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14.
	f := stat(backend)
	if len(f) < 15 {
		return 0
	}
	var postmaster int
	fmt.Sscan(f[1], &postmaster)
	pm := stat(postmaster)
	if len(pm) < 15 {
		return 0
	}
	total := ticks(pm, 11, 12, 13, 14)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if c := stat(pid); len(c) >= 15 && c[1] == fmt.Sprint(postmaster) {
			total += ticks(c, 11, 12)
		}
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(total) * time.Second / clockTicks
}

// benchBatch measures the batch endpoint (POST /api/v1/inventory/movements,
// 100 receipts a request, one transaction each) from clients concurrent
// clients for dur, then inserts the same number of inventory_log rows with
// plain database/sql (a prepared single-row INSERT, 100 rows a
// transaction, from as many goroutines) into the same database, and
// reports both rates and their ratio; rounds times, alternating, and the
// median ratio, because either rate alone moves with whatever else the
// machine does (and PostgreSQL's checkpoints) from one run to the next. The raw rows are shaped like the
// endpoint's (every column a receipt fills, real records and their
// current levels) but change nothing (change 0), so the workspace stays
// consistent. With a sealer, it runs as serve runs it through both halves
// of every round (the raw rows enter the ledger's pending list too), and
// empties the pending list before the next half starts.
func benchBatch(ctx context.Context, db *store.DB, d *dbFlags, authSvc *auth.Service, sealer *ledger.Sealer, clients, rounds int, dur time.Duration, stdout io.Writer) error {
	who, _ := actor.From(ctx)
	pairs, err := benchPairs(ctx, db, who.WorkspaceID)
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	url, key, stop, err := benchServer(ctx, db, authSvc, "bench batch")
	if err != nil {
		return err
	}
	defer stop()
	const perRequest = 100
	rng := rand.New(rand.NewPCG(11, 13))
	bodies := make([]string, 500)
	var b strings.Builder
	for k := range bodies {
		b.Reset()
		b.WriteString(`{"movements":[`)
		for i := 0; i < perRequest; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			p := pairs[rng.IntN(len(pairs))]
			fmt.Fprintf(&b, `{"type":"receipt","item_id":%d,"location_id":%d,"quantity":"1"}`, p.item, p.location)
		}
		b.WriteString(`]}`)
		bodies[k] = b.String()
	}
	raw, err := openRawLog(d, db.Engine(), clients, who.WorkspaceID, key.ID, key.Name, pairs)
	if err != nil {
		return err
	}
	defer raw.close()

	on := ""
	if sealer != nil {
		on = ", sealing on"
	}
	var ratios []float64
	for round := 1; round <= rounds; round++ {
		stopSealer := runSealer(ctx, db, sealer)
		costs := startCosts(ctx, db)
		res, err := runLoad(ctx, url+"/api/v1/inventory/movements", key.Secret, bodies, clients, dur)
		if err != nil {
			return errors.Join(err, stopSealer())
		}
		n := int(res.OK) * perRequest
		httpRate := float64(n) / dur.Seconds()
		fmt.Fprintf(stdout, "%-34s %.0f movements/s over %v (%d requests ok, %d failed)%s  (target SQLite ≥ 10000 movements/s)\n",
			fmt.Sprintf("batch endpoint, %d clients", clients), httpRate, dur, res.OK, res.Failed, on)
		if res.FirstError != "" {
			fmt.Fprintf(stdout, "  first failure: %.200s\n", res.FirstError)
		}
		costs.print(ctx, db, int(res.OK)*perRequest, "movement", "", dur, stdout)
		if err := stopSealer(); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("batch: no request succeeded")
		}
		// The same number of rows through the bare driver.
		stopSealer = runSealer(ctx, db, sealer)
		rawTook, err := raw.insert(ctx, round, n, perRequest)
		if err := errors.Join(err, stopSealer()); err != nil {
			return err
		}
		rawRate := float64(n) / rawTook.Seconds()
		ratios = append(ratios, httpRate/rawRate)
		fmt.Fprintf(stdout, "%-34s %.0f rows/s (%d rows in %v)\n", fmt.Sprintf("raw driver inserts, %d writers", raw.writers), rawRate, n, rawTook.Round(time.Millisecond))
		fmt.Fprintf(stdout, "%-34s %.0f%% of raw\n", fmt.Sprintf("  round %d ratio", round), 100*httpRate/rawRate)
	}
	slices.Sort(ratios)
	fmt.Fprintf(stdout, "%-34s median %.0f%% of raw over %d rounds (%.0f–%.0f%%)  (target ≥ 80%%)\n", fmt.Sprintf("batch endpoint ÷ raw, %d clients", clients),
		100*ratios[len(ratios)/2], len(ratios), 100*ratios[0], 100*ratios[len(ratios)-1])
	return nil
}
