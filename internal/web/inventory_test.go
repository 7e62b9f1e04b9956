package web_test

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// seedInventory gives the fixture's workspace an item and two bins.
func seedInventory(t *testing.T, f *storetest.Fixture) inventory.Item {
	t.Helper()
	two := 2
	it, err := inventory.CreateItem(f.Ctx, f.DB, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Kind: inventory.Material, Unit: "l", Scale: &two})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := inventory.CreateLocation(f.Ctx, f.DB, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"A1", "A2"} {
		if _, err := inventory.CreateLocation(f.Ctx, f.DB, inventory.LocationInput{ParentID: wh.ID, Kind: inventory.Bin, Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	return it
}

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func login(t *testing.T, srvURL string, f *storetest.Fixture) browser {
	return loginAs(t, srvURL, "admin@example.com", f.AdminPassword)
}

func loginAs(t *testing.T, srvURL, email, password string) browser {
	jar, _ := cookiejar.New(nil)
	b := browser{t: t, base: srvURL, c: &http.Client{Jar: jar}}
	status, body := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if status != 200 {
		t.Fatalf("login %d %s", status, body)
	}
	return b
}

func (b browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form.Get("csrf_token") == "" {
		page := "/inventory"
		if path == "/login" {
			page = "/login"
		}
		_, page = b.get(page)
		if m := csrfPattern.FindStringSubmatch(page); m != nil {
			form.Set("csrf_token", m[1])
		}
	}
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestInventoryPages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		it := seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		status, body := b.post("/inventory/movements", url.Values{"kind": {"receipt"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"12.5"}})
		if status != 200 || !strings.Contains(body, "Receipt recorded") || !strings.Contains(body, "12.50") {
			t.Fatalf("receipt: %d %s", status, body)
		}
		// What is there so far sealed into the ledger; the movements below not.
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		// Bad inputs come back as readable errors on the same page.
		for _, tt := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"kind": {"receipt"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"0.001"}}, "at most 2 decimals"},
			{url.Values{"kind": {"receipt"}, "sku": {"NOPE"}, "location": {"WH1/A1"}, "quantity": {"1"}}, "There is no item with SKU NOPE"},
			{url.Values{"kind": {"receipt"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"ten"}}, "decimal number"},
			{url.Values{"kind": {"issue"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"100"}, "item_page": {itoa(it.ID)}}, "only 12.50"},
			{url.Values{"kind": {"correction"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "change": {"1"}, "item_page": {itoa(it.ID)}}, "needs a reason"},
		} {
			status, body := b.post("/inventory/movements", tt.form)
			if status != 422 || !strings.Contains(body, tt.want) {
				t.Errorf("%v: %d, want %q in page", tt.form, status, tt.want)
			}
		}
		status, body = b.post("/inventory/movements", url.Values{"kind": {"move"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "to_location": {"WH1/A2"},
			"quantity": {"2"}, "item_page": {itoa(it.ID)}})
		if status != 200 || !strings.Contains(body, "Move recorded") {
			t.Fatalf("move: %d", status)
		}
		for _, kind := range []url.Values{
			{"kind": {"issue"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"0.5"}},
			{"kind": {"correction"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "change": {"-1"}, "reason": {"leak"}},
			{"kind": {"reconciliation"}, "sku": {"OIL-5"}, "location": {"WH1/A2"}, "counted": {"3"}},
			{"kind": {"split"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "new_lot": {"B"}, "quantity": {"1"}},
		} {
			if status, body := b.post("/inventory/movements", kind); status != 200 {
				t.Errorf("%v: %d %s", kind, status, body)
			}
		}
		// Merge the split-off lot back, then delete an emptied record.
		recs, err := inventory.ListRecords(f.Ctx, db, inventory.RecordFilter{ItemID: it.ID})
		if err != nil || len(recs) != 3 {
			t.Fatalf("records %v %v", recs, err)
		}
		var main, lotB, other inventory.Record
		for _, r := range recs {
			switch {
			case r.Lot == "B":
				lotB = r
			case r.LocationPath == "WH1/A1":
				main = r
			default:
				other = r
			}
		}
		status, body = b.post("/inventory/movements", url.Values{"kind": {"merge"}, "record_ids": {itoa(lotB.ID)}, "into_record_id": {itoa(main.ID)}, "item_page": {itoa(it.ID)}})
		if status != 200 || !strings.Contains(body, "Merge recorded") {
			t.Fatalf("merge: %d", status)
		}
		status, body = b.post("/inventory/records/"+itoa(other.ID)+"/delete", url.Values{})
		if status != 422 || !strings.Contains(body, "say why") {
			t.Fatalf("delete without reason: %d", status)
		}
		if status, body := b.post("/inventory/records/"+itoa(other.ID)+"/delete", url.Values{"reason": {"\x1b[31memptied"}}); status != 422 || !strings.Contains(body, "control character") {
			t.Fatalf("a control character in a form: %d", status)
		}
		status, body = b.post("/inventory/records/"+itoa(other.ID)+"/delete", url.Values{"reason": {"bin emptied"}})
		if status != 200 || !strings.Contains(body, "deleted") {
			t.Fatalf("delete: %d", status)
		}
		status, body = b.post("/inventory/movements", url.Values{"kind": {"create"}, "sku": {"OIL-5"}, "location": {"WH1/A2"}, "lot": {"NEW"},
			"quantity": {"1.25"}, "item_page": {itoa(it.ID)}})
		if status != 200 || !strings.Contains(body, "Record created: WH1/A2 lot NEW with 1.25 l") {
			t.Fatalf("create record: %d", status)
		}
		status, body = b.post("/inventory/records/"+itoa(main.ID)+"/lot", url.Values{"lot": {"RELABELLED"}})
		if status != 200 || !strings.Contains(body, "Lot changed") || !strings.Contains(body, "RELABELLED") {
			t.Fatalf("change lot: %d", status)
		}
		for _, path := range []string{"/inventory", "/inventory/items/" + itoa(it.ID), "/inventory/log", "/inventory/log?sku=OIL-5&action=user_correction",
			"/inventory/as-of?at=2000-01-01T00:00", "/inventory/as-of?at=2000-01-01T00:00&compare=2999-01-01T00:00", "/inventory/as-of?at=2999-01-01T00:00&mode=shown",
			"/inventory?as_of=2000-01-01T10:00", "/inventory/import"} {
			if status, body := b.get(path); status != 200 || !strings.Contains(body, "</main>") {
				t.Errorf("GET %s: %d %s", path, status, body)
			}
		}
		if _, body := b.get("/inventory/items/" + itoa(it.ID)); !strings.Contains(body, `href="/inventory/log?sku=OIL-5"`) {
			t.Error("the item page's link to its log does not filter by its SKU")
		}
		if status, body := b.get("/inventory/log?from=yesterday"); status != 422 || !strings.Contains(body, "use a date") {
			t.Errorf("bad filter: %d", status)
		}
		status, body = b.get("/inventory/log/export?format=csv&sku=OIL-5")
		if status != 200 || !strings.HasPrefix(body, "SKU,Quantity,Unit,Action type,User,Station,Timestamp") {
			t.Fatalf("csv export: %d %.200s", status, body)
		}
		if sealed, rows := ledgertest.CheckSequenceColumn(t, f.Ctx, db, ledger.InventoryLog, []byte(body), 18), strings.Count(body, "\r\n")-1; sealed == 0 || sealed == rows {
			t.Errorf("%d of %d entries sealed: the export should hold both kinds", sealed, rows)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (b browser) upload(path, name, content string, fields url.Values) (int, string) {
	b.t.Helper()
	_, page := b.get("/inventory/import")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if m := csrfPattern.FindStringSubmatch(page); m != nil {
		mw.WriteField("csrf_token", m[1])
	}
	for k := range fields {
		mw.WriteField(k, fields.Get(k))
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	resp, err := b.c.Post(b.base+path, mw.FormDataContentType(), &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBulkUpdatePage(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		status, body := b.upload("/inventory/import", "count.csv", "sku,location,quantity\nOIL-5,WH1/A1,2\nNOPE,WH1/A1,1\nOIL-5,WH1/A2,0.001\n", nil)
		if status != 422 || !strings.Contains(body, "import-errors") || !strings.Contains(body, "row 3") || !strings.Contains(body, "row 4") {
			t.Fatalf("bad import: %d %s", status, body)
		}
		status, body = b.upload("/inventory/import", "count.csv", "sku,where,quantity\n", nil)
		if status != 422 || !strings.Contains(body, "unknown column") {
			t.Fatalf("wrong columns: %d", status)
		}
		status, body = b.upload("/inventory/import", "count.csv", "sku,location,quantity\nOIL-5,WH1/A1,2\n", url.Values{"reason": {"year-end count"}})
		if status != 200 || !strings.Contains(body, "Bulk update applied") || !strings.Contains(body, "year-end count") {
			t.Fatalf("good import: %d %s", status, body)
		}
		// The import's one activity event leads to its movements in the
		// change log.
		_, body = b.get("/activity?table_name=inventory_batch")
		m := regexp.MustCompile(`href="(/inventory/log\?batch_id=[^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no link from the import's activity event to its movements:\n%s", body)
		}
		// The header, then the count's correction with the record's
		// creation folded into it (shown on expanding it).
		status, body = b.get(html.UnescapeString(m[1]))
		if status != 200 || strings.Count(body, "<tr") != 2 || !strings.Contains(body, "Record created first") || !strings.Contains(body, "create_record") ||
			!strings.Contains(body, "user_correction") || !strings.Contains(body, "Bulk update") {
			t.Fatalf("the import's movements: %d, %d rows\n%s", status, strings.Count(body, "<tr")-1, body)
		}
		if status, body := b.get("/inventory/log?batch_id=" + strings.Repeat("x", 65)); status != 422 || !strings.Contains(body, "at most 64 characters") {
			t.Errorf("a 65-character batch id: %d", status)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBadQueryNumbers: a number in a link that is not one is a 400 page
// saying which parameter is wrong, not a page quietly showing everything.
func TestBadQueryNumbers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		for _, path := range []string{
			"/inventory?location_id=abc",
			"/inventory?location_id=-1",
			"/inventory?location_id=1.5&sku=OIL-5",
			"/inventory/as-of?location_id=abc&at=2000-01-01",
			"/inventory/as-of?location_id=-3",
		} {
			// Named as the filter is labelled, and linked to it.
			status, body := b.get(path)
			if status != 400 || !strings.Contains(body, "Location must be a non-negative whole number") || strings.Contains(body, "Location_id") ||
				!strings.Contains(body, `role="alert"`) || !strings.Contains(body, `<a href="#filter-location_id">`) ||
				!strings.Contains(body, `<select id="filter-location_id" name="location_id">`) {
				t.Errorf("%s: %d, %s", path, status, alert(body))
			}
		}
		// The asset and session pages read their numbers the same way; a
		// parameter no filter sends is named in words.
		for path, said := range map[string]string{
			"/assets?location_id=abc":          "Location must be",
			"/assets?offset=-5":                "Offset must be",
			"/inventory-checks?location_id=x1": "Location must be",
			"/inventory-checks/1?view=3.5":     "View must be",
			"/orders?before=-1":                "Before must be",
		} {
			status, body := b.get(path)
			if status != 400 || !strings.Contains(body, said+" a non-negative whole number") || strings.Contains(body, "Location_id") {
				t.Errorf("%s: %d, %s", path, status, alert(body))
			}
		}
		for _, path := range []string{"/inventory?location_id=", "/inventory?location_id=0", "/inventory/as-of?location_id=0"} {
			if status, body := b.get(path); status != 200 {
				t.Errorf("%s: %d, %s", path, status, alert(body))
			}
		}
	})
}
