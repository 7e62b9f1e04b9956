package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// SQLite's writer does not checkpoint the write-ahead log itself; a
// goroutine of the store does, so the log stays small under a steady stream
// of commits.
func TestWriteAheadLogIsCheckpointedOffTheWriter(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var auto int
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto)
	}); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Errorf("the writer checkpoints by itself every %d pages", auto)
	}
	wal := db.Location + "-wal"
	pad := strings.Repeat("x", 8000) // two pages a row, at least
	const rounds, perRound = 8, 150
	// Without checkpoints the log would reach rounds × perRound × 2 pages
	// (about 10 MB); each round is about 2.5 MB.
	const bound = 4 << 20
	for round := 0; round < rounds; round++ {
		for i := 0; i < perRound; i++ {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (name, plan, created_at) VALUES ($1, 'starter', 0)`, pad)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		before := db.WriterStats().Checkpoints
		deadline := time.Now().Add(10 * time.Second)
		for db.WriterStats().Checkpoints < before+1 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no checkpoint within 10 s", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
		fi, err := os.Stat(wal)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > bound {
			t.Fatalf("round %d: the write-ahead log holds %d bytes (> %d): it is not being checkpointed", round, fi.Size(), bound)
		}
	}
}
