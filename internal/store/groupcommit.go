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
// physical transaction and commits once; every caller is answered only after
// the shared COMMIT is durable.
//
// A group runs its transactions one after the other without savepoints while
// they succeed: a savepoint makes SQLite copy every page a transaction is the
// first in it to change (a dozen index pages per movement) into a
// sub-journal, which was a quarter of a movement's cost. When one fails, the
// group is rolled back, the transactions that had succeeded run again in a
// new one (InTx's functions must be safe to run again, as PostgreSQL retries
// them too), and the rest of the group runs each in its own SAVEPOINT, so a
// failed transaction rolls back to its savepoint alone. Nothing is answered
// before its group commits, so running again changes no answer anyone saw.
// Callers keep the InTx contract: their work commits entirely or not at
// all, and nothing is acknowledged before it is on disk.
//
// The writer does not wait for the disk: its COMMIT only appends the group's
// pages to the write-ahead log (synchronous=NORMAL), and the syncer
// goroutine fsyncs the log and only then answers the group's callers. While
// it does, the writer goes on running the requests that arrive inside the
// next group's transaction, and commits that group as soon as the syncer is
// free again: one group is being made durable while the next one fills, and
// groups stay as large as when the writer waited (fewer, larger groups also
// write fewer pages: requests share index pages). Callers still hear of
// nothing before it is durable; other transactions may see a group for the
// length of its fsync before that. A crash loses the log's tail in order, so
// whatever a later group wrote on the strength of a lost one is lost with
// it.
type groupCommitter struct {
	db       *sql.DB
	stmts    *stmtCache
	requests chan *writeRequest
	stop     chan struct{}
	stopped  chan struct{}
	// durable makes every committed group durable (fsync of the log).
	durable func() error
	// syncerFree holds a token while no group is being made durable: the
	// writer takes it to commit, the syncer gives it back.
	syncerFree chan struct{}
	// committed carries a group from the writer to the syncer, which
	// answers its callers once it is durable; syncerDone closes when the
	// syncer has finished.
	committed  chan committedGroup
	syncerDone chan struct{}
	// broken is why the log could not be made durable. After that nothing
	// more is committed: what the failed fsync held is in doubt, and Linux
	// reports a failed writeback only once, so a later fsync that succeeds
	// proves nothing about it.
	broken atomic.Pointer[error]
	// Totals for WriterStats.
	groups, transactions, busy, syncs, syncBusy atomic.Int64
}

// committedGroup is a group committed but not yet known to be durable, and
// its callers' answers.
type committedGroup struct {
	requests []*writeRequest
	results  []writeResult
	// failed are logical transactions that failed after others had
	// succeeded in the group: their errors may rest on what those wrote,
	// so they are answered only once the group is durable (or with the
	// group's own error if it is not).
	failed        []*writeRequest
	failedResults []writeResult
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
		durable: durable, syncerFree: make(chan struct{}, 1), committed: make(chan committedGroup, 1), syncerDone: make(chan struct{})}
	g.syncerFree <- struct{}{}
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

// run is the writer: it opens a group for the first request that comes,
// runs arrivals in it until the syncer is free (or the group is full), and
// commits it.
func (g *groupCommitter) run() {
	defer close(g.stopped)
	for {
		var first *writeRequest
		select {
		case first = <-g.requests:
		case <-g.stop:
			return
		}
		og := g.begin()
		open := og.add(first)
		free := false
		for open && og.size < maxGroup {
			// Requests already waiting join the group before it commits:
			// the larger the group, the fewer pages each request writes
			// (they share index pages), and the writer is the bottleneck.
			select {
			case r := <-g.requests:
				open = og.add(r)
				continue
			default:
			}
			if free {
				break
			}
			select {
			case r := <-g.requests:
				open = og.add(r)
			case <-g.syncerFree:
				free = true
			}
		}
		if og.pending() && !free {
			<-g.syncerFree
			free = true
		}
		// A finished group goes to the syncer, which counts it once durable.
		if !og.finish() && free {
			g.syncerFree <- struct{}{} // nothing went to the syncer
		}
		g.busy.Add(int64(og.busy))
		g.stmts.prepareWanted(context.Background())
	}
}

// syncer makes each committed group durable, frees the writer to commit
// the next, and answers the group's callers.
func (g *groupCommitter) syncer() {
	defer close(g.syncerDone)
	for cg := range g.committed {
		began := time.Now()
		err := g.makeDurable()
		g.syncs.Add(1)
		g.syncBusy.Add(int64(time.Since(began)))
		g.syncerFree <- struct{}{}
		if err == nil {
			g.groups.Add(1)
			g.transactions.Add(int64(len(cg.requests)))
		}
		for i, r := range cg.requests {
			if err != nil {
				r.result <- writeResult{err: err}
			} else {
				r.result <- cg.results[i]
			}
		}
		for i, r := range cg.failed {
			if err != nil {
				r.result <- writeResult{err: err}
			} else {
				r.result <- cg.failedResults[i]
			}
		}
	}
}

