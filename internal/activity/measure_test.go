package activity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMeasureAtScale loads STOCKTRAIL_ACTIVITY_EVENTS synthetic events (e.g.
// 1000000) into a fresh database of each engine and reports p50/p99 of the
// activity log's filtered pages and summaries, through the same functions
// the endpoints call (so each figure includes recording the READ event). It
// is skipped unless the variable is set: loading takes minutes.
//
//	STOCKTRAIL_ACTIVITY_EVENTS=1000000 go test ./internal/activity -run MeasureAtScale -v -timeout 3h
func TestMeasureAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOCKTRAIL_ACTIVITY_EVENTS"))
	if n <= 0 {
		t.Skip("set STOCKTRAIL_ACTIVITY_EVENTS to measure")
	}
	engines := []store.Engine{store.SQLite, store.Postgres}
	if e := os.Getenv("STOCKTRAIL_ACTIVITY_ENGINE"); e != "" {
		engines = []store.Engine{store.Engine(e)}
	}
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			db := storetest.Open(t, engine)
			f := storetest.NewFixture(t, db)
			start := time.Now()
			load(t, db, f.Workspace.ID, n)
			t.Logf("%s: loaded %d events in %s", engine, n, time.Since(start).Round(time.Second))
			measure(t, db, f, n, "")
			// The same summaries once the closed days are rolled up (the
			// figures above are the events-only path: no watermark yet).
			start = time.Now()
			days, err := activity.RollupDays(context.Background(), db, time.Now(), 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: rolled up %d days in %s", engine, days, time.Since(start).Round(time.Millisecond))
			measure(t, db, f, n, "summary")
		})
	}
}

// The synthetic log spans one year: 50 users (every tenth event by an API
// key), ten tables, seven actions, 100,000 records, a few words of text.
var loadFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const loadSpan = 365 * 24 * time.Hour

func load(t *testing.T, db *store.DB, workspaceID int64, n int) {
	t.Helper()
	const chunk = 250_000
	step := int64(loadSpan/time.Microsecond) / int64(n)
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		series := store.Pick(db,
			`WITH RECURSIVE s(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM s WHERE n < $2) SELECT n FROM s`,
			`SELECT n FROM generate_series($1::bigint, $2::bigint) AS n`)
		q := `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name, action, category,
			entity_type, entity_id, old_values, new_values, description, ip, user_agent, request_id)
			SELECT $3, $4 + n * $5,
				CASE WHEN n % 10 = 0 THEN 'api_key' ELSE 'user' END, n % 50 + 1,
				CASE WHEN n % 10 = 0 THEN 'key ' ELSE 'user ' END || (n % 50 + 1),
				CASE n % 7 WHEN 0 THEN 'CREATE' WHEN 1 THEN 'UPDATE' WHEN 2 THEN 'UPDATE' WHEN 3 THEN 'READ'
					WHEN 4 THEN 'LOGIN' WHEN 5 THEN 'DELETE' ELSE 'EXPORT' END,
				CASE n % 10 WHEN 0 THEN 'products' WHEN 1 THEN 'inventory' WHEN 2 THEN 'users' WHEN 3 THEN 'locations'
					WHEN 4 THEN 'assets' WHEN 5 THEN 'orders' WHEN 6 THEN 'workspaces' WHEN 7 THEN 'movements'
					WHEN 8 THEN 'stations' ELSE 'api_keys' END,
				CASE n % 10 WHEN 0 THEN 'products' WHEN 1 THEN 'inventory' WHEN 2 THEN 'users' WHEN 3 THEN 'locations'
					WHEN 4 THEN 'assets' WHEN 5 THEN 'orders' WHEN 6 THEN 'workspaces' WHEN 7 THEN 'movements'
					WHEN 8 THEN 'stations' ELSE 'api_keys' END,
				CAST((n * 7919) % 100000 AS TEXT),
				'{"qty":"' || (n % 1000) || '"}', '{"qty":"' || (n % 997) || '"}',
				'event ' || n || ' ' || CASE n % 13 WHEN 0 THEN 'pallet' WHEN 1 THEN 'recount' WHEN 2 THEN 'damaged'
					WHEN 3 THEN 'transfer' WHEN 4 THEN 'bolt' WHEN 5 THEN 'gear' WHEN 6 THEN 'laptop' ELSE 'routine' END,
				'10.0.' || (n % 256) || '.' || (n % 200), 'loader/1', 'r' || n
			FROM (` + series + `) AS series`
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.ExecContext(context.Background(), q, lo, hi, workspaceID, store.Micros(loadFrom), step)
			return err
		})
		if err != nil {
			t.Fatalf("load %d-%d: %v", lo, hi, err)
		}
	}
	// On PostgreSQL, what autovacuum would do soon after a bulk load.
	if _, err := db.Exec(context.Background(), store.Pick(db, `ANALYZE`, `VACUUM ANALYZE activity_events`)); err != nil {
		t.Fatal(err)
	}
}

