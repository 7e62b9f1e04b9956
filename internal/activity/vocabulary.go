package activity

import (
	"context"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// The seeds' vocabulary. Seeds 001 and 002 speak of the tables products,
// inventory, warehouses, users, movements and transactions, and of a
// products category; stocktrail files its events by what it stores: items,
// locations, inventory records, batches of movements. A filter by a seed
// name finds the events of the tables it means (and any manual entry filed
// under the seed name itself); a stored name still finds exactly itself.

// seedTables maps each seed table name to the entity types it means, the
// name itself first.
var seedTables = map[string][]string{
	// Items are the products (materials, parts, products) of seed 000.
	"products": {"products", "items"},
	// Stock levels: each record's quantity before and after, batches of
	// movements, and exports of the change log.
	"inventory": {"inventory", "inventory_records", "inventory_batch", "inventory_log"},
	// Locations are warehouse → zone → bin.
	"warehouses": {"warehouses", "locations"},
	"users":      {"users"},
	// A single movement is recorded on its inventory record, a request of
	// several on its batch; each request commits as one transaction, so
	// movements and transactions are the same events.
	"movements":    {"movements", "inventory_records", "inventory_batch"},
	"transactions": {"transactions", "inventory_records", "inventory_batch"},
}

// seedCategoryTables are the entity types a seed category also means
// beyond its own events: seed 001's Products category holds item events,
// which stocktrail files under inventory.
var seedCategoryTables = map[Category][]string{
	Products: {"items"},
}

// SeedTables lists the seed's table names, for forms to offer.
func SeedTables() []string {
	return []string{"products", "inventory", "warehouses", "users", "movements", "transactions"}
}

// EntityTypesFor returns the entity types a table_name filter selects: the
// types a seed name means, or the name alone. Case is ignored for seed
// names.
func EntityTypesFor(name string) []string {
	if types, ok := seedTables[strings.ToLower(name)]; ok {
		return types
	}
	return []string{name}
}

// tableLabels name stored entity types in the seed's words.
var tableLabels = map[string]string{
	"items":             "products",
	"locations":         "warehouses",
	"inventory_records": "inventory",
	"inventory_batch":   "movements",
}

// TableLabel is the seed's name of a stored entity type ("items" →
// "products"), or the type itself when the seed has no other name for it.
func TableLabel(entityType string) string {
	if l, ok := tableLabels[entityType]; ok {
		return l
	}
	return entityType
}

// Label is the action in words, for the filter that offers it
// ("LOGIN_FAILED" → "Login failed"); the log keeps the code beside it.
func (a Action) Label() string {
	switch a {
	case Create:
		return "Created"
	case Update:
		return "Changed"
	case Delete:
		return "Deleted"
	case Read:
		return "Read"
	case Login:
		return "Logged in"
	case Logout:
		return "Logged out"
	case LoginFailed:
		return "Login failed"
	case SessionExpired:
		return "Session expired"
	case PasswordChange:
		return "Password changed"
	case RoleChange:
		return "Role changed"
	case Revoke:
		return "Revoked"
	case Export:
		return "Exported"
	case APICall:
		return "API call"
	case APIError:
		return "API error"
	case AlertRaised:
		return "Alert raised"
	case AlertAcknowledged:
		return "Alert acknowledged"
	case EmailTest:
		return "Test e-mail sent"
	}
	s := strings.ToLower(strings.ReplaceAll(string(a), "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Label is the category in words, for the filter that offers it; the
// webhook form offers the same words.
func (c Category) Label() string {
	switch c {
	case Authentication:
		return "Logins and logouts"
	case Users:
		return "Users and roles"
	case Products:
		return "Products"
	case Orders:
		return "Orders"
	case Inventory:
		return "Inventory"
	case Assets:
		return "Assets"
	case Configuration:
		return "Configuration"
	case API:
		return "API calls and errors"
	case Audit:
		return "Audit (reads, exports, alerts)"
	}
	return string(c)
}

// SearchFieldLabel names what a search can be narrowed to (SearchFields)
// in words.
func SearchFieldLabel(field string) string {
	switch field {
	case "actor":
		return "Who"
	case "description":
		return "What happened"
	case "entity":
		return "Entity type and id"
	case "values":
		return "Changed values"
	case "ip":
		return "IP address"
	}
	return field
}

// inList is "column IN (?, ?, …)" for n values. The lists are the few
// fixed ones above, so each text is prepared at most once per length.
func inList(column string, n int) string {
	if n == 1 {
		return column + " = ?"
	}
	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// EntityTypeChoice is one entity type a filter offers: Value is what the
// table_name parameter takes, Label how people read it.
type EntityTypeChoice struct {
	Value, Label string
	// Seed marks the seeds' table names, which select several stored types.
	Seed bool
}

// EntityTypes lists what the entity type filter offers: the seeds' table
// names, then every entity type the workspace's log holds (manual audit-log
// entries may file events under any name). The stored types are read by
// hopping from one to the next along the (workspace, entity type, …) index,
// a few dozen index seeks however long the log is.
func EntityTypes(ctx context.Context, db *store.DB) ([]EntityTypeChoice, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return nil, err
	}
	var out []EntityTypeChoice
	for _, s := range SeedTables() {
		out = append(out, EntityTypeChoice{Value: s, Label: s + " (seed name)", Seed: true})
	}
	rows, err := db.Read().QueryContext(ctx, `WITH RECURSIVE types(t) AS (
			SELECT MIN(entity_type) FROM activity_events WHERE workspace_id = $1
			UNION ALL
			SELECT (SELECT MIN(entity_type) FROM activity_events WHERE workspace_id = $1 AND entity_type > types.t)
			FROM types WHERE types.t IS NOT NULL)
		SELECT t FROM types WHERE t IS NOT NULL`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if t == "" {
			continue
		}
		label := strings.ReplaceAll(t, "_", " ")
		if seed := TableLabel(t); seed != t {
			label += " (" + seed + ")"
		}
		out = append(out, EntityTypeChoice{Value: t, Label: label})
	}
	return out, rows.Err()
}
