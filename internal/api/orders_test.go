package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestOrdersAPI drives an outbound order from creation to shipment and an
// inbound one to receipt over HTTP: problem+json naming the field, the
// Idempotency-Key replaying an action, and unknown query parameters refused.
func TestOrdersAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		c.ok("POST", "/api/v1/items", `{"sku":"BOLT-M8","name":"Bolt","kind":"part","unit":"pcs","scale":0}`, 201)
		wh := jsonNum(c.ok("POST", "/api/v1/locations", `{"kind":"warehouse","code":"WH1"}`, 201)["id"])
		c.ok("POST", "/api/v1/inventory/receipts", `{"sku":"BOLT-M8","location":"WH1","quantity":"8"}`, 201)

		o := c.ok("POST", "/api/v1/orders", `{"kind":"outbound","party":"ACME","lines":[{"sku":"BOLT-M8","quantity":"5"}]}`, 201)
		if o["number"] != "SO-000001" || o["status"] != "draft" {
			t.Fatalf("created %v", o)
		}
		path := "/api/v1/orders/" + jsonNum(o["id"])
		line := o["lines"].([]any)[0].(map[string]any)

		// Bad input: problem+json naming the field or line; nothing made.
		for _, tt := range []struct {
			method, path, body string
			status             int
			field              string
		}{
			{"POST", "/api/v1/orders", `{"kind":"outbound","party":"ACME","lines":[{"sku":"NOPE","quantity":"1"}]}`, 422, "lines[0].sku"},
			{"POST", "/api/v1/orders", `{"kind":"outbound","party":"ACME","lines":[{"sku":"BOLT-M8","quantity":"-1"}]}`, 422, "lines[0].quantity"},
			{"POST", "/api/v1/orders", `{"kind":"outbound","party":"ACME","colour":"red"}`, 400, "colour"},
			{"POST", path + "/allocate", ``, 409, "status"},
			{"PATCH", path + "/lines/" + jsonNum(line["id"]), `{"quantity":"0"}`, 422, "quantity"},
		} {
			status, b := c.do(tt.method, tt.path, tt.body)
			var p map[string]any
			json.Unmarshal(b, &p)
			errs, _ := p["errors"].(map[string]any)
			if status != tt.status || errs[tt.field] == nil {
				t.Errorf("%s %s %s: %d %s, want %d naming %s", tt.method, tt.path, tt.body, status, b, tt.status, tt.field)
			}
		}
		if status, b := c.do("GET", "/api/v1/orders?colour=red", ""); status != 400 {
			t.Errorf("unknown query parameter: %d %s", status, b)
		}
		if status, b := c.do("GET", "/api/v1/orders?limit=x", ""); status != 400 {
			t.Errorf("bad limit: %d %s", status, b)
		}

		c.ok("POST", path+"/confirm", "", 200)
		// Allocate with an Idempotency-Key: the retry replays the answer
		// and allocates nothing twice.
		status, first := c.do("POST", path+"/allocate", "", "Idempotency-Key", "alloc-1")
		if status != 200 || !strings.Contains(string(first), `"status":"allocated"`) {
			t.Fatalf("allocate: %d %s", status, first)
		}
		status, again := c.do("POST", path+"/allocate", "", "Idempotency-Key", "alloc-1")
		if status != 200 || string(again) != string(first) {
			t.Fatalf("replayed allocate: %d %s", status, again)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM inventory_log WHERE reference = 'SO-000001' AND movement = 'allocate'`); n != 1 {
			t.Fatalf("%d allocate entries after a retried request", n)
		}
		c.ok("POST", path+"/pick", `{}`, 200)
		shipped := c.ok("POST", path+"/ship", `{"lines":[{"line_id":`+jsonNum(line["id"])+`,"quantity":"5"}]}`, 200)
		if shipped["status"] != "shipped" {
			t.Fatalf("ship: %v", shipped)
		}
		closed := c.ok("POST", path+"/close", "", 200)
		if closed["status"] != "closed" {
			t.Fatalf("close: %v", closed)
		}

		po := c.ok("POST", "/api/v1/orders", `{"kind":"inbound","party":"Bolts Inc"}`, 201)
		ppath := "/api/v1/orders/" + jsonNum(po["id"])
		po = c.ok("POST", ppath+"/lines", `{"sku":"BOLT-M8","quantity":"10"}`, 201)
		pline := jsonNum(po["lines"].([]any)[0].(map[string]any)["id"])
		c.ok("POST", ppath+"/confirm", "", 200)
		if status, b := c.do("POST", ppath+"/receive", `{"lines":[{"line_id":`+pline+`,"quantity":"11"}]}`); status != 422 ||
			!strings.Contains(string(b), "lines[0].quantity") {
			t.Fatalf("over-receipt: %d %s", status, b)
		}
		got := c.ok("POST", ppath+"/receive", `{"lines":[{"line_id":`+pline+`,"quantity":"4","location_id":`+wh+`}]}`, 200)
		if got["status"] != "partially_received" {
			t.Fatalf("receive: %v", got)
		}
		page := c.ok("GET", "/api/v1/orders?kind=inbound&status=partially_received&q=bolts", "", 200)
		if list := page["orders"].([]any); len(list) != 1 || list[0].(map[string]any)["number"] != "PO-000001" {
			t.Fatalf("list: %v", page)
		}
		if page := c.ok("GET", "/api/v1/orders?limit=1", "", 200); page["next"] == nil {
			t.Fatalf("first of two pages has no next: %v", page)
		}
	})
}
