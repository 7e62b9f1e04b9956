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
		// One statement: the session's status under a share lock (a finish
		// or cancel waits for this scan; see lockInProgress), the asset and
		// the progress so far, which the answer reports.
		lookup, key := `a.tag = $3`, any(tag)
		if method == "manual" {
			lookup, key = `a.id = $3`, in.AssetID
		}
		var status SessionStatus
		var a struct {
			id                  sql.NullInt64
			tag, name           sql.NullString
			deleted             sql.NullBool
			disposedOn, dMethod sql.NullString
		}
		var scanned, total int
		err := tx.QueryRowContext(ctx, `SELECT s.status, a.id, a.tag, a.name, a.deleted_at IS NOT NULL, COALESCE(a.disposed_on, ''), COALESCE(a.disposal_method, ''),
				(SELECT COALESCE(SUM(p.scanned), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id),
				(SELECT COALESCE(SUM(p.total), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id)
			FROM inventory_sessions s LEFT JOIN assets a ON a.workspace_id = s.workspace_id AND `+lookup+`
			WHERE s.workspace_id = $1 AND s.id = $2`+tx.ForShare("s"), who.WorkspaceID, sessionID, key).
			Scan(&status, &a.id, &a.tag, &a.name, &a.deleted, &a.disposedOn, &a.dMethod, &scanned, &total)
		if err != nil {
			return store.NotFound(err, "inventory session")
		}
		if status != InProgress {
			return notInProgress(status, "scan")
		}
		if err := checkStationReach(ctx, tx, who, sessionID); err != nil {
			return err
		}
		switch {
		case !a.id.Valid && method == "manual":
			return &fault.Error{Kind: fault.NotFound, Message: "no such asset in this workspace", Fields: map[string]string{"asset_id": "no such asset"}}
		case !a.id.Valid:
			return &fault.Error{Kind: fault.NotFound, Message: fmt.Sprintf("no asset with tag %s in this workspace", tag),
				Fields: map[string]string{"code": "unknown asset tag"}}
		// A deleted or disposed asset is never counted: its label may still
		// be about, but the thing is no longer on the register.
		case a.dMethod.String != "":
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s was disposed of on %s (%s); it is no longer counted",
				a.tag.String, a.name.String, a.disposedOn.String, DisposalMethod(a.dMethod.String).Label()), Fields: map[string]string{"code": "disposed asset"}}
		case a.deleted.Bool:
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s is deleted from the register; restore it to count it", a.tag.String, a.name.String),
				Fields: map[string]string{"code": "deleted asset"}}
		}
		assetID := a.id.Int64
		now := store.Micros(time.Now())
		// Claim the client scan id first: a retry (even one racing the first
		// attempt on another node) finds it taken and answers as before. Only
		// a claimed scan marks the asset found on the list.
		claimed, hit, err := claimScan(ctx, tx, who, sessionID, in.ClientScanID, assetID, method, now)
		if err != nil {
			return err
		}
		switch {
		case !claimed:
			var firstAsset int64
			if err := tx.QueryRowContext(ctx, `SELECT asset_id, outcome FROM inventory_scans WHERE workspace_id = $1 AND session_id = $2 AND client_scan_id = $3`,
				who.WorkspaceID, sessionID, in.ClientScanID).Scan(&firstAsset, &out.Outcome); err != nil {
				return err
			}
			if firstAsset != assetID {
				return &fault.Error{Kind: fault.Conflict, Message: "this client scan id was already used for another asset",
					Fields: map[string]string{"client_scan_id": "already used"}}
			}
			out.Duplicate = true
		case hit:
			out.Outcome = Found
			queueProgress(tx, who.WorkspaceID, sessionID, 1, 0)
			scanned++
		default:
			var listed int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3 AND excluded_at IS NULL`,
				who.WorkspaceID, sessionID, assetID).Scan(&listed); err != nil {
				return err
			}
			out.Outcome = Unexpected
			if listed > 0 {
				out.Outcome = Repeat
			}
			tx.ExecLater(`UPDATE inventory_scans SET outcome = $1 WHERE workspace_id = $2 AND session_id = $3 AND client_scan_id = $4`,
				string(out.Outcome), who.WorkspaceID, sessionID, in.ClientScanID)
		}
		if claimed && out.Outcome != Repeat {
			if err := activity.Note(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
				EntityID: fmt.Sprint(sessionID), New: map[string]any{"asset_id": assetID, "tag": a.tag.String, "outcome": string(out.Outcome), "method": method},
				Description: fmt.Sprintf("asset %s %s (%s)", a.tag.String, map[ScanOutcome]string{Found: "found", Unexpected: "scanned but not expected"}[out.Outcome], method)}); err != nil {
				return err
			}
		}
		out.AssetID, out.Tag, out.Name = assetID, a.tag.String, a.name.String
		out.Progress = progressOf(scanned, total)
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
	return out, nil
}

// claimScan inserts the scan under its client scan id unless that id was
// already used in the session (claimed false), and if it claimed it, marks
// the asset scanned on the session's list when it is listed and was not
// scanned yet (hit). The scan's outcome is stored as found; the caller
// corrects it when hit is false.
func claimScan(ctx context.Context, tx *store.Tx, who actor.Actor, sessionID int64, clientScanID string, assetID int64, method string, now int64) (claimed, hit bool, err error) {
	args := []any{who.WorkspaceID, sessionID, clientScanID, assetID, method, now, who.Name}
	if tx.RoundTrips() {
		// One round trip instead of two on PostgreSQL.
		err = tx.QueryRowContext(ctx, `WITH claim AS (
				INSERT INTO inventory_scans (workspace_id, session_id, client_scan_id, asset_id, outcome, method, scanned_at, scanned_by)
				VALUES ($1, $2, $3, $4, 'found', $5, $6, $7) ON CONFLICT (workspace_id, session_id, client_scan_id) DO NOTHING RETURNING asset_id
			), hit AS (
				UPDATE inventory_session_items SET scanned_at = $6, scanned_by = $7, scan_method = $5
				WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $4 AND excluded_at IS NULL AND scanned_at IS NULL AND EXISTS (SELECT 1 FROM claim)
				RETURNING asset_id
			)
			SELECT EXISTS (SELECT 1 FROM claim), EXISTS (SELECT 1 FROM hit)`, args...).Scan(&claimed, &hit)
		return claimed, hit, err
	}
	var id string
	err = tx.QueryRowContext(ctx, `INSERT INTO inventory_scans (workspace_id, session_id, client_scan_id, asset_id, outcome, method, scanned_at, scanned_by)
		VALUES ($1, $2, $3, $4, 'found', $5, $6, $7) ON CONFLICT (workspace_id, session_id, client_scan_id) DO NOTHING RETURNING client_scan_id`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE inventory_session_items SET scanned_at = $1, scanned_by = $2, scan_method = $3
		WHERE workspace_id = $4 AND session_id = $5 AND asset_id = $6 AND excluded_at IS NULL AND scanned_at IS NULL`,
		now, who.Name, method, who.WorkspaceID, sessionID, assetID)
	if err != nil {
		return true, false, err
	}
	n, err := res.RowsAffected()
	return true, n == 1, err
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
