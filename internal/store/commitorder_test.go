package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestIDsInCommitOrder: a transaction that takes an id and stays open, and
// a second one that takes the next id meanwhile. Where ids are in commit
// order the second cannot commit before the first; elsewhere it does, and
// a reader then sees the higher id committed and the lower one not.
func TestIDsInCommitOrder(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE order_test (id `+store.Pick(db, "INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")+`, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		insert := func(tx *store.Tx, name string) int64 {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO order_test (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
				t.Error(err)
			}
			return id
		}
		inserted, release := make(chan int64, 1), make(chan struct{})
		firstDone := make(chan error, 1)
		go func() {
			firstDone <- db.InTx(ctx, func(tx *store.Tx) error {
				inserted <- insert(tx, "first")
				<-release
				return nil
			})
		}()
		firstID := <-inserted
		secondDone := make(chan int64, 1)
		go func() {
			var id int64
			err := db.InTx(ctx, func(tx *store.Tx) error { id = insert(tx, "second"); return nil })
			if err != nil {
				t.Error(err)
			}
			secondDone <- id
		}()
		// Where writers run concurrently the second commits at once; give a
		// single writer time to show that it does not.
		wait := 300 * time.Millisecond
		if db.ConcurrentWriters() {
			wait = 20 * time.Second
		}
		var secondID int64
		secondFirst := false
		select {
		case secondID = <-secondDone:
			secondFirst = true
		case <-time.After(wait):
		}
		var committed []int64
		if secondFirst {
			rows, err := db.Read().QueryContext(ctx, `SELECT id FROM order_test ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				committed = append(committed, id)
			}
			rows.Close()
		}
		close(release)
		if err := <-firstDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if !secondFirst {
			secondID = <-secondDone
		}
		if secondID <= firstID {
			t.Fatalf("ids %d then %d", firstID, secondID)
		}
		outOfOrder := secondFirst && len(committed) == 1 && committed[0] == secondID
		if db.IDsInCommitOrder() == outOfOrder {
			t.Errorf("IDsInCommitOrder() = %v, but id %d was committed while id %d was not: %v (committed %v)",
				db.IDsInCommitOrder(), secondID, firstID, outOfOrder, committed)
		}
	})
}
