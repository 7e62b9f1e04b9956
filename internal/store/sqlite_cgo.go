//go:build cgo && sqlite_fts5

package store

import (
	"database/sql/driver"
	"errors"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// SQLiteDriverName names the driver this binary was built with.
const SQLiteDriverName = "C SQLite (mattn/go-sqlite3, cgo)"

func sqliteDriver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// sqliteCode is the extended result code of a SQLite error, if err is one.
func sqliteCode(err error) (int, bool) {
	var e sqlite3.Error
	if errors.As(err, &e) {
		return int(e.ExtendedCode), true
	}
	return 0, false
}
