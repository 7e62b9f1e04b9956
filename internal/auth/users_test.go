package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// events returns the changes recorded for an entity, oldest first (READ
// events, which record listings, left out).
func events(t *testing.T, db *store.DB, ws int64, entityType string) []string {
	t.Helper()
	rows, err := db.Read().QueryContext(context.Background(),
		`SELECT action FROM activity_events WHERE workspace_id = $1 AND entity_type = $2 AND action <> 'READ' ORDER BY id`, ws, entityType)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}

func TestCreateUserValidation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		before := events(t, db, f.Workspace.ID, "users")
		cases := []struct {
			name  string
			in    auth.NewUser
			kind  fault.Kind
			field string
		}{
			{"bad email", auth.NewUser{Email: "nope", Name: "N", Role: actor.Operator, Password: "long enough pw"}, fault.Invalid, "email"},
			{"no name", auth.NewUser{Email: "a@b.co", Name: " ", Role: actor.Operator, Password: "long enough pw"}, fault.Invalid, "name"},
			{"bad role", auth.NewUser{Email: "a@b.co", Name: "N", Role: "king", Password: "long enough pw"}, fault.Invalid, "role"},
			{"short password", auth.NewUser{Email: "a@b.co", Name: "N", Role: actor.Operator, Password: "short"}, fault.Invalid, "password"},
			{"duplicate email", auth.NewUser{Email: "ADMIN@example.com", Name: "N", Role: actor.Operator, Password: "long enough pw"}, fault.Conflict, "email"},
		}
		for _, c := range cases {
			_, err := f.Auth.CreateUser(f.Ctx, c.in)
			e, ok := fault.As(err)
			if !ok || e.Kind != c.kind || e.Fields[c.field] == "" {
				t.Errorf("%s: got %v, want kind %v on field %s", c.name, err, c.kind, c.field)
			}
		}
		if after := events(t, db, f.Workspace.ID, "users"); len(after) != len(before) {
			t.Errorf("bad input recorded events: %v -> %v", before, after)
		}
	})
}

func TestRolesAndLastAdmin(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		op := f.User(t, "op@example.com", actor.Operator)
		if _, err := f.Auth.CreateUser(f.As(op), auth.NewUser{Email: "x@example.com", Name: "x", Role: actor.Admin, Password: "long enough pw"}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("operator created a user: %v", err)
		}
		if _, err := f.Auth.CreateUser(context.Background(), auth.NewUser{}); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("anonymous created a user: %v", err)
		}
		demote := actor.Manager
		if _, err := f.Auth.UpdateUser(f.Ctx, f.Admin.ID, auth.UserChange{Role: &demote}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("demoted the last admin: %v", err)
		}
		promote := actor.Manager
		if _, err := f.Auth.UpdateUser(f.Ctx, op.ID, auth.UserChange{Role: &promote}); err != nil {
			t.Fatal(err)
		}
		if err := f.Auth.DeleteUser(f.Ctx, f.Admin.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("deleted self: %v", err)
		}
		if err := f.Auth.DeleteUser(f.Ctx, op.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Auth.GetUser(f.Ctx, op.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted user still found: %v", err)
		}
		got := events(t, db, f.Workspace.ID, "users")
		want := []string{"CREATE", "CREATE", "ROLE_CHANGE", "DELETE"}
		if len(got) != len(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("events %v, want %v", got, want)
			}
		}
	})
}

func TestOtherWorkspaceIsInvisible(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		u := f.User(t, "op@example.com", actor.Operator)
		other := actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID + 100, Kind: actor.User, ID: 999, Name: "intruder", Role: actor.Admin})
		if _, err := f.Auth.GetUser(other, u.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another workspace read the user: %v", err)
		}
		name := "hijacked"
		if _, err := f.Auth.UpdateUser(other, u.ID, auth.UserChange{Name: &name}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another workspace changed the user: %v", err)
		}
	})
}

func TestActivityIsAppendOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		storetest.NewFixture(t, db)
		ctx := context.Background()
		events := func() (n int, edited int) {
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN description = 'edited' THEN 1 END) FROM activity_events`).Scan(&n, &edited); err != nil {
				t.Fatal(err)
			}
			return n, edited
		}
		before, _ := events()
		if before == 0 {
			t.Fatal("the fixture recorded no activity: nothing to protect")
		}
		// Refused by the append-only triggers, not by anything else (a
		// typo in the statement would fail too).
		const refusal = "activity_events is append-only"
		if _, err := db.Exec(ctx, `UPDATE activity_events SET description = 'edited'`); err == nil || !strings.Contains(err.Error(), refusal) {
			t.Errorf("UPDATE of activity_events: %v, want %q", err, refusal)
		}
		if _, err := db.Exec(ctx, `DELETE FROM activity_events`); err == nil || !strings.Contains(err.Error(), refusal) {
			t.Errorf("DELETE of activity_events: %v, want %q", err, refusal)
		}
		if n, edited := events(); n != before || edited != 0 {
			t.Errorf("%d events (%d edited) after the refused changes, want %d (none edited)", n, edited, before)
		}
	})
}
