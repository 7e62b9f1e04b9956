package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// SQLite runs on one of two drivers, chosen at build time (sqlite_cgo.go,
// sqlite_purego.go): SQLite's own C code through mattn/go-sqlite3 when cgo
// is available (the default wherever a C compiler is), and the pure-Go
// translation modernc.org/sqlite when it is not (CGO_ENABLED=0: a static
// binary cross-compiled for another system). Both run the same SQLite and
// the same SQL; the C build needs about a fifth less CPU per statement,
// which on the single writer is a fifth more receipts a second
// (docs/PERFORMANCE.md).
//
// Connections are set up the same way on both: opened from a file URI and
// then given their pragmas one by one, as the drivers spell pragmas in
// their connection strings differently.

// Extended result codes of SQLite (https://sqlite.org/rescode.html).
const (
	sqliteFull                 = 13
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// sqliteConnector opens connections to one database file with the same
// pragmas.
type sqliteConnector struct {
	drv driver.Driver
	uri string
	// pragmas run in order on every new connection: busy_timeout first, so
	// the ones that take a lock (journal_mode) wait for it.
	pragmas []string
}

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.uri)
	if err != nil {
		return nil, err
	}
	exec, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite driver cannot execute statements on a connection")
	}
	for _, p := range c.pragmas {
		if _, err := exec.ExecContext(ctx, "PRAGMA "+p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("PRAGMA %s: %w", p, err)
		}
	}
	return conn, nil
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// OpenSQLiteFile opens a pool of connections to the SQLite file at path with
// the given pragmas (each "name=value"); immediate makes every transaction
// take the write lock at BEGIN. It is for tools that need the bare driver
// beside a store, like the bench's raw yardstick.
func OpenSQLiteFile(path string, immediate bool, pragmas ...string) *sql.DB {
	uri := "file:" + path
	if immediate {
		// Both drivers read _txlock from the URI; SQLite ignores it.
		uri += "?_txlock=immediate"
	}
	return sql.OpenDB(sqliteConnector{drv: sqliteDriver(), uri: uri, pragmas: pragmas})
}

// sqliteCode is the extended result code of a SQLite error, if err is one.
func sqliteCode(err error) (int, bool) { return sqliteErrorCode(err) }
