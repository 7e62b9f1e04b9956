package alerts_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMeasureFlood times the evaluation of a failed-login flood recorded
// without coalescing (every attempt an event), as the 10-second
// flood from one client was: one alert, every attempt its evidence. Run with
// STOCKTRAIL_MEASURE=1; it reports the rate.
func TestMeasureFlood(t *testing.T) {
	if os.Getenv("STOCKTRAIL_MEASURE") == "" {
		t.Skip("set STOCKTRAIL_MEASURE=1 to measure")
	}
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Attempts: 5, Per: alerts.PerAccount, WindowMinutes: 10}})
		w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Per address",
			Thresholds: alerts.Thresholds{Attempts: 20, Per: alerts.PerAddress, WindowMinutes: 10}})
		const n = 7000
		now := time.Now()
		for from := 0; from < n; from += 1000 {
			if err := db.InTx(context.Background(), func(tx *store.Tx) error {
				for i := from; i < from+1000; i++ {
					if err := activity.Note(context.Background(), tx, activity.Event{WorkspaceID: w.f.Workspace.ID, ActorKind: "anonymous",
						ActorName: "admin@example.com", Action: activity.LoginFailed, Category: activity.Authentication, EntityType: "users",
						IP: "203.0.113.5", OccurredAt: now.Add(time.Duration(i) * time.Millisecond), New: map[string]any{"email": "admin@example.com"}}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		ledgertest.SealAll(t, w.sealer)
		start := time.Now()
		total := 0
		for {
			k, err := alerts.Follow(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
			total += k
		}
		took := time.Since(start)
		got := w.alerts(t)
		if total != n+2 || len(got) != 2 || got[0].EvidenceCount+got[1].EvidenceCount != 2*n {
			t.Fatalf("evaluated %d, alerts %+v", total, got)
		}
		t.Logf("%s: %d failed logins evaluated against 2 rules in %v (%.0f entries/s)", db.Engine(), n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	})
}
