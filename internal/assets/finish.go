package assets

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// FinishResult sums up what finishing applied.
type FinishResult struct {
	Session    Session `json:"session"`
	Changed    int     `json:"changed_assets"`
	MarkedLost int     `json:"marked_lost"`
}

// FinishSession completes an In progress session: in one transaction it applies
// every staged change to its asset, records each in the asset's history and
// the activity log, attaches staged photos, and, when the workspace marks
// unscanned assets Lost, does so. The guarded status update makes two
// concurrent finishes (on any nodes) apply once: the second finds the
// session no longer In progress.
func FinishSession(ctx context.Context, db *store.DB, sessionID int64) (FinishResult, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return FinishResult{}, err
	}
	var out FinishResult
	err = db.InTx(ctx, func(tx *store.Tx) error {
		out = FinishResult{}
		ws, err := workspace.Get(ctx, tx)
		if err != nil {
			return err
		}
		markLost := ws.Settings.MarkUnscannedLost
		// Take the row lock first (waiting for scans under way) so that the
		// finish time is later than every scan it includes.
		var status SessionStatus
		if err := tx.QueryRowContext(ctx, `SELECT status FROM inventory_sessions WHERE workspace_id = $1 AND id = $2`+tx.ForUpdate(),
			who.WorkspaceID, sessionID).Scan(&status); err != nil {
			return store.NotFound(err, "inventory session")
		}
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, `UPDATE inventory_sessions SET status = 'completed', finished_at = $1, finished_by = $2, lost_marked = $3
			WHERE workspace_id = $4 AND id = $5 AND status = 'in_progress'`, store.Micros(now), who.Name, boolInt(markLost), who.WorkspaceID, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			s, err := getSession(ctx, tx, who.WorkspaceID, sessionID)
			if err != nil {
				return err
			}
			if s.Status == Completed {
				return fault.New(fault.Conflict, "the session is already completed (finished by %s); nothing was applied again", s.FinishedBy)
			}
			return notInProgress(s.Status, "finish it")
		}
		s, err := getSession(ctx, tx, who.WorkspaceID, sessionID)
		if err != nil {
			return err
		}
		items, err := pendingItems(ctx, tx, who.WorkspaceID, sessionID)
		if err != nil {
			return err
		}
		for _, it := range items {
			changed, lost, err := applyItem(ctx, tx, who.WorkspaceID, s, it, markLost, now)
			if err != nil {
				return err
			}
			if changed {
				out.Changed++
			}
			if lost {
				out.MarkedLost++
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE asset_photos SET applied = 1 WHERE workspace_id = $1 AND session_id = $2 AND applied = 0
			AND asset_id IN (SELECT asset_id FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND excluded_at IS NULL)`,
			who.WorkspaceID, sessionID); err != nil {
			return err
		}
		out.Session = s
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), Old: map[string]any{"status": string(InProgress)},
			New: map[string]any{"status": string(Completed), "scanned": s.Progress.Scanned, "expected": s.Progress.Total,
				"changed_assets": out.Changed, "marked_lost": out.MarkedLost},
			Description: fmt.Sprintf("inventory session %s finished: %d of %d found, %d assets changed, %d marked lost",
				s.Name, s.Progress.Scanned, s.Progress.Total, out.Changed, out.MarkedLost)})
		return err
	})
	return out, err
}

type pendingItem struct {
	assetID         int64
	scanned         bool
	condition       sql.NullString
	assignee        sql.NullString
	locationID      sql.NullInt64
	comment         sql.NullString
	stagedBy        string
	hasStagedChange bool
}

func pendingItems(ctx context.Context, tx *store.Tx, workspaceID, sessionID int64) ([]pendingItem, error) {
	rows, err := tx.QueryContext(ctx, `SELECT asset_id, scanned_at IS NOT NULL, staged_condition, staged_assignee, staged_location_id, staged_comment, staged_by
		FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND excluded_at IS NULL ORDER BY asset_id`, workspaceID, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pendingItem
	for rows.Next() {
		var it pendingItem
		if err := rows.Scan(&it.assetID, &it.scanned, &it.condition, &it.assignee, &it.locationID, &it.comment, &it.stagedBy); err != nil {
			return nil, err
		}
		it.hasStagedChange = it.condition.Valid || it.assignee.Valid || it.locationID.Valid || it.comment.Valid
		out = append(out, it)
	}
	return out, rows.Err()
}

// applyItem applies one item's staged changes (and Lost, when due) to its
// asset and records them.
func applyItem(ctx context.Context, tx *store.Tx, workspaceID int64, s Session, it pendingItem, markLost bool, now time.Time) (changed, lost bool, err error) {
	if !it.hasStagedChange && (it.scanned || !markLost) {
		return false, false, nil
	}
	old, err := lockAsset(ctx, tx, workspaceID, it.assetID)
	if err != nil {
		return false, false, err
	}
	a := old
	if it.condition.Valid {
		a.Condition = Condition(it.condition.String)
	}
	if it.assignee.Valid {
		a.Assignee = it.assignee.String
	}
	if it.locationID.Valid {
		a.LocationID = it.locationID.Int64
	}
	if it.comment.Valid && it.comment.String != "" {
		note := fmt.Sprintf("[%s, session %s] %s", now.Format("2006-01-02"), s.Name, it.comment.String)
		if a.Notes != "" {
			a.Notes += "\n"
		}
		a.Notes += note
	}
	if !it.scanned && markLost {
		a.Status = Lost
		lost = old.Status != Lost
	}
	before, after := activity.Changes(old.values(), a.values())
	if len(after) == 0 {
		return false, false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE assets SET status = $1, condition = $2, assignee = $3, location_id = $4, notes = $5, updated_at = $6
		WHERE workspace_id = $7 AND id = $8`, string(a.Status), string(a.Condition), a.Assignee, nullID(a.LocationID), a.Notes,
		store.Micros(now), workspaceID, a.ID); err != nil {
		return false, false, err
	}
	applied, _ := json.Marshal(after)
	if _, err := tx.ExecContext(ctx, `UPDATE inventory_session_items SET applied_changes = $1 WHERE workspace_id = $2 AND session_id = $3 AND asset_id = $4`,
		string(applied), workspaceID, s.ID, a.ID); err != nil {
		return false, false, err
	}
	desc := fmt.Sprintf("asset %s updated by inventory session %s", a.Tag, s.Name)
	if lost {
		desc = fmt.Sprintf("asset %s marked Lost: not scanned in inventory session %s", a.Tag, s.Name)
	}
	if it.stagedBy != "" {
		desc += " (changes staged by " + it.stagedBy + ")"
	}
	_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "assets",
		EntityID: fmt.Sprint(a.ID), Old: before, New: after, Description: desc})
	return true, lost, err
}
