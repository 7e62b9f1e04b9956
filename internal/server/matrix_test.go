package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// access is what an API operation asks of the caller, as the areas check it
// (internal/actor/roles.go grants the permissions to roles).
type access struct {
	// public operations answer without credentials; member ones to any
	// authenticated party of the workspace.
	public, member bool
	// need lists permissions that must all be granted; anyOf, when set,
	// permissions of which one suffices.
	need, anyOf []actor.Permission
	// station: a scanning station's UseStation also suffices (the area
	// calls actor.RequireAny(ctx, need[0], actor.UseStation)).
	station bool
	// stationRefused: the role grants the permission, but the area keeps
	// stations to their own kinds of movement.
	stationRefused bool
	// query is sent with the request, for operations that check their
	// parameters before they can tell whose permission applies.
	query string
	// id, asset and line name the kind of record of the {id}, {asset} and
	// {line} path values (see matrixWorld.ids).
	id, asset, line string
}

func perm(p ...actor.Permission) access { return access{need: p} }

// orStation marks a read a station's screen makes too.
func (a access) orStation() access { a.station = true; return a }

// notForStations marks a stock change no station makes (corrections,
// record edits): refused by the area although the role moves stock.
func (a access) notForStations() access { a.stationRefused = true; return a }

func anyOf(p ...actor.Permission) access { return access{anyOf: p} }

func (a access) of(id string) access       { a.id = id; return a }
func (a access) withQuery(q string) access { a.query = q; return a }
func (a access) withAsset(k string) access { a.asset = k; return a }
func (a access) withLine(k string) access  { a.line = k; return a }

func (a access) allowsRole(role actor.Role) bool {
	if a.public || a.member {
		return true
	}
	if role == actor.StationRole && a.stationRefused {
		return false
	}
	for _, p := range a.anyOf {
		if role.Can(p) {
			return true
		}
	}
	if a.station && role.Can(actor.UseStation) {
		return true
	}
	for _, p := range a.need {
		if !role.Can(p) {
			return false
		}
	}
	return len(a.need) > 0
}

var (
	public = access{public: true}
	member = access{member: true}
)

