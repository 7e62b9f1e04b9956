package store

import (
	"context"
	"database/sql"
	"sync"
)

// The SQLite driver parses every statement anew, and in write transactions
// parsing costs about as much as running the statement. All SQLite writes
// run on one connection, so statements can stay prepared on it: a statement
// seen inside a transaction is prepared once that transaction's group has
// committed (the connection is free then), and later transactions run it
// through tx.StmtContext, which reuses the connection's prepared statement.
// PostgreSQL needs none of this: pgx caches prepared statements itself.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]struct{}
}

// maxCachedStmts bounds the cache; queries built from filters can vary.
const maxCachedStmts = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]struct{}{}}
}

// get returns the prepared statement for query, or nil after noting that
// it is wanted.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.wanted) < maxCachedStmts {
		c.wanted[query] = struct{}{}
	}
	return nil
}

// prepareWanted prepares the statements noted since the last call. It must
// run while no transaction holds the write connection.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = map[string]struct{}{}
	c.mu.Unlock()
	for q := range wanted {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // it will simply keep running unprepared
		}
		c.mu.Lock()
		c.stmts[q] = st
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// stmt returns query prepared within tx, or nil to run it unprepared.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	st := tx.stmts.get(query)
	if st == nil {
		return nil
	}
	return tx.Tx.StmtContext(ctx, st)
}

// statementContext keeps a caller's cancellation away from SQLite: the
// driver interrupts a statement whose context ends, and SQLite answers an
// interrupted write by rolling back the whole physical transaction, which
// the other callers of the group share. A cancelled caller's work runs to
// its end instead (do checks the context before it starts).
func (tx *Tx) statementContext(ctx context.Context) context.Context {
	if tx.engine == SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = tx.statementContext(ctx)
	if err := tx.FlushHeld(ctx); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = tx.statementContext(ctx)
	if err := tx.FlushHeld(ctx); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = tx.statementContext(ctx)
	if err := tx.FlushHeld(ctx); err != nil {
		return tx.heldRow(ctx, query, args...)
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}
