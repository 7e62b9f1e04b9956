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
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestOneLeader: of two nodes' runners on PostgreSQL only one runs jobs;
// when it stops, the other takes over. On SQLite the one runner runs.
func TestOneLeader(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		var ran [2]atomic.Int64
		runner := func(i int) *jobs.Runner {
			return &jobs.Runner{DB: db, Tick: 20 * time.Millisecond, Jobs: []jobs.Job{{Name: "count", Run: func(context.Context) error {
				ran[i].Add(1)
				return nil
			}}}}
		}
		ctx0, stop0 := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); runner(0).Run(ctx0) }()
		waitUntil(t, func() bool { return ran[0].Load() > 0 })
		// A database without concurrent writers (SQLite) is owned by one
		// process: there is no second node to hand over to.
		if !db.ConcurrentWriters() {
			stop0()
			wg.Wait()
			return
		}
		ctx1, stop1 := context.WithCancel(context.Background())
		defer stop1()
		wg.Add(1)
		go func() { defer wg.Done(); runner(1).Run(ctx1) }()
		time.Sleep(200 * time.Millisecond)
		if ran[1].Load() != 0 {
			t.Fatalf("follower ran %d times while the leader was up", ran[1].Load())
		}
		stop0() // graceful stop releases the lock
		waitUntil(t, func() bool { return ran[1].Load() > 0 })
		stop1()
		wg.Wait()
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

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in time")
}
