//go:build !(cgo && sqlite_fts5)

package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLiteDriverName names the driver this binary was built with.
const SQLiteDriverName = "pure-Go SQLite (modernc.org/sqlite)"

// The driver modernc registers as "sqlite", so that functions registered
// with sqlite.RegisterScalarFunction (tests do) reach these connections.
func sqliteDriver() driver.Driver {
	db, _ := sql.Open("sqlite", "")
	defer db.Close()
	return db.Driver()
}

// sqliteCode is the extended result code of a SQLite error, if err is one.
func sqliteCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}
