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
//
// The writer does not wait for the disk either: its COMMIT only appends the
// group's pages to the write-ahead log (synchronous=NORMAL), and a second
// goroutine fsyncs the log and only then answers the group's callers, while
// the writer runs the next group. Callers still hear of nothing before it is
// durable; other transactions may see a group up to one fsync before that
// (the time of one fsync, a few milliseconds). A crash loses the log's tail
// in order, so whatever a later group wrote on the strength of a lost one is
// lost with it.
type groupCommitter struct {
	db       *sql.DB
	stmts    *stmtCache
	requests chan *writeRequest
	stop     chan struct{}
	stopped  chan struct{}
	// durable makes every committed group durable (fsync of the log).
	durable func() error
	// committed carries groups from the writer to the syncer, which
	// answers them once durable; syncerDone closes when it has finished.
	committed  chan committedGroup
	syncerDone chan struct{}
	// broken is why a group could not be made durable. After that nothing
	// more is committed: what the failed fsync held is in doubt.
	broken atomic.Pointer[error]
	// Totals for WriterStats.
	groups, transactions, busy, syncs, syncBusy atomic.Int64
}

// committedGroup is a group committed but not yet known to be durable, and
// its callers' answers.
type committedGroup struct {
	requests []*writeRequest
	results  []writeResult
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

func newGroupCommitter(db *sql.DB, durable func() error) *groupCommitter {
	g := &groupCommitter{db: db, stmts: newStmtCache(db), requests: make(chan *writeRequest), stop: make(chan struct{}), stopped: make(chan struct{}),
		durable: durable, committed: make(chan committedGroup, maxGroup), syncerDone: make(chan struct{})}
	go g.run()
	go g.syncer()
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
	close(g.committed)
	<-g.syncerDone
	g.stmts.close()
}

// syncer makes committed groups durable and answers their callers. The
// groups that committed during one fsync share the next.
func (g *groupCommitter) syncer() {
	defer close(g.syncerDone)
	for first := range g.committed {
		groups := []committedGroup{first}
	more:
		for {
			select {
			case cg, ok := <-g.committed:
				if !ok {
					break more
				}
				groups = append(groups, cg)
			default:
				break more
			}
		}
		began := time.Now()
		err := g.durable()
		g.syncs.Add(1)
		g.syncBusy.Add(int64(time.Since(began)))
		if err != nil {
			err = fmt.Errorf("commit not durable: %w", err)
			g.broken.CompareAndSwap(nil, &err)
		}
		for _, cg := range groups {
			for i, r := range cg.requests {
				if err != nil {
					r.result <- writeResult{err: err}
				} else {
					r.result <- cg.results[i]
				}
			}
		}
	}
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
	Checkpoints  int64         // write-ahead log checkpoints run off the writer
	Syncs        int64         // fsyncs of the write-ahead log that made groups durable
	SyncBusy     time.Duration // time spent in them
}

// WriterStats reports the group committer's totals (zero on PostgreSQL).
func (db *DB) WriterStats() WriterStats {
	if db.group == nil {
		return WriterStats{}
	}
	g := db.group
	return WriterStats{Groups: g.groups.Load(), Transactions: g.transactions.Load(), Busy: time.Duration(g.busy.Load()),
		Checkpoints: db.checkpoints.runs.Load(), Syncs: g.syncs.Load(), SyncBusy: time.Duration(g.syncBusy.Load())}
}

// commit runs a batch in one physical transaction and answers every request.
func (g *groupCommitter) commit(batch []*writeRequest) {
	if broken := g.broken.Load(); broken != nil {
		g.failRest(batch, *broken)
		return
	}
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
	g.committed <- committedGroup{requests: committed, results: results}
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
