package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

type stockClient struct {
	t     *testing.T
	url   string
	token string
}

func (c stockClient) do(method, path, body string, headers ...string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c stockClient) ok(method, path, body string, want int) map[string]any {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func TestInventoryAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		oil := c.ok("POST", "/api/v1/items", `{"sku":"OIL-5","name":"Oil","kind":"product","unit":"l","scale":2}`, 201)
		wh := c.ok("POST", "/api/v1/locations", `{"kind":"warehouse","code":"WH1"}`, 201)
		binA := c.ok("POST", "/api/v1/locations", `{"kind":"bin","code":"A","parent_id":`+jsonNum(wh["id"])+`}`, 201)
		res := c.ok("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1/A","quantity":"12.5","reference":"PO-1"}`, 201)
		entries := res["entries"].([]any)
		last := entries[len(entries)-1].(map[string]any)
		if last["action"] != "user_action" || last["actor_kind"] != "api_key" || last["change"] != "12.5" || last["reference"] != "PO-1" {
			t.Fatalf("receipt entry %v", last)
		}
		recordID := jsonNum(last["record_id"])
		c.ok("POST", "/api/v1/inventory/issues", `{"record_id":`+recordID+`,"quantity":2}`, 201)
		// PATCH changes only the fields sent: a rename keeps the kind, unit
		// and scale (it once reset them to material, pcs and 0 decimals,
		// changing how every past entry reads).
		item := "/api/v1/items/" + jsonNum(oil["id"])
		renamed := c.ok("PATCH", item, `{"name":"Engine oil"}`, 200)
		if renamed["name"] != "Engine oil" || renamed["sku"] != "OIL-5" || renamed["kind"] != "product" || renamed["unit"] != "l" || jsonNum(renamed["scale"]) != "2" {
			t.Errorf("partial update: %v", renamed)
		}
		for _, body := range []string{`{"unit":"kg"}`, `{"scale":3}`, `{"sku":"OIL-5","name":"Oil","unit":"pcs","scale":0}`} {
			if status, b := c.do("PATCH", item, body); status != 409 {
				t.Errorf("PATCH %s on an item with stock: %d %s", body, status, b)
			}
		}
		if status, _ := c.do("PATCH", item, `{"name":""}`); status != 422 {
			t.Errorf("empty name: %d", status)
		}
		if got := c.ok("GET", item, "", 200); got["name"] != "Engine oil" || got["unit"] != "l" || jsonNum(got["scale"]) != "2" {
			t.Errorf("after refused edits: %v", got)
		}
		// Bad inputs: a clear problem naming the field, and nothing changed.
		for _, tt := range []struct{ path, body, field string }{
			{"/api/v1/inventory/issues", `{"record_id":` + recordID + `,"quantity":"100"}`, "quantity"},
			{"/api/v1/inventory/issues", `{"record_id":` + recordID + `,"quantity":"0.001"}`, "quantity"},
			{"/api/v1/inventory/receipts", `{"sku":"NOPE","location":"WH1/A","quantity":"1"}`, "sku"},
			{"/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH9","quantity":"1"}`, "location"},
			{"/api/v1/inventory/corrections", `{"record_id":` + recordID + `,"change":"1"}`, "reason"},
		} {
			status, b := c.do("POST", tt.path, tt.body)
			var p api.Problem
			json.Unmarshal(b, &p)
			if status != 422 || p.Errors[tt.field] == "" {
				t.Errorf("%s %s: %d %s", tt.path, tt.body, status, b)
			}
		}
		if status, _ := c.do("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","quantity":1e3,"location":"WH1/A"}`); status != 422 {
			t.Errorf("float literal accepted: %d", status)
		}
		if status, _ := c.do("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","qty":"1"}`); status != 400 {
			t.Errorf("unknown field: %d", status)
		}
		// A member sent twice is refused: a proxy reading the first and
		// the decoder keeping the last would see two different requests.
		for _, body := range []string{
			`{"sku":"OIL-5","location":"WH1/A","quantity":"1","quantity":"999"}`,
			`{"movements":[{"type":"receipt","sku":"OIL-5","sku":"OIL-5","location":"WH1/A","quantity":"1"}]}`,
		} {
			path := "/api/v1/inventory/receipts"
			if strings.Contains(body, "movements") {
				path = "/api/v1/inventory/movements"
			}
			status, b := c.do("POST", path, body)
			if status != 400 || !strings.Contains(string(b), "appears twice") {
				t.Errorf("duplicate member %s: %d %s", body, status, b)
			}
		}
		// Control characters never reach the database (or exports and
		// terminals later): in any string of any body, and line breaks in
		// one-line fields such as lots and names.
		for _, tt := range []struct{ path, body, field string }{
			{"/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1/A","quantity":"1","lot":"L\u0000"}`, "lot"},
			{"/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1/A","quantity":"1","reason":"\u001b[31mred"}`, "reason"},
			{"/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1/A","quantity":"1","lot":"two\nlines"}`, "lot"},
			{"/api/v1/items", `{"sku":"ESC-1","name":"\u001b[2Jcleared"}`, "name"},
			{"/api/v1/items", `{"sku":"ESC-1","name":"line\nbreak"}`, "name"},
		} {
			status, b := c.do("POST", tt.path, tt.body)
			var p api.Problem
			json.Unmarshal(b, &p)
			if status != 422 || p.Errors[tt.field] == "" {
				t.Errorf("%s %s: %d %s", tt.path, tt.body, status, b)
			}
		}
		// One decimal grammar: digits, an optional point with digits after.
		for _, q := range []string{`" 1"`, `"+1"`, `".5"`, `"1."`, `"1e3"`, `"1,5"`} {
			status, b := c.do("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1/A","quantity":`+q+`}`)
			if status != 422 || !strings.Contains(string(b), "quantity") {
				t.Errorf("quantity %s: %d %s", q, status, b)
			}
		}
		batch := `{"movements":[{"type":"receipt","sku":"OIL-5","location":"WH1/A","quantity":"1"},{"type":"move","record_id":` + recordID + `,"to_location":"WH1","quantity":"0.5"}]}`
		batchRes := c.ok("POST", "/api/v1/inventory/movements", batch, 201)
		batchEntries := batchRes["entries"].([]any)
		batchID, _ := batchEntries[0].(map[string]any)["batch_id"].(string)
		if batchID == "" {
			t.Fatalf("batch entry without batch_id: %v", batchEntries[0])
		}
		// The batch's entries, by the id its activity event names.
		if got := c.ok("GET", "/api/v1/inventory/log?batch_id="+batchID, "", 200); got["count"].(float64) != float64(len(batchEntries)) {
			t.Fatalf("log of batch %s: %v, want %d entries", batchID, got["count"], len(batchEntries))
		}
		if status, b := c.do("GET", "/api/v1/inventory/log/export?format=csv&batch_id="+batchID, ""); status != 200 ||
			bytes.Count(b, []byte("\n")) != 1+len(batchEntries) {
			t.Fatalf("csv export of batch %s: %d %s", batchID, status, b)
		} else if sealed := ledgertest.CheckSequenceColumn(t, f.Ctx, db, ledger.InventoryLog, b, 18); sealed != 0 {
			t.Errorf("%d entries sealed with no sealer", sealed)
		}
		if status, b := c.do("GET", "/api/v1/inventory/log?batch_id="+strings.Repeat("x", 65), ""); status != 422 || !strings.Contains(string(b), `"batch_id"`) {
			t.Errorf("a 65-character batch id: %d %s", status, b)
		}
		// The entries of one reference (an order number), exactly.
		for _, ref := range []string{"SO-000077", "SO-0000770", ""} {
			c.ok("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","location":"WH1","quantity":"1","reference":"`+ref+`"}`, 201)
		}
		if got := c.ok("GET", "/api/v1/inventory/log?reference=SO-000077", "", 200); got["count"].(float64) != 1 ||
			got["data"].([]any)[0].(map[string]any)["reference"] != "SO-000077" {
			t.Fatalf("log of reference SO-000077: %v", got)
		}
		if status, b := c.do("GET", "/api/v1/inventory/log/export?format=csv&reference=SO-000077", ""); status != 200 ||
			bytes.Count(b, []byte("\n")) != 2 || !bytes.Contains(b, []byte("SO-000077")) {
			t.Fatalf("csv export of reference SO-000077: %d %s", status, b)
		}
		if status, b := c.do("GET", "/api/v1/inventory/log?reference="+strings.Repeat("r", 201), ""); status != 422 || !strings.Contains(string(b), `"reference"`) {
			t.Errorf("a 201-character reference: %d %s", status, b)
		}
		bad := `{"movements":[{"type":"receipt","sku":"OIL-5","location":"WH1/A","quantity":"1"},{"type":"issue","record_id":` + recordID + `,"quantity":"999"}]}`
		if status, b := c.do("POST", "/api/v1/inventory/movements", bad); status != 422 || !strings.Contains(string(b), "movements[1].quantity") {
			t.Errorf("bad batch: %d %s", status, b)
		}
		rec := c.ok("GET", "/api/v1/inventory/records/"+recordID, "", 200)
		if rec["quantity"] != "11" {
			t.Fatalf("record %v", rec)
		}
		// Idempotency key is recorded in the entry's reference fields.
		status, b := c.do("POST", "/api/v1/inventory/issues", `{"record_id":`+recordID+`,"quantity":"1"}`, "Idempotency-Key", "retry-42")
		if status != 201 || !strings.Contains(string(b), `"idempotency_key":"retry-42"`) {
			t.Fatalf("idempotency key: %d %s", status, b)
		}
		// Log pages with a cursor.
		page := c.ok("GET", "/api/v1/inventory/log?sku=OIL-5&limit=2", "", 200)
		if page["count"].(float64) != 2 || page["next_cursor"] == nil {
			t.Fatalf("page %v", page)
		}
		page2 := c.ok("GET", "/api/v1/inventory/log?sku=OIL-5&limit=2&cursor="+page["next_cursor"].(string), "", 200)
		if page2["count"].(float64) != 2 {
			t.Fatalf("page 2 %v", page2)
		}
		if status, _ := c.do("GET", "/api/v1/inventory/log?action=steal", ""); status != 422 {
			t.Errorf("bad action filter: %d", status)
		}
		c.ok("GET", "/api/v1/inventory/log?api_key_id="+jsonNum(float64(key.ID))+"&from=2000-01-01&to=2999-01-01", "", 200)
		stock := c.ok("GET", "/api/v1/inventory/stock?location_id="+jsonNum(binA["id"]), "", 200)
		if stock["count"].(float64) != 1 {
			t.Fatalf("stock %v", stock)
		}
		c.ok("GET", "/api/v1/inventory/stock?as_of=2000-01-01", "", 200)
		c.ok("GET", "/api/v1/inventory/stock/diff?from=2000-01-01", "", 200)
		// Allocated stock: on hand, allocated and available in every stock
		// read, and the allocation's entry in the log says what it changed.
		rid, _ := strconv.ParseInt(recordID, 10, 64)
		if _, err := inventory.Apply(f.Ctx, db, &inventory.Allocate{Record: inventory.RecordRef{RecordID: rid}, Quantity: "4", Holder: "SO-000012"}); err != nil {
			t.Fatal(err)
		}
		atA := "location_id=" + jsonNum(binA["id"])
		for _, path := range []string{"/api/v1/inventory/stock?" + atA, "/api/v1/inventory/stock?as_of=2999-01-01&" + atA,
			"/api/v1/inventory/stock?shown_at=2999-01-01&" + atA} {
			l := c.ok("GET", path, "", 200)["data"].([]any)[0].(map[string]any)
			if l["quantity"] != "10" || l["allocated"] != "4" || l["available"] != "6" {
				t.Errorf("%s: %v", path, l)
			}
		}
		d := c.ok("GET", "/api/v1/inventory/stock/diff?from=2000-01-01&"+atA, "", 200)["data"].([]any)[0].(map[string]any)
		if d["from_allocated"] != "0" || d["to_allocated"] != "4" || d["allocated_change"] != "4" || d["available"] != "6" {
			t.Errorf("diff %v", d)
		}
		allocatedRec := c.ok("GET", "/api/v1/inventory/records/"+recordID, "", 200)
		if allocatedRec["allocated"] != "4" {
			t.Errorf("record %v", allocatedRec)
		}
		top := c.ok("GET", "/api/v1/inventory/log?limit=1", "", 200)["data"].([]any)[0].(map[string]any)
		if top["movement"] != "allocate" || top["change"] != "0" || top["allocated_change"] != "4" || top["allocated_level"] != "4" || top["reference"] != "SO-000012" {
			t.Errorf("allocation entry %v", top)
		}
		// Issuing more than is available names the holder.
		if status, b := c.do("POST", "/api/v1/inventory/issues", `{"record_id":`+recordID+`,"quantity":"7"}`); status != 422 || !strings.Contains(string(b), "SO-000012") {
			t.Errorf("issue of allocated stock: %d %s", status, b)
		}
		if _, err := inventory.Apply(f.Ctx, db, &inventory.Release{Record: inventory.RecordRef{RecordID: rid}, Quantity: "4", Holder: "SO-000012"}); err != nil {
			t.Fatal(err)
		}
		c.ok("GET", "/api/v1/items/1/history", "", 200)
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		status, b = c.do("GET", "/api/v1/inventory/log/export?format=csv&sku=OIL-5", "")
		if status != 200 || !bytes.HasPrefix(b, []byte("SKU,Quantity,Unit,Action type,User,Station,Timestamp")) {
			t.Fatalf("csv export %d %s", status, b)
		}
		if sealed := ledgertest.CheckSequenceColumn(t, f.Ctx, db, ledger.InventoryLog, b, 18); sealed != bytes.Count(b, []byte("\r\n"))-1 {
			t.Errorf("%d entries sealed, want all", sealed)
		}
		status, b = c.do("GET", "/api/v1/inventory/log/export", "")
		if status != 200 || !bytes.HasPrefix(b, []byte("PK")) {
			t.Fatalf("xlsx export %d", status)
		}
		// A station scans: action type scan, at its own location.
		st, err := f.Auth.CreateStation(f.Ctx, "Dock", int64(binA["id"].(float64)))
		if err != nil {
			t.Fatal(err)
		}
		sc := stockClient{t: t, url: srv.URL, token: st.Token}
		res = sc.ok("POST", "/api/v1/inventory/receipts", `{"sku":"OIL-5","quantity":"1"}`, 201)
		entries = res["entries"].([]any)
		if e := entries[len(entries)-1].(map[string]any); e["action"] != "scan" || e["actor_kind"] != "station" {
			t.Fatalf("station entry %v", e)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenAPICoversInventory(t *testing.T) {
	doc, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Config{})
	a.Register(http.NewServeMux())
	for _, p := range a.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if _, ok := d.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBulkImportAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		c.ok("POST", "/api/v1/items", `{"sku":"A","name":"A"}`, 201)
		c.ok("POST", "/api/v1/locations", `{"code":"WH1"}`, 201)
		status, b := c.do("POST", "/api/v1/inventory/imports", "sku,location,quantity\nA,WH1,5\nB,WH1,1\n", "Content-Type", "text/csv")
		if status != 422 || !strings.Contains(string(b), `"row 3"`) {
			t.Fatalf("bad import: %d %s", status, b)
		}
		status, b = c.do("POST", "/api/v1/inventory/imports", "sku,location,quantity\nA,WH1,5\n", "Content-Type", "text/csv")
		if status != 201 {
			t.Fatalf("import: %d %s", status, b)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

func TestExportRefusesBeforeWriting(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	defer srv.Close()
	key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	c := stockClient{t: t, url: srv.URL, token: key.Secret}
	for _, q := range []string{"sku=NOPE", "format=pdf", "from=yesterday", "action=steal"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/inventory/log/export?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 || resp.Header.Get("Content-Disposition") != "" || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %v", q, resp.StatusCode, resp.Header)
		}
	}
	// An auditor may read and export but not move stock.
	if status, _ := c.do("POST", "/api/v1/inventory/receipts", `{"sku":"A","location":"X","quantity":"1"}`); status != 403 {
		t.Errorf("auditor receipt: %d", status)
	}
}

// A backdated issue that would make the level as of its effective time
// negative: 422 problem+json naming the quantity, the moment and the level
// then, and nothing written.
func TestBackdatedIssueAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		c.ok("POST", "/api/v1/items", `{"sku":"SKU-1","name":"Widget","kind":"part","unit":"pcs"}`, 201)
		wh := c.ok("POST", "/api/v1/locations", `{"kind":"warehouse","code":"WH1"}`, 201)
		c.ok("POST", "/api/v1/locations", `{"kind":"bin","code":"A","parent_id":`+jsonNum(wh["id"])+`}`, 201)
		// Received on Wednesday, entered today.
		res := c.ok("POST", "/api/v1/inventory/receipts", `{"sku":"SKU-1","location":"WH1/A","quantity":"10","effective_at":"2025-09-17T09:00:00Z"}`, 201)
		entries := res["entries"].([]any)
		recordID := jsonNum(entries[len(entries)-1].(map[string]any)["record_id"])
		logged := func() float64 {
			return c.ok("GET", "/api/v1/inventory/log?sku=SKU-1", "", 200)["count"].(float64)
		}
		before := logged()
		status, b := c.do("POST", "/api/v1/inventory/issues", `{"record_id":`+recordID+`,"quantity":"5","effective_at":"2025-09-15T09:00:00Z"}`)
		var p api.Problem
		json.Unmarshal(b, &p)
		if status != 422 || p.Status != 422 || !strings.Contains(p.Errors["quantity"], "as of 2025-09-15 09:00 UTC only 0 pcs of SKU-1 at WH1/A were in stock") {
			t.Fatalf("backdated issue: %d %s", status, b)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/inventory/issues",
			strings.NewReader(`{"record_id":`+recordID+`,"quantity":"1","effective_at":"2025-09-16T09:00:00Z"}`))
		req.Header.Set("Authorization", "Bearer "+key.Secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Fatalf("Tuesday: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if after := logged(); after != before {
			t.Fatalf("log grew from %v to %v entries", before, after)
		}
		// After the receipt it fits.
		c.ok("POST", "/api/v1/inventory/issues", `{"record_id":`+recordID+`,"quantity":"5","effective_at":"2025-09-18T09:00:00Z"}`, 201)
		stock := c.ok("GET", "/api/v1/inventory/stock?as_of=2025-09-16T00:00:00Z", "", 200)
		// A parameter the endpoint does not take is refused, not ignored:
		// this client believed it filtered by SKU and got every row.
		if status, b := c.do("GET", "/api/v1/inventory/stock?as_of=2025-09-16T00:00:00Z&sku=SKU-1", ""); status != 400 ||
			!strings.Contains(string(b), `"sku":"unknown query parameter"`) || !strings.Contains(string(b), "item_id") {
			t.Errorf("unknown parameter: %d %s", status, b)
		}
		if stock["count"].(float64) != 0 {
			t.Fatalf("stock as of Tuesday %v", stock)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDraftLinesAPI: a station collecting a batch initialize through the
// API gets the station screen's rules, and nothing is stored until the
// lines are submitted as an initialization.
func TestDraftLinesAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		c.ok("POST", "/api/v1/items", `{"sku":"OIL-5","name":"Oil","kind":"material","unit":"l","scale":2}`, 201)
		c.ok("POST", "/api/v1/items", `{"sku":"BOLT-M6","name":"Bolt","kind":"part","unit":"pcs","scale":0}`, 201)
		bin := c.ok("POST", "/api/v1/locations", `{"kind":"bin","code":"A1"}`, 201)
		st, err := f.Auth.CreateStation(f.Ctx, "Bench", int64(bin["id"].(float64)))
		if err != nil {
			t.Fatal(err)
		}
		sc := stockClient{t: t, url: srv.URL, token: st.Token}
		const path = "/api/v1/inventory/initializations/draft-lines"
		var draft struct {
			Lines   []map[string]any `json:"lines"`
			Line    int              `json:"line"`
			Merged  bool             `json:"merged"`
			Counted string           `json:"counted"`
			Before  string           `json:"before"`
		}
		scan := func(lines, line string) []byte {
			t.Helper()
			status, b := sc.do("POST", path, `{"lines":`+lines+`,"line":`+line+`}`)
			if status != 200 {
				t.Fatalf("scan %s: %d %s", line, status, b)
			}
			draft.Lines = nil
			if err := json.Unmarshal(b, &draft); err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(draft.Lines)
			return out
		}
		lines := scan(`[]`, `{"sku":"OIL-5","quantity":5}`)
		if string(lines) != `[{"quantity":"5.00","sku":"OIL-5","unit":"l"}]` || draft.Line != 1 || draft.Merged || draft.Counted != "5.00" {
			t.Fatalf("first line: %s %+v", lines, draft)
		}
		lines = scan(string(lines), `{"sku":"BOLT-M6","quantity":"40"}`)
		lines = scan(string(lines), `{"sku":"OIL-5","quantity":"2.5"}`)
		if draft.Line != 1 || !draft.Merged || draft.Before != "5.00" || draft.Counted != "2.50" || draft.Lines[0]["quantity"] != "7.50" || len(draft.Lines) != 2 {
			t.Fatalf("a second scan of a SKU adds to its line: %s %+v", lines, draft)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM inventory_log`); n != 0 {
			t.Fatalf("collecting lines wrote %d log entries", n)
		}

		// Bad lines: a problem naming the field, as on the station screen.
		for _, tt := range []struct {
			body   string
			status int
			field  string
		}{
			{`{"line":{"sku":"NOPE","quantity":"1"}}`, 422, "sku"},
			{`{"line":{"sku":"","quantity":"1"}}`, 422, "sku"},
			{`{"line":{"sku":"OIL-5","quantity":"-1"}}`, 422, "quantity"},
			{`{"line":{"sku":"BOLT-M6","quantity":"1.5"}}`, 422, "quantity"},
			{`{"line":{"sku":"OIL-5","quantity":"1.001"}}`, 422, "quantity"},
			{`{"line":{"sku":"OIL-5","quantity":"1","lot":"` + strings.Repeat("L", 65) + `"}}`, 422, "lot"},
			{`{"line":{"sku":"OIL-5","qty":"1"}}`, 400, ""},
		} {
			status, b := sc.do("POST", path, tt.body)
			var p api.Problem
			json.Unmarshal(b, &p)
			if status != tt.status || (tt.field != "" && p.Errors[tt.field] == "") {
				t.Errorf("%s: %d %s", tt.body, status, b)
			}
		}
		// Only a party that may move stock collects lines.
		auditor, err := f.Auth.CreateAPIKey(f.Ctx, "audit", actor.Auditor)
		if err != nil {
			t.Fatal(err)
		}
		if status, b := (stockClient{t: t, url: srv.URL, token: auditor.Secret}).do("POST", path, `{"line":{"sku":"OIL-5","quantity":"1"}}`); status != 403 {
			t.Errorf("auditor: %d %s", status, b)
		}

		// The lines, without their units, are the initialization to submit.
		var submit []map[string]any
		for _, l := range draft.Lines {
			delete(l, "unit")
			submit = append(submit, l)
		}
		body, _ := json.Marshal(map[string]any{"lines": submit})
		res := sc.ok("POST", "/api/v1/inventory/initializations", string(body), 201)
		if n := len(res["records"].([]any)); n != 2 {
			t.Fatalf("initialization: %v", res)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

func countRows(t *testing.T, db *store.DB, query string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
