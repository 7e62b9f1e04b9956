package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// A caller hears of its commit only once the group is durable. Meanwhile
// the writer runs the requests that come in the next group, and commits
// that group once the syncer is free.
func TestGroupAnsweredOnlyWhenDurable(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	db := withDurable(t, func() error {
		entered <- struct{}{}
		<-release
		return nil
	})
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	t.Cleanup(let) // runs before the database closes, which waits for the syncer
	first := make(chan error, 1)
	go func() { first <- insert(db, 1) }()
	<-entered // the first group is committed and waits for its fsync
	if n := count(t, db); n != 1 {
		t.Fatalf("%d rows visible after the first commit, want 1", n)
	}
	ran := make(chan struct{})
	second := make(chan error, 1)
	go func() {
		ctx := context.Background()
		second <- db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (2)`)
			close(ran)
			return err
		})
	}()
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
