package assets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// SessionStatus is a session's state: Scheduled → In progress → Completed,
// or Cancelled from either of the first two.
type SessionStatus string

const (
	Scheduled  SessionStatus = "scheduled"
	InProgress SessionStatus = "in_progress"
	Completed  SessionStatus = "completed"
	Cancelled  SessionStatus = "cancelled"
)

// Label is the status as people read it.
func (s SessionStatus) Label() string {
	switch s {
	case Scheduled:
		return "Scheduled"
	case InProgress:
		return "In progress"
	case Completed:
		return "Completed"
	case Cancelled:
		return "Cancelled"
	}
	return string(s)
}

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

// Session is an inventory session.
type Session struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Status       SessionStatus `json:"status"`
	LocationID   int64         `json:"location_id,omitempty"`
	LocationPath string        `json:"location_path,omitempty"`
	// ExcludeRetired leaves retired assets out of the snapshot.
	ExcludeRetired bool       `json:"exclude_retired"`
	ScheduleID     int64      `json:"schedule_id,omitempty"`
	OccurrenceAt   *time.Time `json:"occurrence_at,omitempty"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	StartedBy      string     `json:"started_by,omitempty"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
	FinishedBy     string     `json:"finished_by,omitempty"`
	CancelledAt    *time.Time `json:"cancelled_at,omitempty"`
	// LostMarked says finishing marked unscanned assets Lost.
	LostMarked bool     `json:"lost_marked"`
	Progress   Progress `json:"progress"`
}

// Scope describes the session's scope for people.
func (s Session) Scope() string {
	where := "All locations"
	if s.LocationPath != "" {
		where = s.LocationPath + " and below"
	}
	if s.ExcludeRetired {
		return where + ", retired excluded"
	}
	return where + ", all statuses"
}

func (s Session) values() map[string]any {
	return map[string]any{"name": s.Name, "status": string(s.Status), "location_id": s.LocationID, "exclude_retired": s.ExcludeRetired}
}

// NewSession is what it takes to create a session.
type NewSession struct {
	Name           string `json:"name"`
	LocationID     int64  `json:"location_id"`
	ExcludeRetired bool   `json:"exclude_retired"`
}

func (n *NewSession) validate(ctx context.Context, q store.Querier, workspaceID int64) error {
	f := fault.Fields{}
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		f.Add("name", "required")
	} else if len(n.Name) > 200 {
		f.Add("name", "at most 200 characters")
	}
	if n.LocationID < 0 {
		f.Add("location_id", "must be a location id, or 0 for all locations")
	} else if n.LocationID > 0 {
		if _, err := inventory.GetLocation(ctx, q, workspaceID, n.LocationID); fault.Is(err, fault.NotFound) {
			f.Add("location_id", "no such location")
		} else if err != nil {
			return err
		}
	}
	return f.Err()
}

// CreateSession creates a session in the Scheduled state; starting it takes
// the snapshot.
func CreateSession(ctx context.Context, db *store.DB, n NewSession) (Session, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return Session{}, err
	}
	var out Session
	err = db.InTx(ctx, func(tx *store.Tx) error {
		id, err := insertSession(ctx, tx, who, n, 0, time.Time{})
		if err != nil {
			return err
		}
		out, err = getSession(ctx, tx, who.WorkspaceID, id)
		return err
	})
	return out, err
}

