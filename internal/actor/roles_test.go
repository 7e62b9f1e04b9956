package actor_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
)

// allPermissions lists every permission roles.go defines; the matrix below
// must say for each role whether it has it.
var allPermissions = []actor.Permission{
	actor.ViewInventory, actor.MoveStock, actor.ManageCatalog, actor.ViewAssets, actor.ManageAssets,
	actor.RunSessions, actor.ManageSessions, actor.ViewActivity, actor.ManageAuditLogs, actor.ManageUsers,
	actor.ManageAPIKeys, actor.ManageStations, actor.ManageSettings, actor.ViewSettings, actor.ViewAlerts,
	actor.ManageAlerts, actor.UseStation, actor.ViewOrders, actor.ManageOrders, actor.FulfilOrders,
}

// expected is who may do what, written out from README's Roles paragraph:
// admin everything; manager inventory, assets, sessions and stations;
// operator movements and scanning; auditor reads everything, including the
// activity log, and changes nothing. The audit-log API is admin only.
// Orders (issue 15): managers run them, operators fulfil them (allocate,
// pick, ship, receive), auditors read them.
var expected = map[actor.Role][]actor.Permission{
	actor.Admin: slices.DeleteFunc(slices.Clone(allPermissions), func(p actor.Permission) bool { return p == actor.UseStation }),
	actor.Manager: {actor.ViewInventory, actor.MoveStock, actor.ManageCatalog, actor.ViewAssets, actor.ManageAssets,
		actor.RunSessions, actor.ManageSessions, actor.ManageStations, actor.ViewSettings,
		actor.ViewOrders, actor.ManageOrders, actor.FulfilOrders},
	actor.Operator: {actor.ViewInventory, actor.MoveStock, actor.ViewAssets, actor.RunSessions, actor.ViewOrders, actor.FulfilOrders},
	actor.Auditor:  {actor.ViewInventory, actor.ViewAssets, actor.ViewActivity, actor.ViewSettings, actor.ViewAlerts, actor.ViewOrders},
}

// stationGrants are a scanning station's: its own operations and the reads
// its screen needs, nothing a person or an API key reads.
var stationGrants = []actor.Permission{actor.MoveStock, actor.RunSessions, actor.UseStation, actor.FulfilOrders}

// reads are the permissions that change nothing.
var reads = map[actor.Permission]bool{
	actor.ViewInventory: true, actor.ViewAssets: true, actor.ViewActivity: true, actor.ViewSettings: true, actor.ViewAlerts: true,
	actor.ViewOrders: true,
}

// TestMatrixCoversEveryPermission reads roles.go: a permission added there
// must be added to the matrix, or the matrix would not test it.
func TestMatrixCoversEveryPermission(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "roles.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok {
			if id, ok := v.Type.(*ast.Ident); ok && id.Name == "Permission" {
				for _, name := range v.Names {
					declared = append(declared, name.Name)
				}
			}
		}
		return true
	})
	if len(declared) != len(allPermissions) {
		t.Fatalf("roles.go declares %d permissions %v, the matrix knows %d", len(declared), declared, len(allPermissions))
	}
	seen := map[actor.Permission]bool{}
	for _, p := range allPermissions {
		if seen[p] {
			t.Errorf("%q twice in allPermissions", p)
		}
		seen[p] = true
	}
	if !slices.Contains(declared, "ViewSettings") {
		t.Errorf("parsed permissions %v: is the parse wrong?", declared)
	}
}

func TestPermissionMatrix(t *testing.T) {
	if len(expected) != len(actor.Roles()) {
		t.Fatalf("the matrix covers %d roles, actor.Roles has %d", len(expected), len(actor.Roles()))
	}
	for _, role := range actor.Roles() {
		want, ok := expected[role]
		if !ok {
			t.Errorf("role %s is not in the expected matrix", role)
			continue
		}
		granted := map[actor.Permission]bool{}
		for _, p := range want {
			granted[p] = true
		}
		for _, p := range allPermissions {
			if got := role.Can(p); got != granted[p] {
				t.Errorf("%s.Can(%q) = %v, want %v", role, p, got, granted[p])
			}
		}
	}
	// The auditor reads everything and changes nothing.
	for _, p := range allPermissions {
		if got := actor.Auditor.Can(p); got != reads[p] {
			t.Errorf("auditor.Can(%q) = %v, want %v (reads only, all of them)", p, got, reads[p])
		}
	}
}

