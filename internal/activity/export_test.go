package activity

import (
	"context"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// SummarizeCounts is Summarize without the permission check and the READ
// event, with or without rollups, so tests can compare the two paths.
func SummarizeCounts(ctx context.Context, db *store.DB, workspaceID int64, f Filter, rollups bool) (Summary, error) {
	return summarize(ctx, db, workspaceID, f, rollups)
}

// LastClosedDay exposes the closing rule to tests.
func LastClosedDay(now time.Time) int64 { return lastClosedDay(now) }

// ExportEvents is the stream under WriteExport, so tests can see what it
// hands the writers, in which order, and where a cap stops it. fn gets
// each event's ledger sequence, or -1 when it is not sealed yet.
func ExportEvents(ctx context.Context, db *store.DB, f Filter, format ExportFormat, maxRows int, fn func(ev Event, seq int64) error) (int, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return 0, err
	}
	return exportEvents(ctx, db, a.WorkspaceID, f, format, maxRows, func(ev Event, seq sequence) error {
		if !seq.sealed {
			return fn(ev, -1)
		}
		return fn(ev, seq.n)
	})
}
