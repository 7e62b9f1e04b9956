package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// statementHooks holds what stocktrail_test_hook(name) runs, by name.
var statementHooks sync.Map

// runStatementHook is stocktrail_test_hook(name), which each driver's test
// file makes an SQL function (hook_cgo_test.go, hook_purego_test.go).
func runStatementHook(name string) int64 {
	if hook, ok := statementHooks.Load(name); ok {
		hook.(func())()
	}
	return 1
}

// onStatement makes stocktrail_test_hook(name) run hook, once, from inside
// the statement that calls it, until the test ends.
func onStatement(t *testing.T, name string, hook func()) {
	var once sync.Once
	statementHooks.Store(name, func() { once.Do(hook) })
	t.Cleanup(func() { statementHooks.Delete(name) })
}

// withDurable opens a SQLite database whose group committer makes groups
// durable with fn instead of an fsync of the log.
func withDurable(t *testing.T, fn func() error) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.group.close()
	db.group = newGroupCommitter(db.write, fn)
	addStatementHook(t, db.write)
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func insert(db *DB, v int) error {
	ctx := context.Background()
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, v)
		return err
	})
}

func count(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// heldFsync opens a database whose first group's fsync waits until let
// is called (at the latest when the test ends, before the database closes,
// which waits for the syncer) and then returns firstErr; later fsyncs
// succeed. It commits a first row and returns once that group waits for
// its fsync, with the channel that answers its caller.
func heldFsync(t *testing.T, firstErr error) (db *DB, let func(), first chan error) {
	t.Helper()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var calls atomic.Int32
	db = withDurable(t, func() error {
		if calls.Add(1) == 1 {
			entered <- struct{}{}
			<-release
			return firstErr
		}
		return nil
	})
	var once sync.Once
	let = func() { once.Do(func() { close(release) }) }
	t.Cleanup(let)
	first = make(chan error, 1)
	go func() { first <- insert(db, 1) }()
	<-entered
	return db, let, first
}

// inNextGroup runs query in a transaction of its own, started now; ran
// closes once the statement has run, done answers its caller.
func inNextGroup(ctx context.Context, db *DB, query string) (ran chan struct{}, done chan error) {
	ran, done = make(chan struct{}), make(chan error, 1)
	var once sync.Once
	go func() {
		done <- db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, query)
			// The group runs it again when a later transaction fails.
			once.Do(func() { close(ran) })
			return err
		})
	}()
	return ran, done
}

// A caller hears of its commit only once the group is durable. Meanwhile
// the writer runs the requests that come in the next group, and commits
// that group once the syncer is free.
func TestGroupAnsweredOnlyWhenDurable(t *testing.T) {
	db, let, first := heldFsync(t, nil)
	if n := count(t, db); n != 1 {
		t.Fatalf("%d rows visible after the first commit, want 1", n)
	}
	ran, second := inNextGroup(context.Background(), db, `INSERT INTO t (v) VALUES (2)`)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not run the next request while the first group was being made durable")
	}
	select {
	case err := <-first:
		t.Fatalf("first caller answered (%v) before its group was durable", err)
	case err := <-second:
		t.Fatalf("second caller answered (%v) before its group was durable", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := count(t, db); n != 1 {
		t.Errorf("%d rows visible while the first group's fsync runs, want 1: the next group committed before the syncer was free", n)
	}
	let()
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db); n != 2 {
		t.Errorf("%d rows at the end, want 2", n)
	}
}

// When a group cannot be made durable its callers get the error, and the
// database takes no more writes: what the failed fsync held is in doubt.
func TestFailedFsyncStopsWrites(t *testing.T) {
	fail := errors.New("disk on fire")
	calls := 0
	db := withDurable(t, func() error {
		calls++
		if calls == 2 {
			return fail
		}
		return nil
	})
	if err := insert(db, 1); err != nil {
		t.Fatal(err)
	}
	err := insert(db, 2)
	if !errors.Is(err, fail) || !strings.Contains(err.Error(), "not durable") {
		t.Fatalf("got %v, want the fsync's failure", err)
	}
	if err := insert(db, 3); !errors.Is(err, fail) {
		t.Fatalf("a write after the failed fsync: got %v, want the failure again", err)
	}
	if n := count(t, db); n != 2 {
		t.Errorf("%d rows, want 2 (the one in doubt stays; nothing after it)", n)
	}
}

// The log's fsync follows the file SQLite writes, also when SQLite has
// replaced it, and fails loudly when there is none.
func TestWALFileFollowsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db-wal")
	w := &walFile{path: path}
	defer w.close()
	if err := w.sync(); err == nil {
		t.Fatal("sync of a missing log succeeded")
	}
	if err := os.WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	old := w.f
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	now, _ := os.Stat(path)
	held, _ := w.f.Stat()
	if w.f == old || !os.SameFile(now, held) {
		t.Error("the fsync still goes to the replaced file")
	}
}

