package activity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// rollupEvent is one synthetic event for the rollup tests.
type rollupEvent struct {
	at                            time.Time
	kind                          string
	id                            any // nil: no actor id
	name, action, category, table string
	entityID, description         string
}

func insertRollupEvents(t *testing.T, db *store.DB, ws int64, evs []rollupEvent) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for _, e := range evs {
			if _, err := tx.ExecContext(context.Background(), `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind,
				actor_id, actor_name, action, category, entity_type, entity_id, description)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, ws, store.Micros(e.at), e.kind, e.id, e.name, e.action,
				e.category, e.table, e.entityID, e.description); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// syntheticEvents spreads n events over the days before now (and today),
// with renamed actors, actors without an id, and events on UTC midnight.
func syntheticEvents(now time.Time, n int) []rollupEvent {
	rng := rand.New(rand.NewPCG(7, 11))
	kinds := []string{"user", "user", "user", "api_key", "station", "system", "anonymous"}
	actions := []string{"CREATE", "UPDATE", "DELETE", "READ", "LOGIN", "EXPORT"}
	categories := []string{"products", "inventory", "users", "audit"}
	tables := []string{"products", "inventory", "users", "locations", ""}
	words := []string{"pallet", "recount", "damaged", "transfer"}
	span := int64(10 * 24 * time.Hour)
	midnight := now.UTC().Truncate(24 * time.Hour)
	var out []rollupEvent
	for i := 0; i < n; i++ {
		at := now.Add(-time.Duration(rng.Int64N(span)))
		switch i % 17 {
		case 0: // exactly on a UTC midnight
			at = midnight.AddDate(0, 0, -rng.IntN(9))
		case 1: // a microsecond before one
			at = midnight.AddDate(0, 0, -rng.IntN(9)).Add(-time.Microsecond)
		case 2: // within the grace after the last closed day
			at = now.Add(-time.Duration(rng.Int64N(int64(3 * time.Hour))))
		}
		e := rollupEvent{at: at, kind: kinds[rng.IntN(len(kinds))], action: actions[rng.IntN(len(actions))],
			category: categories[rng.IntN(len(categories))], table: tables[rng.IntN(len(tables))],
			entityID: fmt.Sprint(rng.IntN(20)), description: "event " + words[rng.IntN(len(words))]}
		switch e.kind {
		case "system", "anonymous":
			e.name = e.kind
			if rng.IntN(3) == 0 {
				e.id = int64(0)
			}
		default:
			id := int64(rng.IntN(4) + 2)
			e.id = id
			// Names change over time: the summary shows the greatest.
			e.name = fmt.Sprintf("%s %d v%d", e.kind, id, rng.IntN(3))
		}
		out = append(out, e)
	}
	return out
}

// TestRollupSummaryMatchesEvents: with rollups, Summarize gives exactly what
// counting the events gives, for every filter, time zone and range: whole
// days, partial days, days after the watermark, filters the rollups cannot
// answer.
func TestRollupSummaryMatchesEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		now := time.Now()
		insertRollupEvents(t, db, ws, syntheticEvents(now, 3000))
		ctx := context.Background()

		n, err := activity.RollupDays(ctx, db, now, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("first run rolled up %d days, want 3 (capped)", n)
		}
		compareAll(t, db, ws, now, "partial backfill", 2)
		if _, err := activity.RollupDays(ctx, db, now, 0, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := activity.RollupDays(ctx, db, now, 0, nil); err != nil || n != 0 {
			t.Fatalf("second run rolled up %d days (%v), want 0", n, err)
		}
		var through int64
		if err := db.Read().QueryRowContext(ctx, `SELECT through_day FROM activity_rollup_watermarks WHERE workspace_id = $1`, ws).Scan(&through); err != nil {
			t.Fatal(err)
		}
		if want := activity.LastClosedDay(now); through != want {
			t.Fatalf("watermark %d, want %d", through, want)
		}
		compareAll(t, db, ws, now, "complete", 99)

		// Recomputing a day replaces its rows: same rows, same summaries.
		var rowsBefore int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1`, ws).Scan(&rowsBefore)
		if err := activity.RollupDay(ctx, db, ws, through-1, nil); err != nil {
			t.Fatal(err)
		}
		var rowsAfter int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1`, ws).Scan(&rowsAfter)
		if rowsBefore != rowsAfter || rowsBefore == 0 {
			t.Fatalf("rollup rows %d, after recomputing a day %d", rowsBefore, rowsAfter)
		}
		var still int64
		db.Read().QueryRowContext(ctx, `SELECT through_day FROM activity_rollup_watermarks WHERE workspace_id = $1`, ws).Scan(&still)
		if still != through {
			t.Fatalf("recomputing day %d moved the watermark from %d to %d", through-1, through, still)
		}
		compareAll(t, db, ws, now, "recomputed", 1)

		// The rollups are really read: skew one row and a whole-day summary
		// changes, while a filter they cannot answer does not.
		if _, err := db.Exec(ctx, `UPDATE activity_daily_counts SET n = n + 1000 WHERE workspace_id = $1 AND day = $2
			AND entity_type = 'products' AND action = 'CREATE'`, ws, through-1); err != nil {
			t.Fatal(err)
		}
		week := activity.Filter{From: now.AddDate(0, 0, -7), Until: now}
		raw, _ := activity.SummarizeCounts(ctx, db, ws, week, false)
		rolled, _ := activity.SummarizeCounts(ctx, db, ws, week, true)
		if rolled.Total == raw.Total {
			t.Fatal("summary did not read the rollups")
		}
		week.Text = "pallet"
		raw, _ = activity.SummarizeCounts(ctx, db, ws, week, false)
		rolled, _ = activity.SummarizeCounts(ctx, db, ws, week, true)
		if !reflect.DeepEqual(raw, rolled) {
			t.Fatal("a text search used the rollups")
		}

		// Through the public function too (permission, READ event).
		if _, err := activity.Summarize(f.Ctx, db, activity.Filter{}); err != nil {
			t.Fatal(err)
		}
	})
}

// compareAll runs many filters with and without rollups and fails on any
// difference.
func compareAll(t *testing.T, db *store.DB, ws int64, now time.Time, stage string, nZones int) {
	t.Helper()
	ctx := context.Background()
	filters := []url.Values{
		{},
		{"user_id": {"2"}},
		{"actor_kind": {"api_key"}},
		{"actor_id": {"3"}},
		{"actor_kind": {"system"}},
		{"actor_kind": {"anonymous"}},
		{"action": {"UPDATE"}},
		{"category": {"inventory"}},
		{"table_name": {"products"}},
		{"table_name": {"locations"}, "action": {"DELETE"}, "user_id": {"4"}},
		{"category": {"users"}, "actor_kind": {"station"}},
		{"table_name": {"nothing"}},
		// Filters the rollups cannot answer: raw path.
		{"q": {"pallet"}},
		{"q": {"damaged"}, "search_in": {"description"}, "action": {"CREATE"}},
		{"entity_id": {"7"}},
		{"record_id": {"3"}, "table_name": {"users"}},
	}
	var zones []*time.Location
	for _, name := range []string{"UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Pacific/Kiritimati", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	type span struct{ start, end int } // days before today in the zone; -1: not given
	spans := []span{{-1, -1}, {0, 0}, {1, 1}, {2, 2}, {9, 0}, {9, 1}, {5, 2}, {3, -1}, {-1, 3}, {12, 11}, {30, 0}, {-1, 0}}
	check := func(label string, flt activity.Filter) {
		t.Helper()
		raw, err := activity.SummarizeCounts(ctx, db, ws, flt, false)
		if err != nil {
			t.Fatalf("%s %s raw: %v", stage, label, err)
		}
		rolled, err := activity.SummarizeCounts(ctx, db, ws, flt, true)
		if err != nil {
			t.Fatalf("%s %s rollups: %v", stage, label, err)
		}
		if !reflect.DeepEqual(raw, rolled) {
			t.Fatalf("%s %s: rollups differ\nevents:  %+v\nrollups: %+v", stage, label, raw, rolled)
		}
	}
	for _, loc := range zones[:min(nZones, len(zones))] {
		today := now.In(loc)
		for _, sp := range spans {
			for _, fv := range filters {
				v := url.Values{}
				for k, vs := range fv {
					v[k] = vs
				}
				if sp.start >= 0 {
					v.Set("start_date", today.AddDate(0, 0, -sp.start).Format("2006-01-02"))
				}
				if sp.end >= 0 {
					v.Set("end_date", today.AddDate(0, 0, -sp.end).Format("2006-01-02"))
				}
				flt, err := activity.ParseFilter(v, loc)
				if err != nil {
					t.Fatalf("%v: %v", v, err)
				}
				check(loc.String()+" "+v.Encode(), flt)
			}
		}
	}
	// Instants that fall anywhere in a day, as the API never makes them.
	for _, d := range []struct{ from, until time.Duration }{
		{-200 * time.Hour, -time.Minute}, {-49*time.Hour - 7*time.Second, -23 * time.Hour}, {-100 * time.Hour, 0},
		{-30 * time.Hour, -29 * time.Hour}, {-1000 * time.Hour, -48 * time.Hour},
	} {
		for _, fv := range filters[:4] {
			flt, err := activity.ParseFilter(fv, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			flt.From = now.Add(d.from)
			if d.until != 0 {
				flt.Until = now.Add(d.until)
			}
			check(fmt.Sprintf("%s..%s %v", d.from, d.until, fv), flt)
		}
	}
}
