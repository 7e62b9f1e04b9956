package assets

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
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
	who, err := actor.RequireAny(ctx, actor.ViewAssets, actor.UseStation)
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
		w.And(`LOWER(s.name) LIKE ? ESCAPE '\'`, "%"+store.EscapeLike(strings.ToLower(s))+"%")
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
