package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// On PostgreSQL every statement is a round trip to a server process, and a
// movement's cost is mostly those exchanges, not the work in them. Writes
// whose results the transaction does not need (audit events, bookkeeping)
// can wait: ExecLater queues them, and just before COMMIT they go to the
// server together, as one statement of data-modifying WITH clauses. SQLite
// runs in-process and simply executes them there and then.

type deferredStmt struct {
	query string
	args  []any
}

// ExecLater queues a write to run just before the transaction commits,
// after its before-commit functions; an error from it rolls the transaction
// back. Queued writes must be independent of each other: on PostgreSQL they
// run as one statement and do not see each other's effects. Reads in the
// transaction do not see them either.
func (tx *Tx) ExecLater(query string, args ...any) {
	tx.deferred = append(tx.deferred, deferredStmt{query: query, args: args})
}

// placeholder matches $1, $2, … in hand-written SQL (which never holds a
// dollar sign in a literal).
var placeholder = regexp.MustCompile(`\$(\d+)`)

// flushDeferred runs the queued writes.
func (tx *Tx) flushDeferred(ctx context.Context) error {
	queued := tx.deferred
	tx.deferred = nil
	if len(queued) == 0 {
		return nil
	}
	if tx.engine != Postgres || len(queued) == 1 {
		for _, d := range queued {
			if _, err := tx.ExecContext(ctx, d.query, d.args...); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	var args []any
	b.WriteString("WITH ")
	for i, d := range queued {
		offset := len(args)
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (", i)
		b.WriteString(placeholder.ReplaceAllStringFunc(d.query, func(p string) string {
			n, _ := strconv.Atoi(p[1:])
			return "$" + strconv.Itoa(n+offset)
		}))
		b.WriteString(")")
		args = append(args, d.args...)
	}
	b.WriteString(" SELECT 1")
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}
