//go:build !(cgo && sqlite_fts5)

package store

import (
	"database/sql"
	"database/sql/driver"
	"testing"

	"modernc.org/sqlite"
)

// modernc's driver registers functions for every connection it opens
// afterwards.
func init() {
	sqlite.MustRegisterScalarFunction("stocktrail_test_hook", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		name, _ := args[0].(string)
		return runStatementHook(name), nil
	})
}

func addStatementHook(*testing.T, *sql.DB) {}
