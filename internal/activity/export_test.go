package activity

import (
	"context"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// SummarizeCounts is Summarize without the permission check and the READ
// event, with or without rollups, so tests can compare the two paths.
func SummarizeCounts(ctx context.Context, db *store.DB, workspaceID int64, f Filter, rollups bool) (Summary, error) {
	return summarize(ctx, db, workspaceID, f, rollups)
}

// LastClosedDay exposes the closing rule to tests.
func LastClosedDay(now time.Time) int64 { return lastClosedDay(now) }
