package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// SQLite has one writer and makes a commit durable with an fsync, so one
// transaction per request caps throughput at the disk's fsync rate. The group
// committer runs the transactions that are waiting together inside one
// physical transaction, each in its own SAVEPOINT, and commits once: a failed
// transaction rolls back to its savepoint alone, and every caller is answered
// only after the shared COMMIT is durable. Callers keep the InTx contract:
// their work commits entirely or not at all, and nothing is acknowledged
// before it is on disk.
type groupCommitter struct {
	db       *sql.DB
	stmts    *stmtCache
	requests chan *writeRequest
	stop     chan struct{}
	stopped  chan struct{}
	// Totals for WriterStats.
	groups, transactions, busy atomic.Int64
}

// maxGroup bounds one physical transaction, so one batch cannot hold the
// writer for long.
const maxGroup = 256

type writeRequest struct {
	ctx    context.Context
	fn     func(tx *Tx) error
	result chan writeResult
}

type writeResult struct {
	tx    *Tx
	err   error
	panic any
}

func newGroupCommitter(db *sql.DB) *groupCommitter {
	g := &groupCommitter{db: db, stmts: newStmtCache(db), requests: make(chan *writeRequest), stop: make(chan struct{}), stopped: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn in the next group and waits until that group has committed.
func (g *groupCommitter) do(ctx context.Context, fn func(tx *Tx) error) error {
	req := &writeRequest{ctx: ctx, fn: fn, result: make(chan writeResult, 1)}
	select {
	case g.requests <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stopped:
		return errors.New("database is closed")
	}
	// Once queued, wait for the outcome even if ctx ends: the work may
	// already be part of a commit, and the caller must learn whether it was.
	res := <-req.result
	if res.panic != nil {
		panic(res.panic)
	}
	if res.err != nil {
		return res.err
	}
	for _, f := range res.tx.after {
		f()
	}
	return nil
}

func (g *groupCommitter) close() {
	close(g.stop)
	<-g.stopped
	g.stmts.close()
}

func (g *groupCommitter) run() {
	defer close(g.stopped)
	for {
		var first *writeRequest
		select {
		case first = <-g.requests:
		case <-g.stop:
			return
		}
		batch := []*writeRequest{first}
	collect:
		for len(batch) < maxGroup {
			select {
			case r := <-g.requests:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		began := time.Now()
		g.commit(batch)
		g.stmts.prepareWanted(context.Background())
		g.groups.Add(1)
		g.transactions.Add(int64(len(batch)))
		g.busy.Add(int64(time.Since(began)))
	}
}

// WriterStats describes the SQLite writer's work so far, for benchmarks:
// when Busy is close to the elapsed time, the single writer is the limit.
type WriterStats struct {
	Groups       int64         // physical transactions committed
	Transactions int64         // logical transactions run in them
	Busy         time.Duration // time spent running and committing groups
}

// WriterStats reports the group committer's totals (zero on PostgreSQL).
func (db *DB) WriterStats() WriterStats {
	if db.group == nil {
		return WriterStats{}
	}
	g := db.group
	return WriterStats{Groups: g.groups.Load(), Transactions: g.transactions.Load(), Busy: time.Duration(g.busy.Load())}
}

// commit runs a batch in one physical transaction and answers every request.
func (g *groupCommitter) commit(batch []*writeRequest) {
	bg := context.Background()
	sqlTx, err := g.db.BeginTx(bg, nil)
	if err != nil {
		for _, r := range batch {
			r.result <- writeResult{err: fmt.Errorf("begin: %w", err)}
		}
		return
	}
	var committed []*writeRequest
	var results []writeResult
	abort := func(err error) {
		sqlTx.Rollback()
		for _, r := range committed {
			r.result <- writeResult{err: err}
		}
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.result <- writeResult{err: err}
			continue
		}
		if _, err := g.exec(sqlTx, savepoint); err != nil {
			r.result <- writeResult{err: fmt.Errorf("savepoint: %w", err)}
			abort(fmt.Errorf("savepoint: %w", err))
			g.failRest(batch[i+1:], err)
			return
		}
		tx := &Tx{Tx: sqlTx, engine: SQLite, stmts: g.stmts}
		res := runLogical(r.ctx, tx, r.fn)
		if res.err != nil || res.panic != nil {
			if _, err := g.exec(sqlTx, rollbackToSavepoint); err != nil {
				r.result <- res
				abort(fmt.Errorf("rollback to savepoint: %w", err))
				g.failRest(batch[i+1:], err)
				return
			}
			g.exec(sqlTx, releaseSavepoint)
			r.result <- res
			continue
		}
		if _, err := g.exec(sqlTx, releaseSavepoint); err != nil {
			r.result <- writeResult{err: fmt.Errorf("release savepoint: %w", err)}
			abort(fmt.Errorf("release savepoint: %w", err))
			g.failRest(batch[i+1:], err)
			return
		}
		committed = append(committed, r)
		results = append(results, res)
	}
	if len(committed) == 0 {
		sqlTx.Rollback()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for _, r := range committed {
			r.result <- writeResult{err: fmt.Errorf("commit: %w", err)}
		}
		return
	}
	for i, r := range committed {
		r.result <- results[i]
	}
}

// Each logical transaction is released (or rolled back to) before the next
// one starts, so one savepoint name serves them all, and its three
// statements stay prepared like any other write.
const (
	savepoint           = "SAVEPOINT logical"
	releaseSavepoint    = "RELEASE logical"
	rollbackToSavepoint = "ROLLBACK TO logical"
)

func (g *groupCommitter) exec(sqlTx *sql.Tx, query string) (sql.Result, error) {
	tx := &Tx{Tx: sqlTx, engine: SQLite, stmts: g.stmts}
	return tx.ExecContext(context.Background(), query)
}

func (g *groupCommitter) failRest(rest []*writeRequest, err error) {
	for _, r := range rest {
		r.result <- writeResult{err: fmt.Errorf("group commit aborted: %w", err)}
	}
}

// runLogical runs one caller's work and its before-commit hooks, turning a
// panic into a value the caller re-raises in its own goroutine.
func runLogical(ctx context.Context, tx *Tx, fn func(tx *Tx) error) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panic: p}
		}
	}()
	if err := tx.settle(ctx, fn(tx)); err != nil {
		return writeResult{err: err}
	}
	hooks, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	for _, h := range append(tx.before, hooks...) {
		if err := h(ctx, tx); err != nil {
			return writeResult{err: err}
		}
	}
	if err := tx.flushDeferred(ctx); err != nil {
		return writeResult{err: err}
	}
	return writeResult{tx: tx}
}
