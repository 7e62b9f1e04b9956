package activity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// On SQLite the full-text index (activity_events_fts) is filled after the
// events are written, not in their transaction: FTS5 writes a segment at
// every savepoint, and the group committer runs every logical transaction in
// one, so indexing on insert cost the single writer about a fifth of its time
// per movement. Search calls IndexSearch first, so it always sees every
// committed event; IndexSearchEvery keeps the backlog short between
// searches. PostgreSQL indexes on insert (a GIN index with a pending list)
// and needs none of this.

// searchIndexBatch bounds one indexing transaction, so catching up on a long
// backlog never holds the single writer for long.
const searchIndexBatch = 2000

// searchBody is the text of an event that SQLite's full-text index holds; it
// matches pgSearchVector's text on PostgreSQL.
const searchBody = `actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
	description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip`

// indexedAfterWrite reports whether db's full-text index is filled after the
// events are written (SQLite's activity_events_fts, by IndexSearch) rather
// than by the database as they are inserted (PostgreSQL's GIN index). It is
// activity's choice, made per engine in migration 00020 for the reason
// above, not a property of the store: the store knows nothing of full-text
// search, and another single-writer engine could still index on insert.
func indexedAfterWrite(db *store.DB) bool { return store.Pick(db, true, false) }

// IndexSearch adds the events not yet in the full-text index to it and
// reports how many it added. It is a no-op where the database indexes on
// insert (PostgreSQL).
func IndexSearch(ctx context.Context, db *store.DB) (int, error) {
	if !indexedAfterWrite(db) {
		return 0, nil
	}
	// Most calls find nothing new: answer those from a reader, without
	// queueing behind the single writer.
	var pending bool
	if err := db.Read().QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM activity_events), 0) >
		(SELECT indexed_through FROM activity_search_progress WHERE id = 1)`).Scan(&pending); err != nil {
		return 0, fmt.Errorf("search index progress: %w", err)
	}
	if !pending {
		return 0, nil
	}
	// Indexing is bookkeeping, not part of whatever request asked for it.
	ctx = store.WithoutBeforeCommit(ctx)
	total := 0
	for {
		n := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			n = 0
			var through int64
			if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM activity_search_progress WHERE id = 1`).Scan(&through); err != nil {
				return fmt.Errorf("search index progress: %w", err)
			}
			var upTo sql.NullInt64
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT MAX(id), COUNT(*) FROM (SELECT id FROM activity_events WHERE id > $1 ORDER BY id LIMIT $2)`,
				through, searchIndexBatch).Scan(&upTo, &count); err != nil {
				return err
			}
			if !upTo.Valid {
				return nil
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO activity_events_fts (rowid, body) SELECT id, `+searchBody+`
				FROM activity_events WHERE id > $1 AND id <= $2`, through, upTo.Int64); err != nil {
				return fmt.Errorf("index events for search: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE activity_search_progress SET indexed_through = $1 WHERE id = 1`, upTo.Int64); err != nil {
				return err
			}
			n = count
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < searchIndexBatch {
			return total, nil
		}
	}
}

// IndexSearchEvery runs IndexSearch every interval until ctx ends (SQLite
// only; it returns at once on PostgreSQL).
func IndexSearchEvery(ctx context.Context, db *store.DB, interval time.Duration, logger *slog.Logger) {
	if !indexedAfterWrite(db) {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := IndexSearch(ctx, db); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				logger.WarnContext(ctx, "activity search index", "err", err)
			}
		}
	}
}

// UnindexPurged takes events about to be purged by retention out of the
// full-text index, inside the purge's transaction and before the delete: a
// contentless FTS5 index removes a row only given its indexed text, read
// from the event itself, and would otherwise keep the words of events that
// are no longer kept. Events the index has not reached yet need nothing.
// A no-op where the database maintains the index (PostgreSQL).
func UnindexPurged(ctx context.Context, tx *store.Tx, workspaceID int64, ids []int64) error {
	if !store.Pick(tx, true, false) {
		return nil
	}
	w := store.NewWhere("workspace_id = ?", workspaceID).And(store.In(tx, "id", ids))
	_, err := tx.ExecContext(ctx, `INSERT INTO activity_events_fts (activity_events_fts, rowid, body)
		SELECT 'delete', id, `+searchBody+` FROM activity_events
		WHERE `+w.String()+` AND id <= (SELECT indexed_through FROM activity_search_progress WHERE id = 1)`, w.Args...)
	if err != nil {
		return fmt.Errorf("unindex purged events: %w", err)
	}
	return nil
}