// operationAccess is the one table of what each operation of the OpenAPI
// document asks, keyed by "METHOD /path" as the document spells it. A new
// operation without a row fails TestRoleAndWorkspaceMatrix naming it: add
// its row here, with the permission its area checks.
var operationAccess = map[string]access{
	"GET /api/v1/openapi.json": public,
	"GET /api/v1/me":           member,

	// Accounts (internal/auth).
	"GET /api/v1/users":              perm(actor.ManageUsers),
	"POST /api/v1/users":             perm(actor.ManageUsers),
	"GET /api/v1/users/{id}":         perm(actor.ManageUsers).of("user"),
	"PATCH /api/v1/users/{id}":       perm(actor.ManageUsers).of("user"),
	"DELETE /api/v1/users/{id}":      perm(actor.ManageUsers).of("user"),
	"GET /api/v1/api-keys":           perm(actor.ManageAPIKeys),
	"POST /api/v1/api-keys":          perm(actor.ManageAPIKeys),
	"DELETE /api/v1/api-keys/{id}":   perm(actor.ManageAPIKeys).of("api_key"),
	"GET /api/v1/stations":           perm(actor.ManageStations),
	"POST /api/v1/stations":          perm(actor.ManageStations),
	"DELETE /api/v1/stations/{id}":   perm(actor.ManageStations).of("station"),
	"GET /api/v1/workspace":          perm(actor.ViewSettings),
	"PATCH /api/v1/workspace":        perm(actor.ManageSettings),
	"GET /api/v1/ledger/checkpoint":  member,
	"GET /api/v1/ledger/public-key":  member,
	"GET /api/v1/ledger/consistency": member.withQuery("old=0&new=0"),
	"GET /api/v1/ledger/proof":       perm(actor.ViewInventory).withQuery("log=inventory_log&id=1"),
	"GET /api/v1/ledger/bundle":      perm(actor.ViewInventory, actor.ViewActivity),

	// Inventory (internal/inventory).
	"GET /api/v1/items":                                  perm(actor.ViewInventory),
	"POST /api/v1/items":                                 perm(actor.ManageCatalog),
	"GET /api/v1/items/{id}":                             perm(actor.ViewInventory).orStation().of("item"),
	"PATCH /api/v1/items/{id}":                           perm(actor.ManageCatalog).of("item"),
	"DELETE /api/v1/items/{id}":                          perm(actor.ManageCatalog).of("item"),
	"GET /api/v1/items/{id}/history":                     perm(actor.ViewInventory).of("item"),
	"GET /api/v1/locations":                              perm(actor.ViewInventory).orStation(),
	"POST /api/v1/locations":                             perm(actor.ManageCatalog),
	"GET /api/v1/locations/{id}":                         perm(actor.ViewInventory).orStation().of("location"),
	"GET /api/v1/inventory/records":                      perm(actor.ViewInventory),
	"POST /api/v1/inventory/records":                     perm(actor.MoveStock).notForStations(),
	"GET /api/v1/inventory/records/{id}":                 perm(actor.ViewInventory).of("record"),
	"PATCH /api/v1/inventory/records/{id}":               perm(actor.MoveStock).notForStations().of("record"),
	"DELETE /api/v1/inventory/records/{id}":              perm(actor.MoveStock).notForStations().of("record"),
	"POST /api/v1/inventory/receipts":                    perm(actor.MoveStock),
	"POST /api/v1/inventory/issues":                      perm(actor.MoveStock),
	"POST /api/v1/inventory/moves":                       perm(actor.MoveStock),
	"POST /api/v1/inventory/splits":                      perm(actor.MoveStock),
	"POST /api/v1/inventory/merges":                      perm(actor.MoveStock),
	"POST /api/v1/inventory/initializations":             perm(actor.MoveStock),
	"POST /api/v1/inventory/corrections":                 perm(actor.MoveStock).notForStations(),
	"POST /api/v1/inventory/reconciliations":             perm(actor.MoveStock),
	"POST /api/v1/inventory/movements":                   perm(actor.MoveStock),
	"POST /api/v1/inventory/initializations/draft-lines": perm(actor.MoveStock),
	"POST /api/v1/inventory/imports":                     perm(actor.MoveStock),
	"GET /api/v1/inventory/log":                          perm(actor.ViewInventory),
	"GET /api/v1/inventory/log/export":                   perm(actor.ViewInventory),
	"GET /api/v1/inventory/stock":                        perm(actor.ViewInventory),
	"GET /api/v1/inventory/stock/diff":                   perm(actor.ViewInventory),

	// Activity and the seed-002 audit-log API (internal/activity).
	"GET /api/v1/activity/export":    perm(actor.ViewActivity),
	"GET /api/v1/audit-logs":         perm(actor.ManageAuditLogs),
	"POST /api/v1/audit-logs":        perm(actor.ManageAuditLogs),
	"GET /api/v1/audit-logs/summary": perm(actor.ManageAuditLogs),
	"GET /api/v1/audit-logs/{id}":    perm(actor.ManageAuditLogs).of("event"),
	"GET /api/v1/events/stream":      anyOf(actor.ViewActivity, actor.ViewInventory),

	// Assets and inventory sessions (internal/assets).
	"GET /api/v1/assets":                                        perm(actor.ViewAssets),
	"POST /api/v1/assets":                                       perm(actor.ManageAssets),
	"POST /api/v1/assets/import":                                perm(actor.ManageAssets),
	"GET /api/v1/assets/labels.pdf":                             perm(actor.ViewAssets),
	"GET /api/v1/assets/{id}":                                   perm(actor.ViewAssets).of("asset"),
	"PATCH /api/v1/assets/{id}":                                 perm(actor.ManageAssets).of("asset"),
	"GET /api/v1/assets/{id}/history":                           perm(actor.ViewAssets).of("asset"),
	"DELETE /api/v1/assets/{id}":                                perm(actor.ManageAssets).of("asset"),
	"POST /api/v1/assets/{id}/restore":                          perm(actor.ManageAssets).of("asset"),
	"POST /api/v1/assets/{id}/retire":                           perm(actor.ManageAssets).of("asset"),
	"POST /api/v1/assets/{id}/reinstate":                        perm(actor.ManageAssets).of("asset"),
	"POST /api/v1/assets/{id}/disposal":                         perm(actor.ManageAssets).of("asset"),
	"GET /api/v1/assets/{id}/label.png":                         perm(actor.ViewAssets).of("asset"),
	"GET /api/v1/assets/{id}/label.svg":                         perm(actor.ViewAssets).of("asset"),
	"GET /api/v1/assets/{id}/photos":                            perm(actor.ViewAssets).of("asset"),
	"POST /api/v1/assets/{id}/photos":                           perm(actor.ManageAssets).of("asset"),
	"GET /api/v1/asset-photos/{id}":                             perm(actor.ViewAssets).of("photo"),
	"GET /api/v1/inventory-sessions":                            perm(actor.ViewAssets),
	"POST /api/v1/inventory-sessions":                           perm(actor.ManageSessions),
	"GET /api/v1/inventory-sessions/{id}":                       perm(actor.ViewAssets).orStation().of("session"),
	"GET /api/v1/inventory-sessions/{id}/progress":              perm(actor.ViewAssets).orStation().of("session"),
	"GET /api/v1/inventory-sessions/{id}/items":                 perm(actor.ViewAssets).of("session"),
	"POST /api/v1/inventory-sessions/{id}/start":                perm(actor.ManageSessions).of("session"),
	"POST /api/v1/inventory-sessions/{id}/scans":                perm(actor.RunSessions).of("session"),
	"POST /api/v1/inventory-sessions/{id}/include":              perm(actor.ManageSessions).of("session"),
	"POST /api/v1/inventory-sessions/{id}/exclude":              perm(actor.ManageSessions).of("session"),
	"POST /api/v1/inventory-sessions/{id}/items/{asset}/stage":  perm(actor.RunSessions).of("session").withAsset("asset"),
	"POST /api/v1/inventory-sessions/{id}/items/{asset}/photos": perm(actor.RunSessions).of("session").withAsset("asset"),
	"POST /api/v1/inventory-sessions/{id}/finish":               perm(actor.ManageSessions).of("session"),
	"POST /api/v1/inventory-sessions/{id}/cancel":               perm(actor.ManageSessions).of("session"),
	"GET /api/v1/inventory-sessions/{id}/report":                perm(actor.ViewAssets).of("session"),
	"GET /api/v1/inventory-sessions/{id}/report.csv":            perm(actor.ViewAssets).of("session"),
	"GET /api/v1/inventory-schedules":                           perm(actor.ViewAssets),
	"POST /api/v1/inventory-schedules":                          perm(actor.ManageSessions),
	"PATCH /api/v1/inventory-schedules/{id}":                    perm(actor.ManageSessions).of("schedule"),
	"GET /api/v1/inventory-schedules/{id}":                      perm(actor.ViewAssets).of("schedule"),
	"PUT /api/v1/inventory-schedules/{id}":                      perm(actor.ManageSessions).of("schedule"),
	"DELETE /api/v1/inventory-schedules/{id}":                   perm(actor.ManageSessions).of("schedule"),

	// Alerts (internal/alerts).
	"GET /api/v1/alert-rules":              perm(actor.ViewAlerts),
	"POST /api/v1/alert-rules":             perm(actor.ManageAlerts),
	"GET /api/v1/alert-rules/{id}":         perm(actor.ViewAlerts).of("alert_rule"),
	"PUT /api/v1/alert-rules/{id}":         perm(actor.ManageAlerts).of("alert_rule"),
	"GET /api/v1/alerts":                   perm(actor.ViewAlerts),
	"GET /api/v1/alerts/{id}":              perm(actor.ViewAlerts).of("alert"),
	"POST /api/v1/alerts/{id}/acknowledge": perm(actor.ManageAlerts).of("alert"),

	// Webhooks (internal/notify).
	"GET /api/v1/webhooks":                                          perm(actor.ViewAlerts),
	"POST /api/v1/webhooks":                                         perm(actor.ManageAlerts),
	"GET /api/v1/webhooks/{id}":                                     perm(actor.ViewAlerts).of("webhook"),
	"PATCH /api/v1/webhooks/{id}":                                   perm(actor.ManageAlerts).of("webhook"),
	"POST /api/v1/webhooks/{id}/rotate-secret":                      perm(actor.ManageAlerts).of("webhook"),
	"POST /api/v1/webhooks/{id}/subscriptions":                      perm(actor.ManageAlerts).of("webhook"),
	"DELETE /api/v1/webhooks/{id}/subscriptions/{subscription_id}":  perm(actor.ManageAlerts).of("webhook"),
	"GET /api/v1/webhooks/{id}/deliveries":                          perm(actor.ViewAlerts).of("webhook"),
	"GET /api/v1/webhooks/{id}/deliveries/{delivery_id}":            perm(actor.ViewAlerts).of("webhook"),
	"POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver": perm(actor.ManageAlerts).of("webhook"),

	// Orders (internal/orders).
	"GET /api/v1/orders":                      perm(actor.ViewOrders),
	"POST /api/v1/orders":                     perm(actor.ManageOrders),
	"GET /api/v1/orders/{id}":                 perm(actor.ViewOrders).orStation().of("order"),
	"GET /api/v1/orders/{id}/history":         perm(actor.ViewOrders).of("order"),
	"PATCH /api/v1/orders/{id}":               perm(actor.ManageOrders).of("order"),
	"POST /api/v1/orders/{id}/lines":          perm(actor.ManageOrders).of("order"),
	"PATCH /api/v1/orders/{id}/lines/{line}":  perm(actor.ManageOrders).of("order").withLine("order_line"),
	"DELETE /api/v1/orders/{id}/lines/{line}": perm(actor.ManageOrders).of("order").withLine("order_line"),
	"POST /api/v1/orders/{id}/confirm":        perm(actor.ManageOrders).of("order"),
	"POST /api/v1/orders/{id}/allocate":       perm(actor.FulfilOrders).notForStations().of("order"),
	"POST /api/v1/orders/{id}/release":        perm(actor.FulfilOrders).notForStations().of("order"),
	"POST /api/v1/orders/{id}/pick":           perm(actor.FulfilOrders).of("order"),
	"POST /api/v1/orders/{id}/ship":           perm(actor.FulfilOrders).of("order"),
	"POST /api/v1/orders/{id}/receive":        perm(actor.FulfilOrders).of("order"),
	"POST /api/v1/orders/{id}/close":          perm(actor.ManageOrders).of("order"),
	"POST /api/v1/orders/{id}/cancel":         perm(actor.ManageOrders).of("order"),

	// Compliance reports (internal/activity).
	"GET /api/v1/reports/audit/{report}": perm(actor.ViewActivity),
}

