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
		if who.Kind == actor.Station && who.LocationID != 0 {
			// A station's reach is checked before anything is written,
			// after the session's state, as for every other change.
			if err := lockInProgress(ctx, tx, who.WorkspaceID, sessionID, "scan"); err != nil {
				return err
			}
			if err := checkStationReach(ctx, tx, who, sessionID); err != nil {
				return err
			}
		}
		now := store.Micros(time.Now())
		sc, err := recordScan(ctx, tx, who, sessionID, in, method, tag, now)
		if err != nil {
			return err
		}
		switch {
		case !sc.claimed:
			var firstAsset int64
			if err := tx.QueryRowContext(ctx, `SELECT asset_id, outcome FROM inventory_scans WHERE workspace_id = $1 AND session_id = $2 AND client_scan_id = $3`,
				who.WorkspaceID, sessionID, in.ClientScanID).Scan(&firstAsset, &out.Outcome); err != nil {
				return err
			}
			if firstAsset != sc.assetID {
				return &fault.Error{Kind: fault.Conflict, Message: "this client scan id was already used for another asset",
					Fields: map[string]string{"client_scan_id": "already used"}}
			}
			out.Duplicate = true
		case sc.hit:
			out.Outcome = Found
			queueProgress(tx, who.WorkspaceID, sessionID, 1, 0)
			sc.scanned++
		default:
			var listed int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3 AND excluded_at IS NULL`,
				who.WorkspaceID, sessionID, sc.assetID).Scan(&listed); err != nil {
				return err
			}
			out.Outcome = Unexpected
			if listed > 0 {
				out.Outcome = Repeat
			}
			tx.ExecLater(`UPDATE inventory_scans SET outcome = $1 WHERE workspace_id = $2 AND session_id = $3 AND client_scan_id = $4`,
				string(out.Outcome), who.WorkspaceID, sessionID, in.ClientScanID)
		}
		if sc.claimed && out.Outcome != Repeat {
			if err := activity.Note(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
				EntityID: fmt.Sprint(sessionID), New: map[string]any{"asset_id": sc.assetID, "tag": sc.tag, "outcome": string(out.Outcome), "method": method},
				Description: fmt.Sprintf("asset %s %s (%s)", sc.tag, map[ScanOutcome]string{Found: "found", Unexpected: "scanned but not expected"}[out.Outcome], method)}); err != nil {
				return err
			}
		}
		out.AssetID, out.Tag, out.Name = sc.assetID, sc.tag, sc.name
		out.Progress = progressOf(sc.scanned, sc.total)
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

// recordedScan is what recordScan found and did: the session's status, the
// asset, the session's progress before this scan, whether the scan claimed
// its client scan id and whether it marked the asset found on the list.
type recordedScan struct {
	status              SessionStatus
	assetID             int64
	tag, name           string
	deleted             bool
	disposedOn, dMethod string
	scanned, total      int
	claimed, hit        bool
}

// recordScan checks that the session is In progress, holding a share lock
// on its row until the transaction ends (a finish or cancel waits for this
// scan, see lockInProgress), and that the asset (by tag, or by in.AssetID
// for a check by hand) is on the register; then it claims the client scan
// id, so that a retry, even one racing the first attempt on another node,
// finds it taken and answers as before; and a claimed scan marks the asset
// scanned on the list when it is listed and was not scanned yet. The scan's
// outcome is stored as found; the caller corrects it when hit is false.
// Refused scans change nothing.
//
// On PostgreSQL all of it is one statement (each statement is a round trip
// to the server, and 50 scanners on one session queue behind them); on
// SQLite, whose statements are calls in this process and which has no
// writes inside WITH, it is three.
func recordScan(ctx context.Context, tx *store.Tx, who actor.Actor, sessionID int64, in ScanInput, method, tag string, now int64) (recordedScan, error) {
	lookup, key := `a.tag = $3`, any(tag)
	if method == "manual" {
		lookup, key = `a.id = $3`, in.AssetID
	}
	var sc recordedScan
	var id sql.NullInt64
	var assetTag, name, disposedOn, dMethod sql.NullString
	var deleted sql.NullBool
	dest := []any{&sc.status, &id, &assetTag, &name, &deleted, &disposedOn, &dMethod, &sc.scanned, &sc.total}
	// The progress is read through the session's row, not $1 and $2:
	// PostgreSQL then estimates it the same for any session and keeps one
	// generic plan for the statement instead of planning it for every scan
	// (planning took half as long as running it).
	columns := `s.status, a.id, a.tag, a.name, a.deleted_at IS NOT NULL, COALESCE(a.disposed_on, ''), COALESCE(a.disposal_method, ''),
		(SELECT COALESCE(SUM(p.scanned), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id),
		(SELECT COALESCE(SUM(p.total), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id)`
	args := []any{who.WorkspaceID, sessionID, key, in.ClientScanID, method, now, who.Name}
	var err error
	if tx.RoundTrips() {
		// The claim joins the locked session row (the latest version of
		// it, after any finish it waited for) and the asset, and writes
		// only for a session In progress and an asset on the register; the
		// list is marked only for a claimed scan.
		err = tx.QueryRowContext(ctx, `WITH s AS (
				SELECT workspace_id, id, status FROM inventory_sessions WHERE workspace_id = $1 AND id = $2`+tx.ForShare()+`
			), a AS (
				SELECT a.id, a.tag, a.name, a.deleted_at, a.disposed_on, a.disposal_method FROM assets a WHERE a.workspace_id = $1 AND `+lookup+`
			), claim AS (
				INSERT INTO inventory_scans (workspace_id, session_id, client_scan_id, asset_id, outcome, method, scanned_at, scanned_by)
				SELECT $1, $2, $4, a.id, 'found', $5, $6, $7 FROM s, a
				WHERE s.status = 'in_progress' AND a.deleted_at IS NULL AND COALESCE(a.disposal_method, '') = ''
				ON CONFLICT (workspace_id, session_id, client_scan_id) DO NOTHING RETURNING asset_id
			), hit AS (
				UPDATE inventory_session_items SET scanned_at = $6, scanned_by = $7, scan_method = $5
				WHERE workspace_id = $1 AND session_id = $2 AND asset_id = (SELECT asset_id FROM claim) AND excluded_at IS NULL AND scanned_at IS NULL
				RETURNING asset_id
			)
			SELECT `+columns+`, EXISTS (SELECT 1 FROM claim), EXISTS (SELECT 1 FROM hit)
			FROM s LEFT JOIN a ON true`, args...).Scan(append(dest, &sc.claimed, &sc.hit)...)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT `+columns+`
			FROM inventory_sessions s LEFT JOIN assets a ON a.workspace_id = s.workspace_id AND `+lookup+`
			WHERE s.workspace_id = $1 AND s.id = $2`+tx.ForShare("s"), args[:3]...).Scan(dest...)
	}
	if err != nil {
		return sc, store.NotFound(err, "inventory session")
	}
	sc.assetID, sc.tag, sc.name, sc.deleted, sc.disposedOn, sc.dMethod = id.Int64, assetTag.String, name.String, deleted.Bool, disposedOn.String, dMethod.String
	switch {
	case sc.status != InProgress:
		return sc, notInProgress(sc.status, "scan")
	case !id.Valid && method == "manual":
		return sc, &fault.Error{Kind: fault.NotFound, Message: "no such asset in this workspace", Fields: map[string]string{"asset_id": "no such asset"}}
	case !id.Valid:
		return sc, &fault.Error{Kind: fault.NotFound, Message: fmt.Sprintf("no asset with tag %s in this workspace", tag),
			Fields: map[string]string{"code": "unknown asset tag"}}
	// A deleted or disposed asset is never counted: its label may still
	// be about, but the thing is no longer on the register.
	case sc.dMethod != "":
		return sc, &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s was disposed of on %s (%s); it is no longer counted",
			sc.tag, sc.name, sc.disposedOn, DisposalMethod(sc.dMethod).Label()), Fields: map[string]string{"code": "disposed asset"}}
	case sc.deleted:
		return sc, &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s %s is deleted from the register; restore it to count it", sc.tag, sc.name),
			Fields: map[string]string{"code": "deleted asset"}}
	}
	if tx.RoundTrips() {
		return sc, nil
	}
	// Rows affected rather than RETURNING: SQLite builds RETURNING on a
	// trigger, with a statement journal of its own.
	res, err := tx.ExecContext(ctx, `INSERT INTO inventory_scans (workspace_id, session_id, client_scan_id, asset_id, outcome, method, scanned_at, scanned_by)
		VALUES ($1, $2, $3, $4, 'found', $5, $6, $7) ON CONFLICT (workspace_id, session_id, client_scan_id) DO NOTHING`,
		who.WorkspaceID, sessionID, in.ClientScanID, sc.assetID, method, now, who.Name)
	if err != nil {
		return sc, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return sc, err
	}
	sc.claimed = true
	res, err = tx.ExecContext(ctx, `UPDATE inventory_session_items SET scanned_at = $1, scanned_by = $2, scan_method = $3
		WHERE workspace_id = $4 AND session_id = $5 AND asset_id = $6 AND excluded_at IS NULL AND scanned_at IS NULL`,
		now, who.Name, method, who.WorkspaceID, sessionID, sc.assetID)
	if err != nil {
		return sc, err
	}
	n, err := res.RowsAffected()
	sc.hit = n == 1
	return sc, err
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
