package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func actions(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebLoginAndSession(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		b := a.browser(t)
		if r := b.get("/users"); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login?next=%2Fusers") {
			t.Fatalf("anonymous /users: %d %s", r.status, r.header.Get("Location"))
		}
		r := b.login("admin@example.com", "wrong password!")
		if r.status != 401 || !strings.Contains(string(r.body), "Wrong e-mail or password") {
			t.Fatalf("wrong password: %d", r.status)
		}
		if n := actions(t, db, "LOGIN_FAILED"); n != 1 {
			t.Fatalf("LOGIN_FAILED events: %d", n)
		}
		r = b.login("ADMIN@example.com", a.AdminPassword)
		if r.status != 303 || r.header.Get("Location") != "/" {
			t.Fatalf("login: %d %s", r.status, r.body)
		}
		cookie := r.header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie lacks %s: %s", want, cookie)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("cookie marked Secure over plain HTTP: %s", cookie)
		}
		if r := b.get("/"); r.status != 200 || !strings.Contains(string(r.body), "Welcome, Administrator") {
			t.Fatalf("home: %d", r.status)
		}

		// A form without its CSRF token is refused and changes nothing.
		before := countEvents(t, db)
		r = b.post("/users", url.Values{"name": {"X"}, "email": {"x@example.com"}, "role": {"operator"}, "password": {"long enough pw"}})
		if r.status != 403 || !strings.Contains(string(r.body), "CSRF") {
			t.Fatalf("no CSRF: %d %s", r.status, r.body)
		}
		if countEvents(t, db) != before {
			t.Fatal("CSRF failure recorded events")
		}
		// With the token, and with a readable error for bad values.
		token := b.csrf("/users")
		r = b.post("/users", url.Values{"csrf_token": {token}, "name": {"X"}, "email": {"not-an-email"}, "role": {"operator"}, "password": {"long enough pw"}})
		if r.status != 422 || !strings.Contains(string(r.body), "Not a valid e-mail address") {
			t.Fatalf("bad e-mail: %d", r.status)
		}
		r = b.post("/users", url.Values{"csrf_token": {token}, "name": {"X"}, "email": {"x@example.com"}, "role": {"operator"}, "password": {"long enough pw"}})
		if r.status != 303 {
			t.Fatalf("create user: %d %s", r.status, r.body)
		}
		if r := b.get("/users"); !strings.Contains(string(r.body), "x@example.com") {
			t.Fatal("new user not listed")
		}

		// Logout ends the session on the server, not just in the browser.
		oldCookie := sessionCookie(t, b)
		r = b.post("/logout", url.Values{"csrf_token": {b.csrf("/")}})
		if r.status != 303 {
			t.Fatalf("logout: %d", r.status)
		}
		if n := actions(t, db, "LOGOUT"); n != 1 {
			t.Fatalf("LOGOUT events: %d", n)
		}
		replay := a.browser(t)
		replay.client.Jar.SetCookies(mustURL(a.srv.URL), []*httpCookie{{Name: "stocktrail_session", Value: oldCookie}})
		if r := replay.get("/users"); r.status != 303 {
			t.Fatalf("logged-out cookie still works: %d", r.status)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		b := a.browser(t)
		if r := b.login("admin@example.com", a.AdminPassword); r.status != 303 {
			t.Fatalf("login: %d", r.status)
		}
		// Two idle periods later the session is gone.
		a.Auth.Now = func() time.Time { return time.Now().Add(2 * a.Auth.SessionIdle) }
		r := b.get("/users")
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "expired") {
			t.Fatalf("expired session: %d %s", r.status, r.header.Get("Location"))
		}
		if n := actions(t, db, "SESSION_EXPIRED"); n != 1 {
			t.Fatalf("SESSION_EXPIRED events: %d", n)
		}
		if r := b.get(r.header.Get("Location")); !strings.Contains(string(r.body), "expired") {
			t.Fatalf("login page does not say why: %s", r.body)
		}
	})
}

func TestLoginThrottling(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		b := a.browser(t)
		// The admin's own browser logged in once before.
		known := a.browser(t)
		if r := known.login("admin@example.com", a.AdminPassword); r.status != 303 || !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "stocktrail_device=") {
			t.Fatalf("first login sets no device cookie: %d %v", r.status, r.header.Values("Set-Cookie"))
		}
		if r := known.post("/logout", url.Values{"csrf_token": {known.csrf("/")}}); r.status != 303 {
			t.Fatalf("logout: %d", r.status)
		}
		for i := 0; i < 5; i++ {
			if r := b.login("admin@example.com", "wrong password!"); r.status != 401 {
				t.Fatalf("attempt %d: %d", i, r.status)
			}
		}
		// Locked now: even the right password is refused, with Retry-After.
		r := b.login("admin@example.com", a.AdminPassword)
		if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "Too many failed logins") {
			t.Fatalf("locked account: %d %v", r.status, r.header)
		}
		// The browser that logged in before keeps its way in, even from the
		// same address, however many guesses others make.
		token := b.csrf("/login")
		for i := 0; i < 60; i++ {
			b.postWithHeaders("/login", url.Values{"email": {"admin@example.com"}, "password": {"guess"}, "csrf_token": {token}}, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		}
		if r := known.login("admin@example.com", a.AdminPassword); r.status != 303 {
			t.Fatalf("the admin's browser was locked out by guesses from elsewhere: %d", r.status)
		}
		// Another account from the same address is not locked by this one.
		a.User(t, "op@example.com", actor.Operator)
		if r := b.login("op@example.com", "correct horse battery"); r.status != 303 {
			t.Fatalf("other account: %d", r.status)
		}
	})
}

