package inventory

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// ParseMoment reads a moment typed by a person or program: RFC 3339
// ("2026-01-31T17:00:00Z"), a local date-time ("2026-01-31T17:00", as an
// HTML datetime-local field sends it) or a date ("2026-01-31"), the last two
// in the workspace's time zone. With endOfDay a bare date means the end of
// that day, so "to 2026-01-31" includes the 31st.
func ParseMoment(field, s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fault.Field(field, "use a date (2026-01-31) or a date and time (2026-01-31T17:00 or RFC 3339)")
}

// LogFilterFromQuery reads the change-log filter from query parameters:
// sku, item_id, location_id, record_id, action, actor_kind with actor_id
// (or user_id, station_id, api_key_id), batch_id, reference, from, to,
// cursor and limit.
func LogFilterFromQuery(q url.Values, loc *time.Location) (LogFilter, error) {
	var f LogFilter
	fields := fault.Fields{}
	num := func(name string) int64 {
		raw := strings.TrimSpace(q.Get(name))
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			fields.Add(name, "must be a positive whole number")
		}
		return n
	}
	f.SKU = strings.TrimSpace(q.Get("sku"))
	f.ItemID, f.LocationID, f.RecordID = num("item_id"), num("location_id"), num("record_id")
	f.Action = Action(strings.TrimSpace(q.Get("action")))
	f.ActorKind, f.ActorID = strings.TrimSpace(q.Get("actor_kind")), num("actor_id")
	// Each of user_id, station_id and api_key_id names one party; one that
	// disagrees with actor_kind, actor_id or another of them is refused
	// rather than one of them picked.
	for _, p := range []struct{ kind, name string }{{"user", "user_id"}, {"station", "station_id"}, {"api_key", "api_key_id"}} {
		id := num(p.name)
		if id <= 0 {
			continue
		}
		if (f.ActorKind != "" && f.ActorKind != p.kind) || (f.ActorID != 0 && f.ActorID != id) {
			fields.Add(p.name, "names another party than actor_kind, actor_id, user_id, station_id or api_key_id; give one")
			continue
		}
		f.ActorKind, f.ActorID = p.kind, id
	}
	f.BatchID = strings.TrimSpace(q.Get("batch_id"))
	f.Reference = strings.TrimSpace(q.Get("reference"))
	var err error
	if f.From, err = ParseMoment("from", q.Get("from"), loc, false); err != nil {
		fields.Add("from", err.(*fault.Error).Fields["from"])
	}
	if f.To, err = ParseMoment("to", q.Get("to"), loc, true); err != nil {
		fields.Add("to", err.(*fault.Error).Fields["to"])
	}
	if f.Before, err = ParseCursor(q.Get("cursor")); err != nil {
		fields.Add("cursor", "not a cursor from next_cursor")
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxPage {
			fields.Add("limit", "must be 1 to 500")
		}
		f.Limit = n
	}
	if err := fields.Err(); err != nil {
		return LogFilter{}, err
	}
	return f, f.validate()
}

// WorkspaceZone returns the time zone of the actor's workspace (UTC when
// unknown), for reading dates typed by people.
func WorkspaceZone(ctx context.Context, db *store.DB) *time.Location {
	_, ok := actor.From(ctx)
	if !ok {
		return time.UTC
	}
	ws, err := workspace.Get(ctx, db)
	if err != nil {
		return time.UTC
	}
	return ws.Settings.Location()
}

// ParseAsOf reads the moment of an as-of question: like ParseMoment, but a
// bare date means the end of that day ("stock on 31 December" is the stock
// at its close).
func ParseAsOf(field, s string, loc *time.Location) (time.Time, error) {
	t, err := ParseMoment(field, s, loc, true)
	if err != nil || t.IsZero() {
		return t, err
	}
	if _, dateOnly := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), loc); dateOnly == nil {
		t = t.Add(-time.Microsecond)
	}
	return t, nil
}