func TestStationRole(t *testing.T) {
	if actor.StationRole.Valid() {
		t.Error("the station role can be given to a user or an API key")
	}
	for _, p := range allPermissions {
		if got, want := actor.StationRole.Can(p), slices.Contains(stationGrants, p); got != want {
			t.Errorf("station.Can(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range actor.Roles() {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []actor.Role{"", "root", "Admin", "admin "} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
		for _, p := range allPermissions {
			if r.Can(p) {
				t.Errorf("unknown role %q may %s", r, p)
			}
		}
	}
}

func TestRequire(t *testing.T) {
	bg := context.Background()

	// No actor at all: unauthorized, not forbidden.
	a, err := actor.Require(bg, actor.ViewInventory)
	if !fault.Is(err, fault.Unauthorized) || a != (actor.Actor{}) {
		t.Fatalf("no actor: %+v %v, want Unauthorized", a, err)
	}
	if msg := fault.PublicMessage(err); msg != "authentication required" {
		t.Errorf("no actor: message %q", msg)
	}

	// A role without the permission: forbidden, and the message names the
	// role and what was refused.
	op := actor.Actor{WorkspaceID: 7, Kind: actor.User, ID: 3, Name: "olga", Role: actor.Operator}
	a, err = actor.Require(actor.With(bg, op), actor.ManageUsers)
	if !fault.Is(err, fault.Forbidden) || a != op {
		t.Fatalf("operator managing users: %+v %v, want Forbidden with the actor", a, err)
	}
	if msg := fault.PublicMessage(err); !strings.Contains(msg, "operator") || !strings.Contains(msg, string(actor.ManageUsers)) {
		t.Errorf("forbidden message %q names neither role nor permission", msg)
	}

	// A role with the permission: the actor, unchanged (its workspace
	// is what every query is then scoped by).
	a, err = actor.Require(actor.With(bg, op), actor.MoveStock)
	if err != nil || a != op {
		t.Fatalf("operator moving stock: %+v %v", a, err)
	}

	// A role not in the table may do nothing, whichever kind of party.
	for _, kind := range []actor.Kind{actor.User, actor.Station, actor.APIKey} {
		odd := actor.Actor{WorkspaceID: 7, Kind: kind, ID: 1, Role: "root"}
		if _, err := actor.Require(actor.With(bg, odd), actor.ViewInventory); !fault.Is(err, fault.Forbidden) {
			t.Errorf("%s with unknown role: %v, want Forbidden", kind, err)
		}
	}
	// An actor of no role (a zero Actor put in the context) is refused,
	// not let through.
	if _, err := actor.Require(actor.With(bg, actor.Actor{}), actor.ViewInventory); !fault.Is(err, fault.Forbidden) {
		t.Errorf("zero actor: %v, want Forbidden", err)
	}

	// Stations and API keys are bound by their role like users.
	station := actor.Actor{WorkspaceID: 7, Kind: actor.Station, ID: 2, Name: "dock", Role: actor.StationRole, LocationID: 4}
	if _, err := actor.Require(actor.With(bg, station), actor.ManageSettings); !fault.Is(err, fault.Forbidden) {
		t.Errorf("station changing settings: %v", err)
	}
	key := actor.Actor{WorkspaceID: 7, Kind: actor.APIKey, ID: 5, Name: "ci", Role: actor.Auditor}
	if _, err := actor.Require(actor.With(bg, key), actor.ViewActivity); err != nil {
		t.Errorf("auditor key reading activity: %v", err)
	}
	if _, err := actor.Require(actor.With(bg, key), actor.MoveStock); !fault.Is(err, fault.Forbidden) {
		t.Errorf("auditor key moving stock: %v", err)
	}

	// System work may do anything, whatever role it carries.
	sys := actor.SystemActor(7, "schedules")
	sys.Role = actor.Auditor
	for _, p := range allPermissions {
		if _, err := actor.Require(actor.With(bg, sys), p); err != nil {
			t.Errorf("system actor refused %s: %v", p, err)
		}
	}
	if s := actor.SystemActor(9, "cli"); s.WorkspaceID != 9 || s.Kind != actor.System || s.Name != "cli" {
		t.Errorf("SystemActor: %+v", s)
	}
}

func TestContextValues(t *testing.T) {
	bg := context.Background()
	if _, ok := actor.From(bg); ok {
		t.Error("From found an actor in an empty context")
	}
	u := actor.Actor{WorkspaceID: 1, Kind: actor.User, ID: 2, Name: "u", Role: actor.Admin}
	ctx := actor.With(bg, u)
	if got, ok := actor.From(ctx); !ok || got != u {
		t.Errorf("From: %+v %v", got, ok)
	}
	// The innermost actor wins: a request acting for someone else.
	other := u
	other.ID, other.Role = 3, actor.Auditor
	if got, _ := actor.From(actor.With(ctx, other)); got != other {
		t.Errorf("From after a second With: %+v", got)
	}
	if r := actor.RequestFrom(bg); r != (actor.Request{}) {
		t.Errorf("RequestFrom of an empty context: %+v", r)
	}
	req := actor.Request{IP: "192.0.2.1", UserAgent: "ua", RequestID: "r1", Method: "POST", Path: "/x", IdempotencyKey: "k"}
	if got := actor.RequestFrom(actor.WithRequest(ctx, req)); got != req {
		t.Errorf("RequestFrom: %+v", got)
	}
}
