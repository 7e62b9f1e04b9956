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
	pad := strings.Repeat("x", 3000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var commits atomic.Int64
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, 'starter', 0)`, pad)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				commits.Add(1)
			}
		}()
	}
	// The writer restarts the log past 4,096 pages (16 MiB); allow for the
	// groups committed meanwhile. Without the restart the log passes this
	// within a second or two here.
	const bound = 40 << 20
	var largest int64
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !t.Failed() {
		time.Sleep(50 * time.Millisecond)
		if fi, err := os.Stat(db.Location + "-wal"); err == nil && fi.Size() > largest {
			largest = fi.Size()
		}
	}
	close(stop)
	wg.Wait()
	written := commits.Load() * 3000
	t.Logf("%d commits (%d MiB of rows), largest log %d MiB, %d checkpoints beside the writer", commits.Load(), written>>20, largest>>20, db.WriterStats().Checkpoints)
	if written < 2*bound {
		t.Skipf("only %d MiB written: too little to tell", written>>20)
	}
	if largest > bound {
		t.Fatalf("the write-ahead log reached %d MiB (> %d MiB): it is not being restarted", largest>>20, bound>>20)
	}
	if db.WriterStats().Checkpoints == 0 {
		t.Error("no checkpoint ran beside the writer")
	}
}
