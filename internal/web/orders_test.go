package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// fieldShows reports whether page shows message inside the field block of
// the input with id (GOV.UK style: the message next to the field, not only
// in the summary at the top).
func fieldShows(page, id, message string) bool {
	page = html.UnescapeString(page)
	at := strings.Index(page, `id="`+id+`"`)
	if at < 0 {
		return false
	}
	start := strings.LastIndex(page[:at], `has-error`)
	return start >= 0 && !strings.Contains(page[start:at], `<div class="field"`) && strings.Contains(page[start:at], message)
}

// TestOrderPagesRefuseBadInput sends the order forms what people get wrong:
// each answer names the problem next to the field or the action that caused
// it, and nothing changes.
func TestOrderPagesRefuseBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		lines := func(id int64) int {
			o, err := orders.Get(f.Ctx, db, id)
			if err != nil {
				t.Fatal(err)
			}
			return len(o.Lines)
		}

		// A new order without its customer.
		status, page := b.post("/orders", url.Values{"kind": {"outbound"}, "party": {"  "}})
		if status != 422 || !strings.Contains(page, "There is a problem") || !fieldShows(page, "field-party", "Name the customer") {
			t.Errorf("order without customer: %d\n%s", status, page)
		}
		if p, err := orders.List(f.Ctx, db, orders.Filter{}); err != nil || len(p.Orders) != 0 {
			t.Fatalf("an order was created: %v %v", p.Orders, err)
		}
		o, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd"})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/orders/%d", o.ID)

		for _, c := range []struct {
			name         string
			form         url.Values
			field, wants string
		}{
			{"zero quantity", url.Values{"sku": {"BOLT-M8"}, "quantity": {"0"}}, "field-quantity", "Must be greater than zero"},
			{"negative quantity", url.Values{"sku": {"BOLT-M8"}, "quantity": {"-3"}}, "field-quantity", ""},
			{"too many decimals", url.Values{"sku": {"BOLT-M8"}, "quantity": {"1.5"}}, "field-quantity", ""},
			{"unknown SKU", url.Values{"sku": {"NOPE-1"}, "quantity": {"3"}}, "field-sku", `No item has the SKU "NOPE-1"`},
			{"no SKU", url.Values{"sku": {""}, "quantity": {"3"}}, "field-sku", "Enter the SKU of the item"},
			{"unknown location", url.Values{"sku": {"BOLT-M8"}, "quantity": {"3"}, "location_id": {"987654"}}, "field-location_id", "No such location"},
			{"bad location", url.Values{"sku": {"BOLT-M8"}, "quantity": {"3"}, "location_id": {"A1"}}, "field-location_id", "Must be a whole number"},
		} {
			status, page := b.post(path+"/lines", c.form)
			if status != 422 || !strings.Contains(page, "There is a problem") || !fieldShows(page, c.field, c.wants) {
				t.Errorf("%s: %d, want 422 with %q next to %s\n%s", c.name, status, c.wants, c.field, page)
			}
			if n := lines(o.ID); n != 0 {
				t.Fatalf("%s: the order has %d lines", c.name, n)
			}
		}
		// Confirming an empty order, shipping a draft: refused at the action
		// bar, the status as it was.
		status, page = b.post(path+"/confirm", url.Values{})
		if status != 422 || !strings.Contains(html.UnescapeString(page), "Add at least one line before confirming "+o.Number) {
			t.Errorf("confirm without lines: %d\n%s", status, page)
		}
		status, page = b.post(path+"/ship", url.Values{})
		if status != 409 || !strings.Contains(html.UnescapeString(page), o.Number+" is draft; an order can be shipped only when it is picked") ||
			!strings.Contains(page, `id="field-actions"`) {
			t.Errorf("ship a draft: %d\n%s", status, page)
		}
		if got, _ := orders.Get(f.Ctx, db, o.ID); got.Status != orders.Draft {
			t.Errorf("status %s after refused actions", got.Status)
		}
		// A line's change refused next to that line's field, its form open.
		if o, err = orders.AddLine(f.Ctx, db, o.ID, orders.LineInput{SKU: "BOLT-M8", Quantity: "5"}); err != nil {
			t.Fatal(err)
		}
		line := o.Lines[0]
		status, page = b.post(fmt.Sprintf("%s/lines/%d", path, line.ID), url.Values{"quantity": {"0"}})
		if status != 422 || !fieldShows(page, fmt.Sprintf("field-line-%d-quantity", line.ID), "Must be greater than zero") ||
			!strings.Contains(page, fmt.Sprintf(`id="edit-line-%d" open`, line.ID)) {
			t.Errorf("line change to 0: %d\n%s", status, page)
		}
		if got, _ := orders.Get(f.Ctx, db, o.ID); got.Lines[0].QuantityText() != "5" {
			t.Errorf("line quantity %s after a refused change", got.Lines[0].QuantityText())
		}
		// The same form with a good quantity saves; the header form names its
		// own problems; a line is removed.
		status, page = b.post(fmt.Sprintf("%s/lines/%d", path, line.ID), url.Values{"quantity": {"7"}, "lot": {"L-2"}})
		if status != 200 || !strings.Contains(page, "Line 1 saved") || !strings.Contains(page, "7 pcs") {
			t.Errorf("line change: %d\n%s", status, page)
		}
		status, page = b.post(path, url.Values{"party": {""}, "party_reference": {"R-1"}, "note": {"n"}})
		if status != 422 || !fieldShows(page, "field-header-party", "Name the customer") || !strings.Contains(page, `class="card order-edit" open`) {
			t.Errorf("header without customer: %d\n%s", status, page)
		}
		if status, page = b.post(path, url.Values{"party": {"Acme Trading Ltd"}, "party_reference": {"R-1"}}); status != 200 ||
			!strings.Contains(page, o.Number+" saved") || !strings.Contains(page, "Acme Trading Ltd") {
			t.Errorf("header change: %d\n%s", status, page)
		}
		if o, err = orders.AddLine(f.Ctx, db, o.ID, orders.LineInput{SKU: "OIL-5", Quantity: "1"}); err != nil {
			t.Fatal(err)
		}
		status, page = b.post(fmt.Sprintf("%s/lines/%d/remove", path, line.ID), url.Values{})
		if status != 200 || !strings.Contains(page, "Line 1 removed (7 pcs BOLT-M8)") || lines(o.ID) != 1 {
			t.Errorf("remove line: %d\n%s", status, page)
		}
		// Receiving is for purchase orders.
		status, _ = b.post(path+"/receive", url.Values{"line_id": {fmt.Sprint(line.ID)}, fmt.Sprintf("receive-%d-quantity", line.ID): {"1"}})
		if status != 409 {
			t.Errorf("receive a sales order: %d", status)
		}
		// A cancel reason on two lines is fine; one too long is refused on
		// the check page, the order still open.
		status, page = b.post(path+"/cancel", url.Values{"reason": {strings.Repeat("x", 501)}})
		if status != 422 || !strings.Contains(page, "Cancel "+o.Number) || !fieldShows(page, "field-reason", "At most 500 characters") {
			t.Errorf("long reason: %d\n%s", status, page)
		}
		if got, _ := orders.Get(f.Ctx, db, o.ID); got.Status != orders.Draft {
			t.Errorf("status %s after a refused cancel", got.Status)
		}

		// The list's filters: a bad date or an unknown item is named, not
		// quietly ignored.
		for q, want := range map[string]string{"from=31.12.2025": "Created from", "sku=NOPE-9": `No item has the SKU "NOPE-9"`, "status=lost": "Unknown status"} {
			status, page := b.get("/orders?" + q)
			if status != 422 || !strings.Contains(html.UnescapeString(page), want) {
				t.Errorf("/orders?%s: %d, want %q\n%s", q, status, want, page)
			}
		}
		for _, p := range []string{"/orders/new?kind=sideways", "/orders/abc", "/orders/999999"} {
			if status, _ := b.get(p); status != 404 {
				t.Errorf("%s: %d, want 404", p, status)
			}
		}
		if status, _ := b.get("/orders?before=x"); status != 400 {
			t.Errorf("bad cursor: %d, want 400", status)
		}
	})
}