// makeDurable fsyncs the log, for a group or for DB.Exec. A failure breaks
// the committer, and once it is broken nothing counts as durable, also
// what an fsync running at the same time flushed: all share the log's
// descriptor, and after one failed fsync the next may succeed over pages
// that never reached the disk.
func (g *groupCommitter) makeDurable() error {
	if err := g.durable(); err != nil {
		err = fmt.Errorf("commit not durable: %w", err)
		g.broken.CompareAndSwap(nil, &err)
	}
	return g.brokenErr()
}

// brokenErr is why the committer is broken, or nil.
func (g *groupCommitter) brokenErr() error {
	if broken := g.broken.Load(); broken != nil {
		return *broken
	}
	return nil
}

// WriterStats describes the SQLite writer's work so far, for benchmarks:
// when Busy is close to the elapsed time, the single writer is the limit.
type WriterStats struct {
	Groups       int64         // physical transactions committed and made durable
	Transactions int64         // logical transactions committed in them
	Busy         time.Duration // time spent running and committing groups
	Checkpoints  int64         // checkpoints tried beside the writer (failed or empty ones included)
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

// openGroup is the physical transaction the writer is filling.
type openGroup struct {
	g  *groupCommitter
	tx *sql.Tx // nil once the group has failed as a whole
	// err answers the requests that come after the group failed as a whole
	// (they go to the next group).
	err error
	// requests and results are the logical transactions that succeeded.
	requests []*writeRequest
	results  []writeResult
	// failed and failedResults wait for the group's outcome (committedGroup).
	failed        []*writeRequest
	failedResults []writeResult
	size          int           // requests taken, failed ones included
	busy          time.Duration // time spent running and committing
	// savepoints is set once a transaction of the group has failed: from
	// then on each runs in a savepoint of its own.
	savepoints bool
}

func (g *groupCommitter) begin() *openGroup {
	og := &openGroup{g: g}
	if err := g.brokenErr(); err != nil {
		og.err = err
		return og
	}
	began := time.Now()
	tx, err := g.db.BeginTx(context.Background(), nil)
	og.busy += time.Since(began)
	if err != nil {
		og.err = fmt.Errorf("begin: %w", err)
		return og
	}
	og.tx = tx
	return og
}

// add runs r in the group. It reports false when the group can take no
// more: it has failed as a whole, and r with it.
func (og *openGroup) add(r *writeRequest) bool {
	og.size++
	if og.tx == nil {
		r.result <- writeResult{err: og.err}
		return false
	}
	began := time.Now()
	defer func() { og.busy += time.Since(began) }()
	if err := r.ctx.Err(); err != nil {
		r.result <- writeResult{err: err}
		return true
	}
	if og.savepoints {
		return og.addInSavepoint(r)
	}
	res := runLogical(r.ctx, og.txFor(), r.fn)
	if res.err == nil && res.panic == nil {
		og.requests = append(og.requests, r)
		og.results = append(og.results, res)
		return true
	}
	// What r wrote before it failed has no savepoint to roll back to: the
	// group starts again without it.
	sawOthers := len(og.requests) > 0
	if !og.restart() {
		r.result <- res
		return false
	}
	og.answerFailed(r, res, sawOthers)
	return true
}

// addInSavepoint runs r in its own savepoint of the group.
func (og *openGroup) addInSavepoint(r *writeRequest) bool {
	if _, err := og.exec(savepoint); err != nil {
		return og.abort(r, fmt.Errorf("savepoint: %w", err))
	}
	res := runLogical(r.ctx, og.txFor(), r.fn)
	if res.err != nil || res.panic != nil {
		if _, err := og.exec(rollbackToSavepoint); err != nil {
			r.result <- res
			return og.abort(nil, fmt.Errorf("rollback to savepoint: %w", err))
		}
		if _, err := og.exec(releaseSavepoint); err != nil {
			r.result <- res
			return og.abort(nil, fmt.Errorf("release savepoint: %w", err))
		}
		og.answerFailed(r, res, len(og.requests) > 0)
		return true
	}
	if _, err := og.exec(releaseSavepoint); err != nil {
		return og.abort(r, fmt.Errorf("release savepoint: %w", err))
	}
	og.requests = append(og.requests, r)
	og.results = append(og.results, res)
	return true
}

// answerFailed answers a transaction that failed: at once when nothing
// uncommitted was visible to it (sawOthers false), else once the group's
// outcome is known, as its failure may rest on what the others wrote.
func (og *openGroup) answerFailed(r *writeRequest, res writeResult, sawOthers bool) {
	if !sawOthers {
		r.result <- res
		return
	}
	og.failed = append(og.failed, r)
	og.failedResults = append(og.failedResults, res)
}

// restart rolls the group's transaction back, begins a new one and runs
// the transactions that had succeeded in it again, each in a savepoint, as
// is every later one of the group. It reports false when the group has
// failed as a whole (its callers are answered).
func (og *openGroup) restart() bool {
	og.tx.Rollback()
	og.savepoints = true
	tx, err := og.g.db.BeginTx(context.Background(), nil)
	if err != nil {
		og.tx = nil
		return og.abort(nil, fmt.Errorf("begin again after a failed transaction: %w", err))
	}
	og.tx = tx
	again := og.requests
	og.requests, og.results = nil, nil
	for i, r := range again {
		if !og.addInSavepoint(r) {
			// The group failed as a whole: addInSavepoint answered r and
			// what had run again; answer the rest.
			for _, rest := range again[i+1:] {
				rest.result <- writeResult{err: og.err}
			}
			return false
		}
	}
	return true
}

func (og *openGroup) txFor() *Tx { return &Tx{Tx: og.tx, engine: SQLite, stmts: og.g.stmts} }

// abort rolls the whole group back and answers r (when not nil) and every
// request that had succeeded in it with err.
func (og *openGroup) abort(r *writeRequest, err error) bool {
	if og.tx != nil {
		og.tx.Rollback()
	}
	og.tx, og.err = nil, fmt.Errorf("group commit aborted: %w", err)
	if r != nil {
		r.result <- writeResult{err: err}
	}
	for _, done := range append(og.requests, og.failed...) {
		done.result <- writeResult{err: og.err}
	}
	og.requests, og.results, og.failed, og.failedResults = nil, nil, nil, nil
	return false
}

// pending reports whether the group has work to commit.
func (og *openGroup) pending() bool { return og.tx != nil && len(og.requests) > 0 }

// finish commits the group and hands it to the syncer, which the caller
// has made sure is free; it reports whether it did. A group with nothing
// to commit is rolled back.
func (og *openGroup) finish() bool {
	if og.tx == nil {
		return false
	}
	began := time.Now()
	defer func() { og.busy += time.Since(began) }()
	if len(og.requests) == 0 {
		og.tx.Rollback()
		// Those that failed after others had run, when all of those
		// failed on running again: nothing of the group commits.
		for i, r := range og.failed {
			r.result <- og.failedResults[i]
		}
		return false
	}
	// The group filled while the previous one was made durable: if that
	// failed, this one must not be committed either.
	if err := og.g.brokenErr(); err != nil {
		og.abort(nil, err)
		return false
	}
	if err := og.tx.Commit(); err != nil {
		// After some failures (a full disk, an I/O error) SQLite keeps the
		// transaction open; end it, or the connection stays inside it.
		og.g.db.ExecContext(context.Background(), `ROLLBACK`)
		for _, r := range append(og.requests, og.failed...) {
			r.result <- writeResult{err: fmt.Errorf("commit: %w", err)}
		}
		return false
	}
	og.g.committed <- committedGroup{requests: og.requests, results: og.results, failed: og.failed, failedResults: og.failedResults}
	return true
}

func (og *openGroup) exec(query string) (sql.Result, error) {
	return og.txFor().ExecContext(context.Background(), query)
}

// Each logical transaction is released (or rolled back to) before the next
// one starts, so one savepoint name serves them all, and its three
// statements stay prepared like any other write.
const (
	savepoint           = "SAVEPOINT logical"
	releaseSavepoint    = "RELEASE logical"
	rollbackToSavepoint = "ROLLBACK TO logical"
)

// runLogical runs one caller's work and its before-commit hooks, turning a
// panic into a value the caller re-raises in its own goroutine.
func runLogical(ctx context.Context, tx *Tx, fn func(tx *Tx) error) writeResult {
	// fn runs on a goroutine of its own so that a runtime.Goexit in it (a
	// test's t.FailNow, say) ends that goroutine, not the writer, which
	// every later write of the process waits for.
	done := make(chan writeResult, 1)
	go func() {
		returned := false
		defer func() {
			if p := recover(); p != nil {
				done <- writeResult{panic: p}
			} else if !returned {
				done <- writeResult{err: errGoexit}
			}
		}()
		res := runLogicalHere(ctx, tx, fn)
		returned = true
		done <- res
	}()
	return <-done
}

// errGoexit answers a transaction whose function stopped its goroutine.
var errGoexit = errors.New("the transaction's function stopped its goroutine (runtime.Goexit) before returning; nothing it wrote was kept")

func runLogicalHere(ctx context.Context, tx *Tx, fn func(tx *Tx) error) (res writeResult) {
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
