// Package actor owns who is responsible for a piece of work: the user,
// scanning station or API key behind a request (exactly one), its role and
// what that role may do, and the request facts (IP, user agent, request id)
// that audit entries record. It sits below every area so that all of them can
// record the same responsible party without importing each other.
package actor

import (
	"context"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// Kind says which sort of party an Actor is.
type Kind string

const (
	User    Kind = "user"
	Station Kind = "station"
	APIKey  Kind = "api_key"
	// System is work the product does by itself or through the command line:
	// schedules, retention, bootstrap, `stocktrail apikey create`.
	System Kind = "system"
)

// Actor is the responsible party of a request. Name is kept as it was at the
// time so that log entries stay readable after a rename or delete.
type Actor struct {
	WorkspaceID int64
	Kind        Kind
	ID          int64
	Name        string
	Role        Role
	// LocationID binds a scanning station to its location (0 if none).
	LocationID int64
}

// Request holds facts about the request that audit entries record.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
	Method    string
	Path      string
	// IdempotencyKey is the client's Idempotency-Key header, recorded as the
	// reference of what the request changes.
	IdempotencyKey string
	// Device is the browser's device cookie, which a login from a browser
	// that logged in to the account before presents (auth's throttling).
	Device string
}

type actorKey struct{}
type requestKey struct{}

// With returns ctx carrying a.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// From returns the actor in ctx, if any.
func From(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// WithRequest returns ctx carrying request facts.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request facts in ctx (zero if none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Current returns the actor in ctx, or an Unauthorized error when there is
// none: for reads that any member of the workspace may make (its name, time
// zone and settings shape every page).
func Current(ctx context.Context) (Actor, error) {
	a, ok := From(ctx)
	if !ok {
		return Actor{}, fault.New(fault.Unauthorized, "authentication required")
	}
	return a, nil
}

// Require returns the actor in ctx if its role grants p, and a Forbidden or
// Unauthorized error otherwise. Domain services call it first thing, so the
// rule holds whichever door (web, API, CLI) the request came through.
func Require(ctx context.Context, p Permission) (Actor, error) {
	a, err := Current(ctx)
	if err != nil {
		return Actor{}, err
	}
	if !a.Can(p) {
		return a, fault.New(fault.Forbidden, "your role (%s) may not %s; %s", a.Role, p, whoMay(p))
	}
	return a, nil
}

// RequireAny is Require for reads that more than one permission allows
// (an item lookup serves both the inventory pages and a station's screen).
func RequireAny(ctx context.Context, ps ...Permission) (Actor, error) {
	a, err := Current(ctx)
	if err != nil {
		return Actor{}, err
	}
	for _, p := range ps {
		if a.Can(p) {
			return a, nil
		}
	}
	return a, fault.New(fault.Forbidden, "your role (%s) may not %s; %s", a.Role, ps[0], whoMay(ps[0]))
}

// Can reports whether the actor's role grants p. System actors may do anything.
func (a Actor) Can(p Permission) bool {
	if a.Kind == System {
		return true
	}
	return a.Role.Can(p)
}

// SystemActor is the responsible party of work without a person behind it.
func SystemActor(workspaceID int64, name string) Actor {
	return Actor{WorkspaceID: workspaceID, Kind: System, Name: name, Role: Admin}
}
