package auth_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// recorded is an event as stored, values decoded.
type recorded struct {
	activity.Event
	before, after map[string]any
}

// lastEvent returns the newest event with the given action, failing the
// test when there is none.
func lastEvent(t *testing.T, db *store.DB, ws int64, action activity.Action) recorded {
	t.Helper()
	var r recorded
	var oldV, newV, at = "", "", int64(0)
	err := db.Read().QueryRowContext(context.Background(), `SELECT id, actor_kind, COALESCE(actor_id, 0), actor_name, category,
		entity_type, entity_id, COALESCE(old_values, ''), COALESCE(new_values, ''), description, ip, user_agent, request_id, occurred_at
		FROM activity_events WHERE workspace_id = $1 AND action = $2 ORDER BY id DESC LIMIT 1`, ws, string(action)).
		Scan(&r.ID, &r.ActorKind, &r.ActorID, &r.ActorName, &r.Category, &r.EntityType, &r.EntityID, &oldV, &newV,
			&r.Description, &r.IP, &r.UserAgent, &r.RequestID, &at)
	if err != nil {
		t.Fatalf("no %s event: %v", action, err)
	}
	r.Action, r.OccurredAt = action, store.Time(at)
	if oldV != "" {
		json.Unmarshal([]byte(oldV), &r.before)
	}
	if newV != "" {
		json.Unmarshal([]byte(newV), &r.after)
	}
	return r
}

func countEvents(t *testing.T, db *store.DB, ws int64, action activity.Action) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND action = $2`,
		ws, string(action)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fromBrowser adds the request facts a web request would carry.
func fromBrowser(ctx context.Context) context.Context {
	return actor.WithRequest(ctx, actor.Request{IP: "198.51.100.20", UserAgent: "Mozilla/5.0 test", RequestID: "req-42"})
}

func TestAuthenticationEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		ctx := fromBrowser(context.Background())

		sess, err := f.Auth.Login(ctx, "Admin@Example.com ", f.AdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		ev := lastEvent(t, db, ws, activity.Login)
		if ev.ActorKind != "user" || ev.ActorID != f.Admin.ID || ev.EntityID == "" || ev.IP != "198.51.100.20" ||
			ev.UserAgent != "Mozilla/5.0 test" || ev.RequestID != "req-42" || ev.Category != activity.Authentication {
			t.Errorf("LOGIN %+v", ev)
		}

		// A failed login commits its event although nothing else changes,
		// and names the account that was tried.
		if _, err := f.Auth.Login(ctx, "mallory@example.com", "guess guess guess"); err == nil {
			t.Fatal("unknown account logged in")
		}
		ev = lastEvent(t, db, ws, activity.LoginFailed)
		if ev.ActorName != "mallory@example.com" || ev.after["email"] != "mallory@example.com" || ev.IP != "198.51.100.20" ||
			!strings.Contains(ev.Description, "unknown account") {
			t.Errorf("LOGIN_FAILED %+v", ev)
		}
		f.Auth.Login(ctx, "admin@example.com", "wrong password!")
		if ev = lastEvent(t, db, ws, activity.LoginFailed); ev.after["reason"] != "wrong password" {
			t.Errorf("LOGIN_FAILED wrong password %+v", ev)
		}

		who, _, err := f.Auth.ResolveSession(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Auth.Logout(actor.With(ctx, who), sess.Token); err != nil {
			t.Fatal(err)
		}
		if ev = lastEvent(t, db, ws, activity.Logout); ev.ActorID != f.Admin.ID || ev.EntityType != "users" {
			t.Errorf("LOGOUT %+v", ev)
		}

		// An expired session is recorded once, when it is presented.
		sess, _ = f.Auth.Login(ctx, "admin@example.com", f.AdminPassword)
		f.Auth.Now = func() time.Time { return time.Now().Add(13 * time.Hour) }
		if _, _, err := f.Auth.ResolveSession(ctx, sess.Token); err == nil {
			t.Fatal("an expired session still works")
		}
		f.Auth.ResolveSession(ctx, sess.Token)
		if n := countEvents(t, db, ws, activity.SessionExpired); n != 1 {
			t.Errorf("%d SESSION_EXPIRED events", n)
		}
		if ev = lastEvent(t, db, ws, activity.SessionExpired); ev.ActorID != f.Admin.ID {
			t.Errorf("SESSION_EXPIRED %+v", ev)
		}
	})
}

func TestUserEventsHoldBeforeAndAfter(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		ctx := fromBrowser(f.Ctx)
		u, err := f.Auth.CreateUser(ctx, auth.NewUser{Email: "nina@example.com", Name: "Nina", Role: actor.Operator, Password: "a long password 1"})
		if err != nil {
			t.Fatal(err)
		}
		ev := lastEvent(t, db, ws, activity.Create)
		if ev.EntityType != "users" || ev.after["email"] != "nina@example.com" || ev.after["role"] != "operator" || ev.before != nil ||
			ev.ActorID != f.Admin.ID || ev.IP != "198.51.100.20" {
			t.Errorf("CREATE user %+v", ev)
		}

		role, name, pw := actor.Auditor, "Nina K.", "another long password"
		if _, err := f.Auth.UpdateUser(ctx, u.ID, auth.UserChange{Role: &role, Name: &name, Password: &pw}); err != nil {
			t.Fatal(err)
		}
		ev = lastEvent(t, db, ws, activity.RoleChange)
		if ev.before["role"] != "operator" || ev.after["role"] != "auditor" || len(ev.before) != 1 {
			t.Errorf("ROLE_CHANGE %+v", ev)
		}
		ev = lastEvent(t, db, ws, activity.Update)
		if ev.before["name"] != "Nina" || ev.after["name"] != "Nina K." || len(ev.after) != 1 {
			t.Errorf("UPDATE user shows more than what changed: %+v", ev)
		}
		ev = lastEvent(t, db, ws, activity.PasswordChange)
		if ev.EntityID == "" || ev.before != nil || ev.after != nil {
			t.Errorf("PASSWORD_CHANGE %+v", ev)
		}

		if err := f.Auth.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		ev = lastEvent(t, db, ws, activity.Delete)
		if ev.before["email"] != "nina@example.com" || ev.before["role"] != "auditor" || ev.after != nil {
			t.Errorf("DELETE user %+v", ev)
		}

		// No password or hash ever reaches the log.
		var leaks int
		db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND
			(COALESCE(old_values, '') || COALESCE(new_values, '') || description LIKE '%argon2%' OR
			 COALESCE(old_values, '') || COALESCE(new_values, '') || description LIKE '%long password%')`, ws).Scan(&leaks)
		if leaks != 0 {
			t.Errorf("%d events hold a password or hash", leaks)
		}
	})
}

func TestCredentialAndSettingEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		k, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		ev := lastEvent(t, db, ws, activity.Create)
		if ev.EntityType != "api_keys" || ev.after["name"] != "erp" || ev.after["role"] != "manager" || strings.Contains(ev.after["prefix"].(string), k.Secret) {
			t.Errorf("CREATE api key %+v", ev)
		}
		if err := f.Auth.RevokeAPIKey(f.Ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if ev = lastEvent(t, db, ws, activity.Revoke); ev.before["revoked"] != false || ev.after["revoked"] != true {
			t.Errorf("REVOKE %+v", ev)
		}
		var secrets int
		db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE COALESCE(new_values, '') LIKE $1`,
			"%"+k.Secret+"%").Scan(&secrets)
		if secrets != 0 {
			t.Error("an API key secret reached the log")
		}

		tz, neg := "Europe/Berlin", true
		if _, err := workspace.Update(f.Ctx, db, workspace.Change{TimeZone: &tz, AllowNegativeStock: &neg}); err != nil {
			t.Fatal(err)
		}
		ev = lastEvent(t, db, ws, activity.Update)
		if ev.Category != activity.Configuration || ev.before["time_zone"] != "UTC" || ev.after["time_zone"] != "Europe/Berlin" ||
			ev.before["allow_negative_stock"] != false || ev.after["allow_negative_stock"] != true || len(ev.after) != 2 {
			t.Errorf("settings UPDATE %+v", ev)
		}
	})
}

func TestListingUsersIsRecorded(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		f.User(t, "x@example.com", actor.Operator)
		before := countEvents(t, db, f.Workspace.ID, activity.Read)
		users, err := f.Auth.ListUsers(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if countEvents(t, db, f.Workspace.ID, activity.Read) != before+1 {
			t.Fatal("listing users recorded no READ event")
		}
		ev := lastEvent(t, db, f.Workspace.ID, activity.Read)
		if ev.EntityType != "users" || ev.Category != activity.Users || ev.after["rows"] != float64(len(users)) || ev.ActorID != f.Admin.ID {
			t.Errorf("READ users %+v", ev)
		}
	})
}
