package retention_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/retention"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestMeasurePurge loads STOCKTRAIL_PURGE_EVENTS expired, sealed activity
// events (with their daily rollups) into a Starter workspace, then purges
// them while API clients list the audit log and post manual entries, and
// reports the purge rate and the API's latency before and during the
// purge. One engine per run: STOCKTRAIL_PURGE_ENGINE=sqlite|postgres.
//
//	STOCKTRAIL_PURGE_EVENTS=1000000 STOCKTRAIL_PURGE_ENGINE=sqlite go test ./internal/retention -run MeasurePurge -v -timeout 2h
func TestMeasurePurge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOCKTRAIL_PURGE_EVENTS"))
	if n <= 0 {
		t.Skip("set STOCKTRAIL_PURGE_EVENTS to measure")
	}
	engine := store.SQLite
	if os.Getenv("STOCKTRAIL_PURGE_ENGINE") == "postgres" {
		engine = store.Postgres
	}
	ctx := context.Background()
	db := storetest.Open(t, engine)
	w := newWorld(t, db, workspace.Starter)
	ws := w.f.Workspace.ID
	now := time.Now().UTC()

	start := time.Now()
	loadExpired(t, db, ws, n, now.Add(-400*day), now.Add(-31*day))
	t.Logf("loaded %d events in %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	sealed := 0
	for {
		k, err := w.sealer.Seal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		sealed += k
	}
	t.Logf("sealed %d entries in %s", sealed, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	days, err := activity.RollupDays(ctx, db, now, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rolled up %d days in %s", days, time.Since(start).Round(time.Millisecond))
	if _, err := db.Exec(ctx, store.Pick(db, `ANALYZE`, `VACUUM ANALYZE`)); err != nil {
		t.Fatal(err)
	}

	key, err := w.f.Auth.CreateAPIKey(w.f.Ctx, "bench", actor.Admin)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: w.f.Auth, Logger: quiet}))
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	call := func(method, path, body string) error {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key.Secret)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
		}
		return nil
	}
	// load runs readers and writers until stop closes and returns their
	// latencies.
	load := func(stop <-chan struct{}) (reads, writes []time.Duration, failed error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var seq atomic.Int64
		var firstErr atomic.Value
		worker := func(write bool) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				var err error
				if write {
					err = call("POST", "/api/v1/audit-logs", fmt.Sprintf(`{"action": "UPDATE", "table_name": "products", "record_id": "%d", "description": "bench"}`, seq.Add(1)))
				} else {
					err = call("GET", "/api/v1/audit-logs?limit=50", "")
				}
				d := time.Since(t0)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				mu.Lock()
				if write {
					writes = append(writes, d)
				} else {
					reads = append(reads, d)
				}
				mu.Unlock()
			}
		}
		for range 2 {
			wg.Add(2)
			go worker(false)
			go worker(true)
		}
		wg.Wait()
		if e, ok := firstErr.Load().(error); ok {
			failed = e
		}
		return reads, writes, failed
	}
	report := func(name string, reads, writes []time.Duration, over time.Duration) {
		for _, c := range []struct {
			kind string
			d    []time.Duration
		}{{"GET /api/v1/audit-logs?limit=50", reads}, {"POST /api/v1/audit-logs", writes}} {
			slices.Sort(c.d)
			if len(c.d) == 0 {
				t.Logf("%s: %s: no requests", name, c.kind)
				continue
			}
			pct := func(p int) time.Duration { return c.d[(len(c.d)-1)*p/100] }
			t.Logf("%s: %s: %d requests (%.0f/s), p50 %s, p99 %s, max %s", name, c.kind, len(c.d), float64(len(c.d))/over.Seconds(),
				pct(50).Round(100*time.Microsecond), pct(99).Round(100*time.Microsecond), c.d[len(c.d)-1].Round(100*time.Microsecond))
		}
	}

	// Baseline: the same clients for ten seconds without a purge.
	stop := make(chan struct{})
	time.AfterFunc(10*time.Second, func() { close(stop) })
	t0 := time.Now()
	reads, writes, err := load(stop)
	if err != nil {
		t.Fatal(err)
	}
	report("without purge", reads, writes, time.Since(t0))

	// The purge as the jobs node runs it, clients running throughout.
	stop = make(chan struct{})
	type loadResult struct {
		reads, writes []time.Duration
		err           error
	}
	done := make(chan loadResult)
	go func() {
		r, w, err := load(stop)
		done <- loadResult{r, w, err}
	}()
	t0 = time.Now()
	var res retention.Result
	for {
		r, err := retention.Purge(ctx, db, now, retention.Options{})
		if err != nil {
			close(stop)
			t.Fatal(err)
		}
		res.Events += r.Events
		res.Batches += r.Batches
		if r.Done {
			break
		}
	}
	took := time.Since(t0)
	close(stop)
	during := <-done
	if during.err != nil {
		t.Fatal(during.err)
	}
	t.Logf("purged %d events in %d batches in %s: %.0f events/s", res.Events, res.Batches, took.Round(time.Millisecond), float64(res.Events)/took.Seconds())
	report("during purge", during.reads, during.writes, took)
	if res.Events != int64(n) {
		t.Errorf("purged %d of %d", res.Events, n)
	}
	ledgertest.SealAll(t, w.sealer)
	t0 = time.Now()
	r, err := ledger.Verify(ctx, db, ledger.VerifyOptions{Keys: []string{w.sealer.Key.Verifier}})
	if err != nil || !r.OK() || r.Purged[ws].Entries != int64(n) {
		t.Fatalf("verify: %v %s", err, r.Summary())
	}
	t.Logf("verified in %s: %s", time.Since(t0).Round(time.Millisecond), r.Summary())
}

// loadExpired writes n activity events evenly between from and until, a
// quarter of a million per statement, through the log's insert triggers (so
// the ledger has them pending).
func loadExpired(t *testing.T, db *store.DB, ws int64, n int, from, until time.Time) {
	t.Helper()
	const chunk = 250_000
	step := int64(until.Sub(from)/time.Microsecond) / int64(n)
	series := store.Pick(db,
		`WITH RECURSIVE s(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM s WHERE n < $2) SELECT n FROM s`,
		`SELECT n FROM generate_series($1::bigint, $2::bigint) AS n`)
	q := `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name, action, category,
		entity_type, entity_id, old_values, new_values, description, ip, user_agent, request_id)
		SELECT $3, $4 + n * $5, 'user', n % 50 + 1, 'user ' || (n % 50 + 1),
			CASE n % 3 WHEN 0 THEN 'CREATE' WHEN 1 THEN 'UPDATE' ELSE 'READ' END, 'inventory',
			CASE n % 5 WHEN 0 THEN 'products' WHEN 1 THEN 'inventory' WHEN 2 THEN 'users' WHEN 3 THEN 'locations' ELSE 'assets' END,
			CAST((n * 7919) % 100000 AS TEXT), '{"qty":"' || (n % 1000) || '"}', '{"qty":"' || (n % 997) || '"}',
			'event ' || n || ' routine', '10.0.' || (n % 256) || '.' || (n % 200), 'loader/1', 'r' || n
		FROM (` + series + `) AS series`
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(context.Background(), q, lo, hi, ws, store.Micros(from), step)
			return err
		})
		if err != nil {
			t.Fatalf("load %d-%d: %v", lo, hi, err)
		}
	}
}
