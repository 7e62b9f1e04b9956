package assets

import (
	"context"
	mathrand "math/rand/v2"
	"strings"

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
// over (see migration 00031) by bumpProgress, which draws one at random;
// scans where writers run concurrently take any free one (queueProgress).
const progressStripes = 16

// bumpProgress adds to a session's progress counters inside the transaction
// that changes the list, on a random stripe so that concurrent scanners
// rarely wait for the same row.
func bumpProgress(ctx context.Context, tx *store.Tx, workspaceID, sessionID int64, scanned, total int64) error {
	_, err := tx.ExecContext(ctx, addProgress, workspaceID, sessionID, mathrand.IntN(progressStripes), scanned, total)
	return err
}

// queueProgress is bumpProgress as a write queued until just before COMMIT
// (tx.ExecLater), for scans: the stripe's row lock is then held for the
// commit alone instead of for the whole scan, and on PostgreSQL the write
// travels with the scan's activity event in one round trip. Where writers
// run concurrently a random stripe would still make a scanner wait for the
// commit of another that drew the same one, so it takes a stripe no other
// transaction holds (SKIP LOCKED), or, when every stripe is held, adds one
// past the last (at a random distance, so that two adding at once rarely
// pick the same): a session has about as many stripes as it had scans
// committing at once.
func queueProgress(tx *store.Tx, workspaceID, sessionID int64, scanned, total int64) {
	stripe := store.Pick(tx, "$3", `COALESCE(
		(SELECT stripe FROM inventory_session_progress WHERE workspace_id = $1 AND session_id = $2 LIMIT 1 FOR UPDATE SKIP LOCKED),
		(SELECT MAX(stripe) + 1 + $3 FROM inventory_session_progress WHERE workspace_id = $1 AND session_id = $2), $3)`)
	tx.ExecLater(strings.Replace(addProgress, "$3", stripe, 1), workspaceID, sessionID, mathrand.IntN(progressStripes), scanned, total)
}

const addProgress = `INSERT INTO inventory_session_progress (workspace_id, session_id, stripe, scanned, total)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, session_id, stripe)
	DO UPDATE SET scanned = inventory_session_progress.scanned + excluded.scanned, total = inventory_session_progress.total + excluded.total`

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
