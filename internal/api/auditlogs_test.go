package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// auditEnv is a server with a seeded log and one API key per role.
type auditEnv struct {
	t    *testing.T
	db   *store.DB
	f    *storetest.Fixture
	srv  *httptest.Server
	keys map[actor.Role]string
	ids  map[string]int64
}

func newAuditEnv(t *testing.T, db *store.DB) *auditEnv {
	t.Helper()
	f := storetest.NewFixture(t, db)
	e := &auditEnv{t: t, db: db, f: f, keys: map[actor.Role]string{}, ids: map[string]int64{}}
	for _, role := range actor.Roles() {
		k, err := f.Auth.CreateAPIKey(f.Ctx, string(role)+"-key", role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = k.Secret
	}
	e.srv = httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(e.srv.Close)
	at := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	for _, s := range []struct {
		name string
		ev   activity.Event
	}{
		{"p-create", activity.Event{OccurredAt: at(1, 9), ActorKind: "user", ActorID: 501, ActorName: "Alice", Action: activity.Create,
			Category: activity.Products, EntityType: "products", EntityID: "42", New: map[string]any{"sku": "GEAR-9"}, Description: "product GEAR-9 created",
			IP: "198.51.100.4", UserAgent: "Firefox/140"}},
		{"p-update", activity.Event{OccurredAt: at(2, 9), ActorKind: "user", ActorID: 501, ActorName: "Alice", Action: activity.Update,
			Category: activity.Products, EntityType: "products", EntityID: "42", Old: map[string]any{"name": "Gear"}, New: map[string]any{"name": "Spur gear"}}},
		{"inv-update", activity.Event{OccurredAt: at(3, 9), ActorKind: "user", ActorID: 502, ActorName: "Bob", Action: activity.Update,
			Category: activity.Inventory, EntityType: "inventory", EntityID: "7", Description: "counted 12 pallets"}},
		{"w-delete", activity.Event{OccurredAt: at(4, 9), ActorKind: "user", ActorID: 502, ActorName: "Bob", Action: activity.Delete,
			Category: activity.Inventory, EntityType: "warehouses", EntityID: "3"}},
	} {
		s.ev.WorkspaceID = f.Workspace.ID
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			id, err := activity.Record(context.Background(), tx, s.ev)
			e.ids[s.name] = id
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// call sends a request with role's API key and decodes the JSON answer.
func (e *auditEnv) call(role actor.Role, method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "audit-test/1.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: %d answered non-JSON %q", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

// count returns the number of events in the workspace, less the API_ERROR
// events that record refused calls.
func (e *auditEnv) count() int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND category <> 'api'`,
		e.f.Workspace.ID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *auditEnv) listIDs(path string) []int64 {
	e.t.Helper()
	code, body := e.call(actor.Admin, "GET", path, "")
	if code != 200 || body["status"] != "success" {
		e.t.Fatalf("GET %s: %d %v", path, code, body)
	}
	var ids []int64
	for _, d := range body["data"].([]any) {
		ids = append(ids, int64(d.(map[string]any)["id"].(float64)))
	}
	if int(body["count"].(float64)) != len(ids) {
		e.t.Errorf("GET %s: count %v for %d entries", path, body["count"], len(ids))
	}
	return ids
}

func TestAuditLogListFilters(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		id := e.ids
		cases := []struct {
			query string
			want  []int64
		}{
			{"user_id=501", []int64{id["p-update"], id["p-create"]}},
			{"table_name=products", []int64{id["p-update"], id["p-create"]}},
			{"table_name=inventory&user_id=502", []int64{id["inv-update"]}},
			{"start_date=2026-03-02&end_date=2026-03-03", []int64{id["inv-update"], id["p-update"]}},
			{"start_date=2026-03-04&end_date=2026-03-04&action=delete", []int64{id["w-delete"]}},
			{"action=UPDATE&start_date=2026-03-01", []int64{id["inv-update"], id["p-update"]}},
			{"entity_id=42&table_name=products", []int64{id["p-update"], id["p-create"]}},
			{"q=pallets", []int64{id["inv-update"]}},
			{"q=spur", []int64{id["p-update"]}},
			{"q=alice&search_in=actor", []int64{id["p-update"], id["p-create"]}},
			{"q=gear&search_in=description", []int64{id["p-create"]}},
			{"start_date=2026-03-01&end_date=2026-03-31&limit=2", []int64{id["w-delete"], id["inv-update"]}},
			{"start_date=2026-03-01&end_date=2026-03-31&skip=1&limit=2", []int64{id["inv-update"], id["p-update"]}},
			{"start_date=2026-03-01&end_date=2026-03-31&skip=4", nil},
		}
		for _, c := range cases {
			if got := e.listIDs("/api/v1/audit-logs?" + c.query); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.query, got, c.want)
			}
		}
		// The workspace time zone decides what a day is.
		ws := "Asia/Tokyo"
		if _, err := workspace.Update(e.f.Ctx, db, workspace.Change{TimeZone: &ws}); err != nil {
			t.Fatal(err)
		}
		// 2026-03-01 09:00 UTC is 18:00 in Tokyo, 2026-03-02 09:00 UTC is 18:00 on the 2nd.
		if got := e.listIDs("/api/v1/audit-logs?end_date=2026-03-01&start_date=2026-03-01"); !slices.Equal(got, []int64{id["p-create"]}) {
			t.Errorf("Tokyo day: %v", got)
		}
	})
}

func TestAuditLogCursorPaging(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		path := "/api/v1/audit-logs?start_date=2026-03-01&end_date=2026-03-31&limit=3"
		code, first := e.call(actor.Admin, "GET", path, "")
		cursor, _ := first["next_cursor"].(string)
		if code != 200 || first["count"] != float64(3) || cursor == "" {
			t.Fatalf("first page: %d %v", code, first)
		}
		code, second := e.call(actor.Admin, "GET", path+"&cursor="+cursor, "")
		if code != 200 || second["count"] != float64(1) || second["next_cursor"] != nil {
			t.Fatalf("second page: %d %v", code, second)
		}
		if got := int64(second["data"].([]any)[0].(map[string]any)["id"].(float64)); got != e.ids["p-create"] {
			t.Errorf("second page holds %d", got)
		}
	})
}

func TestAuditLogGetAndSummary(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		code, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs/"+itoa(e.ids["p-create"]), "")
		d, _ := body["data"].(map[string]any)
		if code != 200 || body["status"] != "success" || d["ip_address"] != "198.51.100.4" || d["user_agent"] != "Firefox/140" ||
			d["user_id"] != float64(501) || d["username"] != "Alice" || d["table_name"] != "products" || d["record_id"] != "42" ||
			d["new_values"].(map[string]any)["sku"] != "GEAR-9" || d["old_values"] != nil || d["action"] != "CREATE" {
			t.Errorf("get: %d %v", code, body)
		}
		for _, bad := range []string{"999999", "abc", "0", "-1"} {
			if code, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs/"+bad, ""); code != 404 || body["status"] != "error" || body["message"] == "" {
				t.Errorf("get %s: %d %v", bad, code, body)
			}
		}
		code, body = e.call(actor.Admin, "GET", "/api/v1/audit-logs/summary?start_date=2026-03-01&end_date=2026-03-31", "")
		s, _ := body["data"].(map[string]any)
		if code != 200 || body["status"] != "success" || s["total"] != float64(4) {
			t.Fatalf("summary: %d %v", code, body)
		}
		byTable, byAction := s["by_table"].(map[string]any), s["by_action"].(map[string]any)
		if byTable["products"] != float64(2) || byTable["inventory"] != float64(1) || byTable["warehouses"] != float64(1) ||
			byAction["UPDATE"] != float64(2) || byAction["CREATE"] != float64(1) || byAction["DELETE"] != float64(1) {
			t.Errorf("summary counts %v", s)
		}
		users := s["by_user"].([]any)
		if len(users) != 2 || users[0].(map[string]any)["count"] != float64(2) {
			t.Errorf("by user %v", users)
		}
		_, body = e.call(actor.Admin, "GET", "/api/v1/audit-logs/summary?user_id=502&table_name=warehouses", "")
		if body["data"].(map[string]any)["total"] != float64(1) {
			t.Errorf("filtered summary %v", body)
		}
	})
}

func TestAuditLogCreate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		op := e.f.User(t, "op@example.com", actor.Operator)
		code, body := e.call(actor.Admin, "POST", "/api/v1/audit-logs", `{"user_id": `+itoa(op.ID)+`, "username": "op (night shift)",
			"action": "READ", "table_name": "products", "record_id": 42, "old_values": null, "new_values": {"fields": ["cost"]},
			"description": "exported cost prices", "ip_address": "2001:db8::1"}`)
		if code != 201 || body["status"] != "success" {
			t.Fatalf("create: %d %v", code, body)
		}
		id := int64(body["id"].(float64))
		_, got := e.call(actor.Admin, "GET", "/api/v1/audit-logs/"+itoa(id), "")
		d := got["data"].(map[string]any)
		rep, _ := d["reported_by"].(map[string]any)
		if d["user_id"] != float64(op.ID) || d["username"] != "op (night shift)" || d["record_id"] != "42" || d["ip_address"] != "2001:db8::1" ||
			d["action"] != "READ" || rep["actor_kind"] != "api_key" || rep["name"] != "admin-key" {
			t.Errorf("created entry %v", d)
		}
		if ids := e.listIDs("/api/v1/audit-logs?user_id=" + itoa(op.ID) + "&table_name=products"); !slices.Equal(ids, []int64{id}) {
			t.Errorf("manual entry not found by its user: %v", ids)
		}
	})
}

func TestAuditLogBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		before := e.count()
		cases := []struct {
			method, path, body string
			status             int
			field              string
		}{
			{"GET", "/api/v1/audit-logs?start_date=01/03/2026", "", 422, "start_date"},
			{"GET", "/api/v1/audit-logs?end_date=2026-02-30", "", 422, "end_date"},
			{"GET", "/api/v1/audit-logs?start_date=2026-03-05&end_date=2026-03-01", "", 422, "end_date"},
			{"GET", "/api/v1/audit-logs?skip=-1", "", 422, "skip"},
			{"GET", "/api/v1/audit-logs?limit=1001", "", 422, "limit"},
			{"GET", "/api/v1/audit-logs?limit=0", "", 422, "limit"},
			{"GET", "/api/v1/audit-logs?action=ERASE", "", 422, "action"},
			{"GET", "/api/v1/audit-logs?user_id=me", "", 422, "user_id"},
			{"GET", "/api/v1/audit-logs?cursor=nope", "", 422, "cursor"},
			{"GET", "/api/v1/audit-logs?q=x&search_in=everywhere", "", 422, "search_in"},
			{"GET", "/api/v1/audit-logs?tablename=products", "", 400, ""},
			{"GET", "/api/v1/audit-logs/summary?start_date=yesterday", "", 422, "start_date"},
			{"GET", "/api/v1/audit-logs/summary?limit=5", "", 400, ""},
			{"POST", "/api/v1/audit-logs", `{"action": "ERASE", "table_name": "products"}`, 422, "action"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE"}`, 422, "table_name"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "new_values": "not json"}`, 422, "new_values"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "old_values": 12}`, 422, "old_values"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "ip_address": "localhost"}`, 422, "ip_address"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "user_id": 987654}`, 422, "user_id"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "record_id": {"a": 1}}`, 422, "record_id"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "user_id": "5"}`, 400, "user_id"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", "table_name": "products", "colour": "red"}`, 400, "colour"},
			{"POST", "/api/v1/audit-logs", `{"action": "CREATE", `, 400, ""},
			{"DELETE", "/api/v1/audit-logs/1", "", 0, ""},
			{"PUT", "/api/v1/audit-logs/1", `{}`, 0, ""},
		}
		for _, c := range cases {
			code, body := e.call(actor.Admin, c.method, c.path, c.body)
			if c.status == 0 { // the log cannot be changed or removed through the API
				if code < 400 {
					t.Errorf("%s %s answered %d", c.method, c.path, code)
				}
				continue
			}
			errs, _ := body["errors"].(map[string]any)
			if code != c.status || body["status"] != "error" || body["message"] == "" || (c.field != "" && errs[c.field] == nil) {
				t.Errorf("%s %s %s: %d %v, want %d on %q", c.method, c.path, c.body, code, body, c.status, c.field)
			}
		}
		// Wrong content type.
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/audit-logs", strings.NewReader("action=CREATE"))
		req.Header.Set("Authorization", "Bearer "+e.keys[actor.Admin])
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 415 {
			t.Errorf("form body: %v %v", res, err)
		}
		if after := e.count(); after != before {
			t.Errorf("bad input wrote %d events", after-before)
		}
	})
}

func TestAuditLogsAdminOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		before := e.count()
		for _, role := range []actor.Role{actor.Manager, actor.Operator, actor.Auditor, ""} {
			for _, c := range []struct{ method, path, body string }{
				{"GET", "/api/v1/audit-logs", ""},
				{"GET", "/api/v1/audit-logs?start_date=bad", ""},
				{"GET", "/api/v1/audit-logs/" + itoa(e.ids["p-create"]), ""},
				{"GET", "/api/v1/audit-logs/summary", ""},
				{"POST", "/api/v1/audit-logs", `{"action": "READ", "table_name": "products"}`},
			} {
				want := 403
				if role == "" {
					want = 401
				}
				code, body := e.call(role, c.method, c.path, c.body)
				if code != want || body["status"] != "error" || body["data"] != nil {
					t.Errorf("%q %s %s: %d %v", role, c.method, c.path, code, body)
				}
				// A refusal says who may, not just what was refused.
				if msg, _ := body["message"].(string); want == 403 && !strings.Contains(msg, "only the admin role may") {
					t.Errorf("%q %s %s: refusal %q does not say who may", role, c.method, c.path, msg)
				}
			}
		}
		if after := e.count(); after != before {
			t.Errorf("refused calls wrote %d events", after-before)
		}
	})
}

