// Package storetest runs storage tests against both engines: every test
// that touches the database gets a fresh, migrated SQLite file and a fresh
// PostgreSQL database on a real throwaway server (see pgtest), so behaviour
// is the same on both by construction. It also builds the usual fixture: a
// workspace with an admin, and a context acting as that admin.
package storetest

import (
	"context"
	"testing"

	"github.com/alexedwards/argon2id"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Engines runs fn once per engine as subtests named "sqlite" and "postgres".
func Engines(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			fn(t, Open(t, engine))
		})
	}
}

// Open returns a fresh, migrated database of the given engine, closed at
// the end of the test.
func Open(t testing.TB, engine store.Engine) *store.DB {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir()}
	cfg.URL = store.Pick(engine, func() string { return "" }, func() string { return pgtest.NewDatabase(t) })()
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return db
}

// OpenTwice returns two handles on one fresh, migrated database of the
// given engine, as two processes (or two PostgreSQL nodes) would hold it;
// both are closed at the end of the test, or earlier by the caller to play
// a process that stops.
func OpenTwice(t testing.TB, engine store.Engine) (first, second *store.DB) {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir()}
	cfg.URL = store.Pick(engine, func() string { return "" }, func() string { return pgtest.NewDatabase(t) })()
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("open %s: %v", engine, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	first = open()
	if err := first.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return first, open()
}

// FastHashing are Argon2id parameters cheap enough for tests that create
// many users; production keeps argon2id.DefaultParams.
var FastHashing = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Fixture is a workspace with an admin user.
type Fixture struct {
	DB        *store.DB
	Auth      *auth.Service
	Workspace workspace.Workspace
	Admin     auth.User
	// AdminPassword logs the admin in.
	AdminPassword string
	// Ctx acts as the admin user.
	Ctx context.Context
}

// NewFixture bootstraps a workspace and its admin in db.
func NewFixture(t testing.TB, db *store.DB) *Fixture {
	t.Helper()
	ctx := context.Background()
	svc := auth.New(db)
	svc.Params = FastHashing
	const email, password = "admin@example.com", "correct horse battery"
	if _, _, err := svc.Bootstrap(ctx, email, password); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	ws, err := workspace.First(ctx, db.Read())
	if err != nil {
		t.Fatal(err)
	}
	f := &Fixture{DB: db, Auth: svc, Workspace: ws, AdminPassword: password}
	sys := actor.With(ctx, actor.SystemActor(ws.ID, "test"))
	users, err := svc.ListUsers(sys)
	if err != nil || len(users) != 1 {
		t.Fatalf("list users: %v %v", users, err)
	}
	f.Admin = users[0]
	f.Ctx = f.As(f.Admin)
	return f
}

// As returns a context acting as user u.
func (f *Fixture) As(u auth.User) context.Context {
	return actor.With(context.Background(), actor.Actor{WorkspaceID: u.WorkspaceID, Kind: actor.User, ID: u.ID, Name: u.Name, Role: u.Role})
}

// User creates a user with the given role and returns it.
func (f *Fixture) User(t testing.TB, email string, role actor.Role) auth.User {
	t.Helper()
	u, err := f.Auth.CreateUser(f.Ctx, auth.NewUser{Email: email, Name: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}
