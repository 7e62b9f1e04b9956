package assets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// IncludeAsset adds an asset to an In progress session's list (or brings back an
// excluded one). If the asset was already scanned as unexpected in this
// session, that scan now counts.
func IncludeAsset(ctx context.Context, db *store.DB, sessionID, assetID int64) error {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "include assets"); err != nil {
			return err
		}
		a, err := getAsset(ctx, tx, who.WorkspaceID, assetID)
		if err != nil {
			return err
		}
		if err := refuseRemoved(a, "include it in a session"); err != nil {
			return err
		}
		now := store.Micros(time.Now())
		var excluded sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT excluded_at FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3`,
			who.WorkspaceID, sessionID, assetID).Scan(&excluded)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO inventory_session_items (workspace_id, session_id, asset_id, origin, tag, name, status, condition, assignee, location_id, added_at)
				VALUES ($1, $2, $3, 'included', $4, $5, $6, $7, $8, $9, $10)`,
				who.WorkspaceID, sessionID, assetID, a.Tag, a.Name, string(a.Status), string(a.Condition), a.Assignee, nullID(a.LocationID), now)
			if store.IsUniqueViolation(err) { // someone included it a moment ago
				return fault.New(fault.Conflict, "asset %s is already on this session's list", a.Tag)
			}
		case err != nil:
			return err
		case !excluded.Valid:
			return fault.New(fault.Conflict, "asset %s is already on this session's list", a.Tag)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE inventory_session_items SET excluded_at = NULL, excluded_by = '' WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3`,
				who.WorkspaceID, sessionID, assetID)
		}
		if err != nil {
			return err
		}
		if err := bumpProgress(ctx, tx, who.WorkspaceID, sessionID, 0, 1); err != nil {
			return err
		}
		// An earlier unexpected scan of this asset is the evidence it is here.
		var at int64
		var by, method string
		err = tx.QueryRowContext(ctx, `SELECT scanned_at, scanned_by, method FROM inventory_scans WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3
			AND outcome = 'unexpected' ORDER BY scanned_at LIMIT 1`, who.WorkspaceID, sessionID, assetID).Scan(&at, &by, &method)
		if err == nil {
			res, err := tx.ExecContext(ctx, `UPDATE inventory_session_items SET scanned_at = $1, scanned_by = $2, scan_method = $3
				WHERE workspace_id = $4 AND session_id = $5 AND asset_id = $6 AND scanned_at IS NULL`, at, by, method, who.WorkspaceID, sessionID, assetID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				if err := bumpProgress(ctx, tx, who.WorkspaceID, sessionID, 1, 0); err != nil {
					return err
				}
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: map[string]any{"included_asset_id": assetID, "tag": a.Tag},
			Description: "asset " + a.Tag + " included in the session"})
		return err
	})
}

// ExcludeAsset removes an asset that has not been scanned from an In progress
// session's list. Excluding a scanned asset is refused.
func ExcludeAsset(ctx context.Context, db *store.DB, sessionID, assetID int64) error {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "exclude assets"); err != nil {
			return err
		}
		var tag string
		var scanned, excluded sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT tag, scanned_at, excluded_at FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3`+tx.ForUpdate(),
			who.WorkspaceID, sessionID, assetID).Scan(&tag, &scanned, &excluded)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "that asset is not on this session's list")
		}
		if err != nil {
			return err
		}
		if scanned.Valid {
			return fault.New(fault.Conflict, "asset %s has already been scanned in this session and cannot be excluded", tag)
		}
		if excluded.Valid {
			return fault.New(fault.Conflict, "asset %s is already excluded", tag)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inventory_session_items SET excluded_at = $1, excluded_by = $2 WHERE workspace_id = $3 AND session_id = $4 AND asset_id = $5`,
			store.Micros(time.Now()), who.Name, who.WorkspaceID, sessionID, assetID); err != nil {
			return err
		}
		if err := bumpProgress(ctx, tx, who.WorkspaceID, sessionID, 0, -1); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: map[string]any{"excluded_asset_id": assetID, "tag": tag},
			Description: "asset " + tag + " excluded from the session"})
		return err
	})
}
func requireListed(ctx context.Context, tx *store.Tx, workspaceID, sessionID, assetID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3 AND excluded_at IS NULL`,
		workspaceID, sessionID, assetID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fault.New(fault.NotFound, "that asset is not on this session's list; include it first")
	}
	return nil
}
