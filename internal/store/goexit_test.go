package store_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestGoexitInATransaction: a transaction function that stops its
// goroutine (runtime.Goexit, as t.FailNow does) once killed SQLite's writer,
// hanging every later write. Its writes are not kept, and the database
// goes on working.
func TestGoexitInATransaction(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE goexit_probe (n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			db.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO goexit_probe (n) VALUES (1)`); err != nil {
					return err
				}
				runtime.Goexit()
				return nil
			})
		}()
		<-done
		for i := 0; i < 3; i++ { // more writes than one pool connection could absorb
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO goexit_probe (n) VALUES (2)`)
				return err
			}); err != nil {
				t.Fatalf("a write after the Goexit: %v", err)
			}
		}
		var ones, twos int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(CASE WHEN n = 1 THEN 1 END), COUNT(CASE WHEN n = 2 THEN 1 END) FROM goexit_probe`).Scan(&ones, &twos); err != nil {
			t.Fatal(err)
		}
		if ones != 0 || twos != 3 {
			t.Fatalf("kept %d writes of the stopped transaction and %d of 3 later ones", ones, twos)
		}
	})
}
