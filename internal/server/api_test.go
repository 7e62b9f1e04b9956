package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// countEvents counts events other than the API call log, which records
// every failed API call on purpose.
func countEvents(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE category <> 'api'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPIBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		operator := a.key(t, actor.Operator)
		revoked := a.key(t, actor.Admin)
		var revokedID int64
		if err := db.Read().QueryRowContext(context.Background(), `SELECT MAX(id) FROM api_keys`).Scan(&revokedID); err != nil {
			t.Fatal(err)
		}
		if err := a.Auth.RevokeAPIKey(a.Ctx, revokedID); err != nil {
			t.Fatal(err)
		}
		goodUser := map[string]any{"email": "new@example.com", "name": "New", "role": "operator", "password": "long enough pw"}
		cases := []struct {
			name, method, path, key string
			body                    any
			header                  []string
			status                  int
			detail                  string
		}{
			{"no credentials", "GET", "/api/v1/users", "", nil, nil, 401, "authentication required"},
			{"unknown key", "GET", "/api/v1/users", "stk_nope_nope", nil, nil, 401, "unknown or revoked"},
			{"revoked key", "GET", "/api/v1/users", revoked, nil, nil, 401, "unknown or revoked"},
			{"not bearer", "GET", "/api/v1/users", "", nil, []string{"Authorization", "Basic Zm9vOmJhcg=="}, 401, "Bearer"},
			{"role without permission", "POST", "/api/v1/users", operator, goodUser, nil, 403, "may not"},
			{"operator lists users", "GET", "/api/v1/users", operator, nil, nil, 403, "may not"},
			{"malformed JSON", "POST", "/api/v1/users", a.adminKey, `{"email":`, nil, 400, "malformed JSON"},
			{"unknown field", "POST", "/api/v1/users", a.adminKey, `{"email":"a@b.co","nick":"x"}`, nil, 400, `unknown field "nick"`},
			{"wrong type", "POST", "/api/v1/users", a.adminKey, `{"email":5}`, nil, 400, `field "email"`},
			{"two values", "POST", "/api/v1/users", a.adminKey, `{} {}`, nil, 400, "exactly one JSON value"},
			{"empty body", "POST", "/api/v1/users", a.adminKey, ``, nil, 400, "empty"},
			{"oversized body", "POST", "/api/v1/users", a.adminKey, `{"name":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, nil, 413, "larger than"},
			{"not JSON", "POST", "/api/v1/users", a.adminKey, "email=a", []string{"Content-Type", "text/plain"}, 415, "unsupported content type"},
			{"invalid values", "POST", "/api/v1/users", a.adminKey, map[string]any{"email": "x", "name": "", "role": "king", "password": "short"}, nil, 422, "not valid"},
			{"duplicate email", "POST", "/api/v1/users", a.adminKey, map[string]any{"email": "admin@example.com", "name": "A", "role": "admin", "password": "long enough pw"}, nil, 409, "already exists"},
			{"no such user", "GET", "/api/v1/users/99999", a.adminKey, nil, nil, 404, "not found"},
			{"bad id", "GET", "/api/v1/users/abc", a.adminKey, nil, nil, 404, "no id"},
			{"no such endpoint", "GET", "/api/v1/nothing", a.adminKey, nil, nil, 404, "no such endpoint"},
			{"bad time zone", "PATCH", "/api/v1/workspace", a.adminKey, map[string]any{"time_zone": "Mars/Olympus"}, nil, 422, "time zone"},
			{"revoke twice", "DELETE", "/api/v1/api-keys/" + itoa(revokedID), a.adminKey, nil, nil, 409, "already revoked"},
		}
		for _, c := range cases {
			before := countEvents(t, db)
			r := a.call(t, c.method, c.path, c.key, c.body, c.header...)
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
				continue
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", c.name, ct)
			}
			p := r.json(t)
			if p["status"] != float64(c.status) || !strings.Contains(p["detail"].(string), c.detail) {
				t.Errorf("%s: problem %v, want detail containing %q", c.name, p, c.detail)
			}
			if strings.Contains(string(r.body), "SQL") || strings.Contains(string(r.body), "goroutine") {
				t.Errorf("%s: leaks internals: %s", c.name, r.body)
			}
			if after := countEvents(t, db); after != before {
				t.Errorf("%s: bad input recorded %d events", c.name, after-before)
			}
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAPIAccountsFlow(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		r := a.call(t, "POST", "/api/v1/users", a.adminKey, map[string]any{"email": "Op@Example.com", "name": "Op", "role": "operator", "password": "long enough pw"})
		if r.status != http.StatusCreated {
			t.Fatalf("create user: %d %s", r.status, r.body)
		}
		u := r.json(t)
		if u["email"] != "op@example.com" || u["password"] != nil || strings.Contains(string(r.body), "argon2") {
			t.Fatalf("user answer: %s", r.body)
		}
		id := itoa(int64(u["id"].(float64)))
		if r := a.call(t, "PATCH", "/api/v1/users/"+id, a.adminKey, map[string]any{"role": "manager"}); r.status != 200 || r.json(t)["role"] != "manager" {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		r = a.call(t, "POST", "/api/v1/api-keys", a.adminKey, map[string]any{"name": "erp", "role": "operator"})
		if r.status != 201 || !strings.HasPrefix(r.json(t)["key"].(string), "stk_") {
			t.Fatalf("create key: %d %s", r.status, r.body)
		}
		newKey := r.json(t)["key"].(string)
		if r := a.call(t, "GET", "/api/v1/me", newKey, nil); r.status != 200 || r.json(t)["kind"] != "api_key" || r.json(t)["role"] != "operator" {
			t.Fatalf("me: %d %s", r.status, r.body)
		}
		list := a.call(t, "GET", "/api/v1/api-keys", a.adminKey, nil)
		if strings.Contains(string(list.body), newKey) {
			t.Fatal("key list shows a secret")
		}
		r = a.call(t, "POST", "/api/v1/stations", a.adminKey, map[string]any{"name": "Dock 1"})
		if r.status != 201 || !strings.HasPrefix(r.json(t)["token"].(string), "sts_") {
			t.Fatalf("create station: %d %s", r.status, r.body)
		}
		station := r.json(t)["token"].(string)
		if r := a.call(t, "GET", "/api/v1/me", station, nil); r.json(t)["kind"] != "station" {
			t.Fatalf("station me: %s", r.body)
		}
		if r := a.call(t, "POST", "/api/v1/stations", a.adminKey, map[string]any{"name": "Dock 1"}); r.status != 409 {
			t.Fatalf("duplicate station: %d", r.status)
		}
		stationID := itoa(int64(r.json(t)["id"].(float64)))
		_ = stationID
		if r := a.call(t, "DELETE", "/api/v1/users/"+id, a.adminKey, nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := a.call(t, "GET", "/api/v1/users/"+id, a.adminKey, nil); r.status != 404 {
			t.Fatalf("deleted user: %d", r.status)
		}
		if r := a.call(t, "PATCH", "/api/v1/workspace", a.adminKey, map[string]any{"time_zone": "Europe/Berlin", "mark_unscanned_lost": true}); r.status != 200 {
			t.Fatalf("settings: %d %s", r.status, r.body)
		}
		var old, new string
		if err := db.Read().QueryRowContext(context.Background(), `SELECT old_values, new_values FROM activity_events
			WHERE entity_type = 'workspaces' AND action = 'UPDATE'`).Scan(&old, &new); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(old, `"time_zone":"UTC"`) || !strings.Contains(new, `"time_zone":"Europe/Berlin"`) {
			t.Fatalf("settings event: %s -> %s", old, new)
		}
	})
}

// TestOpenAPICoversEveryRoute keeps the served document honest.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newApp(t, db)
	r := a.call(t, "GET", "/api/v1/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	h := a.srv.Config.Handler.(interface{ Patterns() []string })
	var missing []string
	for _, p := range h.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if ops, ok := doc.Paths[path]; !ok || ops[strings.ToLower(method)] == nil {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json:\n%s", strings.Join(missing, "\n"))
	}
}
