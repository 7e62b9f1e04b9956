package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Sealed is one entry of a workspace's sealed sequence: the commit order
// that background consumers and live feeds read, because on PostgreSQL the
// log tables' ids commit out of order and the sequence does not.
type Sealed struct {
	// Seq is the entry's place in its workspace's sequence (from 0; pages
	// show it as "#Seq sealed").
	Seq      int64
	Log      Log
	EntryID  int64
	SealedAt time.Time
}

// Follow hands each workspace's newly sealed entries to fn in sequence
// order, at most batch per call. Each call runs in a transaction of its own
// and the consumer's cursor advances in that same transaction when fn
// returns nil, so what fn writes with tx happens exactly once per entry,
// across restarts and crashes; if fn fails nothing is written and the same
// entries come again next time. The ctx given to fn carries the system
// actor of the workspace, named after the consumer.
//
// A consumer seen for the first time starts at the current end of every
// workspace's sequence rather than replaying history; workspaces that
// appear later are read from their start. It is background work for one
// elected node (callers hold a jobs election); it returns how many entries
// were handed over.
func Follow(ctx context.Context, db *store.DB, consumer string, batch int,
	fn func(ctx context.Context, tx *store.Tx, ws int64, entries []Sealed) error) (int, error) {
	if consumer == "" || batch <= 0 {
		return 0, errors.New("ledger: follow needs a consumer name and a positive batch")
	}
	workspaces, err := workspaceIDs(ctx, db.Read())
	if err != nil {
		return 0, err
	}
	var known int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_cursors WHERE consumer = $1`, consumer).Scan(&known); err != nil {
		return 0, fmt.Errorf("ledger cursors: %w", err)
	}
	fresh := known == 0
	total := 0
	for _, ws := range workspaces {
		// Drain a backlog in a few batches per call, then let other
		// workspaces and the caller's other jobs have their turn.
		for round := 0; round < 8; round++ {
			n, err := followBatch(ctx, db, consumer, batch, ws, fresh, fn)
			total += n
			if err != nil {
				return total, fmt.Errorf("ledger: %s in workspace %d: %w", consumer, ws, err)
			}
			if n < batch || ctx.Err() != nil {
				break
			}
		}
	}
	return total, nil
}

func followBatch(ctx context.Context, db *store.DB, consumer string, batch int, ws int64, fresh bool,
	fn func(ctx context.Context, tx *store.Tx, ws int64, entries []Sealed) error) (int, error) {
	handed := 0
	err := db.InTx(ctx, func(tx *store.Tx) error {
		handed = 0
		var next int64
		err := tx.QueryRowContext(ctx, `SELECT next_seq FROM ledger_cursors WHERE workspace_id = $1 AND consumer = $2`+tx.ForUpdate(),
			ws, consumer).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			if fresh {
				if next, err = headOf(ctx, tx, ws); err != nil {
					return err
				}
				next++
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO ledger_cursors (workspace_id, consumer, next_seq, updated_at) VALUES ($1, $2, $3, $4)`,
				ws, consumer, next, store.Micros(time.Now()))
			if err != nil || fresh {
				return err
			}
		} else if err != nil {
			return err
		}
		entries, err := sealedAfter(ctx, tx, ws, next-1, batch)
		if err != nil || len(entries) == 0 {
			return err
		}
		if err := fn(actor.With(ctx, actor.SystemActor(ws, consumer)), tx, ws, entries); err != nil {
			return err
		}
		last := entries[len(entries)-1].Seq
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_cursors SET next_seq = $1, updated_at = $2 WHERE workspace_id = $3 AND consumer = $4`,
			last+1, store.Micros(time.Now()), ws, consumer); err != nil {
			return err
		}
		handed = len(entries)
		return nil
	})
	return handed, err
}

func workspaceIDs(ctx context.Context, q store.Querier) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("workspaces: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// headOf is a workspace's last sealed seq, -1 when nothing is sealed yet.
func headOf(ctx context.Context, q store.Querier, ws int64) (int64, error) {
	var head sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(seq) FROM ledger_leaves WHERE workspace_id = $1`, ws).Scan(&head); err != nil {
		return 0, fmt.Errorf("ledger head: %w", err)
	}
	if !head.Valid {
		return -1, nil
	}
	return head.Int64, nil
}

func sealedAfter(ctx context.Context, q store.Querier, ws, after int64, limit int) ([]Sealed, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, log, entry_id, sealed_at FROM ledger_leaves
		WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, ws, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sealed entries: %w", err)
	}
	defer rows.Close()
	var out []Sealed
	for rows.Next() {
		var s Sealed
		var at int64
		if err := rows.Scan(&s.Seq, &s.Log, &s.EntryID, &at); err != nil {
			return nil, err
		}
		s.SealedAt = store.Time(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// maxSince caps one read of a live feed.
const maxSince = 1000

// Since returns the actor's workspace's sealed entries after seq after (-1
// for the start), in order, at most limit: for live feeds, which resume
// from the last seq they delivered. Any member may read the sequence; the
// entries themselves are read with their own log's permission.
func Since(ctx context.Context, r store.Reader, after int64, limit int) ([]Sealed, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxSince {
		limit = maxSince
	}
	if after < -1 {
		after = -1
	}
	return sealedAfter(ctx, r.Read(), who.WorkspaceID, after, limit)
}

// Head returns the actor's workspace's last sealed seq, -1 when nothing is
// sealed yet: where a live feed that should not replay history starts.
func Head(ctx context.Context, r store.Reader) (int64, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return 0, err
	}
	return headOf(ctx, r.Read(), who.WorkspaceID)
}
