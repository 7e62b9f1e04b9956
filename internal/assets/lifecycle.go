package assets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// SessionInput is what it takes to create a session.
type SessionInput struct {
	Name           string `json:"name"`
	LocationID     int64  `json:"location_id"`
	ExcludeRetired bool   `json:"exclude_retired"`
}

func (n *SessionInput) validate(ctx context.Context, q *store.Tx, workspaceID int64) error {
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
		if _, err := inventory.GetLocation(ctx, q, n.LocationID); fault.Is(err, fault.NotFound) {
			f.Add("location_id", "no such location")
		} else if err != nil {
			return err
		}
	}
	return f.Err()
}

// CreateSession creates a session in the Scheduled state; starting it takes
// the snapshot.
func CreateSession(ctx context.Context, db *store.DB, n SessionInput) (Session, error) {
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
func insertSession(ctx context.Context, tx *store.Tx, who actor.Actor, n SessionInput, scheduleID int64, occurrence time.Time) (int64, error) {
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
			WHERE a.workspace_id = $3 AND a.deleted_at IS NULL AND a.disposed_at IS NULL`
		args := []any{id, now, who.WorkspaceID}
		if s.ExcludeRetired {
			query += ` AND a.status <> 'retired'`
		}
		if s.LocationID != 0 {
			query += ` AND (l.id = $4 OR l.path LIKE $5 ESCAPE '\')`
			args = append(args, s.LocationID, store.EscapeLike(s.LocationPath)+"/%")
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

// CancelSession stops a Scheduled or In progress session; nothing staged is applied.
func CancelSession(ctx context.Context, db *store.DB, sessionID int64) (Session, error) {
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