// insertSession validates and inserts a session and records it. For a
// schedule's occurrence that already has its session it returns 0 and no
// error: the unique (schedule, occurrence) index makes creation happen once.
func insertSession(ctx context.Context, tx *store.Tx, who actor.Actor, n NewSession, scheduleID int64, occurrence time.Time) (int64, error) {
	if err := n.validate(ctx, tx, who.WorkspaceID); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO inventory_sessions (workspace_id, name, status, location_id, exclude_retired, schedule_id, occurrence_at, created_by, created_at)
		VALUES ($1, $2, 'scheduled', $3, $4, $5, $6, $7, $8)
		ON CONFLICT (workspace_id, schedule_id, occurrence_at) DO NOTHING RETURNING id`,
		who.WorkspaceID, n.Name, nullID(n.LocationID), boolInt(n.ExcludeRetired), nullID(scheduleID), store.NullMicros(occurrence),
		who.Name, store.Micros(time.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	desc := "inventory session " + n.Name + " created"
	if scheduleID != 0 {
		desc += fmt.Sprintf(" by schedule %d for %s", scheduleID, occurrence.UTC().Format(time.RFC3339))
	}
	_, err = activity.Record(ctx, tx, activity.Event{WorkspaceID: who.WorkspaceID, Action: activity.Create, Category: activity.Assets,
		EntityType: "inventory_sessions", EntityID: fmt.Sprint(id),
		New:         map[string]any{"name": n.Name, "location_id": n.LocationID, "exclude_retired": n.ExcludeRetired, "schedule_id": scheduleID},
		Description: desc})
	return id, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const sessionColumns = `s.id, s.name, s.status, COALESCE(s.location_id, 0), COALESCE(l.path, ''), s.exclude_retired, COALESCE(s.schedule_id, 0),
	s.occurrence_at, s.created_by, s.created_at, s.started_at, s.started_by, s.finished_at, s.finished_by, s.cancelled_at, s.lost_marked,
	(SELECT COALESCE(SUM(p.scanned), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id),
	(SELECT COALESCE(SUM(p.total), 0) FROM inventory_session_progress p WHERE p.workspace_id = s.workspace_id AND p.session_id = s.id)`

const sessionFrom = ` FROM inventory_sessions s LEFT JOIN locations l ON l.workspace_id = s.workspace_id AND l.id = s.location_id`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var s Session
	var excl, lost, scanned, total int
	var occ, started, finished, cancelled sql.NullInt64
	var created int64
	if err := row.Scan(&s.ID, &s.Name, &s.Status, &s.LocationID, &s.LocationPath, &excl, &s.ScheduleID, &occ, &s.CreatedBy, &created,
		&started, &s.StartedBy, &finished, &s.FinishedBy, &cancelled, &lost, &scanned, &total); err != nil {
		return Session{}, err
	}
	s.ExcludeRetired, s.LostMarked = excl != 0, lost != 0
	s.CreatedAt = store.Time(created)
	s.OccurrenceAt, s.StartedAt, s.FinishedAt, s.CancelledAt = timePtr(occ), timePtr(started), timePtr(finished), timePtr(cancelled)
	s.Progress = progressOf(scanned, total)
	return s, nil
}

func getSession(ctx context.Context, q store.Querier, workspaceID, id int64) (Session, error) {
	s, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+sessionFrom+` WHERE s.workspace_id = $1 AND s.id = $2`, workspaceID, id))
	return s, store.NotFound(err, "inventory session")
}

// GetSession returns one session with its progress.
func GetSession(ctx context.Context, db *store.DB, id int64) (Session, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Session{}, err
	}
	return getSession(ctx, db.Read(), who.WorkspaceID, id)
}

// SessionFilter narrows the sessions list. Zero values do not filter.
type SessionFilter struct {
	Search     string
	Status     SessionStatus
	LocationID int64
	Limit      int
	Offset     int
}

// ListSessions returns sessions matching f, newest first.
func ListSessions(ctx context.Context, db *store.DB, f SessionFilter) ([]Session, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	switch f.Status {
	case "", Scheduled, InProgress, Completed, Cancelled:
	default:
		return nil, fault.Field("status", "must be scheduled, in_progress, completed or cancelled")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	w := store.NewWhere(`s.workspace_id = ?`, who.WorkspaceID)
	if s := strings.TrimSpace(f.Search); s != "" {
		w.And(`LOWER(s.name) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(s))+"%")
	}
	if f.Status != "" {
		w.And(`s.status = ?`, string(f.Status))
	}
	if f.LocationID > 0 {
		w.And(`s.location_id = ?`, f.LocationID)
	}
	query := `SELECT ` + sessionColumns + sessionFrom + ` WHERE ` + w.String() + ` ORDER BY s.id DESC LIMIT ` + w.Add(f.Limit) + ` OFFSET ` + w.Add(f.Offset)
	rows, err := db.Read().QueryContext(ctx, query, w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// notInProgress explains why a session in state s refuses work that needs it
// In progress.
func notInProgress(s SessionStatus, doing string) error {
	switch s {
	case Scheduled:
		return fault.New(fault.Conflict, "the session has not started yet; start it before you %s", doing)
	case Completed:
		return fault.New(fault.Conflict, "the session is completed and read-only; you cannot %s", doing)
	case Cancelled:
		return fault.New(fault.Conflict, "the session was cancelled; you cannot %s", doing)
	}
	return fault.New(fault.Conflict, "the session is %s; you cannot %s", s.Label(), doing)
}

// lockInProgress checks, inside tx, that the session is In progress and
// holds a share lock on its row (PostgreSQL) until tx ends, so that a finish
// or cancel waits for scans already under way and no scan lands after it.
func lockInProgress(ctx context.Context, tx *store.Tx, workspaceID, id int64, doing string) error {
	var status SessionStatus
	err := tx.QueryRowContext(ctx, `SELECT status FROM inventory_sessions WHERE workspace_id = $1 AND id = $2`+tx.ForShare(),
		workspaceID, id).Scan(&status)
	if err != nil {
		return store.NotFound(err, "inventory session")
	}
	if status != InProgress {
		return notInProgress(status, doing)
	}
	return nil
}

// StartSession moves a Scheduled session to In progress and takes its
// snapshot: every asset in scope at this moment, with its values now.
func StartSession(ctx context.Context, db *store.DB, id int64) (Session, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return Session{}, err
	}
	var out Session
	err = db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Micros(time.Now())
		res, err := tx.ExecContext(ctx, `UPDATE inventory_sessions SET status = 'in_progress', started_at = $1, started_by = $2
			WHERE workspace_id = $3 AND id = $4 AND status = 'scheduled'`, now, who.Name, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			s, err := getSession(ctx, tx, who.WorkspaceID, id)
			if err != nil {
				return err
			}
			return fault.New(fault.Conflict, "the session is %s; only a Scheduled session can be started", s.Status.Label())
		}
		s, err := getSession(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		query := `INSERT INTO inventory_session_items (workspace_id, session_id, asset_id, origin, tag, name, status, condition, assignee, location_id, added_at)
			SELECT a.workspace_id, $1, a.id, 'snapshot', a.tag, a.name, a.status, a.condition, a.assignee, a.location_id, $2
			FROM assets a LEFT JOIN locations l ON l.workspace_id = a.workspace_id AND l.id = a.location_id
			WHERE a.workspace_id = $3`
		args := []any{id, now, who.WorkspaceID}
		if s.ExcludeRetired {
			query += ` AND a.status <> 'retired'`
		}
		if s.LocationID != 0 {
			query += ` AND (l.id = $4 OR l.path LIKE $5 ESCAPE '\')`
			args = append(args, s.LocationID, escapeLike(s.LocationPath)+"/%")
		}
		res, err = tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		expected, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if err := bumpProgress(ctx, tx, who.WorkspaceID, id, 0, expected); err != nil {
			return err
		}
		if out, err = getSession(ctx, tx, who.WorkspaceID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(id), Old: map[string]any{"status": string(Scheduled)},
			New:         map[string]any{"status": string(InProgress), "expected": out.Progress.Total},
			Description: fmt.Sprintf("inventory session %s started with %d expected assets", out.Name, out.Progress.Total)})
		return err
	})
	return out, err
}

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

