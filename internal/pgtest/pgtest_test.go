package pgtest_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open connects to dsn through database/sql, as application code does, and
// closes the pool at cleanup (before pgtest drops the database, since
// cleanups run last-in first-out).
func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("ping %s: %v", dsn, err)
	}
	return db
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(`SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// Two databases from one test are separate: a table made in one is absent
// from the other.
func TestDatabasesAreIsolated(t *testing.T) {
	urlA := pgtest.NewDatabase(t)
	urlB := pgtest.NewDatabase(t)
	if urlA == urlB {
		t.Fatalf("two calls returned the same URL %s", urlA)
	}
	if !strings.HasPrefix(urlA, "postgres://") {
		t.Fatalf("URL %q is not postgres://", urlA)
	}
	a, b := open(t, urlA), open(t, urlB)

	if _, err := a.Exec(`CREATE TABLE widgets (id bigint PRIMARY KEY, name text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(`INSERT INTO widgets VALUES (1, 'bolt')`); err != nil {
		t.Fatal(err)
	}
	if !tableExists(t, a, "widgets") {
		t.Fatal("widgets missing from the database that created it")
	}
	if tableExists(t, b, "widgets") {
		t.Fatal("widgets leaked into the other database")
	}

	// A new database is empty: no user tables at all.
	var n int
	if err := b.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("new database has %d user tables, want 0", n)
	}

	var enc string
	if err := b.QueryRow(`SHOW server_encoding`).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" {
		t.Errorf("server_encoding = %s, want UTF8", enc)
	}
}

// The database of a finished test is gone, even when the test left a
// connection open.
func TestDatabaseDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		u := pgtest.NewDatabase(t)
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(pu.Path, "/")
		// Deliberately never closed before the drop: WITH (FORCE) must cope.
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		pgtest.NewDatabase(t) // registered after db.Close: its drop runs first
	})
	if t.Skipped() || name == "" {
		t.Skip("inner test got no database")
	}

	db := open(t, pgtest.NewDatabase(t))
	var exists bool
	if err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

// NewDatabase is safe from parallel tests, and every call gets its own
// database. (It must be called from the test's goroutine, like t.Fatal.)
func TestParallel(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	t.Run("group", func(t *testing.T) {
		for range 6 {
			t.Run("", func(t *testing.T) {
				t.Parallel()
				for range 2 {
					u := pgtest.NewDatabase(t)
					mu.Lock()
					dup := seen[u]
					seen[u] = true
					mu.Unlock()
					if dup {
						t.Fatalf("URL %s handed out twice", u)
					}
					db := open(t, u)
					if _, err := db.Exec(`CREATE TABLE t (x int)`); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	})
}
