package actor

import (
	"slices"
	"strings"
)

// Role is what a user, API key or station is allowed to do.
type Role string

const (
	Admin    Role = "admin"
	Manager  Role = "manager"
	Operator Role = "operator"
	// Auditor reads everything, including audit logs, and changes nothing.
	Auditor Role = "auditor"
	// StationRole is a scanning station's, never a person's or an API
	// key's: the station's own operations at its bound location, and only
	// the reads its screen needs.
	StationRole Role = "station"
)

// Roles lists the roles in order of decreasing power.
func Roles() []Role { return []Role{Admin, Manager, Operator, Auditor} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Permission names one thing a role may do.
type Permission string

const (
	ViewInventory   Permission = "view inventory"
	MoveStock       Permission = "move stock"
	ManageCatalog   Permission = "manage items and locations"
	ViewAssets      Permission = "view assets"
	ManageAssets    Permission = "manage assets"
	RunSessions     Permission = "run inventory sessions"
	ManageSessions  Permission = "manage inventory sessions"
	ViewActivity    Permission = "view the activity log"
	ManageAuditLogs Permission = "use the audit-log API"
	ManageUsers     Permission = "manage users"
	ManageAPIKeys   Permission = "manage API keys"
	ManageStations  Permission = "manage scanning stations"
	ManageSettings  Permission = "change workspace settings"
	ViewSettings    Permission = "view workspace settings"
	// ViewAlerts lets a role see alerts and alert rules; ManageAlerts lets
	// it change rules, acknowledge alerts and manage notifications
	// (webhooks, e-mail, event subscriptions).
	ViewAlerts   Permission = "view alerts"
	ManageAlerts Permission = "manage alerts and notifications"
	// ViewOrders lets a role read outbound and inbound orders; ManageOrders
	// create, edit, confirm, cancel and close them; FulfilOrders allocate,
	// release, pick, ship and receive against them (a station only at its
	// bound location: inventory's station reach applies to the stock).
	ViewOrders   Permission = "view orders"
	ManageOrders Permission = "manage orders"
	FulfilOrders Permission = "fulfil orders"
	// UseStation covers what a station's screen reads: looking items and
	// locations up, and its own recent entries.
	UseStation Permission = "work at a scanning station"
)

// grants is the one table of who may do what.
var grants = map[Role][]Permission{
	Admin: {ViewInventory, MoveStock, ManageCatalog, ViewAssets, ManageAssets, RunSessions, ManageSessions,
		ViewActivity, ManageAuditLogs, ManageUsers, ManageAPIKeys, ManageStations, ManageSettings, ViewSettings, ViewAlerts, ManageAlerts,
		ViewOrders, ManageOrders, FulfilOrders},
	Manager: {ViewInventory, MoveStock, ManageCatalog, ViewAssets, ManageAssets, RunSessions, ManageSessions, ManageStations, ViewSettings,
		ViewOrders, ManageOrders, FulfilOrders},
	Operator: {ViewInventory, MoveStock, ViewAssets, RunSessions, ViewOrders, FulfilOrders},
	Auditor:  {ViewInventory, ViewAssets, ViewActivity, ViewSettings, ViewAlerts, ViewOrders},
	// Stations move stock, scan sessions and pick, ship and receive orders
	// (their areas narrow all of it to the bound location and the station's
	// kinds of movement).
	StationRole: {MoveStock, RunSessions, UseStation, FulfilOrders},
}

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// whoMay says which roles grant p, for a refusal to point somewhere.
func whoMay(p Permission) string {
	var names []string
	for _, r := range Roles() {
		if r.Can(p) {
			names = append(names, string(r))
		}
	}
	switch len(names) {
	case 0:
		return "no role may"
	case 1:
		return "only the " + names[0] + " role may"
	default:
		return "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " roles may"
	}
}
