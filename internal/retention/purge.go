// Package retention purges the activity events a workspace's plan no longer
// keeps (issue 13). It runs as a job on the elected node (internal/jobs) and
// deletes through the one path the database lets through: expired under the
// workspace's retention as the database stores it, no legal hold, sealed in
// the ledger, and covered by a purge record written first in the same
// transaction (migration 00041, docs/ACTIVITY.md "Retention"). The inventory
// change log is never purged: stock is rebuilt from it.
package retention

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Options bound one purge pass.
type Options struct {
	// Batch is how many events one transaction deletes (default 1000): small
	// enough that writers waiting for SQLite's single writer, or for a
	// PostgreSQL lock on the workspace row, wait a few milliseconds at most.
	Batch int
	// Budget is how long one pass may run before it leaves the rest to the
	// next (default 10 s), so the jobs node's other jobs keep their pace.
	Budget time.Duration
	// Pause is a rest between batches that leaves the database to the
	// writers that queued behind a batch (SQLite has one writer; each
	// request records at least a READ event). Zero rests as long as the
	// last batch took, so a purge takes at most half of the writer's time;
	// negative does not rest.
	Pause time.Duration
}

// Result says what a pass deleted.
type Result struct {
	Events  int64
	Batches int
	// Done is false when the budget ran out with expired events left.
	Done bool
}

// Batch is one purge transaction, as recorded in ledger_purges and in the
// workspace's activity log.
type Batch struct {
	Workspace          int64
	Count              int64
	FirstSeq, LastSeq  int64
	OldestAt, NewestAt time.Time
	Cutoff             time.Time
	Rule               string
	// DaysEmptied are the UTC days the batch took the last events of,
	// whose RollupRows were deleted with them.
	DaysEmptied, RollupRows int64
}

// actorName is the responsible party of every purge.
const actorName = "retention"

// Purge deletes, in every workspace without a legal hold, the sealed
// activity events older than the workspace's retention at now, a batch per
// transaction, until none is left or the budget is spent. It is the
// install's own work: it takes no actor.
func Purge(ctx context.Context, db *store.DB, now time.Time, opts Options) (Result, error) {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Budget <= 0 {
		opts.Budget = 10 * time.Second
	}
	deadline := time.Now().Add(opts.Budget)
	list, err := workspace.List(actor.With(ctx, workspace.Operator(actorName)), db.Read())
	if err != nil {
		return Result{}, err
	}
	res := Result{Done: true}
	for _, w := range list {
		if w.LegalHold {
			continue
		}
		for {
			if time.Now().After(deadline) {
				res.Done = false
				return res, nil
			}
			began := time.Now()
			b, err := PurgeBatch(ctx, db, w.ID, now, opts.Batch)
			if err != nil {
				return res, fmt.Errorf("purge workspace %d: %w", w.ID, err)
			}
			if b.Count == 0 {
				break
			}
			res.Events += b.Count
			res.Batches++
			if pause := cmp.Or(opts.Pause, time.Since(began)); pause > 0 {
				select {
				case <-ctx.Done():
					return res, ctx.Err()
				case <-time.After(pause):
				}
			}
		}
	}
	return res, nil
}

