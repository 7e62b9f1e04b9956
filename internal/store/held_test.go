package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Held writes are sent once, before the next statement of any kind (so it
// sees them) or before COMMIT; a failure to send them fails the
// transaction with that failure, whichever statement surfaced it.
func TestHoldWrites(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, 'starter', 0)`
		hold := func(tx *store.Tx, sent *int, names ...string) {
			tx.HoldWrites(func(ctx context.Context) error {
				*sent++
				for _, n := range names {
					if _, err := tx.ExecContext(ctx, insert, n); err != nil {
						return err
					}
				}
				return nil
			})
		}
		sent := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			hold(tx, &sent, "held-a", "held-b")
			var n int
			// QueryRowContext sends them first.
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name LIKE 'held-%'`).Scan(&n); err != nil || n != 2 {
				t.Errorf("held writes not seen by the next read: %d, %v", n, err)
			}
			// Held again, then sent by ExecContext, then by QueryContext.
			hold(tx, &sent, "held-c")
			if _, err := tx.ExecContext(ctx, insert, "direct-d"); err != nil {
				return err
			}
			hold(tx, &sent, "held-e")
			rows, err := tx.QueryContext(ctx, `SELECT name FROM workspaces WHERE name LIKE 'held-%' OR name LIKE 'direct-%' ORDER BY id`)
			if err != nil {
				return err
			}
			var names []string
			for rows.Next() {
				var s string
				rows.Scan(&s)
				names = append(names, s)
			}
			rows.Close()
			if got := strings.Join(names, ","); got != "held-a,held-b,held-c,direct-d,held-e" {
				t.Errorf("order of writes %s", got)
			}
			// And the last ones by the commit.
			hold(tx, &sent, "held-f")
			return nil
		})
		if err != nil || sent != 4 {
			t.Fatalf("commit: %v, sent %d times", err, sent)
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name LIKE 'held-%'`).Scan(&n); err != nil || n != 5 {
			t.Fatalf("after commit %d held rows, %v", n, err)
		}

		// A failing send: the read that triggered it fails, and so does the
		// transaction, with the send's error; nothing is kept.
		boom := errors.New("held write refused")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, insert, "failed-1"); err != nil {
				return err
			}
			tx.HoldWrites(func(ctx context.Context) error { return boom })
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&n); err == nil {
				t.Error("a read after a failed send succeeded")
			}
			return nil // the caller ignored the read's error: the transaction still fails
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction after a failed send: %v", err)
		}
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name = 'failed-1'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("failed transaction kept %d rows, %v", n, err)
		}
	})
}
