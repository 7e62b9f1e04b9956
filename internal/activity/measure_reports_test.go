package activity_test

import (
	"context"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestMeasureReportsAtScale loads STOCKTRAIL_REPORT_EVENTS synthetic events
// (e.g. 10000000) spread over one year into a fresh database of each engine
// (STOCKTRAIL_ACTIVITY_ENGINE=sqlite or postgres for one), rolls the days up
// as the job does, and reports p50/p99 of each compliance report through
// BuildReport, the function the page and the API call (so each figure
// includes recording the READ event). Skipped unless the variable is set.
//
//	STOCKTRAIL_REPORT_EVENTS=10000000 go test ./internal/activity -run MeasureReportsAtScale -v -timeout 3h
func TestMeasureReportsAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOCKTRAIL_REPORT_EVENTS"))
	if n <= 0 {
		t.Skip("set STOCKTRAIL_REPORT_EVENTS to measure")
	}
	engines := []store.Engine{store.SQLite, store.Postgres}
	if e := os.Getenv("STOCKTRAIL_ACTIVITY_ENGINE"); e != "" {
		engines = []store.Engine{store.Engine(e)}
	}
	settings := workspace.Settings{TimeZone: "America/New_York", BusinessHoursStart: "08:00", BusinessHoursEnd: "18:00"}
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			db := storetest.Open(t, engine)
			f := storetest.NewFixture(t, db)
			ctx := context.Background()
			start := time.Now()
			loadReportEvents(t, db, f.Workspace.ID, n)
			t.Logf("%s: loaded %d events in %s", engine, n, time.Since(start).Round(time.Second))
			hoursOf := func(context.Context, int64) (activity.BusinessHours, error) { return settings, nil }
			start = time.Now()
			days, err := activity.RollupDays(ctx, db, time.Now(), 0, hoursOf)
			if err != nil {
				t.Fatal(err)
			}
			var rollupRows int64
			db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM activity_daily_counts`).Scan(&rollupRows)
			t.Logf("%s: rolled up %d days (%d rows) in %s", engine, days, rollupRows, time.Since(start).Round(time.Millisecond))
			measureReports(t, db, f, n, settings)
		})
	}
}

// loadReportEvents writes n events over 2025 with what the reports read:
// 50 users and 5 API keys; logins, reads and exports with row counts;
// one configuration change and one role change per thousand events; one
// coalesced failed login (2–40 attempts) per 500. The table's secondary
// indexes are dropped during the load and created again after it.
func loadReportEvents(t testing.TB, db *store.DB, workspaceID int64, n int) {
	t.Helper()
	ctx := context.Background()
	var defs []string
	rows, err := db.Read().QueryContext(ctx, store.Pick(db,
		`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activity_events' AND sql IS NOT NULL ORDER BY name`,
		`SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'activity_events'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			ORDER BY c.relname`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, name := range names {
		if _, err := db.Exec(ctx, `DROP INDEX `+name); err != nil {
			t.Fatal(err)
		}
	}
	const chunk = 500_000
	step := int64(loadSpan/time.Microsecond) / int64(n)
	series := store.Pick(db,
		`WITH RECURSIVE s(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM s WHERE n < $2) SELECT n FROM s`,
		`SELECT n FROM generate_series($1::bigint, $2::bigint) AS n`)
	q := `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name, action, category,
		entity_type, entity_id, old_values, new_values, description, ip, user_agent, request_id)
		SELECT $3, $4 + n * $5,
			CASE WHEN n % 500 = 250 THEN 'anonymous' WHEN n % 10 = 0 THEN 'api_key' ELSE 'user' END,
			CASE WHEN n % 500 = 250 THEN NULL WHEN n % 10 = 0 THEN n % 5 + 1 ELSE n % 50 + 1 END,
			CASE WHEN n % 500 = 250 THEN 'user' || (n % 50 + 1) || '@example.com' WHEN n % 10 = 0 THEN 'key ' || (n % 5 + 1) ELSE 'user ' || (n % 50 + 1) END,
			CASE WHEN n % 1000 = 0 THEN 'UPDATE' WHEN n % 1000 = 500 THEN 'ROLE_CHANGE' WHEN n % 500 = 250 THEN 'LOGIN_FAILED'
				ELSE CASE n % 7 WHEN 0 THEN 'CREATE' WHEN 1 THEN 'UPDATE' WHEN 2 THEN 'UPDATE' WHEN 3 THEN 'READ'
				WHEN 4 THEN 'LOGIN' WHEN 5 THEN 'DELETE' ELSE 'EXPORT' END END,
			CASE WHEN n % 1000 = 0 THEN 'configuration' WHEN n % 1000 = 500 THEN 'users' WHEN n % 500 = 250 THEN 'authentication'
				ELSE CASE n % 7 WHEN 3 THEN 'audit' WHEN 4 THEN 'authentication' WHEN 6 THEN 'audit' ELSE 'inventory' END END,
			CASE WHEN n % 1000 = 0 THEN 'workspaces' WHEN n % 1000 = 500 THEN 'users' WHEN n % 500 = 250 THEN 'users'
				ELSE CASE n % 10 WHEN 0 THEN 'items' WHEN 1 THEN 'inventory_records' WHEN 2 THEN 'users' WHEN 3 THEN 'locations'
				WHEN 4 THEN 'assets' WHEN 5 THEN 'activity_events' WHEN 6 THEN 'inventory_log' WHEN 7 THEN 'inventory_batch'
				WHEN 8 THEN 'stations' ELSE 'api_keys' END END,
			CASE WHEN n % 500 = 250 THEN CAST(n % 50 + 1 AS TEXT) ELSE CAST((n * 7919) % 100000 AS TEXT) END,
			CASE WHEN n % 1000 = 0 THEN '{"business_hours_end":"18:00"}' WHEN n % 1000 = 500 THEN '{"role":"operator"}' ELSE NULL END,
			CASE WHEN n % 1000 = 0 THEN '{"business_hours_end":"19:00"}' WHEN n % 1000 = 500 THEN '{"role":"auditor"}'
				WHEN n % 500 = 250 THEN '{"email":"user' || (n % 50 + 1) || '@example.com","reason":"wrong password","attempts":' || (n % 39 + 2) ||
					',"first_at":"2025-01-01T00:00:00Z","last_at":"2025-01-01T00:00:30Z"}'
				WHEN n % 7 IN (3, 6) THEN '{"format":"csv","rows":' || (n % 5000) || '}'
				ELSE '{"qty":"' || (n % 997) || '"}' END,
			'event ' || n, '10.0.' || (n % 256) || '.' || (n % 200), 'loader/1', 'r' || n
		FROM (` + series + `) AS series`
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, q, lo, hi, workspaceID, store.Micros(loadFrom), step)
			return err
		})
		if err != nil {
			t.Fatalf("load %d-%d: %v", lo, hi, err)
		}
	}
	start := time.Now()
	for _, def := range defs {
		if _, err := db.Exec(ctx, def); err != nil {
			t.Fatalf("%s: %v", def, err)
		}
	}
	t.Logf("created %d indexes again in %s", len(defs), time.Since(start).Round(time.Second))
	if _, err := db.Exec(ctx, store.Pick(db, `ANALYZE`, `VACUUM ANALYZE activity_events`)); err != nil {
		t.Fatal(err)
	}
}

