package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestConcurrentTransactionsAreIsolated runs many transactions at once, a
// third of which fail after writing and one of which panics: exactly the
// successful ones must be in the database, on both engines (on SQLite they
// share group commits, each in its own savepoint).
func TestConcurrentTransactionsAreIsolated(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 90
		var wg sync.WaitGroup
		errs := make([]error, n)
		var panicked any
		var mu sync.Mutex
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						mu.Lock()
						panicked = p
						mu.Unlock()
					}
				}()
				errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, 'starter', 0)`, fmt.Sprintf("w%d", i)); err != nil {
						return err
					}
					if i == 7 {
						panic("boom")
					}
					if i%3 == 0 {
						return errors.New("refused")
					}
					return nil
				})
			}(i)
		}
		wg.Wait()
		if panicked != "boom" {
			t.Errorf("panic not propagated to its caller: %v", panicked)
		}
		want := 0
		for i, err := range errs {
			switch {
			case i == 7:
			case i%3 == 0:
				if err == nil || err.Error() != "refused" {
					t.Errorf("tx %d: %v, want refused", i, err)
				}
			default:
				want++
				if err != nil {
					t.Errorf("tx %d: %v", i, err)
				}
			}
		}
		var got int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%d rows committed, want %d", got, want)
		}
		var failed int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE name IN ('w0', 'w3', 'w7')`).Scan(&failed)
		if failed != 0 {
			t.Fatalf("rolled-back work is visible: %d rows", failed)
		}
	})
}

// BenchmarkSmallWriteTransactions measures durable single-row transactions
// with 16 concurrent writers (run with -cpu to vary); on SQLite they share
// group commits.
func BenchmarkSmallWriteTransactions(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			ctx := context.Background()
			b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 writers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					err := db.InTx(ctx, func(tx *store.Tx) error {
						_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ('bench', 'starter', 0)`)
						return err
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
