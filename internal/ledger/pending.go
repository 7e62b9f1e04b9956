package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Backlog is what of a workspace's logs waits to be sealed.
type Backlog struct {
	// Pending is how many entries are committed but not sealed yet.
	Pending int64
	// OldestAt is when the entry that has waited longest was written (its
	// recorded_at or occurred_at); zero when nothing is pending.
	OldestAt time.Time
}

// Lag is how long the oldest pending entry has waited, as of now; zero
// when everything is sealed. An entry whose own time lies ahead of now (an
// audit-log entry posted with a later timestamp) counts as just written.
func (b Backlog) Lag(now time.Time) time.Duration {
	if b.Pending == 0 || b.OldestAt.IsZero() || b.OldestAt.After(now) {
		return 0
	}
	return now.Sub(b.OldestAt)
}

// timeColumn is each log's column saying when an entry was written.
var timeColumn = map[Log]string{InventoryLog: "recorded_at", ActivityEvents: "occurred_at"}

// PendingBacklog reports what of the actor's workspace waits to be sealed:
// the seal lag an operator watches. Every member may read it: it says
// nothing about the entries themselves.
func PendingBacklog(ctx context.Context, db *store.DB) (Backlog, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return Backlog{}, err
	}
	q := db.Read()
	var b Backlog
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_pending WHERE workspace_id = $1`, who.WorkspaceID).Scan(&b.Pending); err != nil {
		return Backlog{}, fmt.Errorf("pending entries: %w", err)
	}
	if b.Pending == 0 {
		return b, nil
	}
	// The pending list is in the order entries were queued: its first row
	// has waited longest.
	var log Log
	var entryID int64
	err = q.QueryRowContext(ctx, `SELECT log, entry_id FROM ledger_pending WHERE workspace_id = $1 ORDER BY id LIMIT 1`,
		who.WorkspaceID).Scan(&log, &entryID)
	if errors.Is(err, sql.ErrNoRows) {
		return Backlog{}, nil // sealed in between
	}
	if err != nil {
		return Backlog{}, fmt.Errorf("oldest pending entry: %w", err)
	}
	column, ok := timeColumn[log]
	if !ok {
		return Backlog{}, fmt.Errorf("pending entry of unknown log %q", log)
	}
	var at int64
	err = q.QueryRowContext(ctx, `SELECT `+column+` FROM `+string(log)+` WHERE workspace_id = $1 AND id = $2`,
		who.WorkspaceID, entryID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return b, nil // pending but gone: verify reports that, not the lag
	}
	if err != nil {
		return Backlog{}, fmt.Errorf("time of %s entry %d: %w", log, entryID, err)
	}
	b.OldestAt = store.Time(at)
	return b, nil
}

// InstallBacklog is the whole install's sealing backlog, for operators'
// metrics: entries committed and not sealed yet, and when the oldest of
// them was written. Only the system may read it (it spans workspaces).
func InstallBacklog(ctx context.Context, db *store.DB) (Backlog, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return Backlog{}, err
	}
	if who.Kind != actor.System {
		return Backlog{}, fault.New(fault.Forbidden, "the install's sealing backlog is for operators' metrics")
	}
	q := db.Read()
	var b Backlog
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_pending`).Scan(&b.Pending); err != nil || b.Pending == 0 {
		return b, err
	}
	var ws int64
	var log Log
	var entryID int64
	err = q.QueryRowContext(ctx, `SELECT workspace_id, log, entry_id FROM ledger_pending ORDER BY id LIMIT 1`).Scan(&ws, &log, &entryID)
	if errors.Is(err, sql.ErrNoRows) {
		return Backlog{}, nil
	}
	if err != nil {
		return Backlog{}, err
	}
	column, ok := timeColumn[log]
	if !ok {
		return Backlog{}, fmt.Errorf("pending entry of unknown log %q", log)
	}
	var at int64
	err = q.QueryRowContext(ctx, `SELECT `+column+` FROM `+string(log)+` WHERE workspace_id = $1 AND id = $2`, ws, entryID).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Backlog{}, err
	}
	if err == nil {
		b.OldestAt = store.Time(at)
	}
	return b, nil
}
