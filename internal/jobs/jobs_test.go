package jobs_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
		if db.Engine() == store.SQLite {
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
		s, err := assets.CreateSchedule(f.Ctx, db, assets.NewSchedule{Name: "Daily", Recurrence: assets.Daily, Time: "03:00"})
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

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in time")
}
