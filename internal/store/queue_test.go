package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

type queueTestArgs struct{ N int }

func (queueTestArgs) Kind() string { return "store_queue_test" }

type queueTestWorker struct {
	river.WorkerDefaults[queueTestArgs]
	done chan int
}

func (w *queueTestWorker) Work(ctx context.Context, j *river.Job[queueTestArgs]) error {
	w.done <- j.Args.N
	return nil
}

func startQueue(t *testing.T, db *store.DB) (*river.Client[*sql.Tx], chan int) {
	t.Helper()
	w := &queueTestWorker{done: make(chan int, 16)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	c, err := river.NewClient(db.QueueDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchPollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(ctx) })
	return c, w.done
}

// TestQueueJobsCommitWithTheirTransaction: a job inserted in a store
// transaction runs once that commits, and does not exist when it rolls
// back, while other writers keep the writer busy (on SQLite, River shares
// the group committer's single connection).
func TestQueueJobsCommitWithTheirTransaction(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, done := startQueue(t, db)
		stop := make(chan struct{})
		busy := make(chan struct{})
		go func() {
			defer close(busy)
			for {
				select {
				case <-stop:
					return
				default:
				}
				db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, `SELECT 1`); return err })
			}
		}()
		defer func() { close(stop); <-busy }()
		refused := errors.New("refused")
		for i := 0; i < 6; i++ {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := c.InsertTx(ctx, tx.Tx, queueTestArgs{N: i}, nil); err != nil {
					return err
				}
				if i%2 == 1 {
					return refused
				}
				return nil
			})
			if i%2 == 1 && !errors.Is(err, refused) || i%2 == 0 && err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		got := map[int]bool{}
		for len(got) < 3 {
			select {
			case n := <-done:
				got[n] = true
			case <-time.After(15 * time.Second):
				t.Fatalf("jobs worked: %v, want 0, 2, 4", got)
			}
		}
		if !got[0] || !got[2] || !got[4] {
			t.Fatalf("jobs worked: %v, want 0, 2, 4", got)
		}
		var jobs int
		if err := db.Read().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'store_queue_test'`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 3 {
			t.Fatalf("%d jobs stored, want 3 (the rolled back ones must not exist)", jobs)
		}
	})
}

// TestQueueRunsAsRuntimeRole: with the grants of `migrate --grant-to`,
// the runtime role inserts and works River's jobs, and its start checks
// that River's migrations are applied.
func TestQueueRunsAsRuntimeRole(t *testing.T) {
	ctx := context.Background()
	_, _, owner, app, _, appName := twoRoles(t, "app")
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GrantRuntime(ctx, appName); err != nil {
		t.Fatal(err)
	}
	if err := app.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, done := startQueue(t, app)
	if err := app.InTx(ctx, func(tx *store.Tx) error { _, err := c.InsertTx(ctx, tx.Tx, queueTestArgs{N: 9}, nil); return err }); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-done:
		if n != 9 {
			t.Fatalf("worked %d, want 9", n)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("job not worked as the runtime role")
	}
	if _, err := owner.Exec(ctx, `DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`); err != nil {
		t.Fatal(err)
	}
	if err := app.Migrate(ctx); err == nil {
		t.Fatal("app role started with a River migration missing")
	}
}
