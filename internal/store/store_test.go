package store_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestBeforeCommitHooks(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ('w', 'starter', 0)`); err != nil {
			t.Fatal(err)
		}
		names := func() (n int) {
			db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name LIKE 'hook%'`).Scan(&n)
			return n
		}
		var order []string
		ctx = store.WithBeforeCommit(ctx, func(ctx context.Context, tx *store.Tx) error {
			order = append(order, "ctx1")
			_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ('hook', 'starter', 0)`)
			return err
		})
		ctx = store.WithBeforeCommit(ctx, func(ctx context.Context, tx *store.Tx) error { order = append(order, "ctx2"); return nil })
		err := db.InTx(ctx, func(tx *store.Tx) error {
			tx.BeforeCommit(func(ctx context.Context, tx *store.Tx) error { order = append(order, "tx"); return nil })
			order = append(order, "fn")
			return nil
		})
		if err != nil || names() != 1 || len(order) != 4 || order[0] != "fn" || order[1] != "tx" || order[2] != "ctx1" || order[3] != "ctx2" {
			t.Fatalf("hooks: %v %v, %d rows", err, order, names())
		}

		// A failing hook rolls back the work and the other hooks' writes.
		boom := errors.New("boom")
		failing := store.WithBeforeCommit(ctx, func(context.Context, *store.Tx) error { return boom })
		err = db.InTx(failing, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ('hook-work', 'starter', 0)`)
			return err
		})
		if !errors.Is(err, boom) || names() != 1 {
			t.Fatalf("failing hook: %v, %d rows", err, names())
		}
		// Failing work runs no hook.
		order = nil
		if err := db.InTx(ctx, func(tx *store.Tx) error { return boom }); !errors.Is(err, boom) || len(order) != 0 {
			t.Fatalf("failing work: %v, hooks %v", err, order)
		}
	})
}

// TestIsLockNotAvailable: a row locked by one transaction, asked for
// without waiting by another, is refused with an error it recognises
// (where writers run concurrently and rows are locked at all); other
// errors, on both engines, are not such a refusal.
func TestIsLockNotAvailable(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE lock_test (id BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO lock_test (id) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		_, dup := db.Exec(ctx, `INSERT INTO lock_test (id) VALUES (1)`)
		_, syntax := db.Exec(ctx, `SELEKT 1`)
		for _, err := range []error{nil, errors.New("other"), dup, syntax} {
			if store.IsLockNotAvailable(err) {
				t.Errorf("IsLockNotAvailable(%v) = true", err)
			}
		}
		if !db.ConcurrentWriters() {
			return
		}
		locked, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `SELECT id FROM lock_test WHERE id = 1`+tx.ForUpdate()); err != nil {
					close(locked)
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		var id int64
		err := db.Read().QueryRowContext(ctx, `SELECT id FROM lock_test WHERE id = 1 FOR UPDATE NOWAIT`).Scan(&id)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !store.IsLockNotAvailable(err) {
			t.Fatalf("NOWAIT on a locked row: %v, not recognised as lock not available", err)
		}
	})
}

// RefreshStatistics gives PostgreSQL's planner statistics of a table that
// grew from nothing (reltuples is -1 until a table is first analyzed), does
// nothing on SQLite, and refuses anything but a plain table name.
func TestRefreshStatistics(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE grown (id BIGINT NOT NULL, v BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO grown (id, v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000) SELECT x, x FROM c`); err != nil {
			t.Fatal(err)
		}
		if err := db.RefreshStatistics(ctx, "grown"); err != nil {
			t.Fatal(err)
		}
		if err := db.RefreshStatistics(ctx, "grown; DROP TABLE grown"); err == nil {
			t.Fatal("a statement in the table name was accepted")
		}
		if db.Engine() != store.Postgres {
			return
		}
		var tuples float64
		if err := db.Read().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'grown'`).Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		if tuples != 5000 {
			t.Fatalf("reltuples %v after refreshing, want 5000", tuples)
		}
	})
}

// Closing the store does not wait long for a connection still in use (a
// query running when the server stops): pgxpool's Close would wait for it
// for ever, where database/sql's never did.
func TestCloseDoesNotWaitForConnectionsInUse(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	lead, err := db.TryLead(context.Background(), 42)
	if err != nil || lead == nil {
		t.Fatalf("lead: %v %v", lead, err)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close still waits for the connection the leadership holds")
	}
	lead.Release()
}
