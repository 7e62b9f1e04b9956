package jobs_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestOneLeader: where several nodes write one database (PostgreSQL), of
// two runners only one runs jobs; when it stops, the other takes over. A
// SQLite file belongs to one process, whose runner runs them.
func TestOneLeader(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		var ran [2]atomic.Int64
		var ticks [2]chan time.Time
		runs := [2]chan struct{}{make(chan struct{}, 100), make(chan struct{}, 100)}
		runner := func(i int) *jobs.Runner {
			ticks[i] = make(chan time.Time)
			return &jobs.Runner{DB: db, Ticks: ticks[i], Jobs: []jobs.Job{{Name: "count", Run: func(context.Context) error {
				ran[i].Add(1)
				runs[i] <- struct{}{}
				return nil
			}}}}
		}
		// The waits below are bounded only so that a stuck runner fails
		// the test instead of hanging it.
		tick := func(i int) {
			t.Helper()
			select {
			case ticks[i] <- time.Now():
			case <-time.After(10 * time.Second):
				t.Fatalf("runner %d does not take its tick: stuck or stopped", i)
			}
		}
		ranJobs := func(i int) {
			t.Helper()
			select {
			case <-runs[i]:
			case <-time.After(10 * time.Second):
				t.Fatalf("runner %d did not run its jobs", i)
			}
		}
		var wg0, wg1 sync.WaitGroup
		ctx0, stop0 := context.WithCancel(context.Background())
		ctx1, stop1 := context.WithCancel(context.Background())
		defer func() {
			stop0()
			stop1()
			wg0.Wait()
			wg1.Wait()
		}()
		r0 := runner(0)
		wg0.Go(func() { r0.Run(ctx0) })
		tick(0)
		ranJobs(0)
		if !db.ConcurrentWriters() {
			return
		}
		r1 := runner(1)
		wg1.Go(func() { r1.Run(ctx1) })
		// The channel is unbuffered: the second tick is taken only once the
		// runner is done with the first, in which it tried to lead.
		tick(1)
		tick(1)
		if ran[1].Load() != 0 {
			t.Fatalf("follower ran %d times while the leader was up", ran[1].Load())
		}
		stop0() // graceful stop releases the lock
		wg0.Wait()
		tick(1)
		ranJobs(1)
	})
}

// TestSchedulesJob: the standard job creates a schedule's due sessions.
func TestSchedulesJob(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		s, err := assets.CreateSchedule(f.Ctx, db, assets.ScheduleInput{Name: "Daily", Recurrence: assets.Daily, Time: "03:00"})
		if err != nil {
			t.Fatal(err)
		}
		// Pretend the node was down: remove the session created ahead so the
		// job has to create it again, once.
		if _, err := db.Exec(f.Ctx, `DELETE FROM inventory_sessions WHERE schedule_id = $1`, s.ID); err != nil {
			t.Fatal(err)
		}
		job := jobs.InventorySchedules(db, nil)
		for i := 0; i < 3; i++ {
			if err := job.Run(f.Ctx); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		db.Read().QueryRowContext(f.Ctx, `SELECT COUNT(*) FROM inventory_sessions WHERE schedule_id = $1`, s.ID).Scan(&n)
		if n != 1 {
			t.Fatalf("%d sessions, want 1", n)
		}
	})
}

// TestActivityRollupsJob: the standard runner has the rollup job, and it
// rolls up every closed day that has events, once.
func TestActivityRollupsJob(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		var names []string
		for _, j := range jobs.New(db, nil).Jobs {
			names = append(names, j.Name)
		}
		if !slices.Contains(names, "activity-rollups") {
			t.Fatalf("standard jobs %v lack activity-rollups", names)
		}
		now := time.Now()
		for d := 1; d <= 5; d++ {
			if _, err := db.Exec(f.Ctx, `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name,
				action, category, entity_type) VALUES ($1, $2, 'user', 1, 'someone', 'UPDATE', 'products', 'products')`,
				f.Workspace.ID, store.Micros(now.AddDate(0, 0, -d))); err != nil {
				t.Fatal(err)
			}
		}
		job := jobs.ActivityRollups(db, nil)
		for i := 0; i < 2; i++ {
			if err := job.Run(f.Ctx); err != nil {
				t.Fatal(err)
			}
		}
		var through, n int64
		if err := db.Read().QueryRowContext(f.Ctx, `SELECT through_day FROM activity_rollup_watermarks WHERE workspace_id = $1`,
			f.Workspace.ID).Scan(&through); err != nil {
			t.Fatal(err)
		}
		if want := store.Micros(now.Add(-activity.RollupGrace))/86_400_000_000 - 1; through != want {
			t.Fatalf("watermark day %d, want %d", through, want)
		}
		db.Read().QueryRowContext(f.Ctx, `SELECT COALESCE(SUM(n), 0) FROM activity_daily_counts
			WHERE workspace_id = $1 AND actor_name = 'someone'`, f.Workspace.ID).Scan(&n)
		if n < 4 || n > 5 { // the newest may fall on a day not yet closed
			t.Fatalf("%d events rolled up, want 4 or 5", n)
		}
	})
}

