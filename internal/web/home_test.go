package web_test

import (
	"fmt"
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

// The search pages: the fragment for search-as-you-type, the results page,
// a query too long refused naming it, and both for signed-in people only.
func TestSearchPages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		oil := seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		status, body := b.get("/search/suggest?q=oil")
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`href="/inventory/items/%d"`, oil.ID)) || strings.Contains(body, "<html") {
			t.Errorf("suggestions: %d %s", status, body)
		}
		if status, body := b.get("/search/suggest?q=" + url.QueryEscape("<b>")); status != 200 || strings.Contains(body, "<b>") ||
			!strings.Contains(body, "Nothing matches") {
			t.Errorf("suggestions for markup: %d %s", status, body)
		}
		if status, body := b.get("/search/suggest?q="); status != 200 || strings.TrimSpace(body) != "" {
			t.Errorf("empty suggestions: %d %q", status, body)
		}
		if status, body := b.get("/search?q=WH1%2FA"); status != 200 || !strings.Contains(body, `id="search-locations"`) ||
			!strings.Contains(body, "WH1/A1") || !strings.Contains(body, "WH1/A2") {
			t.Errorf("results page: %d %s", status, body)
		}
		long := strings.Repeat("x", 101)
		if status, body := b.get("/search?q=" + long); status != 422 || !strings.Contains(body, "at most 100 characters") {
			t.Errorf("long query: %d", status)
		}
		if status, _ := b.get("/search/suggest?q=" + long); status != 422 {
			t.Errorf("long suggestion query: %d", status)
		}
		anon := browser{t: t, base: srv.URL, c: srv.Client()}
		if status, body := anon.get("/search/suggest?q=oil"); strings.Contains(body, "OIL-5") {
			t.Errorf("signed out, the search answered %d %s", status, body)
		}
	})
}

// The item edit page sets and removes the minimum level; a bad one is shown
// next to its field, with what was typed kept, and changes nothing.
func TestItemEditPage(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		oil := seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		path := fmt.Sprintf("/inventory/items/%d/edit", oil.ID)
		if status, body := b.get(path); status != 200 || !strings.Contains(body, `name="min_level"`) {
			t.Fatalf("edit page: %d", status)
		}
		form := url.Values{"sku": {"OIL-5"}, "name": {"Engine oil"}, "kind": {"material"}, "min_level": {"2.5"}}
		if status, body := b.post(path, form); status != 200 || !strings.Contains(body, "Minimum level 2.50 l") {
			t.Errorf("save: %d %s", status, body)
		}
		form.Set("min_level", "-3")
		status, body := b.post(path, form)
		if status != 422 || !strings.Contains(body, `href="#field-min_level"`) || !strings.Contains(body, `value="-3"`) ||
			!strings.Contains(body, "0 or more") {
			t.Errorf("negative minimum: %d %s", status, body)
		}
		if it, _ := inventory.GetItem(f.Ctx, db, oil.ID); it.MinLevelText() != "2.50" {
			t.Errorf("after the refused change: %q", it.MinLevelText())
		}
		form.Set("min_level", "")
		if status, body := b.post(path, form); status != 200 || strings.Contains(body, "Minimum level 2.50 l.") || !strings.Contains(body, "Item OIL-5 saved") {
			t.Errorf("remove: %d", status)
		}
		// The stock page's new item form takes a minimum too.
		if status, body := b.post("/inventory/items", url.Values{"sku": {"NUT-1"}, "name": {"Nut"}, "kind": {"part"}, "unit": {"pcs"}, "scale": {"0"},
			"min_level": {"50"}}); status != 200 || !strings.Contains(body, "Minimum level 50 pcs") {
			t.Errorf("create with a minimum: %d", status)
		}
		// An operator moves stock but does not edit the catalogue.
		f.User(t, "op@example.com", actor.Operator)
		opb := loginAs(t, srv.URL, "op@example.com", "correct horse battery")
		if status, _ := opb.get(path); status != 403 {
			t.Errorf("operator edit page: %d", status)
		}
		if status, _ := opb.post(path, form); status != 403 {
			t.Errorf("operator edit: %d", status)
		}
		if _, body := opb.get(fmt.Sprintf("/inventory/items/%d", oil.ID)); strings.Contains(body, `id="edit-item"`) {
			t.Errorf("operator offered Edit item")
		}
	})
}
