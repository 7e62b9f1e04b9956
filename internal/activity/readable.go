package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Named is a record as a person knows it: its name (a location's path, an
// asset's tag, a user's name) and the page that shows it ("" when none).
type Named struct {
	Name string
	Href string
}

// Names holds the records that events point at, by kind and id, so their
// changes read "Location: WH1/A-01 → WH2" instead of "location_id: 2 → 1".
// The zero value names nothing (ids then show as "location 2").
type Names map[string]map[int64]Named

// Lookup returns the named record of kind with id, if known.
func (n Names) Lookup(kind string, id int64) (Named, bool) {
	v, ok := n[kind][id]
	return v, ok
}

// referenceKind says what kind of record a field holding an id points at,
// or "" when the field holds no reference stocktrail can name.
func referenceKind(entityType, field string) string {
	switch field {
	case "location_id", "staged_location_id", "from_location_id", "to_location_id":
		return "locations"
	case "parent_id":
		if entityType == "locations" {
			return "locations"
		}
	case "asset_id", "included_asset_id", "excluded_asset_id":
		return "assets"
	case "item_id":
		return "items"
	case "record_id", "into_record_id":
		return "inventory_records"
	case "user_id":
		return "users"
	case "session_id":
		return "inventory_sessions"
	case "schedule_id":
		return "inventory_schedules"
	case "station_id":
		return "stations"
	case "api_key_id":
		return "api_keys"
	case "rule_id":
		return "alert_rules"
	case "alert_id":
		return "alerts"
	}
	return ""
}

// nameQueries reads the names of one kind of record: the SELECT gives id
// and name, the workspace is $1 and the ids go in the IN condition; href
// formats an id into the record's page.
var nameQueries = map[string]struct{ sql, idColumn, href string }{
	"locations":           {`SELECT id, path FROM locations`, "id", "/inventory/locations/%d"},
	"assets":              {`SELECT id, tag FROM assets`, "id", "/assets/%d"},
	"items":               {`SELECT id, sku FROM items`, "id", "/inventory/items/%d"},
	"users":               {`SELECT id, name FROM users`, "id", "/users/%d"},
	"inventory_sessions":  {`SELECT id, name FROM inventory_sessions`, "id", "/inventory-checks/%d"},
	"inventory_schedules": {`SELECT id, name FROM inventory_schedules`, "id", "/inventory-checks/schedules"},
	"stations":            {`SELECT id, name FROM stations`, "id", "/stations"},
	"api_keys":            {`SELECT id, name FROM api_keys`, "id", "/api-keys"},
	"alert_rules":         {`SELECT id, name FROM alert_rules`, "id", "/notifications/rules/%d"},
	"alerts":              {`SELECT id, subject FROM alerts`, "id", "/notifications/alerts/%d"},
	"inventory_records": {`SELECT r.id, i.sku || ' at ' || l.path || CASE WHEN r.lot = '' THEN '' ELSE ' lot ' || r.lot END
		FROM inventory_records r JOIN items i ON i.workspace_id = r.workspace_id AND i.id = r.item_id
		JOIN locations l ON l.workspace_id = r.workspace_id AND l.id = r.location_id`, "r.id", ""},
}

// workspaceColumn is the workspace condition of a name query's table.
func workspaceColumn(kind string) string {
	if kind == "inventory_records" {
		return "r.workspace_id"
	}
	return "workspace_id"
}

// LookUpNames reads the names of every record events point at: the records
// they are about and the ids their old and new values hold, in the actor's
// workspace. One query per kind of record, whatever the number of events.
// It is for events the actor was allowed to read: their names are part of
// what they say.
func LookUpNames(ctx context.Context, db store.Reader, events []Event) (Names, error) {
	a, err := actor.Current(ctx)
	if err != nil {
		return nil, err
	}
	return lookUpNames(ctx, db, a.WorkspaceID, events)
}

// History is ForEntity's events as a person reads them.
func History(ctx context.Context, db *store.DB, entityType, entityID string, limit int) ([]Readable, error) {
	events, err := ForEntity(ctx, db, entityType, entityID, limit)
	if err != nil {
		return nil, err
	}
	names, err := LookUpNames(ctx, db, events)
	if err != nil {
		return nil, err
	}
	return names.ReadableAll(events), nil
}

func lookUpNames(ctx context.Context, db store.Reader, workspaceID int64, events []Event) (Names, error) {
	want := map[string]map[int64]bool{}
	add := func(kind string, id int64) {
		if kind == "" || id <= 0 {
			return
		}
		if want[kind] == nil {
			want[kind] = map[int64]bool{}
		}
		want[kind][id] = true
	}
	for _, ev := range events {
		if _, ok := nameQueries[ev.EntityType]; ok {
			if id, err := strconv.ParseInt(ev.EntityID, 10, 64); err == nil {
				add(ev.EntityType, id)
			}
		}
		for _, v := range []any{ev.Old, ev.New} {
			m, ok := asObject(v)
			if !ok {
				continue
			}
			for field, raw := range m {
				if id, ok := idValue(raw); ok {
					add(referenceKind(ev.EntityType, field), id)
				}
			}
		}
	}
	names := Names{}
	for kind, set := range want {
		q := nameQueries[kind]
		ids := make([]int64, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		w := store.NewWhere(workspaceColumn(kind)+" = ?", workspaceID)
		w.And(store.In(db, q.idColumn, ids))
		rows, err := db.Read().QueryContext(ctx, q.sql+" WHERE "+w.String(), w.Args...)
		if err != nil {
			return nil, fmt.Errorf("names of %s: %w", kind, err)
		}
		names[kind] = map[int64]Named{}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			n := Named{Name: name}
			if q.href != "" {
				n.Href = q.href
				if strings.Contains(q.href, "%d") {
					n.Href = fmt.Sprintf(q.href, id)
				}
			}
			names[kind][id] = n
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// idValue reads a JSON number that is a whole positive id.
func idValue(raw json.RawMessage) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return id, err == nil && id > 0
}

// Readable is an event as a person reads it: what it is about named and
// linked, and its changes with field names in words and ids as names.
type Readable struct {
	Event
	// Subject names the record the event is about; empty Name when it
	// cannot be named (then the entity id is all there is).
	Subject Named
	Changes []FieldChange
}

// Readable returns ev with its subject and changes named from names.
func (n Names) Readable(ev Event) Readable {
	r := Readable{Event: ev, Changes: n.Changes(ev)}
	if id, err := strconv.ParseInt(ev.EntityID, 10, 64); err == nil {
		r.Subject, _ = n.Lookup(ev.EntityType, id)
	}
	return r
}

// ReadableAll is Readable for each event.
func (n Names) ReadableAll(events []Event) []Readable {
	out := make([]Readable, len(events))
	for i, ev := range events {
		out[i] = n.Readable(ev)
	}
	return out
}

// Changes is ev.FieldChanges with labels in words and the ids of
// referenced records replaced by their names and pages.
func (n Names) Changes(ev Event) []FieldChange {
	out := ev.FieldChanges()
	for i := range out {
		c := &out[i]
		kind := referenceKind(ev.EntityType, c.Field)
		c.Label = FieldLabel(c.Field)
		if kind == "" {
			c.Before, c.After = yesNo(c.Before), yesNo(c.After)
			continue
		}
		c.Before, c.BeforeHref = n.nameOf(kind, c.Before)
		c.After, c.AfterHref = n.nameOf(kind, c.After)
	}
	return out
}

// nameOf turns the text of an id into the record's name and page; an id
// that names no known record reads "location 7 (not found)".
func (n Names) nameOf(kind, text string) (string, string) {
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id <= 0 {
		if text == "0" {
			return "", ""
		}
		return text, ""
	}
	if v, ok := n.Lookup(kind, id); ok {
		return v.Name, v.Href
	}
	return fmt.Sprintf("%s %d (not found)", kindWord(kind), id), ""
}

// kindWord is a kind of record in words.
func kindWord(kind string) string {
	switch kind {
	case "inventory_records":
		return "stock record"
	case "inventory_sessions":
		return "session"
	case "inventory_schedules":
		return "schedule"
	case "api_keys":
		return "API key"
	case "alert_rules":
		return "alert rule"
	}
	return strings.TrimSuffix(strings.ReplaceAll(kind, "_", " "), "s")
}

// FieldLabel is a field name of the log's values in words: "location_id"
// reads "Location", "exclude_retired" "Exclude retired".
func FieldLabel(field string) string {
	if field == "" {
		return ""
	}
	s := strings.TrimSuffix(field, "_id")
	switch s {
	case "into_record":
		s = "merged into"
	case "record":
		s = "stock record"
	case "api_key":
		s = "API key"
	case "sku":
		s = "SKU"
	case "min_level":
		s = "minimum level"
	case "url":
		s = "URL"
	case "ip":
		s = "IP address"
	case "over_receipt_percent":
		return "Over-receipt tolerance (%)"
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// yesNo reads a JSON boolean as a person says it.
func yesNo(v string) string {
	switch v {
	case "true":
		return "yes"
	case "false":
		return "no"
	}
	return v
}
