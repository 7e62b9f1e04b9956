package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

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