func TestDisabledUserAndOtherWorkspace(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		op := a.User(t, "op@example.com", actor.Operator)
		b := a.browser(t)
		if r := b.login("op@example.com", "correct horse battery"); r.status != 303 {
			t.Fatalf("login: %d", r.status)
		}
		// An operator cannot see the users page.
		if r := b.get("/users"); r.status != 403 {
			t.Fatalf("operator /users: %d", r.status)
		}
		disabled := true
		if _, err := a.Auth.UpdateUser(a.Ctx, op.ID, auth.UserChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/"); r.status != 303 {
			t.Fatalf("disabled user's session still works: %d", r.status)
		}
		if r := b.login("op@example.com", "correct horse battery"); r.status != 401 || !strings.Contains(string(r.body), "disabled") {
			t.Fatalf("disabled login: %d", r.status)
		}

		// A second workspace's admin cannot reach the first's records.
		var other workspace.Workspace
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			other, err = workspace.Create(actor.With(context.Background(), actor.SystemActor(0, "test")), tx, "Other", workspace.Starter)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		otherCtx := actor.With(context.Background(), actor.SystemActor(other.ID, "test"))
		k, err := a.Auth.CreateAPIKey(otherCtx, "other admin", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/users/" + itoa(op.ID)},
			{"PATCH", "/api/v1/users/" + itoa(op.ID)},
			{"DELETE", "/api/v1/users/" + itoa(op.ID)},
		} {
			var body any
			if c.method == "PATCH" {
				body = map[string]any{"name": "hijacked"}
			}
			if r := a.call(t, c.method, c.path, k.Secret, body); r.status != 404 {
				t.Errorf("%s %s from another workspace: %d %s", c.method, c.path, r.status, r.body)
			}
		}
		if r := a.call(t, "GET", "/api/v1/users", k.Secret, nil); strings.Contains(string(r.body), "op@example.com") {
			t.Error("another workspace lists our users")
		}
	})
}

// TestTrustedProxy: behind a trusted proxy the client's address comes from
// X-Forwarded-For and cookies are Secure when the proxy says HTTPS; from an
// untrusted peer those headers are ignored.
func TestTrustedProxy(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	for _, c := range []struct {
		name    string
		trusted string
		wantIP  string
		secure  bool
	}{
		{"trusted", "127.0.0.0/8", "203.0.113.7", true},
		{"untrusted", "10.0.0.0/8", "127.0.0.1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAppWithProxies(t, db, c.trusted)
			b := a.browser(t)
			req := url.Values{"email": {"admin@example.com"}, "password": {a.AdminPassword}, "csrf_token": {b.csrf("/login")}}
			r := b.postWithHeaders("/login", req, "X-Forwarded-For", "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto", "https")
			if r.status != 303 {
				t.Fatalf("login: %d", r.status)
			}
			if got := strings.Contains(r.header.Get("Set-Cookie"), "Secure"); got != c.secure {
				t.Errorf("Secure cookie = %v, want %v", got, c.secure)
			}
			var ip string
			if err := db.Read().QueryRowContext(context.Background(), `SELECT ip FROM activity_events WHERE action = 'LOGIN' ORDER BY id DESC LIMIT 1`).Scan(&ip); err != nil {
				t.Fatal(err)
			}
			if ip != c.wantIP {
				t.Errorf("recorded IP %q, want %q", ip, c.wantIP)
			}
		})
		db = storetest.Open(t, store.SQLite)
	}
}

func TestStationLocationMustExist(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		r := a.call(t, "POST", "/api/v1/stations", a.adminKey, map[string]any{"name": "Dock", "location_id": 4242})
		if r.status != 422 || r.json(t)["errors"].(map[string]any)["location_id"] == nil {
			t.Fatalf("unknown location: %d %s", r.status, r.body)
		}
	})
}

// TestLoginFormToken: a login post without the login page's token (login
// CSRF: another site making the browser log in to the attacker's account)
// is refused, and no session starts.
func TestLoginFormToken(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newApp(t, db)
	b := a.browser(t)
	for _, token := range []string{"", "forged-token-forged-token-forged-token-1234"} {
		r := b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {a.AdminPassword}, "csrf_token": {token}})
		if r.status != 403 || !strings.Contains(string(r.body), "log in again") || strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "stocktrail_session=") {
			t.Fatalf("login with token %q: %d %v", token, r.status, r.header.Values("Set-Cookie"))
		}
	}
	if r := b.login("admin@example.com", a.AdminPassword); r.status != 303 {
		t.Fatalf("login with the page's token: %d", r.status)
	}
}

func TestCrossOriginFormRefused(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newApp(t, db)
	b := a.browser(t)
	r := b.postWithHeaders("/login", url.Values{"email": {"admin@example.com"}, "password": {a.AdminPassword}},
		"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.status != 403 || !strings.Contains(string(r.body), "Cross-origin request refused") {
		t.Fatalf("cross-site login: %d %s", r.status, r.body)
	}
	if n := actions(t, db, "LOGIN"); n != 0 {
		t.Fatalf("cross-site login logged in: %d", n)
	}
}
