package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// An item's minimum level is set on creation, changed and removed by PATCH
// (null or ""), read back with the item, and refused, naming min_level,
// when it is negative, has more decimals than the unit or is no number.
func TestItemMinimumLevelAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		oil := c.ok("POST", "/api/v1/items", `{"sku":"OIL-5","name":"Oil","unit":"l","scale":2,"min_level":"12.5"}`, 201)
		if oil["min_level"] != "12.5" {
			t.Fatalf("created with min_level %v", oil["min_level"])
		}
		path := "/api/v1/items/" + jsonNum(oil["id"])
		if got := c.ok("PATCH", path, `{"min_level":7}`, 200); got["min_level"] != "7" {
			t.Errorf("PATCH min_level 7: %v", got["min_level"])
		}
		// A PATCH without it keeps it.
		if got := c.ok("PATCH", path, `{"name":"Engine oil"}`, 200); got["min_level"] != "7" {
			t.Errorf("PATCH name changed min_level: %v", got["min_level"])
		}
		if got := c.ok("PATCH", path, `{"min_level":null}`, 200); got["min_level"] != nil {
			t.Errorf("PATCH min_level null: %v", got["min_level"])
		}
		c.ok("PATCH", path, `{"min_level":"3"}`, 200)
		if got := c.ok("PATCH", path, `{"min_level":""}`, 200); got["min_level"] != nil {
			t.Errorf(`PATCH min_level "": %v`, got["min_level"])
		}
		bolt := c.ok("POST", "/api/v1/items", `{"sku":"BOLT-M6","name":"Bolt"}`, 201)
		if bolt["min_level"] != nil {
			t.Errorf("item without a minimum: %v", bolt["min_level"])
		}
		for _, tt := range []struct{ method, path, body string }{
			{"POST", "/api/v1/items", `{"sku":"NEG-1","name":"Neg","min_level":"-1"}`},
			{"POST", "/api/v1/items", `{"sku":"DEC-1","name":"Dec","min_level":"1.5"}`},
			{"POST", "/api/v1/items", `{"sku":"TXT-1","name":"Txt","min_level":"lots"}`},
			{"PATCH", path, `{"min_level":"1.234"}`},
			{"PATCH", path, `{"min_level":"-0.5"}`},
		} {
			status, b := c.do(tt.method, tt.path, tt.body)
			var p api.Problem
			json.Unmarshal(b, &p)
			if status != 422 || p.Errors["min_level"] == "" {
				t.Errorf("%s %s %s: %d %s", tt.method, tt.path, tt.body, status, b)
			}
		}
		// Nothing changed by the refused PATCHes.
		if got := c.ok("GET", path, "", 200); got["min_level"] != nil {
			t.Errorf("after refused changes: %v", got["min_level"])
		}
	})
}
