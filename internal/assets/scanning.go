package assets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ScanOutcome says what a scan did.
type ScanOutcome string

const (
	// Found: the asset was on the list and is now counted.
	Found ScanOutcome = "found"
	// Repeat: the asset had already been scanned; it still counts once.
	Repeat ScanOutcome = "repeat"
	// Unexpected: the asset exists but is not on the session's list.
	Unexpected ScanOutcome = "unexpected"
)

// ScanInput is one scan: what the scanner read, or the asset checked by hand.
type ScanInput struct {
	// Code is the scanned QR payload or a typed tag.
	Code string `json:"code"`
	// AssetID checks an asset by hand instead of by code.
	AssetID int64 `json:"asset_id"`
	// ClientScanID identifies this scan on the client; a retry with the same
	// id returns the first answer and changes nothing.
	ClientScanID string `json:"client_scan_id"`
}

// ScanResult is the answer to a scan.
type ScanResult struct {
	Outcome ScanOutcome `json:"outcome"`
	AssetID int64       `json:"asset_id"`
	Tag     string      `json:"tag"`
	Name    string      `json:"name"`
	// Duplicate says this was a retry of a scan already received.
	Duplicate bool     `json:"duplicate"`
	Message   string   `json:"message"`
	Progress  Progress `json:"progress"`
}