// TestOrderPagesPermissions: an auditor reads orders and their history but
// is offered no action and refused every one; an operator fulfils but does
// not confirm or cancel.
func TestOrderPagesPermissions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		f.User(t, "audrey@example.com", actor.Auditor)
		f.User(t, "olga@example.com", actor.Operator)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		o, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "3"}}})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/orders/%d", o.ID)

		auditor := loginAs(t, srv.URL, "audrey@example.com", testPassword)
		for _, p := range []string{"/orders", path, path + "/history"} {
			status, page := auditor.get(p)
			if status != 200 || !strings.Contains(page, o.Number) {
				t.Errorf("auditor %s: %d", p, status)
			}
			if strings.Contains(page, `method="post" action="/orders`) {
				t.Errorf("auditor is offered an order form on %s", p)
			}
		}
		if _, page := auditor.get(path + "/history"); !strings.Contains(page, o.Number+" created for customer Acme Ltd") {
			t.Errorf("auditor's history tab:\n%s", page)
		}
		for _, p := range []string{"/orders/new", path + "/cancel", path + "/ship"} {
			if status, _ := auditor.get(p); status != 403 {
				t.Errorf("auditor GET %s: %d, want 403", p, status)
			}
		}
		for _, p := range []string{"/orders", path, path + "/lines", path + "/confirm", path + "/allocate", path + "/cancel", path + "/receive"} {
			if status, _ := auditor.post(p, url.Values{"kind": {"outbound"}, "party": {"X"}, "sku": {"BOLT-M8"}, "quantity": {"1"}}); status != 403 {
				t.Errorf("auditor POST %s: %d, want 403", p, status)
			}
		}
		if got, _ := orders.Get(f.Ctx, db, o.ID); got.Status != orders.Draft || len(got.Lines) != 1 || got.Version != o.Version {
			t.Errorf("the auditor changed the order: %+v", got)
		}
		if p, _ := orders.List(f.Ctx, db, orders.Filter{}); len(p.Orders) != 1 {
			t.Errorf("the auditor created an order")
		}

		// The operator: no confirm, no cancel, no new order; allocates once
		// a manager confirmed.
		operator := loginAs(t, srv.URL, "olga@example.com", testPassword)
		_, page := operator.get(path)
		if strings.Contains(page, path+"/confirm") || strings.Contains(page, "/orders/new") || strings.Contains(page, path+"/cancel") {
			t.Errorf("operator offered a manager's action:\n%s", page)
		}
		if status, _ := operator.post(path+"/confirm", url.Values{}); status != 403 {
			t.Errorf("operator confirm: %d", status)
		}
		if _, err := orders.Confirm(f.Ctx, db, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, page := operator.get(path); !strings.Contains(page, path+"/allocate") {
			t.Errorf("operator not offered Allocate:\n%s", page)
		}
		if status, page := operator.post(path+"/allocate", url.Values{}); status != 200 || !strings.Contains(page, o.Number+" allocated in full") {
			t.Errorf("operator allocate: %d\n%s", status, page)
		}
		if _, page := operator.get(path + "/history"); !strings.Contains(page, o.Number+" allocated in full") || strings.Contains(page, "/activity?") {
			t.Errorf("operator's history tab:\n%s", page)
		}
	})
}

