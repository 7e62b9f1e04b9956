package store_test

import (
	"context"
	"errors"
	"os"
	"testing"

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
