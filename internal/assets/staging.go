package assets

import (
	"context"
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// StagedChange is what a scanner wants changed on an asset when the session
// finishes. Nil fields are left as staged before; an empty Comment clears it.
type StagedChange struct {
	Condition  *Condition `json:"condition"`
	Assignee   *string    `json:"assignee"`
	LocationID *int64     `json:"location_id"`
	Comment    *string    `json:"comment"`
	// Photo, when set, is staged with the changes in the same transaction,
	// so a refused photo leaves nothing half-staged.
	Photo []byte `json:"-"`
}

// StageChanges records changes for an asset on the list of an In progress session.
func StageChanges(ctx context.Context, db *store.DB, sessionID, assetID int64, c StagedChange) error {
	who, err := actor.Require(ctx, actor.RunSessions)
	if err != nil {
		return err
	}
	f := fault.Fields{}
	if c.Condition != nil && !c.Condition.Valid() {
		f.Add("condition", "must be new, good, fair, poor or broken")
	}
	if c.Assignee != nil {
		*c.Assignee = strings.TrimSpace(*c.Assignee)
		if len(*c.Assignee) > 200 {
			f.Add("assignee", "at most 200 characters")
		}
	}
	if c.Comment != nil {
		*c.Comment = strings.TrimSpace(*c.Comment)
		if len(*c.Comment) > 2000 {
			f.Add("comment", "at most 2000 characters")
		}
	}
	if c.LocationID != nil && *c.LocationID < 0 {
		f.Add("location_id", "must be a location id")
	}
	if err := f.Err(); err != nil {
		return err
	}
	var photoType string
	if len(c.Photo) > 0 {
		var err error
		if photoType, err = checkPhoto(c.Photo); err != nil {
			return err
		}
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "stage changes"); err != nil {
			return err
		}
		if err := requireListed(ctx, tx, who.WorkspaceID, sessionID, assetID); err != nil {
			return err
		}
		if c.LocationID != nil && *c.LocationID > 0 {
			if _, err := inventory.GetLocation(ctx, tx, *c.LocationID); fault.Is(err, fault.NotFound) {
				return fault.Field("location_id", "no such location")
			} else if err != nil {
				return err
			}
		}
		var args store.Args
		set := []string{"staged_by = " + args.Add(who.Name)}
		add := func(col string, v any) { set = append(set, col+" = "+args.Add(v)) }
		staged := map[string]any{}
		if c.Condition != nil {
			add("staged_condition", string(*c.Condition))
			staged["condition"] = string(*c.Condition)
		}
		if c.Assignee != nil {
			add("staged_assignee", *c.Assignee)
			staged["assignee"] = *c.Assignee
		}
		if c.LocationID != nil {
			add("staged_location_id", *c.LocationID)
			staged["location_id"] = *c.LocationID
		}
		if c.Comment != nil {
			add("staged_comment", nullString(*c.Comment))
			staged["comment"] = *c.Comment
		}
		if photoType != "" {
			p, err := insertPhoto(ctx, tx, who, assetID, sessionID, photoType, c.Photo)
			if err != nil {
				return err
			}
			staged["photo_id"], staged["photo_type"], staged["photo_size"] = p.ID, photoType, len(c.Photo)
		}
		query := `UPDATE inventory_session_items SET ` + strings.Join(set, ", ") +
			` WHERE workspace_id = ` + args.Add(who.WorkspaceID) + ` AND session_id = ` + args.Add(sessionID) + ` AND asset_id = ` + args.Add(assetID)
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		staged["asset_id"] = assetID
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: staged, Description: fmt.Sprintf("changes staged for asset %d", assetID)})
		return err
	})
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