// TestOrderListFiltersAndPaging: the list's search and each filter keep
// what they name, and the pages of a long list follow one another.
func TestOrderListFiltersAndPaging(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		// 52 sales orders for Acme, one purchase order of OIL-5 from Oilco.
		for i := range 52 {
			if _, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd", PartyReference: fmt.Sprintf("ACME-%d", i),
				Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "1"}}}); err != nil {
				t.Fatal(err)
			}
		}
		po, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Inbound, Party: "Oilco", Lines: []orders.LineInput{{SKU: "OIL-5", Quantity: "20"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orders.Confirm(f.Ctx, db, po.ID); err != nil {
			t.Fatal(err)
		}
		rows := func(page string) int { return strings.Count(page, `<td class="wide" data-label="Order">`) }
		status, page := b.get("/orders")
		if status != 200 || rows(page) != 50 || !strings.Contains(page, "PO-000001") || !strings.Contains(page, `id="older"`) {
			t.Fatalf("first page: %d, %d rows", status, rows(page))
		}
		older := html.UnescapeString(regexp.MustCompile(`href="([^"]+)" rel="next" id="older"`).FindStringSubmatch(page)[1])
		if _, page = b.get(older); rows(page) != 3 || strings.Contains(page, `id="older"`) || !strings.Contains(page, "SO-000001") {
			t.Errorf("second page %s: %d rows", older, rows(page))
		}
		today := time.Now().UTC().Format("2006-01-02")
		for q, want := range map[string]int{
			"kind=inbound": 1, "kind=outbound&q=ACME-5": 3 /* ACME-5, ACME-50, ACME-51 */, "status=confirmed": 1,
			"party=oilc": 1, "sku=OIL-5": 1, "q=po-000001": 1, "from=" + today + "&to=" + today + "&kind=inbound": 1, "to=2020-01-01": 0,
		} {
			status, page := b.get("/orders?" + q)
			if status != 200 || rows(page) != want {
				t.Errorf("/orders?%s: %d, %d rows, want %d", q, status, rows(page), want)
			}
			if want == 0 && !strings.Contains(page, "No orders match these filters.") {
				t.Errorf("/orders?%s: no empty message", q)
			}
		}
		// Times are the workspace's.
		tz := "Europe/Berlin"
		if _, err := workspace.Update(f.Ctx, db, workspace.Change{TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		created := po.CreatedAt.In(mustZone(t, tz)).Format("2006-01-02 15:04 MST")
		for _, p := range []string{"/orders?kind=inbound", fmt.Sprintf("/orders/%d", po.ID)} {
			if _, page := b.get(p); !strings.Contains(page, created) {
				t.Errorf("%s does not show %s", p, created)
			}
		}
	})
}

// TestOrderAllocationFromChosenRecords: a person chooses the records a line
// is allocated from; too much from one record, more than the line needs, or
// nothing at all is refused next to the record's field, nothing held.
func TestOrderAllocationFromChosenRecords(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		o, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd", Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "6"}}})
		if err != nil {
			t.Fatal(err)
		}
		if o, err = orders.Confirm(f.Ctx, db, o.ID); err != nil {
			t.Fatal(err)
		}
		line := o.Lines[0]
		it, _ := inventory.ItemBySKU(f.Ctx, db, "BOLT-M8")
		recs, err := inventory.ListRecords(f.Ctx, db, inventory.RecordFilter{ItemID: it.ID})
		if err != nil || len(recs) != 2 {
			t.Fatalf("records %v %v", recs, err)
		}
		a1, a2 := recs[0], recs[1] // WH1/A1 (10), WH1/A2 (4)
		path := fmt.Sprintf("/orders/%d", o.ID)
		_, page := b.get(path)
		if !strings.Contains(page, "Choose the stock for line 1 yourself (6 pcs BOLT-M8 to allocate)") || !strings.Contains(page, "WH1/A2") {
			t.Fatalf("no choice offered:\n%s", page)
		}
		field := func(r inventory.Record) string { return fmt.Sprintf("choose-%d-%d-quantity", line.ID, r.ID) }
		form := func(q1, q2 string) url.Values {
			return url.Values{"choose": {"1"}, "line_id": {fmt.Sprint(line.ID)}, "record_id": {fmt.Sprint(a1.ID), fmt.Sprint(a2.ID)}, field(a1): {q1}, field(a2): {q2}}
		}
		for _, c := range []struct {
			name, q1, q2, field, want string
		}{
			{"nothing", "", "", fmt.Sprintf("choose-%d", line.ID), "Enter how much to allocate from at least one record"},
			{"more than the record has", "", "5", "field-" + field(a2), "available"},
			{"more than the line needs", "7", "", "field-" + field(a1), "Line 1 needs 6 pcs more; 7 chosen"},
			{"zero", "0", "", "field-" + field(a1), "Line 1: must be greater than zero"},
		} {
			status, page := b.post(path+"/allocate", form(c.q1, c.q2))
			text := html.UnescapeString(page)
			if status != 422 || !strings.Contains(text, c.want) || !strings.Contains(page, fmt.Sprintf(`id="choose-line-%d" open`, line.ID)) {
				t.Errorf("%s: %d, want 422 with %q\n%s", c.name, status, c.want, page)
			}
			if strings.HasPrefix(c.field, "field-") && !strings.Contains(text, `has-error" data-label="Allocate"><label class="visually-hidden" for="`+c.field+`"`) {
				t.Errorf("%s: the message is not next to %s", c.name, c.field)
			}
			if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 10/0, WH1/A2 4/0" {
				t.Fatalf("%s: stock %s", c.name, got)
			}
		}
		status, page := b.post(path+"/allocate", form("2", "4"))
		if status != 200 || !strings.Contains(page, o.Number+" allocated in full") || !strings.Contains(page, "WH1/A1: <b>2 pcs</b>") || !strings.Contains(page, "WH1/A2: <b>4 pcs</b>") {
			t.Errorf("chosen allocation: %d\n%s", status, page)
		}
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 10/2, WH1/A2 4/4" {
			t.Errorf("stock after the chosen allocation: %s", got)
		}
	})
}

