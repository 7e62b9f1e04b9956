package activity_test

import (
	"context"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// DailyVolume counts each UTC day's events, the same before, during and
// after the rollups: closed days from activity_daily_counts, the rest from
// the events.
func TestDailyVolumeMatchesEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		now := time.Now().UTC()
		insertRollupEvents(t, db, f.Workspace.ID, syntheticEvents(now, 1500))
		want := func() map[string]int64 {
			rows, err := db.Read().QueryContext(context.Background(), `SELECT occurred_at FROM activity_events WHERE workspace_id = $1`, f.Workspace.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int64{}
			for rows.Next() {
				var at int64
				if err := rows.Scan(&at); err != nil {
					t.Fatal(err)
				}
				out[store.Time(at).UTC().Format("2006-01-02")]++
			}
			return out
		}
		check := func(stage string) {
			t.Helper()
			days, err := activity.DailyVolume(f.Ctx, db, 14, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(days) != 14 || days[13].Day.Format("2006-01-02") != now.Format("2006-01-02") {
				t.Fatalf("%s: %d days ending %v", stage, len(days), days[len(days)-1].Day)
			}
			counts := want()
			var total int64
			for _, d := range days {
				total += d.Count
				if w := counts[d.Day.Format("2006-01-02")]; d.Count != w {
					t.Errorf("%s: %s has %d events, want %d", stage, d.Day.Format("2006-01-02"), d.Count, w)
				}
			}
			if total < 1500 {
				t.Errorf("%s: %d events in 14 days, want at least the 1500 inserted", stage, total)
			}
		}
		check("no rollups")
		if _, err := activity.RollupDays(context.Background(), db, now, 3, nil); err != nil {
			t.Fatal(err)
		}
		check("some days rolled up")
		if _, err := activity.RollupDays(context.Background(), db, now, 0, nil); err != nil {
			t.Fatal(err)
		}
		check("all closed days rolled up")
		op := f.As(f.User(t, "op@example.com", actor.Operator))
		if _, err := activity.DailyVolume(op, db, 14, now); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an operator read the activity volume: %v", err)
		}
	})
}
