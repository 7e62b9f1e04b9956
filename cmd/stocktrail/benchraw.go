package main

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// rawLog writes log rows through the bare database/sql driver, outside
// stocktrail's code: the yardstick the endpoints are measured against. Its
// rows move nothing (change 0) but state the records' current levels, so
// the workspace stays consistent for CheckInvariant.
type rawLog struct {
	db          *sql.DB
	writers     int
	workspaceID int64
	keyID       int64
	keyName     string
	pairs       []benchPair
}

// benchPair is an inventory record the benchmark moves stock in.
type benchPair struct {
	record, item, location int64
	sku, path              string
}

// benchPairs reads up to 100,000 lot-less records of whole-unit items.
func benchPairs(ctx context.Context, db *store.DB, workspaceID int64) ([]benchPair, error) {
	var pairs []benchPair
	rows, err := db.Read().QueryContext(ctx, `SELECT r.id, r.item_id, r.location_id, i.sku, l.path
		FROM inventory_records r
		JOIN items i ON i.workspace_id = r.workspace_id AND i.id = r.item_id
		JOIN locations l ON l.workspace_id = r.workspace_id AND l.id = r.location_id
		WHERE r.workspace_id = $1 AND r.deleted_at IS NULL AND r.lot = '' AND i.deleted_at IS NULL AND i.unit_scale = 0
		ORDER BY r.id LIMIT 100000`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p benchPair
		if err := rows.Scan(&p.record, &p.item, &p.location, &p.sku, &p.path); err != nil {
			return nil, err
		}
		pairs = append(pairs, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no inventory records to move stock in")
	}
	return pairs, nil
}

// openRawLog opens the bare driver's pool: clients connections on
// PostgreSQL, SQLite's one writer connection on SQLite (more would only wait
// on its write lock).
func openRawLog(d *dbFlags, engine store.Engine, clients int, workspaceID, keyID int64, keyName string, pairs []benchPair) (*rawLog, error) {
	writers := clients
	if engine == store.SQLite {
		writers = 1
	}
	db, err := openRaw(d, writers)
	if err != nil {
		return nil, err
	}
	return &rawLog{db: db, writers: writers, workspaceID: workspaceID, keyID: keyID, keyName: keyName, pairs: pairs}, nil
}

func (r *rawLog) close() error { return r.db.Close() }

const rawLogInsert = `INSERT INTO inventory_log (workspace_id, item_id, sku, unit, unit_scale, record_id, location_id, location_path, lot, movement,
		action, change, record_level, location_level, actor_kind, actor_id, actor_name, recorded_at, effective_at, reason, reference,
		idempotency_key, batch_id) VALUES ($1, $2, $3, 'pcs', 0, $4, $5, $6, '', 'receipt', 'user_action', 0, $7, $8, 'api_key', $9, $10, $11, $11, '', '', '', $12)`

// levels reads the records' current levels for the raw rows (a raw row
// states the levels after it, and CheckInvariant compares a record with its
// last entry).
func (r *rawLog) levels(ctx context.Context) (map[int64][2]int64, error) {
	levels := map[int64][2]int64{}
	rows, err := r.db.QueryContext(ctx, `SELECT r.id, r.quantity, s.quantity FROM inventory_records r
			JOIN stock_levels s ON s.workspace_id = r.workspace_id AND s.item_id = r.item_id AND s.location_id = r.location_id
			WHERE r.workspace_id = $1 AND r.id >= $2 AND r.id <= $3`, r.workspaceID, r.pairs[0].record, r.pairs[len(r.pairs)-1].record)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, rq, sq int64
		if err := rows.Scan(&id, &rq, &sq); err != nil {
			return nil, err
		}
		levels[id] = [2]int64{rq, sq}
	}
	return levels, rows.Err()
}

// insert writes n rows, perTx a transaction, from the pool's writers, and
// reports how long the writing took.
func (r *rawLog) insert(ctx context.Context, round, n, perTx int) (time.Duration, error) {
	levels, err := r.levels(ctx)
	if err != nil {
		return 0, err
	}
	began := time.Now()
	var next atomic.Int64
	errs := make(chan error, r.writers)
	for c := 0; c < r.writers; c++ {
		go func(c int) {
			errs <- r.write(ctx, c, round, n, perTx, &next, levels)
		}(c)
	}
	for c := 0; c < r.writers; c++ {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return 0, fmt.Errorf("raw inserts: %w", err)
	}
	return time.Since(began), nil
}

// write is one writer of insert: it takes perTx rows at a time from next
// until n are written.
func (r *rawLog) write(ctx context.Context, c, round, n, perTx int, next *atomic.Int64, levels map[int64][2]int64) error {
	rng := rand.New(rand.NewPCG(uint64(c), uint64(round)))
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		start := next.Add(int64(perTx)) - int64(perTx)
		if start >= int64(n) {
			return nil
		}
		k := min(int64(perTx), int64(n)-start)
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, rawLogInsert)
		if err != nil {
			tx.Rollback()
			return err
		}
		batch := fmt.Sprintf("raw-%d-%d-%d", round, c, start)
		for i := int64(0); i < k; i++ {
			p := r.pairs[rng.IntN(len(r.pairs))]
			lv := levels[p.record]
			if _, err := stmt.ExecContext(ctx, r.workspaceID, p.item, p.sku, p.record, p.location, p.path, lv[0], lv[1],
				r.keyID, r.keyName, time.Now().UnixMicro(), batch); err != nil {
				tx.Rollback()
				return err
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

// openRaw opens the benchmark's database with the bare database/sql driver,
// outside store (SQLite with the same durability settings as store, and
// the writer's page cache: with SQLite's 2 MB default the bare driver read
// most index pages back from the file system and the yardstick flattered
// the endpoints).
func openRaw(d *dbFlags, conns int) (*sql.DB, error) {
	if d.url != "" {
		// pgxpool's parser knows the pool_* parameters the server does not.
		cfg, err := pgxpool.ParseConfig(d.url)
		if err != nil {
			return nil, err
		}
		raw := stdlib.OpenDB(*cfg.ConnConfig)
		raw.SetMaxOpenConns(conns)
		return raw, nil
	}
	path := filepath.Join(d.data, "stocktrail.db")
	raw := store.OpenSQLiteFile(path, true, "busy_timeout=10000", "journal_mode=WAL", "foreign_keys=1", "synchronous=FULL",
		"cache_size=-65536", "temp_store=MEMORY")
	raw.SetMaxOpenConns(conns)
	return raw, nil
}
