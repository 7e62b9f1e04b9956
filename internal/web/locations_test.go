package web_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestLocationPages: the tree lists every location, and a location's page
// shows where it sits, what is inside, the stock kept there and its history.
func TestLocationPages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		if status, body := b.post("/inventory/movements", url.Values{"kind": {"receipt"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"7.25"}}); status != 200 {
			t.Fatalf("receipt: %d %s", status, body)
		}
		status, body := b.get("/inventory/locations")
		if status != 200 || !strings.Contains(body, "WH1/A1") || !strings.Contains(body, "WH1/A2") {
			t.Fatalf("tree: %d %s", status, body)
		}
		locs, err := inventory.ListLocations(f.Ctx, db, false)
		if err != nil {
			t.Fatal(err)
		}
		var wh, a1 inventory.Location
		for _, l := range locs {
			switch l.Path {
			case "WH1":
				wh = l
			case "WH1/A1":
				a1 = l
			}
		}
		status, body = b.get("/inventory/locations/" + itoa(a1.ID))
		for _, want := range []string{"inside", "WH1", "OIL-5", "7.25", "History", "location WH1/A1 created"} {
			if status != 200 || !strings.Contains(body, want) {
				t.Fatalf("location page lacks %q: %d %s", want, status, body)
			}
		}
		if _, body = b.get("/inventory/locations/" + itoa(wh.ID)); !strings.Contains(body, "A2") || !strings.Contains(body, "Nothing is kept here") {
			t.Fatalf("warehouse page: %s", body)
		}
		if status, _ = b.get("/inventory/locations/999999"); status != 404 {
			t.Fatalf("unknown location: %d", status)
		}
		// An operator sees the location but not its activity history.
		f.User(t, "op@example.com", actor.Operator)
		ob := loginAs(t, srv.URL, "op@example.com", "correct horse battery")
		if status, body = ob.get("/inventory/locations/" + itoa(a1.ID)); status != 200 || strings.Contains(body, "location WH1/A1 created") {
			t.Fatalf("operator view: %d", status)
		}
	})
}

// TestLocationsTabCreates: the Locations tab adds locations itself; a
// refusal comes back to the tab with the message next to its field and what
// was typed, and creates nothing; an operator is not offered the form.
func TestLocationsTabCreates(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		if _, body := b.get("/inventory/locations"); !strings.Contains(body, `id="location-form"`) {
			t.Fatalf("no form on the tab: %s", body)
		}
		locs, err := inventory.ListLocations(f.Ctx, db, false)
		if err != nil {
			t.Fatal(err)
		}
		before := len(locs)
		var wh inventory.Location
		for _, l := range locs {
			if l.Path == "WH1" {
				wh = l
			}
		}
		status, body := b.post("/inventory/locations", url.Values{"from": {"locations"}, "parent_id": {itoa(wh.ID)}, "kind": {"bin"},
			"code": {"A/9"}, "name": {"Bad bin"}})
		if status != 422 || !strings.Contains(body, "<h1>Locations</h1>") || !strings.Contains(body, `value="Bad bin"`) ||
			!strings.Contains(body, `<span class="field-error">`) {
			t.Fatalf("refused location: %d %s", status, body)
		}
		// The error summary speaks of the field as its label does, not as
		// the API, and no banner says it again.
		if !strings.Contains(body, `<li><a href="#field-code">Code: `) || strings.Contains(body, "invalid code") || strings.Contains(body, `<p class="error"`) {
			t.Fatalf("refused location's banner: %s", body)
		}
		if after, _ := inventory.ListLocations(f.Ctx, db, false); len(after) != before {
			t.Fatalf("a refused location changed the tree: %d → %d", before, len(after))
		}
		status, body = b.post("/inventory/locations", url.Values{"from": {"locations"}, "parent_id": {itoa(wh.ID)}, "kind": {"bin"},
			"code": {"A9"}, "name": {"Overflow bin"}})
		if status != 200 || !strings.Contains(body, "<h1>Locations</h1>") || !strings.Contains(body, "Location WH1/A9 created") {
			t.Fatalf("new location: %d %s", status, body)
		}
		f.User(t, "op@example.com", actor.Operator)
		ob := loginAs(t, srv.URL, "op@example.com", "correct horse battery")
		if _, body = ob.get("/inventory/locations"); strings.Contains(body, `id="location-form"`) || !strings.Contains(body, "WH1/A9") {
			t.Fatalf("operator's tab: %s", body)
		}
	})
}
