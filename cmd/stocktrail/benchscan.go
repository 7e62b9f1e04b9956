package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// benchScans measures inventory-session scans the way
// BenchmarkScanLatency50 does (benchdata.ScanLoad: scanners goroutines
// scanning distinct assets of one session back to back, rounds times), on
// the bench's database and, with a sealer, while it runs every 250 ms as
// serve runs it. The session lists fresh assets in a location of their
// own, created untimed first. It prints the latency of one scan (p50, p99),
// the rate, the CPU each scan cost this process (scanners, the scan code
// and the sealer) and, for a PostgreSQL server on this machine, the
// server's processes, how busy SQLite's writer was, and how long scans
// waited for a connection.
func benchScans(ctx context.Context, db *store.DB, sealer *ledger.Sealer, load benchdata.ScanLoad, stdout io.Writer) error {
	began := time.Now()
	s, err := benchdata.NewScanSession(ctx, db, load.Scans())
	if err != nil {
		return err
	}
	name := fmt.Sprintf("session scans, %d scanners", load.Scanners)
	fmt.Fprintf(stdout, "%-34s %d fresh assets on the list in %v\n", "  scan session", load.Scans(), time.Since(began).Round(time.Millisecond))
	sealing := ", sealing off"
	if sealer != nil {
		// Seal what setting up left pending, so the timed scans share the
		// sealer with nothing else.
		if err := sealBacklog(ctx, db, sealer, "  sealed the session's setup", stdout); err != nil {
			return err
		}
		sealing = ", sealing on"
	}
	stopSealer := runSealer(ctx, db, sealer)
	cpuBefore, pgBefore, poolBefore, writerBefore := processCPU(), postgresCPU(ctx, db), db.PoolStats(), db.WriterStats()
	began = time.Now()
	lat, err := load.Run(ctx, db, s)
	took := time.Since(began)
	cpu, pgCPU, pool := processCPU()-cpuBefore, postgresCPU(ctx, db)-pgBefore, db.PoolStats()
	if err := errors.Join(err, stopSealer()); err != nil {
		return fmt.Errorf("scans: %w", err)
	}
	n := time.Duration(len(lat))
	fmt.Fprintf(stdout, "%-34s p50 %8v  p99 %8v  %.0f scans/s (%d rounds of %d × %d)%s  (target p99 ≤ 50ms)\n", name,
		benchdata.Percentile(lat, 50).Round(time.Microsecond), benchdata.Percentile(lat, 99).Round(time.Microsecond),
		float64(len(lat))/took.Seconds(), load.Rounds, load.Scanners, load.PerScanner, sealing)
	fmt.Fprintf(stdout, "%-34s %v per scan (this process: scanners, scan code, sealer)\n", "  CPU", (cpu / n).Round(time.Microsecond))
	if pgCPU > 0 {
		fmt.Fprintf(stdout, "%-34s %v per scan (the PostgreSQL server's processes)\n", "", (pgCPU / n).Round(time.Microsecond))
	}
	if w := db.WriterStats(); w.Groups > writerBefore.Groups {
		groups, txs, busy := w.Groups-writerBefore.Groups, w.Transactions-writerBefore.Transactions, w.Busy-writerBefore.Busy
		fmt.Fprintf(stdout, "%-34s busy %.0f%% of the run, %d commits of %.1f transactions, %v per scan\n", "  SQLite writer",
			100*busy.Seconds()/took.Seconds(), groups, float64(txs)/float64(groups), (busy / n).Round(time.Microsecond))
	}
	if waits := pool.Waits - poolBefore.Waits; waits > 0 {
		// More scanners than connections: part of each latency is the
		// wait for one (first come, first served).
		fmt.Fprintf(stdout, "%-34s %d waits for one of %d connections, %v on average\n", "  connection pool",
			waits, pool.MaxConns, ((pool.WaitTime - poolBefore.WaitTime) / time.Duration(waits)).Round(time.Microsecond))
	}
	return nil
}
