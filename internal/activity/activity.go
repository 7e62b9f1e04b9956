// Package activity owns the activity audit trail: one append-only event for
// every action a user, station or API key takes (logins, users and roles,
// catalogue, inventory, assets, settings, API calls), with the actor as it
// was, before and after values, IP address and user agent. Every other area
// records its events through Record inside the transaction of the change it
// describes, so a change and its event commit together or not at all.
//
// It also reads the trail back for the people allowed to see it: filters
// and their query parameters (filter.go), full-text search (search.go,
// searchindex.go), paged lists and single entries (list.go), summaries
// (summary.go, rollup.go), exports as CSV or PDF (export.go), manual entries
// posted through the audit-log API (manual.go) and per-record histories
// (history.go). Reading and exporting the trail is itself recorded, one
// event per page, summary, entry or export.
package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Action is what was done. The first four are the seed's audit-log actions.
type Action string

const (
	Create      Action = "CREATE"
	Update      Action = "UPDATE"
	Delete      Action = "DELETE"
	Read        Action = "READ"
	Login       Action = "LOGIN"
	Logout      Action = "LOGOUT"
	LoginFailed Action = "LOGIN_FAILED"
	// SessionExpired is recorded when an expired session is presented.
	SessionExpired Action = "SESSION_EXPIRED"
	PasswordChange Action = "PASSWORD_CHANGE"
	RoleChange     Action = "ROLE_CHANGE"
	Revoke         Action = "REVOKE"
	Export         Action = "EXPORT"
	APICall        Action = "API_CALL"
	APIError       Action = "API_ERROR"
	// AlertRaised and AlertAcknowledged record an alert rule firing and an
	// admin acknowledging the alert (internal/alerts); webhooks and e-mail
	// deliver them.
	AlertRaised       Action = "ALERT_RAISED"
	AlertAcknowledged Action = "ALERT_ACKNOWLEDGED"
	// EmailTest records a test e-mail an admin sent (internal/mail).
	EmailTest Action = "EMAIL_TEST"
)

// Category groups events the way the seed's table does.
type Category string

const (
	Authentication Category = "authentication"
	Users          Category = "users"
	Products       Category = "products"
	Orders         Category = "orders"
	Inventory      Category = "inventory"
	Assets         Category = "assets"
	Configuration  Category = "configuration"
	API            Category = "api"
	Audit          Category = "audit"
)

// Event is one recorded action. Old and New are marshalled to JSON; pass
// only the fields that matter (never secrets or password hashes).
type Event struct {
	ID          int64
	WorkspaceID int64
	OccurredAt  time.Time
	ActorKind   string
	ActorID     int64
	ActorName   string
	Action      Action
	Category    Category
	EntityType  string
	EntityID    string
	Old         any
	New         any
	Description string
	IP          string
	UserAgent   string
	RequestID   string
	// ReportedBy* name who posted a manual audit-log entry (POST
	// /api/v1/audit-logs) when that differs from the actor it names; empty
	// for events recorded by the operation they describe.
	ReportedByKind string
	ReportedByID   int64
	ReportedByName string
}

// Record appends ev inside tx. The actor and request facts come from ctx
// unless ev already names them (e.g. a failed login has no actor yet).
func Record(ctx context.Context, tx *store.Tx, ev Event) (int64, error) {
	args, err := eventArgs(ctx, ev)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, insertEvent+` RETURNING id`, args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("record activity %s %s: %w", ev.Action, ev.EntityType, err)
	}
	return id, nil
}

// Note records ev like Record, but as a write queued until just before the
// transaction commits (store.Tx.ExecLater): it commits with the change or
// not at all, and on PostgreSQL it travels to the server together with the
// transaction's other queued writes instead of in a round trip of its own.
// For events whose id the caller does not need.
func Note(ctx context.Context, tx *store.Tx, ev Event) error {
	args, err := eventArgs(ctx, ev)
	if err != nil {
		return err
	}
	tx.ExecLater(insertEvent, args...)
	return nil
}