// TestOrderNumberLinks: the order page links to its change-log entries (one
// link, the reference filter), the change log and the item page link an
// order number to its order through /orders/by-number/{number}, which
// redirects (a 404 page for a number nobody has), and other references stay
// text. The filter survives into the export.
func TestOrderNumberLinks(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		o, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "12"}, {SKU: "OIL-5", Quantity: "2.5"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orders.Confirm(f.Ctx, db, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := orders.Allocate(f.Ctx, db, o.ID, orders.AllocateInput{}); err != nil {
			t.Fatal(err)
		}
		// A hand-made reference that is no order number stays text.
		if _, err := inventory.Receive(f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{Location: "WH1/A1"},
			Quantity: "1", Options: inventory.Options{Reference: "delivery note 77"}}); err != nil {
			t.Fatal(err)
		}
		orderPath := fmt.Sprintf("/orders/%d", o.ID)
		logPath := "/inventory/log?reference=" + o.Number

		_, page := b.get(orderPath)
		if strings.Count(page, `href="`+logPath+`"`) != 1 || !strings.Contains(page, "All change-log entries of this order") ||
			strings.Contains(page, "Change log of") {
			t.Errorf("order page: not one link to %s\n%s", logPath, page)
		}

		// The order's entries: three allocations (BOLT-M8 at two bins, OIL-5).
		status, page := b.get(logPath)
		if status != 200 || strings.Count(page, "<tr>") != 4 || strings.Count(page, `<a href="/orders/by-number/`+o.Number+`">`+o.Number+`</a>`) != 3 {
			t.Errorf("change log of %s: %d, %d rows\n%s", o.Number, status, strings.Count(page, "<tr>")-1, page)
		}
		if !strings.Contains(page, `name="reference" value="`+o.Number+`"`) {
			t.Errorf("the filter form does not show the reference")
		}
		m := regexp.MustCompile(`id="export-csv" href="([^"]+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(html.UnescapeString(m[1]), "reference="+o.Number) {
			t.Fatalf("the export link drops the reference: %v", m)
		}
		status, csv := b.get(html.UnescapeString(m[1]))
		if lines := strings.Split(strings.TrimSpace(csv), "\n"); status != 200 || len(lines) != 4 || strings.Contains(csv, "delivery note 77") {
			t.Errorf("export of %s: %d\n%s", o.Number, status, csv)
		}
		_, page = b.get("/inventory/log")
		if !strings.Contains(page, "delivery note 77") || strings.Contains(page, `">delivery note 77</a>`) {
			t.Errorf("a reference that is no order number is linked, or missing")
		}
		if status, page := b.get("/inventory/log?reference=" + strings.Repeat("r", 201)); status != 422 || !strings.Contains(page, "at most 200 characters") {
			t.Errorf("a 201-character reference: %d", status)
		}

		// The item page's holders link to their order.
		bolt, err := inventory.ItemBySKU(f.Ctx, db, "BOLT-M8")
		if err != nil {
			t.Fatal(err)
		}
		if _, page := b.get(fmt.Sprintf("/inventory/items/%d", bolt.ID)); !strings.Contains(page, `<a class="token" href="/orders/by-number/`+o.Number+`">`+o.Number+`</a> (10)`) {
			t.Errorf("item page: the holder is not linked\n%s", page)
		}

		// The link redirects to the order; an unknown number is a 404 page.
		noFollow := *b.c
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.Get(srv.URL + "/orders/by-number/" + o.Number)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != orderPath {
			t.Errorf("by number: %d to %q, want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), orderPath)
		}
		if status, page := b.get("/orders/by-number/" + o.Number); status != 200 || !strings.Contains(page, o.Number) {
			t.Errorf("following the link: %d", status)
		}
		for _, p := range []string{"/orders/by-number/SO-999999", "/orders/by-number/history", orderPath + "/nothing"} {
			if status, page := b.get(p); status != 404 || !strings.Contains(page, "<main") {
				t.Errorf("%s: %d, want a 404 page", p, status)
			}
		}
		// The pages below an order still answer.
		for _, p := range []string{orderPath + "/history", orderPath + "/cancel"} {
			if status, _ := b.get(p); status != 200 {
				t.Errorf("%s: %d", p, status)
			}
		}
	})
}