func measureReports(t *testing.T, db *store.DB, f *storetest.Fixture, n int, settings workspace.Settings) {
	rng := rand.New(rand.NewPCG(5, 8))
	loc := settings.Location()
	window := func(days int) url.Values {
		from := loadFrom.In(loc).AddDate(0, 0, 1+rng.IntN(364-days))
		return url.Values{"from": {from.Format("2006-01-02")}, "to": {from.AddDate(0, 0, days-1).Format("2006-01-02")}}
	}
	whole := url.Values{"from": {"2025-01-01"}, "to": {"2025-12-31"}}
	cases := []struct {
		name, kind string
		q          func() url.Values
		runs       int
	}{
		{"user activity, 30 days", "user-activity", func() url.Values { return window(30) }, 30},
		{"user activity, 1 day", "user-activity", func() url.Values { return window(1) }, 30},
		{"user activity, whole year", "user-activity", func() url.Values { return whole }, 10},
		{"data access, 30 days, first page", "data-access", func() url.Values { return window(30) }, 30},
		{"data access, whole year, first page", "data-access", func() url.Values { return whole }, 10},
		{"configuration changes, 30 days, first page", "configuration-changes", func() url.Values { return window(30) }, 30},
		{"configuration changes, whole year, first page", "configuration-changes", func() url.Values { return whole }, 10},
	}
	for _, c := range cases {
		times := make([]time.Duration, 0, c.runs)
		rows := 0
		for i := 0; i < c.runs; i++ {
			in, err := activity.ParseReportInput(c.kind, c.q(), loc, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := activity.BuildReport(f.Ctx, db, in, settings)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			times = append(times, time.Since(start))
			rows = len(rep.Users) + len(rep.Access) + len(rep.Changes)
		}
		slices.Sort(times)
		p := func(q float64) time.Duration {
			return times[min(len(times)-1, int(q*float64(len(times))))].Round(10 * time.Microsecond)
		}
		t.Logf("%-8s %9d events  %-46s p50 %10s  p99 %10s  (%d runs, %d rows)", db.Engine(), n, c.name, p(0.50), p(0.99), c.runs, rows)
	}
	// A whole download of the 30-day configuration changes, for scale.
	in, _ := activity.ParseReportInput("configuration-changes", window(30), loc, time.Now())
	start := time.Now()
	rows, err := activity.WriteReport(f.Ctx, db, in, settings, activity.CSV, discard{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-8s %9d events  %-46s %s (%d rows)", db.Engine(), n, "configuration changes, 30 days, CSV", time.Since(start).Round(time.Millisecond), rows)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkReports builds each report over 200,000 loaded and rolled-up
// events on SQLite (go test ./internal/activity -run X -bench Reports): one
// iteration is one report of 30 New York days, READ event included.
func BenchmarkReports(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	f := storetest.NewFixture(b, db)
	loadReportEvents(b, db, f.Workspace.ID, 200_000)
	settings := workspace.Settings{TimeZone: "America/New_York", BusinessHoursStart: "08:00", BusinessHoursEnd: "18:00"}
	hoursOf := func(context.Context, int64) (activity.BusinessHours, error) { return settings, nil }
	if _, err := activity.RollupDays(context.Background(), db, time.Now(), 0, hoursOf); err != nil {
		b.Fatal(err)
	}
	q := url.Values{"from": {"2025-06-01"}, "to": {"2025-06-30"}}
	for _, kind := range activity.ReportKinds() {
		b.Run(string(kind), func(b *testing.B) {
			in, err := activity.ParseReportInput(string(kind), q, settings.Location(), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if _, err := activity.BuildReport(f.Ctx, db, in, settings); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
