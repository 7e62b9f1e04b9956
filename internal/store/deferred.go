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
	queued = mergeInserts(queued)
	if len(queued) == 1 {
		_, err := tx.ExecContext(ctx, queued[0].query, queued[0].args...)
		return err
	}
	var b strings.Builder
	var args []any
	b.WriteString("WITH ")
	for i, d := range queued {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (", i)
		b.WriteString(renumber(d.query, len(args)))
		b.WriteString(")")
		args = append(args, d.args...)
	}
	b.WriteString(" SELECT 1")
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

// renumber shifts the placeholders of query by offset.
func renumber(query string, offset int) string {
	return placeholder.ReplaceAllStringFunc(query, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+offset)
	})
}

// maxMergedRows bounds one multi-row INSERT (PostgreSQL takes at most 65535
// parameters a statement).
const maxMergedRows = 1000

// mergeInserts turns queued single-row INSERTs of the same text (a batch's
// audit events) into multi-row INSERTs: one row list is far cheaper for the
// server to plan than as many WITH clauses.
func mergeInserts(queued []deferredStmt) []deferredStmt {
	type group struct {
		head  string // up to and including "VALUES "
		tuple string // "($1, …)"
		rows  [][]any
	}
	var out []deferredStmt
	var groups []*group
	byQuery := map[string]*group{}
	for _, d := range queued {
		i := strings.LastIndex(d.query, "VALUES (")
		tuple := ""
		if i >= 0 {
			tuple = strings.TrimSpace(d.query[i+len("VALUES "):])
		}
		if i < 0 || strings.Count(tuple, ")") != 1 || !strings.HasSuffix(tuple, ")") {
			out = append(out, d)
			continue
		}
		g := byQuery[d.query]
		if g == nil || len(g.rows) == maxMergedRows {
			g = &group{head: d.query[:i+len("VALUES ")], tuple: tuple}
			byQuery[d.query] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, d.args)
	}
	for _, g := range groups {
		var b strings.Builder
		var args []any
		b.WriteString(g.head)
		for i, row := range g.rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(renumber(g.tuple, len(args)))
			args = append(args, row...)
		}
		out = append(out, deferredStmt{query: b.String(), args: args})
	}
	return out
}