// TestActivityRollupsAfterHours: the rollup job counts each workspace's
// events outside its business hours (read from its settings), and the
// standard runner flushes coalesced failed logins.
func TestActivityRollupsAfterHours(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		var names []string
		for _, j := range jobs.New(db, nil).Jobs {
			names = append(names, j.Name)
		}
		var alertJobs []string
		for _, j := range jobs.Alerts(db, nil, time.Second).Jobs {
			alertJobs = append(alertJobs, j.Name)
		}
		if len(alertJobs) < 2 || alertJobs[0] != "login-failures" || slices.Contains(names, "login-failures") {
			t.Fatalf("alerts runner jobs %v, standard jobs %v: login-failures must run first on the alerts node, once", alertJobs, names)
		}
		// One business minute a week: every event below is after hours.
		start, end, days := "03:00", "03:01", []string{"sunday"}
		if _, err := workspace.Update(f.Ctx, db, workspace.Change{BusinessHoursStart: &start, BusinessHoursEnd: &end, BusinessDays: &days}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Truncate(time.Hour).Add(30 * time.Minute)
		for d := 2; d <= 6; d++ {
			if _, err := db.Exec(f.Ctx, `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name,
				action, category, entity_type) VALUES ($1, $2, 'user', 1, 'night owl', 'UPDATE', 'products', 'products')`,
				f.Workspace.ID, store.Micros(now.AddDate(0, 0, -d))); err != nil {
				t.Fatal(err)
			}
		}
		if err := jobs.ActivityRollups(db, nil).Run(f.Ctx); err != nil {
			t.Fatal(err)
		}
		var n, after int64
		db.Read().QueryRowContext(f.Ctx, `SELECT COALESCE(SUM(n), 0), COALESCE(SUM(after_hours), 0) FROM activity_daily_counts
			WHERE workspace_id = $1 AND actor_name = 'night owl'`, f.Workspace.ID).Scan(&n, &after)
		if n != 5 || after != 5 {
			t.Fatalf("%d events rolled up, %d after hours; want 5 and 5", n, after)
		}
	})
}

// TestActivityRetentionJob: the standard runner has the retention job,
// after the rollups, and it purges the expired, sealed events.
func TestActivityRetentionJob(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db) // Enterprise: 365 days
		var names []string
		for _, j := range jobs.New(db, nil).Jobs {
			names = append(names, j.Name)
		}
		if r, p := slices.Index(names, "activity-rollups"), slices.Index(names, "activity-retention"); p < 0 || p < r {
			t.Fatalf("standard jobs %v lack activity-retention after activity-rollups", names)
		}
		now := time.Now()
		for _, age := range []int{400, 370, 300} {
			if _, err := db.Exec(f.Ctx, `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_id, actor_name,
				action, category, entity_type) VALUES ($1, $2, 'user', 1, 'someone', 'UPDATE', 'products', 'products')`,
				f.Workspace.ID, store.Micros(now.AddDate(0, 0, -age))); err != nil {
				t.Fatal(err)
			}
		}
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		if err := jobs.ActivityRetention(db, nil).Run(f.Ctx); err != nil {
			t.Fatal(err)
		}
		var left int
		db.Read().QueryRowContext(f.Ctx, `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND actor_name = 'someone'`, f.Workspace.ID).Scan(&left)
		if left != 1 {
			t.Fatalf("%d of the three events left, want the one of 300 days ago", left)
		}
	})
}
