package assets

import (
	"context"
	mathrand "math/rand/v2"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Progress is how far a session has come.
type Progress struct {
	Scanned int `json:"scanned"`
	Total   int `json:"total"`
	Percent int `json:"percent"`
}

func progressOf(scanned, total int) Progress {
	p := Progress{Scanned: scanned, Total: total}
	if total > 0 {
		p.Percent = scanned * 100 / total
	}
	return p
}

// progressStripes is how many counter rows a session's progress is spread
// over (see migration 00031).
const progressStripes = 16

// bumpProgress adds to a session's progress counters inside the transaction
// that changes the list, on a random stripe so that concurrent scanners
// rarely wait for the same row.
func bumpProgress(ctx context.Context, tx *store.Tx, workspaceID, sessionID int64, scanned, total int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO inventory_session_progress (workspace_id, session_id, stripe, scanned, total)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, session_id, stripe)
		DO UPDATE SET scanned = inventory_session_progress.scanned + excluded.scanned, total = inventory_session_progress.total + excluded.total`,
		workspaceID, sessionID, mathrand.IntN(progressStripes), scanned, total)
	return err
}

// GetSessionProgress returns scanned, total and percent: a handful of counter
// rows, cheap enough to read after every scan and to poll.
func GetSessionProgress(ctx context.Context, db *store.DB, sessionID int64) (Progress, error) {
	who, err := actor.RequireAny(ctx, actor.ViewAssets, actor.UseStation)
	if err != nil {
		return Progress{}, err
	}
	var scanned, total int
	err = db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(scanned), 0), COALESCE(SUM(total), 0)
		FROM inventory_session_progress WHERE workspace_id = $1 AND session_id = $2`, who.WorkspaceID, sessionID).Scan(&scanned, &total)
	return progressOf(scanned, total), err
}
