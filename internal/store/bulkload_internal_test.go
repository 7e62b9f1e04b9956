package store

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
)

// BulkLoad promises to run its function once: a load may report progress
// or read a generator as it goes. On SQLite it joins a group commit like
// any transaction, and when a later transaction of its group fails the
// group runs the earlier ones again: the load then fails, with nothing of
// it written, rather than running again.
func TestBulkLoadIsNotRunAgainByItsGroup(t *testing.T) {
	ctx := context.Background()
	db, let, first := heldFsync(t, nil)
	var runs atomic.Int32
	loadRan, load := make(chan struct{}), make(chan error, 1)
	go func() {
		load <- db.BulkLoad(ctx, func(b *Bulk) error {
			if runs.Add(1) == 1 {
				defer close(loadRan)
			}
			return b.Copy(ctx, "t", []string{"v"}, 2, func(row []any) error {
				row[0] = 10 + int(runs.Load())
				return nil
			})
		})
	}()
	<-loadRan
	refused := errors.New("refused after the load")
	failRan, fail := make(chan struct{}), make(chan error, 1)
	go func() {
		fail <- db.InTx(ctx, func(tx *Tx) error {
			close(failRan)
			return refused
		})
	}()
	<-failRan
	let()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-fail; !errors.Is(err, refused) {
		t.Fatalf("the failing transaction: %v, want its refusal", err)
	}
	if err := <-load; !errors.Is(err, errBulkLoadAgain) {
		t.Fatalf("the load: %v, want it refused rather than run again", err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the load's function ran %d times, want once", n)
	}
	if got := rows(t, db); !slices.Equal(got, []int{1}) {
		t.Errorf("rows %v, want [1]: nothing of the refused load", got)
	}
}
