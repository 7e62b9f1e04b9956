package store_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Under a steady stream of commits from many callers the write-ahead log
// stays bounded: the checkpointer copies it back beside the writer, and the
// writer restarts it (a checkpoint beside the writer alone never catches
// up, and the log grew by tens of megabytes a second).
func TestWriteAheadLogStaysBoundedUnderLoad(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	const row = 3000
	pad := strings.Repeat("x", row)
	// The writer restarts the log past 16,384 pages (64 MiB); allow for the
	// groups committed meanwhile. Without the restart the log passes this
	// long before the rows written reach twice as much.
	const bound = 96 << 20
	const enough = 2 * bound / row
	// The writers stop once twice the bound has been written and the
	// checkpointer has run beside them at least once, however long that
	// takes on this machine; the deadline only stops a writer that hangs.
	deadline := time.Now().Add(2 * time.Minute)
	var commits, largest atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for commits.Load() < enough || db.WriterStats().Checkpoints == 0 {
				if time.Now().After(deadline) {
					t.Errorf("after %d commits and %d checkpoints beside the writer, still writing at the deadline", commits.Load(), db.WriterStats().Checkpoints)
					return
				}
				if err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, 'starter', 0)`, pad)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				commits.Add(1)
				// The log's size after every commit: the largest it got.
				if fi, err := os.Stat(db.Location + "-wal"); err == nil {
					for size := fi.Size(); ; {
						seen := largest.Load()
						if size <= seen || largest.CompareAndSwap(seen, size) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d commits (%d MiB of rows), largest log %d MiB, %d checkpoints beside the writer", commits.Load(), commits.Load()*row>>20, largest.Load()>>20, db.WriterStats().Checkpoints)
	if largest.Load() > bound {
		t.Fatalf("the write-ahead log reached %d MiB (> %d MiB): it is not being restarted", largest.Load()>>20, bound>>20)
	}
}
