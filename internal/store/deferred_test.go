package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Queued writes commit with their transaction, each with its own
// arguments, and a failing one takes the whole transaction down.
func TestExecLater(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		count := func(name string) (n int) {
			t.Helper()
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name = $1`, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		insert := `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, $2, $3)`
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, insert, "queued-update", "starter", 0); err != nil {
				return err
			}
			// Not an INSERT of the same text: sent beside the merged rows.
			tx.ExecLater(`UPDATE workspaces SET plan = $1 WHERE name = $2`, "business", "queued-update")
			tx.ExecLater(insert, "later-a", "starter", 1)
			tx.ExecLater(insert, "later-b", "business", 2)
			tx.ExecLater(insert, "later-b", "business", 3)
			// Not yet written: reads in the transaction do not see them.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name LIKE 'later-%'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("queued writes visible before commit: %d, %v", n, err)
			}
			return nil
		})
		if err != nil || count("later-a") != 1 || count("later-b") != 2 {
			t.Fatalf("after commit: %v, a=%d b=%d", err, count("later-a"), count("later-b"))
		}
		var plan string
		if err := db.Read().QueryRowContext(ctx, `SELECT plan FROM workspaces WHERE name = 'queued-update'`).Scan(&plan); err != nil || plan != "business" {
			t.Errorf("queued update: plan %q, %v", plan, err)
		}
		var created int64
		if err := db.Read().QueryRowContext(ctx, `SELECT plan, created_at FROM workspaces WHERE name = 'later-a'`).Scan(&plan, &created); err != nil ||
			plan != "starter" || created != 1 {
			t.Errorf("later-a: %q %d %v", plan, created, err)
		}

		// The function fails: nothing queued runs.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			tx.ExecLater(insert, "later-c", "starter", 4)
			return errors.New("changed my mind")
		})
		if err == nil || count("later-c") != 0 {
			t.Fatalf("failed transaction: %v, %d rows", err, count("later-c"))
		}
		// A queued write fails: the transaction's own write goes too.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, insert, "later-d", "starter", 5); err != nil {
				return err
			}
			tx.ExecLater(insert, "later-e", "starter", 6)
			tx.ExecLater(`INSERT INTO no_such_table (x) VALUES ($1)`, 1)
			return nil
		})
		if err == nil || count("later-d") != 0 || count("later-e") != 0 {
			t.Fatalf("failing queued write: %v, d=%d e=%d", err, count("later-d"), count("later-e"))
		}
	})
}
