package activity

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Page sizes of the activity log and the audit-log API.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Cursor marks where a page ended: the next page holds the events strictly
// older than it in (occurred_at, id) order. Reading on from a cursor costs
// the same on page 1 and page 100,000, unlike an offset.
type Cursor struct {
	At int64 // occurred_at, µs
	ID int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string { return fmt.Sprintf("%d_%d", c.At, c.ID) }

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	at, id, ok := strings.Cut(s, "_")
	var c Cursor
	var err1, err2 error
	c.At, err1 = strconv.ParseInt(at, 10, 64)
	c.ID, err2 = strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || c.ID <= 0 {
		return Cursor{}, fault.Field("cursor", "not a cursor this server gave out")
	}
	return c, nil
}

// Result is one page of events, newest first.
type Result struct {
	Events []Event
	// Next continues after the last event; nil on the last page.
	Next *Cursor
	// Names names the records the events point at (filled by List).
	Names Names
}

// List returns one page of the actor's workspace's events matching f,
// newest first, and records that the log was viewed (one READ event per
// page, never per row). The caller must hold ViewActivity.
func List(ctx context.Context, db *store.DB, f Filter) (Result, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return Result{}, err
	}
	res, err := query(ctx, db, a.WorkspaceID, f)
	if err != nil {
		return Result{}, err
	}
	if res.Names, err = lookUpNames(ctx, db, a.WorkspaceID, res.Events); err != nil {
		return Result{}, err
	}
	vals := f.values()
	vals["rows"] = len(res.Events)
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: "activity_events", New: vals,
		Description: fmt.Sprintf("viewed the activity log (%d events)", len(res.Events))})
	return res, err
}

// ViewPermission is what reading the activity log takes.
const ViewPermission = actor.ViewActivity

func query(ctx context.Context, db *store.DB, workspaceID int64, f Filter) (Result, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	w, err := f.where(ctx, db, workspaceID)
	if err != nil {
		return Result{}, err
	}
	if f.After != nil {
		w.And("(occurred_at, id) < (?, ?)", f.After.At, f.After.ID)
	}
	// One row more than asked says whether there is a next page.
	rows, err := db.Read().QueryContext(ctx, `SELECT `+eventColumns+` FROM activity_events WHERE `+w.String()+
		` ORDER BY occurred_at DESC, id DESC LIMIT `+w.Add(limit+1)+` OFFSET `+w.Add(f.Skip), w.Args...)
	if err != nil {
		return Result{}, fmt.Errorf("list activity: %w", err)
	}
	defer rows.Close()
	var res Result
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return Result{}, err
		}
		res.Events = append(res.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	if len(res.Events) > limit {
		res.Events = res.Events[:limit]
		last := res.Events[limit-1]
		res.Next = &Cursor{At: store.Micros(last.OccurredAt), ID: last.ID}
	}
	return res, nil
}

// Get returns one event of the actor's workspace and records that it was
// read.
func Get(ctx context.Context, db *store.DB, id int64) (Event, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return Event{}, err
	}
	ev, err := scanEvent(db.Read().QueryRowContext(ctx, `SELECT `+eventColumns+` FROM activity_events
		WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id))
	if err != nil {
		return Event{}, store.NotFound(err, "audit log entry")
	}
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: "activity_events", EntityID: strconv.FormatInt(id, 10),
		New: map[string]any{"rows": 1}, Description: fmt.Sprintf("viewed audit log entry %d", id)})
	return ev, err
}

// EventsByID returns the actor's workspace's events with the given ids, in
// the order of ids; ids that name no event there are skipped. For
// consumers of the sealed sequence (alerts, notifications, live feeds).
func EventsByID(ctx context.Context, r store.Reader, ids []int64) ([]Event, error) {
	who, err := actor.Require(ctx, actor.ViewActivity)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	w := store.NewWhere("workspace_id = ?", who.WorkspaceID).And(store.In(r, "id", ids))
	rows, err := r.Read().QueryContext(ctx, `SELECT `+eventColumns+` FROM activity_events WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("activity events by id: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]Event, len(ids))
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		byID[ev.ID] = ev
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(byID))
	for _, id := range ids {
		if ev, ok := byID[id]; ok {
			out = append(out, ev)
		}
	}
	return out, nil
}