// otherMarker is in the name of every record of the other workspace: no
// answer to this workspace's parties may contain it.
const otherMarker = "OTHERWS"

// matrixWorld is one workspace with a record of every kind the API names
// by id, and the credentials of every party.
type matrixWorld struct {
	wsID int64
	ids  map[string]int64
	// keys holds a bearer credential per party: the four roles' API keys
	// and "station" (a station bound to the workspace's location).
	keys map[string]string
}

// parties are who calls, in the order of the report.
var parties = []string{"admin", "manager", "operator", "auditor", "station", "none"}

func partyRole(party string) actor.Role {
	if party == "station" {
		return actor.StationRole
	}
	return actor.Role(party)
}

// smallPNG is a real image, for the photo records.
func smallPNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// build creates the workspace's records through the API as its admin, so
// they are what a client would have; marker goes into their names.
func (m *matrixWorld) build(t *testing.T, base, adminKey, marker string, f *storetest.Fixture, ctx context.Context) {
	t.Helper()
	m.ids = map[string]int64{}
	send := func(method, path string, body any, contentType string) map[string]any {
		t.Helper()
		var rd io.Reader
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("setup %s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		var out map[string]any
		json.Unmarshal(raw, &out)
		return out
	}
	id := func(v map[string]any) int64 {
		n, _ := v["id"].(float64)
		if n == 0 {
			t.Fatalf("no id in %v", v)
		}
		return int64(n)
	}
	jsonType := "application/json"
	loc := id(send("POST", "/api/v1/locations", map[string]any{"kind": "warehouse", "code": marker + "-WH", "name": marker + " warehouse"}, jsonType))
	m.ids["location"] = loc
	m.ids["item"] = id(send("POST", "/api/v1/items", map[string]any{"sku": marker + "-SKU", "name": marker + " item", "kind": "material", "unit": "pcs", "scale": 0}, jsonType))
	rec := send("POST", "/api/v1/inventory/receipts", map[string]any{"item_id": m.ids["item"], "location_id": loc, "quantity": "5", "lot": marker}, jsonType)
	records, _ := rec["records"].([]any)
	if len(records) == 0 {
		t.Fatalf("receipt answered %v", rec)
	}
	m.ids["record"] = int64(records[0].(map[string]any)["id"].(float64))
	m.ids["asset"] = id(send("POST", "/api/v1/assets", map[string]any{"tag": marker + "-A1", "name": marker + " laptop", "location_id": loc}, jsonType))
	m.ids["photo"] = id(send("POST", "/api/v1/assets/"+itoa(m.ids["asset"])+"/photos", smallPNG(t), "image/png"))
	m.ids["session"] = id(send("POST", "/api/v1/inventory-sessions", map[string]any{"name": marker + " count", "location_id": loc}, jsonType))
	m.ids["schedule"] = id(send("POST", "/api/v1/inventory-schedules", map[string]any{"name": marker + " weekly", "recurrence": "weekly",
		"time": "09:00", "weekdays": []int{1}, "location_id": loc}, jsonType))
	m.ids["user"] = id(send("POST", "/api/v1/users", map[string]any{"email": strings.ToLower(marker) + "@example.com", "name": marker + " user",
		"role": "operator", "password": "long enough pw"}, jsonType))
	m.ids["api_key"] = id(send("POST", "/api/v1/api-keys", map[string]any{"name": marker + " spare key", "role": "operator"}, jsonType))
	m.ids["station"] = id(send("POST", "/api/v1/stations", map[string]any{"name": marker + " spare station", "location_id": loc}, jsonType))
	m.ids["alert_rule"] = id(send("POST", "/api/v1/alert-rules", map[string]any{"kind": "failed_logins", "name": marker + " rule",
		"thresholds": map[string]any{"attempts": 5, "per": "account", "window_minutes": 10}}, jsonType))
	m.ids["webhook"] = id(send("POST", "/api/v1/webhooks", map[string]any{"name": marker + " hook", "url": "https://93.184.216.34/hooks/" + marker}, jsonType))
	order := send("POST", "/api/v1/orders", map[string]any{"kind": "outbound", "party": marker + " customer",
		"lines": []map[string]any{{"item_id": m.ids["item"], "quantity": "2"}}}, jsonType)
	m.ids["order"] = id(order)
	m.ids["order_line"] = int64(order["lines"].([]any)[0].(map[string]any)["id"].(float64))
	m.ids["event"] = id(send("POST", "/api/v1/audit-logs", map[string]any{"username": marker, "action": "UPDATE", "table_name": "orders",
		"record_id": 1, "description": marker + " event"}, jsonType))

	m.keys = map[string]string{"none": ""}
	for _, r := range actor.Roles() {
		k, err := f.Auth.CreateAPIKey(ctx, marker+" "+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		m.keys[string(r)] = k.Secret
	}
	st, err := f.Auth.CreateStation(ctx, marker+" dock", loc)
	if err != nil {
		t.Fatal(err)
	}
	m.keys["station"] = st.Token
}

// matrixOperations reads the operations from the OpenAPI document and
// checks the mux registers no route the document lacks.
func matrixOperations(t *testing.T, h http.Handler) []string {
	t.Helper()
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for path, methods := range doc.Paths {
		for method := range methods {
			switch method {
			case "get", "put", "post", "patch", "delete", "head", "options", "trace":
				ops[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	for _, p := range h.(interface{ Patterns() []string }).Patterns() {
		if !ops[p] {
			t.Errorf("route %q is registered but not in the OpenAPI document", p)
		}
	}
	var out []string
	for op := range ops {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// TestRoleAndWorkspaceMatrix calls every operation of the OpenAPI document
// as every party (each role's API key, a station, no credentials), with
// this workspace's ids and with another workspace's, and holds each answer
// to operationAccess: 401 without credentials, 403 for a party whose role
// lacks the permission, and for one that has it neither of those nor a
// 5xx. Another workspace's id must answer as an id that exists nowhere
// (404, or the same refusal of the body), never with its data.
func TestRoleAndWorkspaceMatrix(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		start := time.Now()
		f := storetest.NewFixture(t, db)
		h := server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			StreamPoll: 10 * time.Millisecond, StreamHeartbeat: 50 * time.Millisecond, StreamLifetime: 100 * time.Millisecond})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)

		ops := matrixOperations(t, h)
		var missing []string
		for _, op := range ops {
			if _, ok := operationAccess[op]; !ok {
				missing = append(missing, op)
			}
		}
		if len(missing) > 0 {
			t.Fatalf("operations without a row in operationAccess (internal/server/matrix_test.go); add each with the permission its area checks:\n%s",
				strings.Join(missing, "\n"))
		}
		opSet := map[string]bool{}
		for _, op := range ops {
			opSet[op] = true
		}
		for op := range operationAccess {
			if !opSet[op] {
				t.Errorf("operationAccess has a row for %q, which the OpenAPI document does not describe", op)
			}
		}

		// This workspace and another, each with its own records.
		admin, err := f.Auth.CreateAPIKey(f.Ctx, "matrix admin", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		var own, other matrixWorld
		own.build(t, srv.URL, admin.Secret, "OWNWS", f, f.Ctx)
		var otherWS workspace.Workspace
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			otherWS, err = workspace.Create(actor.With(context.Background(), actor.SystemActor(0, "test")), tx, "Other", workspace.Starter)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		otherCtx := actor.With(context.Background(), actor.SystemActor(otherWS.ID, "test"))
		otherAdmin, err := f.Auth.CreateAPIKey(otherCtx, "other admin", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		other.build(t, srv.URL, otherAdmin.Secret, otherMarker, &storetest.Fixture{DB: db, Auth: f.Auth}, otherCtx)

		call := func(method, path, key string) (int, []byte) {
			var body io.Reader
			if method != "GET" && method != "DELETE" {
				body = strings.NewReader("{}")
			}
			req, _ := http.NewRequest(method, srv.URL+path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, raw
		}
		pathFor := func(op string, acc access, ids map[string]int64) (method, path string) {
			method, path, _ = strings.Cut(op, " ")
			id := func(kind string) string {
				if n, ok := ids[kind]; ok {
					return strconv.FormatInt(n, 10)
				}
				return "987654321" // no record of this kind: an id that exists nowhere
			}
			path = strings.ReplaceAll(path, "{id}", id(acc.id))
			path = strings.ReplaceAll(path, "{asset}", id(acc.asset))
			path = strings.ReplaceAll(path, "{line}", id(acc.line))
			if acc.query != "" {
				path += "?" + acc.query
			}
			return method, path
		}
		nowhere := map[string]int64{}

		var cases, leaks int
		var wrong []string
		for _, op := range ops {
			acc := operationAccess[op]
			hasID := acc.id != "" || acc.asset != "" || acc.line != ""
			for _, party := range parties {
				key := own.keys[party]
				var want string
				switch {
				case party == "none" && !acc.public:
					want = "401"
				case party == "none" || acc.allowsRole(partyRole(party)):
					want = "allowed"
				default:
					want = "403"
				}
				check := func(where string, status int, body []byte) {
					cases++
					got := strconv.Itoa(status)
					ok := got == want || want == "allowed" && status != 401 && status != 403 && status < 500
					if !ok {
						wrong = append(wrong, fmt.Sprintf("%s as %s (%s): %d, want %s: %.200s", op, party, where, status, want, body))
					}
					if bytes.Contains(body, []byte(otherMarker)) {
						leaks++
						wrong = append(wrong, fmt.Sprintf("LEAK %s as %s (%s): %d answers the other workspace's data: %.300s", op, party, where, status, body))
					}
				}
				method, path := pathFor(op, acc, own.ids)
				status, body := call(method, path, key)
				check("own workspace", status, body)
				if !hasID {
					// No id to swap: the answer above must hold nothing of
					// the other workspace, which check looked for.
					continue
				}
				// Another workspace's id answers as an id that exists
				// nowhere: 404 for a party that may make the call (or the
				// same refusal of the body), 401/403 or 404 for one that may
				// not; a different answer tells the record exists.
				method, path = pathFor(op, acc, other.ids)
				otherStatus, otherBody := call(method, path, key)
				method, path = pathFor(op, acc, nowhere)
				noneStatus, _ := call(method, path, key)
				cases++
				if bytes.Contains(otherBody, []byte(otherMarker)) || otherStatus != noneStatus {
					leaks++
					wrong = append(wrong, fmt.Sprintf("LEAK %s as %s: the other workspace's id answers %d, an id that exists nowhere %d: %.300s",
						op, party, otherStatus, noneStatus, otherBody))
					continue
				}
				switch {
				case want == "allowed" && (otherStatus/100 == 2 || otherStatus == 401 || otherStatus == 403 || otherStatus >= 500),
					want != "allowed" && otherStatus != 404 && strconv.Itoa(otherStatus) != want:
					wrong = append(wrong, fmt.Sprintf("%s as %s (other workspace's id): %d, want 404: %.200s", op, party, otherStatus, otherBody))
				}
			}
		}
		t.Logf("%d operations × %d parties × 2 workspaces: %d cases, %d leaks, %s", len(ops), len(parties), cases, leaks, time.Since(start).Round(time.Millisecond))
		if len(wrong) > 0 {
			sort.Strings(wrong)
			t.Errorf("%d answers differ from operationAccess:\n%s", len(wrong), strings.Join(wrong, "\n"))
		}
	})
}
