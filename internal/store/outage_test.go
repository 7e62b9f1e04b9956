package store_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestClassifyOutage: real errors of a database that is away or full are
// Unavailable (503 with Retry-After, a message without driver text);
// errors of a statement keep their kind. The fault suite
// (cmd/stocktrail/faults_*_test.go) checks the whole path on a running
// server.
func TestClassifyOutage(t *testing.T) {
	ctx := context.Background()
	unavailable := func(t *testing.T, err error, says string) {
		t.Helper()
		e, ok := fault.As(store.ClassifyOutage(err))
		if !ok || e.Kind != fault.Unavailable || e.RetryAfter <= 0 || !strings.Contains(e.Message, says) {
			t.Fatalf("ClassifyOutage(%v) = %+v, want Unavailable saying %q", err, e, says)
		}
		if !errors.Is(e, err) {
			t.Errorf("the cause is not kept for the log")
		}
	}
	t.Run("sqlite full", func(t *testing.T) {
		db := storetest.Open(t, store.SQLite)
		// max_page_count holds the file to its size: SQLITE_FULL as from
		// a full disk. It applies to the writer's one connection.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE ballast (b BLOB)`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `PRAGMA max_page_count = 1`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO ballast VALUES (zeroblob(1000000))`)
			return err
		})
		unavailable(t, err, "disk is full")
		// The writer goes on once there is room again.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `PRAGMA max_page_count = 1000000000`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO ballast VALUES (zeroblob(1000000))`)
			return err
		}); err != nil {
			t.Fatalf("the writer did not go on after the disk had room again: %v", err)
		}
	})
	t.Run("postgres away", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		_, err = store.Open(ctx, store.Config{URL: "postgres://nobody@" + addr + "/none?sslmode=disable"})
		unavailable(t, err, "database is not available")
	})
	t.Run("postgres session ended", func(t *testing.T) {
		node, other := storetest.OpenTwice(t, store.Postgres)
		err := node.InTx(ctx, func(tx *store.Tx) error {
			var pid int
			if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			if _, err := other.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Errorf("terminate: %v", err)
			}
			_, err := tx.ExecContext(ctx, `SELECT 1`)
			return err
		})
		unavailable(t, err, "database is not available")
		// Cut during the COMMIT: whether it was applied is unknown, and
		// the answer must not claim that nothing was saved.
		err = node.InTx(ctx, func(tx *store.Tx) error {
			var pid int
			if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			_, err := other.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
			return err
		})
		unavailable(t, err, "may or may not have been saved")
	})
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT * FROM no_such_table`)
			return err
		})
		if err == nil || store.ClassifyOutage(err) != err {
			t.Errorf("a bad statement became %v", store.ClassifyOutage(err))
		}
		for _, err := range []error{nil, errors.New("plain"), fault.Field("sku", "is required"), context.Canceled} {
			if got := store.ClassifyOutage(err); got != err {
				t.Errorf("ClassifyOutage(%v) = %v, want it unchanged", err, got)
			}
		}
	})
}

// TestConnectingIsBounded: a PostgreSQL that accepts connections and never
// answers (a hung server, a half-open network) fails a request within the
// connect timeout (5 s unless the URL sets connect_timeout), as an outage,
// instead of holding it for the operating system's TCP timeout.
func TestConnectingIsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // accept, then say nothing
		}
	}()
	began := time.Now()
	_, err = store.Open(context.Background(), store.Config{URL: "postgres://nobody@" + l.Addr().String() + "/none?sslmode=disable"})
	// Open itself gives up after 15 s.
	if took := time.Since(began); err == nil || took > 10*time.Second {
		t.Fatalf("open against a silent server: %v after %v", err, took)
	}
	if !fault.Is(store.ClassifyOutage(err), fault.Unavailable) {
		t.Errorf("a connect timeout is not an outage: %v", err)
	}
}
