package store_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestForShareLetsSharersInAndKeepsWritersOut reads with ForShare on both
// engines and, where writers run concurrently, checks that the lock admits
// another share lock but not an update lock while it is held.
func TestForShareLetsSharersInAndKeepsWritersOut(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE share_test (id BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO share_test (id, name) VALUES (1, 'a')`); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if got, want := tx.ForShare() != "", db.ConcurrentWriters(); got != want {
				t.Errorf("ForShare given: %v, concurrent writers: %v", got, want)
			}
			var name string
			if err := tx.QueryRowContext(ctx, `SELECT s.name FROM share_test s WHERE s.id = $1`+tx.ForShare("s"), 1).Scan(&name); err != nil {
				return err
			}
			if !db.ConcurrentWriters() {
				return nil
			}
			// From another connection, while tx holds its share lock.
			if err := db.Read().QueryRowContext(ctx, `SELECT name FROM share_test WHERE id = 1 FOR SHARE NOWAIT`).Scan(&name); err != nil {
				t.Errorf("a second share lock was refused: %v", err)
			}
			if err := db.Read().QueryRowContext(ctx, `SELECT name FROM share_test WHERE id = 1 FOR UPDATE NOWAIT`).Scan(&name); err == nil {
				t.Error("an update lock was granted while the share lock was held")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