// A group that filled while the previous group's fsync failed is not
// committed, even if a later fsync succeeds (Linux reports a failed
// writeback once): its callers get the failure.
func TestGroupFilledDuringAFailedFsyncIsNotCommitted(t *testing.T) {
	fail := errors.New("EIO")
	db, let, first := heldFsync(t, fail)
	ran, second := inNextGroup(context.Background(), db, `INSERT INTO t (v) VALUES (2)`)
	<-ran // the second group is open, waiting for the syncer
	let()
	if err := <-first; !errors.Is(err, fail) {
		t.Fatalf("first: %v, want the fsync's failure", err)
	}
	if err := <-second; !errors.Is(err, fail) {
		t.Fatalf("second: %v, want the fsync's failure", err)
	}
	if n := count(t, db); n != 1 {
		t.Errorf("%d rows, want 1: the group after the failed fsync was committed", n)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO t (v) VALUES (3)`); !errors.Is(err, fail) {
		t.Errorf("Exec after the failed fsync: %v, want the failure", err)
	}
}

// A caller whose context ends while its statement runs does not take the
// group down with it: SQLite rolls back the whole transaction when a
// statement is interrupted, so statements do not see the cancellation.
func TestCancelledCallerDoesNotFailItsGroup(t *testing.T) {
	db, let, first := heldFsync(t, nil)
	otherRan, other := inNextGroup(context.Background(), db, `INSERT INTO t (v) VALUES (2)`)
	<-otherRan
	ctx, cancel := context.WithCancel(context.Background())
	// The statement calls back into the test at its first row; the test
	// cancels the caller's context then, and lets the statement go on
	// through rows enough for the driver to interrupt it if it were told.
	running, resume := make(chan struct{}), make(chan struct{})
	onStatement(t, "cancelled caller", func() { close(running); <-resume })
	slow := make(chan error, 1)
	go func() {
		slow <- db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (v) WITH RECURSIVE c(x) AS (SELECT stocktrail_test_hook('cancelled caller') UNION ALL SELECT x+1 FROM c WHERE x < 300000) SELECT x FROM c`)
			return err
		})
	}()
	<-running
	cancel()
	close(resume)
	let()
	if err := <-slow; err != nil {
		t.Logf("cancelled caller: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatalf("a caller in the same group failed because another was cancelled: %v", err)
	}
}

// Exec makes its write durable, and a failure to do so breaks the group
// committer as a group's failed fsync does. Closing twice is harmless, and
// nothing is written after Close.
func TestExecDurabilityAndClose(t *testing.T) {
	db := withDurable(t, func() error { return nil })
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	db.group.durable = (&walFile{path: db.Location + "-missing"}).sync
	if _, err := db.Exec(ctx, `INSERT INTO t (v) VALUES (2)`); err == nil || !strings.Contains(err.Error(), "not durable") {
		t.Fatalf("Exec whose fsync failed: %v", err)
	}
	if err := insert(db, 3); err == nil || !strings.Contains(err.Error(), "not durable") {
		t.Fatalf("a transaction after Exec's failed fsync: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Log(err)
	}
	if err := db.Close(); err != nil {
		t.Log(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO t (v) VALUES (4)`); err == nil {
		t.Error("Exec after Close succeeded")
	}
}

// A group already handed to the syncer is not acknowledged when DB.Exec's
// fsync failed meanwhile: that fsync may have taken the group's pages with
// it, and the syncer's own next fsync could still succeed.
func TestGroupWaitingForFsyncFailsAfterExecsFsyncFailed(t *testing.T) {
	fail := errors.New("EIO")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var calls atomic.Int32
	db := withDurable(t, func() error {
		switch calls.Add(1) {
		case 1: // the group's fsync waits while Exec's runs and fails
			entered <- struct{}{}
			<-release
			return nil
		case 2:
			return fail
		}
		return nil
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	first := make(chan error, 1)
	go func() { first <- insert(db, 1) }()
	<-entered
	if _, err := db.Exec(context.Background(), `INSERT INTO t (v) VALUES (2)`); !errors.Is(err, fail) {
		t.Fatalf("Exec: %v, want its fsync's failure", err)
	}
	close(release)
	if err := <-first; !errors.Is(err, fail) {
		t.Fatalf("the group waiting for its fsync: %v, want the failure", err)
	}
}

// A logical transaction that fails after others succeeded in its group may
// have failed on what they wrote (a uniqueness check seeing their row, say):
// it is answered only with the group's outcome, and if the group is lost,
// with that loss rather than an error that rests on it.
func TestFailureInAGroupWaitsForTheGroup(t *testing.T) {
	fail := errors.New("EIO")
	db, let, first := heldFsync(t, fail)
	ran, second := inNextGroup(context.Background(), db, `INSERT INTO t (v) VALUES (2)`)
	<-ran // the second group is open, waiting for the syncer
	own := errors.New("v = 2 is taken")
	third := make(chan error, 1)
	go func() {
		third <- db.InTx(context.Background(), func(tx *Tx) error {
			var n int
			if err := tx.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM t WHERE v = 2`).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return own // rests on the second caller's uncommitted row
			}
			return nil
		})
	}()
	select {
	case err := <-third:
		t.Fatalf("answered %v before its group's outcome", err)
	case <-time.After(100 * time.Millisecond):
	}
	let()
	<-first
	<-second
	if err := <-third; errors.Is(err, own) || !errors.Is(err, fail) {
		t.Fatalf("third: %v, want the group's failure, not an error resting on a lost row", err)
	}
}