// Scan records a scan (or a check by hand when in.AssetID is set) in an In
// progress session. The same asset scanned twice counts once; an asset not
// on the list is reported as unexpected; a retried client scan id changes
// nothing. Unknown or malformed codes and other workspaces' labels are
// refused with nothing changed.
func Scan(ctx context.Context, db *store.DB, sessionID int64, in ScanInput) (ScanResult, error) {
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
		var a struct {
			id        int64
			tag, name string
		}
		if method == "manual" {
			err = tx.QueryRowContext(ctx, `SELECT id, tag, name FROM assets WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, in.AssetID).
				Scan(&a.id, &a.tag, &a.name)
			if errors.Is(err, sql.ErrNoRows) {
				return &fault.Error{Kind: fault.NotFound, Message: "no such asset in this workspace", Fields: map[string]string{"asset_id": "no such asset"}}
			}
		} else {
			err = tx.QueryRowContext(ctx, `SELECT id, tag, name FROM assets WHERE workspace_id = $1 AND tag = $2`, who.WorkspaceID, tag).
				Scan(&a.id, &a.tag, &a.name)
			if errors.Is(err, sql.ErrNoRows) {
				return &fault.Error{Kind: fault.NotFound, Message: fmt.Sprintf("no asset with tag %s in this workspace", tag),
					Fields: map[string]string{"code": "unknown asset tag"}}
			}
		}
		if err != nil {
			return err
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
	out.Progress, err = SessionProgress(ctx, db, sessionID)
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

// SessionProgress returns scanned, total and percent: a handful of counter
// rows, cheap enough to read after every scan and to poll.
func SessionProgress(ctx context.Context, db *store.DB, sessionID int64) (Progress, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Progress{}, err
	}
	var scanned, total int
	err = db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(scanned), 0), COALESCE(SUM(total), 0)
		FROM inventory_session_progress WHERE workspace_id = $1 AND session_id = $2`, who.WorkspaceID, sessionID).Scan(&scanned, &total)
	return progressOf(scanned, total), err
}

// Include adds an asset to an In progress session's list (or brings back an
// excluded one). If the asset was already scanned as unexpected in this
// session, that scan now counts.
func Include(ctx context.Context, db *store.DB, sessionID, assetID int64) error {
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

// Exclude removes an asset that has not been scanned from an In progress
// session's list. Excluding a scanned asset is refused.
func Exclude(ctx context.Context, db *store.DB, sessionID, assetID int64) error {
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

// Stage records changes for an asset on the list of an In progress session.
func Stage(ctx context.Context, db *store.DB, sessionID, assetID int64, c StagedChange) error {
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
			if _, err := inventory.GetLocation(ctx, tx, who.WorkspaceID, *c.LocationID); fault.Is(err, fault.NotFound) {
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

// FinishResult sums up what finishing applied.
type FinishResult struct {
	Session    Session `json:"session"`
	Changed    int     `json:"changed_assets"`
	MarkedLost int     `json:"marked_lost"`
}

// Finish completes an In progress session: in one transaction it applies
// every staged change to its asset, records each in the asset's history and
// the activity log, attaches staged photos, and, when the workspace marks
// unscanned assets Lost, does so. The guarded status update makes two
// concurrent finishes (on any nodes) apply once: the second finds the
// session no longer In progress.
func Finish(ctx context.Context, db *store.DB, sessionID int64) (FinishResult, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return FinishResult{}, err
	}
	var out FinishResult
	err = db.InTx(ctx, func(tx *store.Tx) error {
		out = FinishResult{}
		ws, err := workspace.Get(ctx, tx, who.WorkspaceID)
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

// Cancel stops a Scheduled or In progress session; nothing staged is applied.
func Cancel(ctx context.Context, db *store.DB, sessionID int64) (Session, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return Session{}, err
	}
	var out Session
	err = db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE inventory_sessions SET status = 'cancelled', cancelled_at = $1
			WHERE workspace_id = $2 AND id = $3 AND status IN ('scheduled', 'in_progress')`, store.Micros(time.Now()), who.WorkspaceID, sessionID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if out, err = getSession(ctx, tx, who.WorkspaceID, sessionID); err != nil {
			return err
		}
		if n == 0 {
			return fault.New(fault.Conflict, "the session is %s and can no longer be cancelled", out.Status.Label())
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: map[string]any{"status": string(Cancelled)}, Description: "inventory session " + out.Name + " cancelled"})
		return err
	})
	return out, err
}