const insertEvent = `INSERT INTO activity_events
		(workspace_id, occurred_at, actor_kind, actor_id, actor_name, action, category, entity_type, entity_id,
		 old_values, new_values, description, ip, user_agent, request_id, reported_by_kind, reported_by_id, reported_by_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

// eventArgs completes ev from ctx (actor, workspace, request facts, time)
// and returns the values of insertEvent.
func eventArgs(ctx context.Context, ev Event) ([]any, error) {
	if a, ok := actor.From(ctx); ok && ev.ActorKind == "" {
		ev.ActorKind, ev.ActorID, ev.ActorName = string(a.Kind), a.ID, a.Name
		if ev.WorkspaceID == 0 {
			ev.WorkspaceID = a.WorkspaceID
		}
	}
	if ev.ActorKind == "" {
		ev.ActorKind, ev.ActorName = "anonymous", "anonymous"
	}
	if ev.WorkspaceID == 0 {
		return nil, fmt.Errorf("activity event %s %s has no workspace", ev.Action, ev.EntityType)
	}
	req := actor.RequestFrom(ctx)
	if ev.IP == "" {
		ev.IP = req.IP
	}
	if ev.UserAgent == "" {
		ev.UserAgent = req.UserAgent
	}
	if ev.RequestID == "" {
		ev.RequestID = req.RequestID
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = time.Now()
	}
	oldJSON, err := jsonOrNull(ev.Old)
	if err != nil {
		return nil, err
	}
	newJSON, err := jsonOrNull(ev.New)
	if err != nil {
		return nil, err
	}
	return []any{ev.WorkspaceID, store.Micros(ev.OccurredAt), ev.ActorKind, nullID(ev.ActorID), ev.ActorName, string(ev.Action),
		string(ev.Category), ev.EntityType, ev.EntityID, oldJSON, newJSON, ev.Description,
		truncate(ev.IP, 64), truncate(ev.UserAgent, 512), truncate(ev.RequestID, 64),
		ev.ReportedByKind, nullID(ev.ReportedByID), ev.ReportedByName}, nil
}

// nullID stores 0 (no such party) as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func jsonOrNull(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if len(raw) == 0 {
			return nil, nil
		}
		return string(raw), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode activity values: %w", err)
	}
	return string(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Changes returns the before and after maps of the fields that differ
// between old and new, so an UPDATE event shows only what changed.
func Changes(old, new map[string]any) (before, after map[string]any) {
	before, after = map[string]any{}, map[string]any{}
	for k, nv := range new {
		ov, ok := old[k]
		if !ok || fmt.Sprint(ov) != fmt.Sprint(nv) {
			before[k], after[k] = ov, nv
		}
	}
	for k, ov := range old {
		if _, ok := new[k]; !ok {
			before[k], after[k] = ov, nil
		}
	}
	return before, after
}

// ForEntity returns the events about one record of the actor's workspace,
// newest first: the data of a History tab. Reading it takes the log's own
// permission, except where the history is part of the record itself (an
// asset's or an order's, which everyone who may see them reads on its page).
func ForEntity(ctx context.Context, db *store.DB, entityType, entityID string, limit int) ([]Event, error) {
	perm := ViewPermission
	switch entityType {
	case "assets":
		perm = actor.ViewAssets
	case "orders":
		perm = actor.ViewOrders
	}
	a, err := actor.Require(ctx, perm)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT `+eventColumns+`
		FROM activity_events WHERE workspace_id = $1 AND entity_type = $2 AND entity_id = $3
		ORDER BY occurred_at DESC, id DESC LIMIT $4`, a.WorkspaceID, entityType, entityID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

const eventColumns = `id, workspace_id, occurred_at, actor_kind, COALESCE(actor_id, 0), actor_name,
	action, category, entity_type, entity_id, COALESCE(old_values, ''), COALESCE(new_values, ''), description,
	ip, user_agent, request_id, reported_by_kind, COALESCE(reported_by_id, 0), reported_by_name`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var ev Event
	var at int64
	var oldV, newV string
	if err := row.Scan(&ev.ID, &ev.WorkspaceID, &at, &ev.ActorKind, &ev.ActorID, &ev.ActorName, &ev.Action, &ev.Category,
		&ev.EntityType, &ev.EntityID, &oldV, &newV, &ev.Description, &ev.IP, &ev.UserAgent, &ev.RequestID,
		&ev.ReportedByKind, &ev.ReportedByID, &ev.ReportedByName); err != nil {
		return Event{}, err
	}
	ev.OccurredAt = store.Time(at)
	if oldV != "" {
		ev.Old = json.RawMessage(oldV)
	}
	if newV != "" {
		ev.New = json.RawMessage(newV)
	}
	return ev, nil
}

// RecordNow records ev in a transaction of its own, for events that are not
// part of a change: reads of the log, exports, API calls.
func RecordNow(ctx context.Context, db *store.DB, ev Event) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		_, err := Record(ctx, tx, ev)
		return err
	})
}
