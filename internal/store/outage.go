package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// Outage retry hints, in seconds: PostgreSQL restarting takes seconds; a
// full disk waits for someone to free space.
const (
	databaseAwayRetryAfter = 5
	diskFullRetryAfter     = 30
)

// ClassifyOutage returns err as a fault.Unavailable (503 with Retry-After)
// when it says that the database cannot be reached (PostgreSQL stopped,
// restarting or cut off) or that it has no room to write (a full disk), and
// err unchanged otherwise. An outage is no fault of the request, which
// changed nothing (the transaction did not commit) and may be sent again as
// it is, and the server mends by itself once the database is back: the pool
// opens new connections and SQLite's writer goes on with the next group.
// The edges (api, web, server) call it on every error they answer, so that a
// client hears "try again shortly" instead of an internal error. Errors that
// already have a kind keep it.
func ClassifyOutage(err error) error {
	if err == nil || fault.KindOf(err) != fault.Internal {
		return err
	}
	switch {
	case isDiskFull(err):
		return &fault.Error{Kind: fault.Unavailable, RetryAfter: diskFullRetryAfter, Err: err,
			Message: "the server's disk is full, so nothing was saved; try again once space has been freed"}
	case isDatabaseAway(err):
		var commit *commitError
		if errors.As(err, &commit) {
			// The COMMIT went out and no answer came back: it may have
			// been applied. A retry with the same key finds out (its claim
			// commits with the change).
			return &fault.Error{Kind: fault.Unavailable, RetryAfter: databaseAwayRetryAfter, Err: err,
				Message: "the database went away while saving, so the change may or may not have been saved; " +
					"send the same request again shortly with the same Idempotency-Key to learn which (it is never applied twice)"}
		}
		return &fault.Error{Kind: fault.Unavailable, RetryAfter: databaseAwayRetryAfter, Err: err,
			Message: "the database is not available at the moment, so nothing was saved; try again shortly"}
	}
	return err
}

// commitError is a failed COMMIT on PostgreSQL. When the connection broke
// during it, whether the transaction committed is unknown.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// isDiskFull reports SQLite's SQLITE_FULL (any extended code) and
// PostgreSQL's disk_full (53100).
func isDiskFull(err error) bool {
	if code, ok := sqliteCode(err); ok && code&0xff == sqliteFull {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53100"
}

// isDatabaseAway reports errors of a PostgreSQL connection that failed or
// went away, rather than of a statement.
func isDatabaseAway(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 connection exception; 57P01-57P03 the server shutting
		// down, crashed or starting up; 53300 too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// A connection that broke in the middle of a statement: pgx returns the
	// network error as it is (or io.ErrUnexpectedEOF from a message cut
	// short). No request handler makes network calls of its own (webhooks
	// and e-mail go out from background jobs) and areas give their own
	// failures a kind, so such an error without a kind is the database's.
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var fromPgconn interface{ SafeToRetry() bool }
	return errors.As(err, &fromPgconn) && errors.Is(err, io.EOF)
}