func TestAuditLogViewsAreRecorded(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		e.call(actor.Admin, "GET", "/api/v1/audit-logs?table_name=products&limit=1", "")
		e.call(actor.Admin, "GET", "/api/v1/audit-logs/summary", "")
		e.call(actor.Admin, "GET", "/api/v1/audit-logs/"+itoa(e.ids["w-delete"]), "")
		code, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?action=READ&table_name=activity_events", "")
		data := body["data"].([]any)
		if code != 200 || len(data) != 3 {
			t.Fatalf("READ events: %d %v", code, body)
		}
		newest, oldest := data[0].(map[string]any), data[2].(map[string]any)
		if newest["record_id"] != itoa(e.ids["w-delete"]) || newest["actor_kind"] != "api_key" || newest["user_agent"] != "audit-test/1.0" || newest["request_id"] == "" {
			t.Errorf("READ of one entry: %v", newest)
		}
		if nv := oldest["new_values"].(map[string]any); nv["entity_type"] != "products" || nv["rows"] != float64(1) {
			t.Errorf("READ of a page: %v", oldest)
		}
	})
}

func TestOpenAPIDescribesAuditLogs(t *testing.T) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Config{})
	a.Register(http.NewServeMux())
	for _, p := range a.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, "/api/v1/audit-logs") {
			continue
		}
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("%s is not in the OpenAPI document", p)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A retried manual entry with the same Idempotency-Key is written once.
func TestAuditLogCreateIsIdempotent(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		post := func() (int, map[string]any) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/audit-logs",
				strings.NewReader(`{"action": "READ", "table_name": "products", "description": "nightly price check"}`))
			req.Header.Set("Authorization", "Bearer "+e.keys[actor.Admin])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "price-check-2026-03-05-0001")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			json.NewDecoder(res.Body).Decode(&out)
			return res.StatusCode, out
		}
		before := e.count()
		code1, first := post()
		code2, second := post()
		if code1 != 201 || code2 != 201 || first["id"] != second["id"] || first["id"] == nil {
			t.Errorf("retry: %d %v, then %d %v", code1, first, code2, second)
		}
		if after := e.count(); after != before+1 {
			t.Errorf("a retried entry was written %d times", after-before)
		}
	})
}
