package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestBadQueryIntegers: an integer query parameter that is not one is a
// 400 problem naming the parameter, never read as 0.
func TestBadQueryIntegers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Manager)
		if err != nil {
			t.Fatal(err)
		}
		c := stockClient{t: t, url: srv.URL, token: key.Secret}
		item := c.ok("POST", "/api/v1/items", `{"sku":"A","name":"A"}`, 201)
		history := "/api/v1/items/" + jsonNum(item["id"]) + "/history"
		for _, tt := range []struct{ path, param string }{
			{"/api/v1/assets?location_id=abc", "location_id"},
			{"/api/v1/assets?limit=-1", "limit"},
			{"/api/v1/assets?offset=1.5", "offset"},
			{"/api/v1/inventory-sessions?location_id=x", "location_id"},
			{history + "?limit=abc", "limit"},
			{history + "?limit=-5", "limit"},
		} {
			status, b := c.do("GET", tt.path, "")
			var p api.Problem
			json.Unmarshal(b, &p)
			if status != 400 || p.Errors[tt.param] == "" || !strings.Contains(p.Detail, tt.param) {
				t.Errorf("%s: %d %s", tt.path, status, b)
			}
		}
		c.ok("GET", history+"?limit=2", "", 200)
		c.ok("GET", "/api/v1/assets?location_id=0", "", 200)
	})
}

// TestUnknownQueryParametersRefused: every operation refuses a query
// parameter its OpenAPI description does not name (400, naming it), before
// it reads or changes anything; the audit-log API answers in the seed's
// shape. A route added without documenting its parameters fails here.
func TestUnknownQueryParametersRefused(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	defer srv.Close()
	key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Admin)
	if err != nil {
		t.Fatal(err)
	}
	c := stockClient{t: t, url: srv.URL, token: key.Secret}
	a := api.New(api.Config{DB: db, Auth: f.Auth})
	a.Register(http.NewServeMux())
	checked := 0
	for _, pattern := range a.Patterns() {
		method, path, _ := strings.Cut(pattern, " ")
		for _, name := range []string{"{id}", "{asset}"} {
			path = strings.ReplaceAll(path, name, "1")
		}
		status, b := c.do(method, path+"?surely_not_a_filter=1", "")
		if status != 400 || !strings.Contains(string(b), "surely_not_a_filter") {
			t.Errorf("%s: %d %.200s", pattern, status, b)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d operations checked", checked)
	}
}
