package web_test

import (
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestChoicesInsteadOfFreeText: the time zone, the activity filter's entity
// type and the change log's party are chosen from lists (with bad values
// still refused by name); the new station token has a copy button and
// stays selectable text; bulk update offers its templates.
func TestChoicesInsteadOfFreeText(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "Bolt", Unit: "pcs"}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		must := func(page string, wants ...string) {
			t.Helper()
			page = html.UnescapeString(page)
			for _, w := range wants {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		}

		_, page := b.get("/settings")
		must(page, `<select name="time_zone" id="field-time_zone">`, `<optgroup label="Europe">`, `<option selected>UTC</option>`, `<option >Europe/Berlin</option>`)
		form := url.Values{"name": {"Works"}, "time_zone": {"Mars/Olympus"}, "business_hours_start": {"07:00"}, "business_hours_end": {"19:00"},
			"business_days": {"monday"}}
		if status, page := b.post("/settings", form); status != 422 || !strings.Contains(page, "Unknown time zone") {
			t.Fatalf("bad zone: %d", status)
		}
		form.Set("time_zone", "Asia/Kolkata")
		if status, _ := b.post("/settings", form); status != 200 {
			t.Fatalf("good zone: %d", status)
		}
		if ws, _ := workspace.Get(f.Ctx, db); ws.Settings.TimeZone != "Asia/Kolkata" {
			t.Fatalf("zone %q", ws.Settings.TimeZone)
		}
		_, page = b.get("/settings")
		must(page, `<option selected>Asia/Kolkata</option>`)

		_, page = b.get("/activity")
		must(page, `<select name="table_name" id="filter-table_name">`, `<option value="items" >items (products)</option>`, `<option value="products" >products (seed name)</option>`)
		// Actions, categories and search fields in words; the codes stay
		// the values, so addresses and the API are unchanged.
		must(page, `<option value="LOGIN_FAILED" >Login failed</option>`, `<option value="authentication" >Logins and logouts</option>`,
			`<option value="ip" >IP address</option>`)
		_, page = b.get("/activity?table_name=made_up_table")
		must(page, `<option value="made_up_table" selected>made_up_table</option>`)

		_, page = b.get("/inventory/log")
		must(page, `<option value="user_action" >Movements by people</option>`)
		if _, page := b.get("/inventory/log?action=user_correction"); !strings.Contains(html.UnescapeString(page), `<option value="user_correction" selected>Corrections</option>`) {
			t.Error("the action type filter does not keep its choice")
		}
		must(page, `<select name="actor_id" id="filter-actor_id" data-kind-select="filter-actor_kind">`, `<optgroup label="Users">`,
			fmt.Sprintf(`<option value="%d" data-kind="user" >%s</option>`, f.Admin.ID, f.Admin.Name), `<option value="api_key" >An API key</option>`)
		status, page := b.get(fmt.Sprintf("/inventory/log?actor_kind=user&actor_id=%d", f.Admin.ID))
		if status != 200 {
			t.Fatalf("party filter: %d", status)
		}
		must(page, fmt.Sprintf(`<option value="%d" data-kind="user" selected>`, f.Admin.ID), `<option value="user" selected>A user</option>`)
		if status, page := b.get(fmt.Sprintf("/inventory/log?actor_id=%d", f.Admin.ID)); status != 422 || !strings.Contains(page, "give the kind of party") {
			t.Fatalf("party without kind: %d", status)
		}

		status, page = b.post("/stations", url.Values{"name": {"Dock 1"}})
		if status != 200 {
			t.Fatalf("station: %d %s", status, page)
		}
		must(page, `<code id="new-secret">`, `data-copy="new-secret" id="copy-secret" hidden>Copy token</button>`, `/static/pickers.js`)

		_, page = b.get("/inventory/import")
		must(page, `href="/inventory/import/template.xlsx"`, `href="/inventory/import/template.csv"`)
		for format, start := range map[string]string{"csv": "sku,location,quantity,lot,reason", "xlsx": "PK\x03\x04"} {
			res, err := b.c.Get(srv.URL + "/inventory/import/template." + format)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			buf := make([]byte, 64)
			n, _ := res.Body.Read(buf)
			body.Write(buf[:n])
			res.Body.Close()
			if res.StatusCode != 200 || !strings.HasPrefix(strings.TrimPrefix(body.String(), "\ufeff"), start) ||
				!strings.Contains(res.Header.Get("Content-Disposition"), "bulk-update-template."+format) {
				t.Errorf("%s template: %d %q %q", format, res.StatusCode, body.String(), res.Header.Get("Content-Disposition"))
			}
		}
		if status, _ := b.get("/inventory/import/template.ods"); status != 404 {
			t.Errorf("unknown template format: %d", status)
		}
	})
}
