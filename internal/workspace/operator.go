package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// The functions of this file belong to the install's operator (the command
// line, `stocktrail workspace …`), not to any workspace's members: the plan
// decides how long a workspace's trail is kept, so its own admins cannot
// change it, and a legal hold is imposed from outside the workspace.

// Operator returns the actor of work done by the install's operator: a
// system actor of no workspace, named after who runs the command.
func Operator(name string) actor.Actor { return actor.SystemActor(0, name) }

// RequireOperator refuses everyone but a system actor: users, stations and
// API keys of any workspace, admins included.
func RequireOperator(ctx context.Context) (actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return actor.Actor{}, fault.New(fault.Unauthorized, "log in first")
	}
	if a.Kind != actor.System {
		return actor.Actor{}, fault.New(fault.Forbidden, "only the install's operator may do this (stocktrail workspace …)")
	}
	return a, nil
}

// AsOperatorIn is ctx with the operator acting in workspace ws, so the
// activity event of a change is filed in that workspace under the
// operator's name.
func AsOperatorIn(ctx context.Context, a actor.Actor, ws int64) context.Context {
	a.WorkspaceID = ws
	return actor.With(ctx, a)
}

// Summary is one line of the operator's list of workspaces.
type Summary struct {
	Workspace
	Users int
}

// List returns every workspace of the install with its number of users.
func List(ctx context.Context, q store.Querier) ([]Summary, error) {
	if _, err := RequireOperator(ctx); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+workspaceColumns+`,
		(SELECT COUNT(*) FROM users u WHERE u.workspace_id = workspaces.id AND u.deleted_at IS NULL)
		FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var s Summary
		var users int
		w, err := scanWorkspace(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &users)...) }))
		if err != nil {
			return nil, err
		}
		s.Workspace, s.Users = w, users
		out = append(out, s)
	}
	return out, rows.Err()
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// operatorChange runs change on workspace id in one transaction and records
// what changed in that workspace's activity log (configuration).
func operatorChange(ctx context.Context, db *store.DB, id int64, description func(Workspace) string, change func(w *Workspace) (extra map[string]any, err error)) (Workspace, error) {
	a, err := RequireOperator(ctx)
	if err != nil {
		return Workspace{}, err
	}
	if id <= 0 {
		return Workspace{}, fault.Field("workspace", "required: the id `stocktrail workspace list` shows")
	}
	ctx = AsOperatorIn(ctx, a, id)
	var out Workspace
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		w := old
		extra, err := change(&w)
		if err != nil {
			return err
		}
		out = w
		before, after := activity.Changes(old.values(), w.values())
		if len(after) == 0 {
			return nil
		}
		for k, v := range extra {
			after[k] = v
		}
		var since any
		if w.LegalHoldSince != nil {
			since = store.Micros(*w.LegalHoldSince)
		}
		hold := 0
		if w.LegalHold {
			hold = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET plan = $1, activity_retention_days = $2, legal_hold = $3,
			legal_hold_reason = $4, legal_hold_since = $5 WHERE id = $6`,
			string(w.Plan), w.ActivityRetentionDays, hold, w.LegalHoldReason, since, w.ID); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{WorkspaceID: id, Action: activity.Update, Category: activity.Configuration,
			EntityType: "workspaces", EntityID: fmt.Sprint(id), Old: before, New: after, Description: description(w)})
		return err
	})
	return out, err
}

// SetPlan changes a workspace's plan. Its activity retention becomes the new
// plan's; an Enterprise workspace keeps a longer retention it chose.
// Moving to a shorter retention lets the next purge delete what is older.
func SetPlan(ctx context.Context, db *store.DB, id int64, plan Plan) (Workspace, error) {
	if !plan.Valid() {
		return Workspace{}, fault.Field("plan", "must be starter, business or enterprise")
	}
	return operatorChange(ctx, db, id, func(w Workspace) string {
		return fmt.Sprintf("plan set to %s by the operator (activity kept %d days)", w.Plan.Title(), w.ActivityRetentionDays)
	}, func(w *Workspace) (map[string]any, error) {
		if !(plan == Enterprise && w.Plan == Enterprise) || w.ActivityRetentionDays < plan.RetentionDays() {
			w.ActivityRetentionDays = plan.RetentionDays()
		}
		w.Plan = plan
		return nil, nil
	})
}

// SetLegalHold places (on) or lifts a legal hold on a workspace: while it
// holds, nothing of the workspace's trail is purged. Both take a reason,
// kept in the activity log.
func SetLegalHold(ctx context.Context, db *store.DB, id int64, on bool, reason string) (Workspace, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return Workspace{}, fault.Field("reason", "required: say why the hold is placed or lifted (a case or request reference)")
	case len(reason) > 500:
		return Workspace{}, fault.Field("reason", "at most 500 characters")
	}
	return operatorChange(ctx, db, id, func(w Workspace) string {
		if w.LegalHold {
			return "legal hold placed by the operator: " + reason
		}
		return "legal hold lifted by the operator: " + reason
	}, func(w *Workspace) (map[string]any, error) {
		if w.LegalHold == on {
			state := "no legal hold"
			if on {
				state = "already a legal hold"
			}
			return nil, fault.New(fault.Conflict, "workspace %d has %s", w.ID, state)
		}
		// The reason shown while the hold lasts; the lifting reason stays
		// in the activity log.
		w.LegalHold, w.LegalHoldReason, w.LegalHoldSince = on, "", nil
		if on {
			now := time.Now().UTC()
			w.LegalHoldReason, w.LegalHoldSince = reason, &now
		}
		return map[string]any{"reason": reason}, nil
	})
}