// PurgeBatch deletes up to limit expired, sealed activity events of
// workspace ws, oldest first, in one transaction with their purge record,
// the rollups of the days it empties and the system event that says what it
// did. It returns a zero Count when nothing is due (or a legal hold holds).
func PurgeBatch(ctx context.Context, db *store.DB, ws int64, now time.Time, limit int) (Batch, error) {
	b := Batch{Workspace: ws}
	ctx = actor.With(ctx, actor.SystemActor(ws, actorName))
	err := db.InTx(ctx, func(tx *store.Tx) error {
		b = Batch{Workspace: ws}
		// The workspace row is read under a share lock: a legal hold or a
		// plan change waits for this batch, and this batch sees theirs.
		var plan workspace.Plan
		var retentionDays, hold int
		err := tx.QueryRowContext(ctx, `SELECT w.plan, w.activity_retention_days, w.legal_hold FROM workspaces w WHERE w.id = $1`+tx.ForShare("w"), ws).
			Scan(&plan, &retentionDays, &hold)
		if err != nil {
			return store.NotFound(err, "workspace")
		}
		if hold != 0 {
			return nil
		}
		w := workspace.Workspace{Plan: plan, ActivityRetentionDays: retentionDays}
		b.Rule = w.RetentionRule()
		b.Cutoff = now.Add(-time.Duration(retentionDays) * 24 * time.Hour)
		// Oldest first, sealed only: an event not sealed yet is taken by a
		// later batch, once its leaf hash is in the tree. The delete trigger
		// judges expiry by the database's clock, so the cutoff is the
		// earlier of this node's and the database's: a node whose clock runs
		// ahead never picks an event the trigger would refuse.
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.occurred_at, l.seq FROM activity_events e
			JOIN ledger_leaves l ON l.workspace_id = e.workspace_id AND l.log = 'activity_events' AND l.entry_id = e.id
			WHERE e.workspace_id = $1 AND e.occurred_at < $2 AND e.occurred_at < `+databaseNow(tx)+` - $4
			ORDER BY e.occurred_at, e.id LIMIT $3`, ws, store.Micros(b.Cutoff), limit, int64(retentionDays)*microsPerDay)
		if err != nil {
			return fmt.Errorf("expired events: %w", err)
		}
		var ids, days []int64
		var oldest, newest int64
		for rows.Next() {
			var id, at, seq int64
			if err := rows.Scan(&id, &at, &seq); err != nil {
				rows.Close()
				return err
			}
			if len(ids) == 0 {
				oldest, b.FirstSeq, b.LastSeq = at, seq, seq
			}
			newest = at
			b.FirstSeq, b.LastSeq = min(b.FirstSeq, seq), max(b.LastSeq, seq)
			ids = append(ids, id)
			if d := dayOf(at); len(days) == 0 || days[len(days)-1] != d {
				days = append(days, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		b.OldestAt, b.NewestAt = store.Time(oldest), store.Time(newest)
		// The record first: the delete trigger lets an event go only when a
		// purge record covers its leaf.
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_purges (workspace_id, up_to_seq, entry_count, purged_at, rule) VALUES ($1, $2, $3, $4, $5)`,
			ws, b.LastSeq, len(ids), store.Micros(now), b.Rule); err != nil {
			return fmt.Errorf("purge record: %w", err)
		}
		if err := activity.UnindexPurged(ctx, tx, ws, ids); err != nil {
			return err
		}
		// The one delete the database accepts. On PostgreSQL the runtime
		// role has no DELETE on the table; the function runs as its owner.
		list := store.ListValue(tx, ids)
		deleted, err := tx.QueryContext(ctx, store.Pick(tx,
			`DELETE FROM activity_events WHERE workspace_id = $1 AND id IN (SELECT value FROM json_each($2)) RETURNING id`,
			`SELECT stocktrail_purge_activity($1, $2::bigint[])`), ws, list)
		if err != nil {
			return fmt.Errorf("delete expired events: %w", err)
		}
		for deleted.Next() {
			b.Count++
		}
		deleted.Close()
		if err := deleted.Err(); err != nil {
			return fmt.Errorf("delete expired events: %w", err)
		}
		if b.Count != int64(len(ids)) {
			return fmt.Errorf("purge of workspace %d deleted %d of %d events", ws, b.Count, len(ids))
		}
		// Rollups of the days this batch emptied: a day the batch touched
		// with no event left. A day purged over several batches goes with
		// the batch that takes its last event.
		for _, d := range days {
			var left bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM activity_events WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3)`,
				ws, d*microsPerDay, (d+1)*microsPerDay).Scan(&left); err != nil {
				return err
			}
			if left {
				continue
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM activity_daily_counts WHERE workspace_id = $1 AND day = $2`, ws, d)
			if err != nil {
				return fmt.Errorf("delete rollups: %w", err)
			}
			b.DaysEmptied++
			if n, err := res.RowsAffected(); err == nil {
				b.RollupRows += n
			}
		}
		_, err = activity.Record(ctx, tx, activity.Event{WorkspaceID: ws, Action: activity.Delete, Category: activity.Audit,
			EntityType: "activity_events", EntityID: "retention",
			New: map[string]any{"count": b.Count, "oldest_occurred_at": b.OldestAt.UTC().Format(time.RFC3339Nano),
				"newest_occurred_at": b.NewestAt.UTC().Format(time.RFC3339Nano), "first_seq": b.FirstSeq, "last_seq": b.LastSeq,
				"cutoff": b.Cutoff.UTC().Format(time.RFC3339Nano), "rule": b.Rule},
			Description: fmt.Sprintf("retention purged %d activity events from %s to %s (ledger sequences %d to %d; %s); their leaf hashes stay in the ledger",
				b.Count, b.OldestAt.UTC().Format("2006-01-02 15:04:05 UTC"), b.NewestAt.UTC().Format("2006-01-02 15:04:05 UTC"), b.FirstSeq, b.LastSeq, b.Rule)})
		return err
	})
	return b, err
}

const microsPerDay = 86_400_000_000

// databaseNow is the database's clock in microseconds since the epoch, as
// the delete trigger of migration 00041 reads it.
func databaseNow(tx *store.Tx) string {
	return store.Pick(tx, `CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)`,
		`(extract(epoch FROM statement_timestamp()) * 1000000)::bigint`)
}

// dayOf is the UTC day (days since 1970-01-01) of a time in microseconds,
// as activity_daily_counts numbers them.
func dayOf(micros int64) int64 {
	d := micros / microsPerDay
	if micros%microsPerDay < 0 {
		d--
	}
	return d
}
