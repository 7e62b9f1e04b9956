// Package store owns the database: opening SQLite or PostgreSQL, applying
// each engine's migrations, and running work in transactions. Areas write
// their own SQL against it; the differences between the two engines stay in
// this package and in the per-engine migration folders.
//
// Drivers, chosen deliberately:
//   - github.com/mattn/go-sqlite3: SQLite's own C code, through cgo, in
//     builds tagged sqlite_fts5 (the writer needs a fifth less CPU).
//   - modernc.org/sqlite: the same SQLite translated to pure Go, for builds
//     without cgo, so the binary still cross-compiles to one static file
//     (sqlitedriver.go).
//   - github.com/jackc/pgx/v5 (through database/sql): the maintained,
//     feature-complete PostgreSQL driver.
//
// Both accept $1-style placeholders, so most SQL is written once.
// Times are stored as BIGINT microseconds since the Unix epoch, UTC: the same
// type, order and precision on both engines.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // also the database/sql driver "pgx"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. On SQLite, writes go through a single connection so
// that writers queue in Go instead of failing with SQLITE_BUSY, while reads use
// a pool; on PostgreSQL both are the same pool.
type DB struct {
	engine Engine
	write  *sql.DB
	read   *sql.DB
	// pgxPool holds PostgreSQL's connections; write and read take them from it.
	pgxPool *pgxpool.Pool
	// group batches SQLite write transactions into shared commits.
	group *groupCommitter
	// checkpoints copies SQLite's write-ahead log back off the writer.
	checkpoints *checkpointer
	// wal makes SQLite's commits durable (the writer does not fsync).
	wal *walFile
	// closeOnce and closeErr make Close idempotent.
	closeOnce sync.Once
	closeErr  error
	// Location is a human description (file path or host/db) for logs.
	Location string
	// presence names this process to other nodes (presence.go).
	presence presence
	// serving is the SQLite server's lock file (serving.go), nil
	// elsewhere.
	serving *os.File
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// (or postgresql://) URL, or empty for SQLite.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
	// MaxConns caps PostgreSQL connections per node (default: the URL's
	// pool_max_conns, else four per core; see defaultMaxConns).
	MaxConns int
}

// Open opens the database described by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URL != "" && (strings.HasPrefix(cfg.URL, "postgres://") || strings.HasPrefix(cfg.URL, "postgresql://")) {
		return openPostgres(ctx, cfg)
	}
	if cfg.URL != "" && !strings.HasPrefix(cfg.URL, "sqlite:") {
		return nil, fault.New(fault.Invalid, "unsupported database URL %q: use postgres://… or leave it empty for SQLite", redact(cfg.URL))
	}
	path := strings.TrimPrefix(cfg.URL, "sqlite:")
	if path == "" {
		dir := cfg.DataDir
		if dir == "" {
			dir = "stocktrail-data"
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		path = filepath.Join(dir, "stocktrail.db")
	}
	return openSQLite(ctx, path)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	common := []string{"busy_timeout=10000", "journal_mode=WAL", "foreign_keys=1"}
	// A commit is acknowledged only once it is durable, but the writer's
	// COMMIT does not wait for the disk (synchronous=NORMAL): the group
	// committer fsyncs the log after it, beside the writer (walsync.go,
	// groupcommit.go). The writer keeps the hot index pages of the logs in a
	// larger cache (64 MB at most) than the 2 MB default, as every movement
	// touches a dozen of them; its savepoints' statement journals stay in
	// memory; and it leaves most checkpointing to the checkpointer
	// (checkpointer.go says why it still checkpoints past 16,384 pages, and
	// why the log file is cut back to 64 MB).
	write := OpenSQLiteFile(path, true, append(common, "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY",
		"wal_autocheckpoint=16384", "journal_size_limit=67108864")...)
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	read := OpenSQLiteFile(path, false, append(common, "synchronous=FULL", "query_only=1")...)
	read.SetMaxOpenConns(8)
	// Keep every reader open: database/sql keeps only two idle by default,
	// and opening a SQLite connection re-reads the whole schema.
	read.SetMaxIdleConns(8)
	read.SetConnMaxLifetime(0)
	cp := OpenSQLiteFile(path, false, append(common, "synchronous=FULL")...)
	cp.SetMaxOpenConns(1)
	cp.SetConnMaxLifetime(0)
	wal := &walFile{path: path + "-wal"}
	db := &DB{engine: SQLite, write: write, read: read, Location: path, checkpoints: newCheckpointer(cp), wal: wal}
	db.group = newGroupCommitter(write, wal.sync)
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// defaultConnectTimeout bounds connecting to PostgreSQL (and so how long a
// request waits for a connection to a server that does not answer) unless
// the URL sets connect_timeout itself: without it a dropped network waits
// for the operating system's TCP timeout, minutes.
const defaultConnectTimeout = "5"

// defaultMaxConns is four connections per core. More only queue inside
// PostgreSQL instead of in the pool: with PostgreSQL on the same two
// cores, 50 scanners ran at 1,833 scans/s and a p99 of 69 ms on 20
// connections, 1,932/s and 44 ms on 8 (4: 1,674/s, 47 ms); receipts over
// HTTP ran the same on 8, 12 and 20. Set pool_max_conns in the URL for a
// database server with more cores than the node.
func defaultMaxConns() int32 { return int32(max(4, 4*runtime.GOMAXPROCS(0))) }

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	if u, err := url.Parse(cfg.URL); err == nil && !u.Query().Has("connect_timeout") {
		q := u.Query()
		q.Set("connect_timeout", defaultConnectTimeout)
		u.RawQuery = q.Encode()
		cfg.URL = u.String()
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", redact(cfg.URL), err)
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = int32(cfg.MaxConns)
	} else if !strings.Contains(cfg.URL, "pool_max_conns=") {
		pcfg.MaxConns = defaultMaxConns()
	}
	pcfg.MaxConnIdleTime = 5 * time.Minute
	// database/sql hands a freed connection to a random waiter, so under
	// load some requests wait many turns (a p99 of 113 ms for 50
	// scanners, 17 ms on average). pgxpool queues its waiters first come,
	// first served; database/sql on top of it keeps no connections of its
	// own and takes one from pgxpool for each use.
	pgxPool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", redact(cfg.URL), err)
	}
	pool := stdlib.OpenDBFromPool(pgxPool)
	db := &DB{engine: Postgres, write: pool, read: pool, pgxPool: pgxPool, Location: redact(cfg.URL)}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		pgxPool.Close()
		return nil, fmt.Errorf("connect to postgres %s: %w", db.Location, err)
	}
	return db, nil
}

