package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The primitives below are all an area needs to write SQL that runs on both
// engines. Areas never ask which engine they run on: they ask for what
// differs (a locking clause, a list argument, a statement that has to be
// written twice) or for the property that makes it differ.

// engineOf is what both *DB and *Tx offer.
type engineOf interface{ Engine() Engine }

// Engine lets an Engine stand for itself where Pick, In and ListValue want
// something that runs on one (test harnesses that choose the engine).
func (e Engine) Engine() Engine { return e }

// Pick returns sqlite or postgres, whichever is written for on's engine. It
// is for the few statements (and their arguments) whose SQL really differs:
// write both next to each other so that they stay the same query.
func Pick[T any](on engineOf, sqlite, postgres T) T {
	if on.Engine() == Postgres {
		return postgres
	}
	return sqlite
}

// ConcurrentWriters reports whether other write transactions may run at the
// same time as this one (PostgreSQL). SQLite runs one writer at a time, so
// what a write transaction reads cannot change under it: it needs no row
// locks.
func (tx *Tx) ConcurrentWriters() bool { return tx.engine == Postgres }

// ConcurrentWriters reports whether write transactions on db run at the same
// time (PostgreSQL) or one after another (SQLite).
func (db *DB) ConcurrentWriters() bool { return db.engine == Postgres }

// RoundTrips reports whether each statement is a round trip to a database
// server (PostgreSQL), so that merging statements pays. SQLite's statements
// are calls inside this process.
func (tx *Tx) RoundTrips() bool { return tx.engine == Postgres }

// ForUpdate returns the clause that locks the rows a SELECT reads until the
// transaction ends, " FOR UPDATE" (" FOR UPDATE OF t, …" when tables are
// named), where writers run concurrently, and "" on SQLite, whose single
// writer needs no row locks. Append it to the statement.
func (tx *Tx) ForUpdate(tables ...string) string {
	if !tx.ConcurrentWriters() {
		return ""
	}
	if len(tables) == 0 {
		return " FOR UPDATE"
	}
	return " FOR UPDATE OF " + strings.Join(tables, ", ")
}

// ForShare returns the clause that locks the rows a SELECT reads against
// change until the transaction ends while letting other readers lock them
// the same way, " FOR SHARE" (" FOR SHARE OF t, …" when tables are named),
// where writers run concurrently, and "" on SQLite, whose single writer
// needs no row locks. Many transactions may hold it at once; one that asks
// for ForUpdate on the same row waits for them all. Append it to the
// statement.
func (tx *Tx) ForShare(tables ...string) string {
	if !tx.ConcurrentWriters() {
		return ""
	}
	if len(tables) == 0 {
		return " FOR SHARE"
	}
	return " FOR SHARE OF " + strings.Join(tables, ", ")
}

// GroupsByHashing reports whether the database groups rows by hashing them
// (PostgreSQL's HashAggregate): a GROUP BY over many rows into few groups is
// then one pass whatever the order the rows are read in. SQLite groups by
// sorting, unless it reads the rows in the grouped order from an index, so
// grouping many rows that no index orders means sorting them all; summing
// raw rows in Go, or one ordered GROUP BY per index, is then often cheaper.
func (db *DB) GroupsByHashing() bool { return db.engine == Postgres }

// GroupsByHashing reports the same as DB.GroupsByHashing, inside a
// transaction.
func (tx *Tx) GroupsByHashing() bool { return tx.engine == Postgres }

// IDsInCommitOrder reports whether the ids a table hands out rise in the
// order their transactions commit, so that once an id is seen committed,
// every lower id is committed too, and a table read in id ranges by
// several read transactions is read consistently. SQLite's single writer
// commits its transactions one after another; PostgreSQL's sequences hand
// out ids to concurrent transactions that may commit in any order.
func (db *DB) IDsInCommitOrder() bool { return !db.ConcurrentWriters() }

// ListValue is the argument for a list condition made by In: the values as
// an array on PostgreSQL and as a JSON array on SQLite.
func ListValue[T int64 | string](on engineOf, values []T) any {
	if on.Engine() == Postgres {
		if values == nil {
			values = []T{}
		}
		return values
	}
	if values == nil {
		return "[]"
	}
	b, err := json.Marshal(values)
	if err != nil {
		// Slices of int64 or string always marshal.
		panic(err)
	}
	return string(b)
}

// In returns the condition "column is one of values", with ? where the list
// goes, and the list's argument: pass both to Where.And,
// w.And(store.In(tx, "id", ids)). The statement's text is the same whatever
// the list's length, so it is prepared once.
func In[T int64 | string](on engineOf, column string, values []T) (string, any) {
	if on.Engine() == Postgres {
		var zero T
		typ := "text[]"
		if _, ok := any(zero).(int64); ok {
			typ = "bigint[]"
		}
		return column + " = ANY(?::" + typ + ")", ListValue(on, values)
	}
	return column + " IN (SELECT value FROM json_each(?))", ListValue(on, values)
}

// Args collects a statement's arguments and names their placeholders in
// order: `"qty > " + args.Add(n)` writes "qty > $3" when n is the third.
type Args []any

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Where builds a WHERE clause of conditions joined by AND, with its
// arguments. Each condition marks its values with ?, which become $n in
// order; write a literal question mark as ??.
type Where struct {
	conds []string
	Args  Args
}

// NewWhere starts a clause with cond and its values (usually the workspace).
func NewWhere(cond string, values ...any) *Where {
	w := &Where{}
	w.And(cond, values...)
	return w
}

// And adds cond, whose ? marks stand for values in order.
func (w *Where) And(cond string, values ...any) *Where {
	var b strings.Builder
	i := 0
	for j := 0; j < len(cond); j++ {
		c := cond[j]
		if c != '?' {
			b.WriteByte(c)
			continue
		}
		if j+1 < len(cond) && cond[j+1] == '?' {
			b.WriteByte('?')
			j++
			continue
		}
		if i >= len(values) {
			panic(fmt.Sprintf("store.Where: %q has more ? than the %d values given", cond, len(values)))
		}
		b.WriteString(w.Args.Add(values[i]))
		i++
	}
	if i != len(values) {
		panic(fmt.Sprintf("store.Where: %q has %d ? for %d values", cond, i, len(values)))
	}
	w.conds = append(w.conds, b.String())
	return w
}

// Add appends v to the clause's arguments and returns its placeholder, for
// what follows the clause (LIMIT, OFFSET) or a condition written by hand.
func (w *Where) Add(v any) string { return w.Args.Add(v) }

// String is the conditions joined by AND, without the WHERE keyword.
func (w *Where) String() string { return strings.Join(w.conds, " AND ") }

// EscapeLike escapes LIKE's wildcards in s, for a pattern written with
// ESCAPE '\' (which both engines honour), so that text a person typed
// matches as written: "50%" finds "50%", not "500".
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
