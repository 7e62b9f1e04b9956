package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// SQLite runs on one of two drivers, chosen at build time (sqlite_cgo.go,
// sqlite_purego.go): SQLite's own C code through mattn/go-sqlite3 in builds
// with cgo and the tag sqlite_fts5 (which mattn needs for the full-text
// module; the scripts and the README's commands pass it), and the pure-Go
// translation modernc.org/sqlite otherwise (a static binary cross-compiled
// with CGO_ENABLED=0, or a bare `go build`). Both run the same SQLite and
// the same SQL; the C build needs about a fifth less CPU per statement,
// which on the single writer is a fifth more receipts a second
// (docs/PERFORMANCE.md).
//
// Connections are set up the same way on both: opened from a file URI and
// then given their pragmas one by one, as the drivers spell pragmas in
// their connection strings differently. And our SQL's $1-style
// placeholders reach both as SQLite's numbered ?1: SQLite itself reads $1
// as a parameter *named* "1", numbered by where it first appears, and
// mattn's driver binds arguments by those numbers, so a statement naming
// $6 before $1 got its arguments in the wrong places.

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
	return &sqliteConn{inner: conn}, nil
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

// numberPlaceholders turns each $N outside quotes and comments into ?N.
// It runs on every statement: a byte scan costs far less than SQLite's
// work on the statement, and a cache would grow with every filter's text.
func numberPlaceholders(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	b := []byte(query)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\'' || b[i] == '"':
			// To the closing quote; a doubled one inside reopens it.
			if end := strings.IndexByte(query[i+1:], b[i]); end >= 0 {
				i += end + 1
			} else {
				i = len(b)
			}
		case b[i] == '-' && i+1 < len(b) && b[i+1] == '-':
			if end := strings.IndexByte(query[i:], '\n'); end >= 0 {
				i += end
			} else {
				i = len(b)
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			if end := strings.Index(query[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(b)
			}
		case b[i] == '$' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9':
			b[i] = '?'
		}
	}
	return string(b)
}

// sqliteConn is a driver connection whose statements are numbered
// (numberPlaceholders) on their way in. It offers what both drivers'
// connections offer database/sql.
type sqliteConn struct {
	inner driver.Conn
}

func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return c.inner.Prepare(numberPlaceholders(query))
}

func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, numberPlaceholders(query))
	}
	return c.inner.Prepare(numberPlaceholders(query))
}

func (c *sqliteConn) Close() error { return c.inner.Close() }

func (c *sqliteConn) Begin() (driver.Tx, error) { return c.inner.Begin() }

func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, errors.New("sqlite driver cannot begin a transaction with options")
}

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.inner.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, numberPlaceholders(query), args)
	}
	return nil, driver.ErrSkip
}

func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.inner.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, numberPlaceholders(query), args)
	}
	return nil, driver.ErrSkip
}

func (c *sqliteConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *sqliteConn) CheckNamedValue(v *driver.NamedValue) error {
	if n, ok := c.inner.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *sqliteConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}