// closePool closes PostgreSQL's connections once database/sql has given
// them back. pgxpool's Close waits for every connection in use, where
// database/sql's did not: a query still running when the server stops must
// not hold its shutdown up for longer than a moment.
func closePool(pool *pgxpool.Pool) {
	closed := make(chan struct{})
	go func() {
		pool.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
	}
}

// redact hides the password in a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Engine reports which engine db runs on.
func (db *DB) Engine() Engine { return db.engine }

// Read returns a pool for queries outside a transaction.
func (db *DB) Read() Querier { return db.read }

// Reader is where an area's exported read runs: a *DB reads from its read
// pool, a *Tx inside the transaction (seeing its writes, holding its locks),
// for a caller that reads another area's rows as part of its own change.
type Reader interface {
	Read() Querier
	Engine() Engine
}

// Read returns the transaction itself, so that a *Tx is a Reader.
func (tx *Tx) Read() Querier { return tx }

// Close closes the database. Closing it again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	db.presence.close()
	if db.serving != nil {
		defer db.serving.Close() // last: the next server may start once the file is closed
	}
	if db.group != nil {
		db.group.close()
	}
	var err error
	if db.checkpoints != nil {
		err = errors.Join(db.checkpoints.close(), db.wal.close())
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.pgxPool != nil {
		closePool(db.pgxPool)
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// Tx is a write transaction.
type Tx struct {
	*sql.Tx
	engine Engine
	// stmts keeps SQLite write statements prepared (nil on PostgreSQL).
	stmts  *stmtCache
	before []func(ctx context.Context, tx *Tx) error
	after  []func()
	// deferred are writes queued by ExecLater.
	deferred []deferredStmt
	// held sends the writes a writer holds back (HoldWrites); heldErr is
	// why sending them failed.
	held    func(ctx context.Context) error
	heldErr error
}

// Engine reports which engine the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.engine }

// AfterCommit registers fn to run once the transaction has committed, e.g. to
// notify live feeds only about what really happened.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// BeforeCommit registers fn to run inside the transaction after the work
// has succeeded and just before COMMIT. An error from fn rolls everything
// back. It is for bookkeeping that must commit together with the change or
// not at all.
func (tx *Tx) BeforeCommit(fn func(ctx context.Context, tx *Tx) error) {
	tx.before = append(tx.before, fn)
}

type beforeCommitKey struct{}

// WithBeforeCommit returns ctx carrying fn, which every transaction that
// InTx runs with that context (or one derived from it) calls just before
// COMMIT, after the transaction's own BeforeCommit functions. It lets a layer
// above the areas bind bookkeeping to whatever change a request makes without
// the areas knowing about it: the idempotency claim of an API request is
// marked used in the same transaction as the change it protects. fn may run
// several times (once per transaction, and again when InTx retries), so it
// must be idempotent within the transaction it is given.
func WithBeforeCommit(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) context.Context {
	prev, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	hooks := append(append([]func(context.Context, *Tx) error(nil), prev...), fn)
	return context.WithValue(ctx, beforeCommitKey{}, hooks)
}

// WithoutBeforeCommit returns ctx without the functions WithBeforeCommit
// added, for bookkeeping transactions that run on a request's behalf but are
// not its change (indexing, caches): they must not mark its idempotency
// claim or carry its API_CALL event.
func WithoutBeforeCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, beforeCommitKey{}, []func(context.Context, *Tx) error(nil))
}