// measure runs the cases whose name starts with only ("" for all).
func measure(t *testing.T, db *store.DB, f *storetest.Fixture, n int, only string) {
	rng := rand.New(rand.NewPCG(1, 2))
	window := func(days int) (time.Time, time.Time) {
		from := loadFrom.AddDate(0, 0, rng.IntN(365-days))
		return from, from.AddDate(0, 0, days)
	}
	tables := []string{"products", "inventory", "users", "locations", "assets"}
	words := []string{"pallet", "recount", "damaged", "transfer"}
	const runs = 100
	cases := []struct {
		name string
		run  func() error
	}{
		{"page: user + table + 30 days", func() error {
			from, until := window(30)
			_, err := activity.List(f.Ctx, db, activity.Filter{ActorKind: "user", ActorID: int64(rng.IntN(50) + 1),
				EntityType: tables[rng.IntN(len(tables))], From: from, Until: until, Limit: 100})
			return err
		}},
		{"page: 30 days", func() error {
			from, until := window(30)
			_, err := activity.List(f.Ctx, db, activity.Filter{From: from, Until: until, Limit: 100})
			return err
		}},
		{"page: action + 7 days", func() error {
			from, until := window(7)
			_, err := activity.List(f.Ctx, db, activity.Filter{Action: activity.Delete, From: from, Until: until, Limit: 100})
			return err
		}},
		{"page: entity history", func() error {
			_, err := activity.List(f.Ctx, db, activity.Filter{EntityType: "products", EntityID: fmt.Sprint(rng.IntN(100000)), Limit: 100})
			return err
		}},
		{"page: q word + 30 days", func() error {
			from, until := window(30)
			_, err := activity.List(f.Ctx, db, activity.Filter{Text: words[rng.IntN(len(words))], From: from, Until: until, Limit: 100})
			return err
		}},
		{"page: q rare word (whole log)", func() error {
			_, err := activity.List(f.Ctx, db, activity.Filter{Text: strconv.Itoa(rng.IntN(n) + 1), Limit: 100})
			return err
		}},
		{"page: deep cursor, user", func() error {
			at := loadFrom.Add(time.Duration(rng.Int64N(int64(loadSpan))))
			_, err := activity.List(f.Ctx, db, activity.Filter{ActorKind: "user", ActorID: int64(rng.IntN(50) + 1),
				After: &activity.Cursor{At: store.Micros(at), ID: 1 << 62}, Limit: 100})
			return err
		}},
		{"summary: 30 days", func() error {
			from, until := window(30)
			_, err := activity.Summarize(f.Ctx, db, activity.Filter{From: from, Until: until})
			return err
		}},
		{"summary: 30 days, New York dates", func() error {
			// Day boundaries 5 hours off UTC's: two partial UTC days at the
			// edges are counted from the events.
			from, until := window(30)
			_, err := activity.Summarize(f.Ctx, db, activity.Filter{From: from.Add(5 * time.Hour), Until: until.Add(5 * time.Hour)})
			return err
		}},
		{"summary: user + 30 days", func() error {
			from, until := window(30)
			_, err := activity.Summarize(f.Ctx, db, activity.Filter{ActorKind: "user", ActorID: int64(rng.IntN(50) + 1), From: from, Until: until})
			return err
		}},
		{"summary: whole log", func() error {
			_, err := activity.Summarize(f.Ctx, db, activity.Filter{})
			return err
		}},
	}
	for _, c := range cases {
		if !strings.HasPrefix(c.name, only) {
			continue
		}
		times := make([]time.Duration, 0, runs)
		total := runs
		switch {
		case c.name == "summary: whole log":
			total = 10 // seconds each at scale; ten runs say enough
		case strings.HasPrefix(c.name, "summary") && n >= 5_000_000:
			total = 30 // a 30-day window holds ~800,000 events at 10M
		}
		for i := 0; i < total; i++ {
			start := time.Now()
			if err := c.run(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		p := func(q float64) time.Duration {
			return times[min(len(times)-1, int(q*float64(len(times))))].Round(10 * time.Microsecond)
		}
		t.Logf("%-8s %9d events  %-32s p50 %10s  p99 %10s  (%d runs)", db.Engine(), n, c.name, p(0.50), p(0.99), total)
	}
}
