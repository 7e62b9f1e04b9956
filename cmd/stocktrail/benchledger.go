package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// benchSealer is the sealer the bench runs, as serve builds it: on SQLite
// with the data folder's key file (created on first use, so a later serve
// on the same folder signs with the same key), on PostgreSQL with a
// throwaway key. Checkpoints are not copied to a file.
func benchSealer(ctx context.Context, d *dbFlags, db *store.DB) (*ledger.Sealer, error) {
	var key *ledger.Key
	var err error
	if d.url == "" {
		key, err = ledger.LoadOrCreateKeyFile(filepath.Join(d.data, "ledger.key"), keyName)
	} else {
		_, key, err = ledger.NewKey(keyName + "-bench")
	}
	if err != nil {
		return nil, err
	}
	s := &ledger.Sealer{DB: db, Key: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return s, s.Register(ctx)
}

// pendingEntries is how many committed entries wait to be sealed.
func pendingEntries(ctx context.Context, db *store.DB) (int64, error) {
	var n int64
	err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_pending`).Scan(&n)
	return n, err
}

// sealBacklog seals every pending entry and prints the rate, under name.
func sealBacklog(ctx context.Context, db *store.DB, sealer *ledger.Sealer, name string, stdout io.Writer) error {
	began := time.Now()
	n, err := sealer.Seal(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(began)
	rate := 0.0
	if took > 0 {
		rate = float64(n) / took.Seconds()
	}
	fmt.Fprintf(stdout, "%-34s %d entries in %v, %.0f entries/s\n", name, n, took.Round(time.Millisecond), rate)
	if n >= 100_000 && db.Engine() == store.Postgres {
		// Sealing a large backlog leaves that many dead rows in the pending
		// list: vacuum them now, as autovacuum would in a while, so that
		// the timed parts do not run beside it.
		if _, err := db.Exec(ctx, `VACUUM (ANALYZE) ledger_pending, ledger_leaves, ledger_hashes`); err != nil {
			return fmt.Errorf("vacuum the ledger: %w", err)
		}
	}
	return nil
}

// runSealer runs the sealer every 250 ms as serve does (jobs.Sealing), until
// the returned stop is called; stop waits until nothing written before it is
// left pending, then for the runner to end.
// Without a sealer (--seal=false) it runs nothing and stop does nothing.
func runSealer(ctx context.Context, db *store.DB, sealer *ledger.Sealer) (stop func() error) {
	if sealer == nil {
		return func() error { return nil }
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobs.Sealing(db, sealer.Logger, sealer, 250*time.Millisecond).Run(runCtx)
	}()
	return func() error {
		defer func() { cancel(); <-done }()
		for {
			n, err := pendingEntries(ctx, db)
			if err != nil || n == 0 {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// treeSize is how many leaves the workspace's ledger holds.
func treeSize(ctx context.Context, db *store.DB, ws int64) (int64, error) {
	var n int64
	err := db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_leaves WHERE workspace_id = $1`, ws).Scan(&n)
	return n, err
}

// sealLags are, for each entry of the workspace written from from to to
// and sealed at sequence fromSeq or later, the time its leaf was sealed
// (ledger_leaves.sealed_at) minus its commit time, sorted. The commit time
// stands in as recorded_at (change log) and occurred_at (activity), which
// the writer sets in its transaction shortly before it commits: the lag is
// overstated by that much, never understated. The leaves are found by
// sequence (the primary key) and the window is applied here, so the query
// never depends on an index over the logs' times.
func sealLags(ctx context.Context, db *store.DB, ws, fromSeq int64, from, to time.Time) ([]time.Duration, error) {
	rows, err := db.Read().QueryContext(ctx, `SELECT COALESCE(i.recorded_at, a.occurred_at), l.sealed_at FROM ledger_leaves l
			LEFT JOIN inventory_log i ON l.log = 'inventory_log' AND i.workspace_id = l.workspace_id AND i.id = l.entry_id
			LEFT JOIN activity_events a ON l.log = 'activity_events' AND a.workspace_id = l.workspace_id AND a.id = l.entry_id
		WHERE l.workspace_id = $1 AND l.seq >= $2`, ws, fromSeq)
	if err != nil {
		return nil, fmt.Errorf("seal lag: %w", err)
	}
	defer rows.Close()
	lo, hi := store.Micros(from), store.Micros(to)
	var lags []time.Duration
	for rows.Next() {
		var committed, sealed int64
		if err := rows.Scan(&committed, &sealed); err != nil {
			return nil, err
		}
		if committed >= lo && committed < hi {
			lags = append(lags, time.Duration(sealed-committed)*time.Microsecond)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(lags)
	return lags, nil
}

// percentile is the p-th percentile (0–100) of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// benchProofs measures ledger.ProveEntry for queries random sealed entries of
// the change log: latency, and the size of the proof as the API sends it
// (JSON: the entry's canonical form, the audit path and the signed
// checkpoint).
func benchProofs(ctx context.Context, db *store.DB, ws int64, queries int, stdout io.Writer) error {
	var size, top int64
	if err := db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints WHERE workspace_id = $1`, ws).Scan(&size); err != nil {
		return err
	}
	if err := db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM inventory_log WHERE workspace_id = $1`, ws).Scan(&top); err != nil {
		return err
	}
	if size == 0 || top == 0 {
		return fmt.Errorf("proofs: nothing sealed")
	}
	rng := rand.New(rand.NewPCG(5, 7))
	var took []time.Duration
	var bytes, pathBytes, hashes []int
	for len(took) < queries {
		// Ids may have gaps: draw again on one that does not exist.
		id := 1 + rng.Int64N(top)
		t0 := time.Now()
		p, err := ledger.ProveEntry(ctx, db, ledger.InventoryLog, id)
		d := time.Since(t0)
		if err != nil {
			var exists bool
			if e := db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inventory_log WHERE workspace_id = $1 AND id = $2)`, ws, id).Scan(&exists); e == nil && !exists {
				continue
			}
			return fmt.Errorf("prove entry %d: %w", id, err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		path, err := json.Marshal(p.Proof)
		if err != nil {
			return err
		}
		took, bytes, pathBytes, hashes = append(took, d), append(bytes, len(b)), append(pathBytes, len(path)), append(hashes, len(p.Proof))
	}
	slices.Sort(took)
	slices.Sort(bytes)
	slices.Sort(hashes)
	slices.Sort(pathBytes)
	fmt.Fprintf(stdout, "%-34s p50 %8v  p99 %8v  (target ≤ 5ms p99 at 10M)\n", fmt.Sprintf("inclusion proof (tree of %d)", size),
		took[len(took)/2].Round(time.Microsecond), took[len(took)*99/100].Round(time.Microsecond))
	fmt.Fprintf(stdout, "%-34s %d–%d bytes as JSON, median %d; audit path of %d–%d hashes, %d–%d bytes of it  (target ≤ 2KB at 10M)\n", "  proof size",
		bytes[0], bytes[len(bytes)-1], bytes[len(bytes)/2], hashes[0], hashes[len(hashes)-1], pathBytes[0], pathBytes[len(pathBytes)-1])
	return nil
}
