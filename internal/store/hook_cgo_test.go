//go:build cgo && sqlite_fts5

package store

import (
	"context"
	"database/sql"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// addStatementHook gives the writer's one connection the function
// stocktrail_test_hook: mattn's driver registers functions per connection.
func addStatementHook(t *testing.T, write *sql.DB) {
	t.Helper()
	conn, err := write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		return dc.(*sqliteConn).inner.(*sqlite3.SQLiteConn).RegisterFunc("stocktrail_test_hook", runStatementHook, false)
	}); err != nil {
		t.Fatal(err)
	}
}