// InTx runs fn in a write transaction and commits it if fn returns nil. On
// PostgreSQL a serialization failure or deadlock is retried a few times, so
// fn must be safe to run again (no side effects outside tx).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.group != nil {
		return db.group.do(ctx, fn)
	}
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return err
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, engine: db.engine}
	returned := false
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		// Neither returned nor panicked: fn called runtime.Goexit. Roll
		// back, so the connection goes back to the pool instead of staying
		// in an open transaction.
		if err != nil || !returned {
			sqlTx.Rollback()
		}
	}()
	err = commitTx(ctx, tx, sqlTx, fn)
	returned = true
	return err
}

// commitTx runs fn in tx, then the before-commit hooks and deferred writes,
// and commits.
func commitTx(ctx context.Context, tx *Tx, sqlTx *sql.Tx, fn func(tx *Tx) error) error {
	if err := tx.settle(ctx, fn(tx)); err != nil {
		return err
	}
	hooks, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	for _, h := range append(tx.before, hooks...) {
		if err := h(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.flushDeferred(ctx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return &commitError{err: err}
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	code, ok := sqliteCode(err)
	return ok && (code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey)
}

// IsLockNotAvailable reports whether err says that a lock asked for
// without waiting (FOR UPDATE NOWAIT) was held by another transaction.
// SQLite takes no row locks, so no SQLite error is one.
func IsLockNotAvailable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// NotFound turns sql.ErrNoRows into a NotFound fault naming what was missing.
func NotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fault.New(fault.NotFound, "%s not found", what)
	}
	return err
}

// Micros converts t to the stored form: microseconds since the epoch, UTC.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time converts a stored value back to a UTC time.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// NullTime converts a nullable stored value; the zero time means NULL.
func NullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return Time(v.Int64)
}

// NullMicros is the stored form of an optional time.
func NullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// Exec runs one write outside a transaction of the caller's. It is for
// bookkeeping that is not itself an audited change (a session's last-seen
// time, an API key's last use).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.group != nil {
		if err := db.group.brokenErr(); err != nil {
			return nil, err
		}
	}
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return res, db.durable()
}

// RefreshStatistics brings the planner's statistics of tables up to date
// after a large change (a bulk load, a big import): PostgreSQL plans from
// sampled statistics, and until autovacuum gets round to a table that grew
// from nothing it may plan a filter over it as a full scan (the batch
// endpoint ran at a tenth of its speed right after the bench's load). It
// also refreshes the visibility map there, so index-only scans apply at
// once. SQLite's planner here works from the indexes' shape alone (no
// sqlite_stat1 is kept), so there it does nothing.
func (db *DB) RefreshStatistics(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if !identifier.MatchString(t) {
			return fmt.Errorf("refresh statistics: %q is not a table name", t)
		}
	}
	if db.engine != Postgres || len(tables) == 0 {
		return nil
	}
	_, err := db.write.ExecContext(ctx, `VACUUM (ANALYZE) `+strings.Join(tables, ", "))
	return err
}

// identifier is a plain SQL identifier, safe to write into a statement.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// durable makes what SQLite's writer has committed durable (the writer
// does not wait for the disk, see groupcommit.go); a no-op on PostgreSQL.
func (db *DB) durable() error {
	if db.group == nil {
		return nil
	}
	return db.group.makeDurable()
}

// PoolStats describes the connection pool that serves writes (on
// PostgreSQL, every query).
type PoolStats struct {
	MaxConns, Open, InUse int
	// Waits counts the times a query found no free connection, WaitTime
	// how long they waited in all.
	Waits    int64
	WaitTime time.Duration
}

// PoolStats reports the connection pool that serves writes.
func (db *DB) PoolStats() PoolStats {
	if db.pgxPool != nil {
		s := db.pgxPool.Stat()
		return PoolStats{MaxConns: int(s.MaxConns()), Open: int(s.TotalConns()), InUse: int(s.AcquiredConns()),
			Waits: s.EmptyAcquireCount(), WaitTime: s.EmptyAcquireWaitTime()}
	}
	s := db.write.Stats()
	return PoolStats{MaxConns: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse,
		Waits: s.WaitCount, WaitTime: s.WaitDuration}
}