// ScanAsset records a scan (or a check by hand when in.AssetID is set) in an In
// progress session. The same asset scanned twice counts once; an asset not
// on the list is reported as unexpected; a retried client scan id changes
// nothing. Unknown or malformed codes and other workspaces' labels are
// refused with nothing changed.
func ScanAsset(ctx context.Context, db *store.DB, sessionID int64, in ScanInput) (ScanResult, error) {
	who, err := actor.Require(ctx, actor.RunSessions)
	if err != nil {
		return ScanResult{}, err
	}
	in.ClientScanID = strings.TrimSpace(in.ClientScanID)
	if len(in.ClientScanID) > 100 {
		return ScanResult{}, fault.Field("client_scan_id", "at most 100 characters")
	}
	if in.ClientScanID == "" {
		in.ClientScanID = "server-" + randomID()
	}
	method := "scan"
	var tag string
	if in.AssetID != 0 {
		method = "manual"
	} else {
		ws, t, err := qrlabel.Parse(in.Code)
		if err != nil {
			return ScanResult{}, &fault.Error{Kind: fault.Invalid, Message: "this code is not a stocktrail asset label: " + parseProblem(err),
				Fields: map[string]string{"code": "not an asset label or tag"}}
		}
		if ws != 0 && ws != who.WorkspaceID {
			return ScanResult{}, &fault.Error{Kind: fault.Invalid, Message: "this label belongs to another workspace",
				Fields: map[string]string{"code": "label of another workspace"}}
		}
		tag = t
	}
	var out ScanResult
	err = db.InTx(ctx, func(tx *store.Tx) error {
		out = ScanResult{}
		if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "scan"); err != nil {
			return err
		}
		if err := checkStationReach(ctx, tx, who, sessionID); err != nil {
			return err
		}
		var a struct {
			id                  int64
			tag, name           string
			deleted             bool
			disposedOn, dMethod string
		}
		if method == "manual" {
			err = tx.QueryRowContext(ctx, `SELECT id, tag, name, deleted_at IS NOT NULL, COALESCE(disposed_on, ''), COALESCE(disposal_method, '')
				FROM assets WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, in.AssetID).
				Scan(&a.id, &a.tag, &a.name, &a.deleted, &a.disposedOn, &a.dMethod)
			if errors.Is(err, sql.ErrNoRows) {
				return &fault.Error{Kind: fault.NotFound, Message: "no such asset in this workspace", Fields: map[string]string{"asset_id": "no such asset"}}
			}
		} else {
			err = tx.QueryRowContext(ctx, `SELECT id, tag, name, deleted_at IS NOT NULL, COALESCE(disposed_on, ''), COALESCE(disposal_method, '')
				FROM assets WHERE workspace_id = $1 AND tag = $2`, who.WorkspaceID, tag).
				Scan(&a.id, &a.tag, &a.name, &a.deleted, &a.disposedOn, &a.dMethod)
			if errors.Is(err, sql.ErrNoRows) {
				return &fault.Error{Kind: fault.NotFound, Message: fmt.Sprintf("no asset with tag %s in this workspace", tag),
					Fields: map[string]string{"code": "unknown asset tag"}}
			}
		}
		if err != nil {
			return err
		}
		// A deleted or disposed asset is never counted: its label may still
		// be about, but the thing is no longer on the register.
		switch {
		case a.dMethod != "":
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s was disposed of on %s (%s); it is no longer counted",
				a.tag, a.name, a.disposedOn, DisposalMethod(a.dMethod).Label()), Fields: map[string]string{"code": "disposed asset"}}
		case a.deleted:
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s is deleted from the register; restore it to count it", a.tag, a.name),
				Fields: map[string]string{"code": "deleted asset"}}
		}
		now := store.Micros(time.Now())
		// Claim the client scan id first: a retry (even one racing the first
		// attempt on another node) finds it taken and answers as before.
		var claimed string
		err = tx.QueryRowContext(ctx, `INSERT INTO inventory_scans (workspace_id, session_id, client_scan_id, asset_id, outcome, method, scanned_at, scanned_by)
			VALUES ($1, $2, $3, $4, 'found', $5, $6, $7) ON CONFLICT (workspace_id, session_id, client_scan_id) DO NOTHING RETURNING client_scan_id`,
			who.WorkspaceID, sessionID, in.ClientScanID, a.id, method, now, who.Name).Scan(&claimed)
		if errors.Is(err, sql.ErrNoRows) {
			var assetID int64
			if err := tx.QueryRowContext(ctx, `SELECT asset_id, outcome FROM inventory_scans WHERE workspace_id = $1 AND session_id = $2 AND client_scan_id = $3`,
				who.WorkspaceID, sessionID, in.ClientScanID).Scan(&assetID, &out.Outcome); err != nil {
				return err
			}
			if assetID != a.id {
				return &fault.Error{Kind: fault.Conflict, Message: "this client scan id was already used for another asset",
					Fields: map[string]string{"client_scan_id": "already used"}}
			}
			out.Duplicate = true
		} else if err != nil {
			return err
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE inventory_session_items SET scanned_at = $1, scanned_by = $2, scan_method = $3
				WHERE workspace_id = $4 AND session_id = $5 AND asset_id = $6 AND excluded_at IS NULL AND scanned_at IS NULL`,
				now, who.Name, method, who.WorkspaceID, sessionID, a.id)
			if err != nil {
				return err
			}
			out.Outcome = Found
			if n, _ := res.RowsAffected(); n == 1 {
				if err := bumpProgress(ctx, tx, who.WorkspaceID, sessionID, 1, 0); err != nil {
					return err
				}
			} else {
				var listed int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3 AND excluded_at IS NULL`,
					who.WorkspaceID, sessionID, a.id).Scan(&listed); err != nil {
					return err
				}
				out.Outcome = Unexpected
				if listed > 0 {
					out.Outcome = Repeat
				}
				if _, err := tx.ExecContext(ctx, `UPDATE inventory_scans SET outcome = $1 WHERE workspace_id = $2 AND session_id = $3 AND client_scan_id = $4`,
					string(out.Outcome), who.WorkspaceID, sessionID, in.ClientScanID); err != nil {
					return err
				}
			}
			if out.Outcome != Repeat {
				if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
					EntityID: fmt.Sprint(sessionID), New: map[string]any{"asset_id": a.id, "tag": a.tag, "outcome": string(out.Outcome), "method": method},
					Description: fmt.Sprintf("asset %s %s (%s)", a.tag, map[ScanOutcome]string{Found: "found", Unexpected: "scanned but not expected"}[out.Outcome], method)}); err != nil {
					return err
				}
			}
		}
		out.AssetID, out.Tag, out.Name = a.id, a.tag, a.name
		return nil
	})
	if err != nil {
		return ScanResult{}, err
	}
	out.Message = map[ScanOutcome]string{
		Found:      out.Tag + " " + out.Name + ": found",
		Repeat:     out.Tag + " " + out.Name + ": already scanned, counted once",
		Unexpected: out.Tag + " " + out.Name + ": not on this session's list (unexpected); include it to count it",
	}[out.Outcome]
	out.Progress, err = GetSessionProgress(ctx, db, sessionID)
	return out, err
}

func parseProblem(err error) string {
	switch {
	case errors.Is(err, qrlabel.ErrEmpty):
		return "nothing was scanned"
	case errors.Is(err, qrlabel.ErrTooLong):
		return "far too long"
	case errors.Is(err, qrlabel.ErrControlChar):
		return "it contains control characters"
	case errors.Is(err, qrlabel.ErrBadTag):
		return "the tag has characters a tag cannot have"
	default:
		return "malformed label"
	}
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkStationReach refuses a scan by a station bound to a location into a
// session that covers more than that location and what lies below it: a
// station works at its own place.
func checkStationReach(ctx context.Context, tx *store.Tx, who actor.Actor, sessionID int64) error {
	if who.Kind != actor.Station || who.LocationID == 0 {
		return nil
	}
	var home, covered sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT (SELECT path FROM locations WHERE workspace_id = $1 AND id = $2),
		(SELECT l.path FROM inventory_sessions s JOIN locations l ON l.workspace_id = s.workspace_id AND l.id = s.location_id
		 WHERE s.workspace_id = $1 AND s.id = $3)`, who.WorkspaceID, who.LocationID, sessionID).Scan(&home, &covered)
	if err != nil {
		return err
	}
	if covered.Valid && home.Valid && (covered.String == home.String || strings.HasPrefix(covered.String, home.String+"/")) {
		return nil
	}
	where := "the whole workspace"
	if covered.Valid {
		where = covered.String
	}
	return fault.New(fault.Forbidden, "this station works at %s and below; this session covers %s", home.String, where)
}
