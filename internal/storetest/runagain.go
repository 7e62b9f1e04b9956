package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// errRefusedInGroup is what the transaction RunAgain queues fails with.
var errRefusedInGroup = errors.New("storetest: refused, so that the group runs the others again")

// RunAgain returns ctx under which the first transaction that db.InTx
// runs with it is run a second time before it commits, as SQLite's group
// commit does when a later transaction of the group fails: the first run's
// writes are rolled back and the function runs again from the same
// database state. runs reports how many times that transaction has run so
// far (2 once it has run again); the caller checks it, so a test cannot
// pass without the second run. db must be SQLite (Open(t, store.SQLite)):
// only its group commit is driven this way.
//
// Right after the transaction's first run (in its before-commit hook, on
// the writer), a transaction that fails is queued; the writer takes it into
// the same group once the hook returns, and its failure runs the group's
// earlier transactions again.
func RunAgain(t testing.TB, ctx context.Context, db *store.DB) (context.Context, func() int) {
	t.Helper()
	var calls atomic.Int32
	failed := make(chan error, 1)
	ctx = store.WithBeforeCommit(ctx, func(context.Context, *store.Tx) error {
		if calls.Add(1) != 1 {
			return nil
		}
		go failInGroup(db, failed)
		return waitQueued("storetest.failInGroup")
	})
	t.Cleanup(func() {
		if calls.Load() == 0 {
			return
		}
		if err := <-failed; !errors.Is(err, errRefusedInGroup) {
			t.Errorf("the transaction queued to fail its group answered %v", err)
		}
	})
	return ctx, func() int { return int(calls.Load()) }
}

// failInGroup runs a transaction that fails, without the caller's hooks.
func failInGroup(db *store.DB, failed chan<- error) {
	failed <- db.InTx(context.Background(), func(*store.Tx) error { return errRefusedInGroup })
}

// waitQueued waits until the goroutine running fn is parked in a select:
// in db.InTx, waiting for the writer (busy running the caller) to take its
// request.
func waitQueued(fn string) error {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		n := runtime.Stack(buf, true)
		if n == len(buf) {
			buf = make([]byte, 2*len(buf)) // cut short: read again whole
			continue
		}
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(header, "[select") && strings.Contains(g, fn+"(") {
				return nil
			}
		}
	}
	return fmt.Errorf("storetest: %s did not queue behind the transaction within 10s", fn)
}