// rows returns the values in t, in order.
func rows(t *testing.T, db *DB) []int {
	t.Helper()
	rs, err := db.Read().QueryContext(context.Background(), `SELECT v FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []int
	for rs.Next() {
		var v int
		if err := rs.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// A group runs its transactions without savepoints until one fails. The
// failed one's own writes are rolled back with the group's transaction, the
// ones before it run again (once each, not twice over), and the rest of the
// group goes on in savepoints: a later failure costs no second run.
func TestFailedTransactionRunsTheOthersAgain(t *testing.T) {
	ctx := context.Background()
	db, let, first := heldFsync(t, nil)
	var aRuns atomic.Int32
	aRan, a := make(chan struct{}), make(chan error, 1)
	go func() {
		a <- db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (2)`)
			if aRuns.Add(1) == 1 {
				close(aRan)
			}
			return err
		})
	}()
	<-aRan
	refused := errors.New("refused after writing")
	fail := func(v int) (ran chan struct{}, done chan error) {
		ran, done = make(chan struct{}), make(chan error, 1)
		var once sync.Once
		go func() {
			done <- db.InTx(ctx, func(tx *Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, v); err != nil {
					return err
				}
				once.Do(func() { close(ran) })
				return refused
			})
		}()
		return ran, done
	}
	bRan, b := fail(3)
	<-bRan
	cRan, c := inNextGroup(ctx, db, `INSERT INTO t (v) VALUES (4)`)
	<-cRan
	dRan, d := fail(5)
	<-dRan
	let()
	for name, ch := range map[string]chan error{"first": first, "a": a, "c": c} {
		if err := <-ch; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for name, ch := range map[string]chan error{"b": b, "d": d} {
		if err := <-ch; !errors.Is(err, refused) {
			t.Fatalf("%s: %v, want its own refusal", name, err)
		}
	}
	if got := rows(t, db); !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("rows %v, want [1 2 4]: each success once, nothing of the refused ones", got)
	}
	if n := aRuns.Load(); n != 2 {
		t.Fatalf("a ran %d times, want 2 (once more after b failed, not again after d)", n)
	}
}

// A transaction that succeeded, then fails when the group runs it again,
// is answered with that failure, and nothing of it commits.
func TestTransactionFailingWhenRunAgain(t *testing.T) {
	ctx := context.Background()
	db, let, first := heldFsync(t, nil)
	var runs atomic.Int32
	second := errors.New("not the same the second time")
	aRan, a := make(chan struct{}), make(chan error, 1)
	go func() {
		a <- db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (2)`); err != nil {
				return err
			}
			if runs.Add(1) == 1 {
				close(aRan)
				return nil
			}
			return second
		})
	}()
	<-aRan
	bDone := make(chan error, 1)
	bRan := make(chan struct{})
	var once sync.Once
	go func() {
		defer func() {
			if p := recover(); p != nil {
				bDone <- fmt.Errorf("panic: %v", p)
			}
		}()
		bDone <- db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (9)`); err != nil {
				return err
			}
			once.Do(func() { close(bRan) })
			panic("b panics")
		})
	}()
	<-bRan
	cRan, c := inNextGroup(ctx, db, `INSERT INTO t (v) VALUES (3)`)
	<-cRan
	let()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-a; !errors.Is(err, second) {
		t.Fatalf("a: %v, want its failure when run again", err)
	}
	if err := <-c; err != nil {
		t.Fatalf("c: %v", err)
	}
	if err := <-bDone; err == nil || !strings.Contains(err.Error(), "b panics") {
		t.Fatalf("b: %v, want its panic in its own goroutine", err)
	}
	if got := rows(t, db); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("rows %v, want [1 3]", got)
	}
}
