package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// seedOrderStock gives the fixture's workspace two items and stock of them
// in two bins: 10 + 4 pcs of BOLT-M8 at WH1/A1 and WH1/A2, 12.50 l of OIL-5
// at WH1/A1.
func seedOrderStock(t *testing.T, f *storetest.Fixture) map[string]inventory.Location {
	t.Helper()
	seedInventory(t, f) // OIL-5 (l, 2 decimals), WH1, WH1/A1, WH1/A2
	zero := 0
	if _, err := inventory.CreateItem(f.Ctx, f.DB, inventory.ItemInput{SKU: "BOLT-M8", Name: "Hex bolt M8×40", Kind: inventory.Part, Unit: "pcs", Scale: &zero}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		sku, loc string
		q        inventory.DecimalText
	}{{"BOLT-M8", "WH1/A1", "10"}, {"BOLT-M8", "WH1/A2", "4"}, {"OIL-5", "WH1/A1", "12.5"}} {
		if _, err := inventory.Receive(f.Ctx, f.DB, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: r.sku}, LocationRef: inventory.LocationRef{Location: r.loc},
			Quantity: r.q}); err != nil {
			t.Fatal(err)
		}
	}
	locs, err := inventory.ListLocations(f.Ctx, f.DB, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]inventory.Location{}
	for _, l := range locs {
		out[l.Path] = l
	}
	return out
}

// stockOf is an item's on-hand and allocated quantity per location, as
// "WH1/A1 10/2" (on hand / allocated), in location order.
func stockOf(t *testing.T, f *storetest.Fixture, sku string) string {
	t.Helper()
	it, err := inventory.ItemBySKU(f.Ctx, f.DB, sku)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := inventory.ListRecords(f.Ctx, f.DB, inventory.RecordFilter{ItemID: it.ID})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("%s %s/%s", r.LocationPath, r.QuantityText(), r.AllocatedText()))
	}
	return strings.Join(parts, ", ")
}

// orderBrowser drives one Chromium through the order pages.
type orderBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots, when set
	name string // engine, for screenshot names
}

func (b orderBrowser) fail(step string, err error) {
	b.t.Helper()
	browsertest.Screenshot(b.t, b.ctx, filepath.Join(b.t.TempDir(), "failure.png"))
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("%s: %v\npage:\n%s", step, err, text)
}

func (b orderBrowser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// waitFor polls a JavaScript condition, robust across the page loads every
// form causes.
func (b orderBrowser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function(){try{return !!(`+cond+`)}catch(e){return false}})()`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fail("waiting for "+what, fmt.Errorf("%s never held", cond))
}

func (b orderBrowser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.waitFor(path, `document.readyState === "complete" && document.querySelector("main")`)
}

// submit clicks selector and waits for the page that answers the form.
func (b orderBrowser) submit(what, selector string) {
	b.t.Helper()
	b.waitFor(what, fmt.Sprintf(`document.querySelector(%q)`, selector))
	b.do(what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.beforeSubmit = true; document.querySelector(%q).click()`, selector)))
	b.waitFor(what+" answered", `!window.beforeSubmit && document.readyState === "complete" && document.querySelector("main")`)
}

func (b orderBrowser) text() string {
	b.t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if err != nil {
		b.fail("page text", err)
	}
	return text
}

// see asserts that the page shows every one of want.
func (b orderBrowser) see(step string, want ...string) {
	b.t.Helper()
	text := b.text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			b.t.Errorf("%s: %q not on the page:\n%s", step, w, text)
		}
	}
}

// shot saves the page at a desk's size and a phone's (when screenshots are
// asked for) and checks that nothing scrolls sideways on the phone.
func (b orderBrowser) shot(name string) {
	b.t.Helper()
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		b.do("resize", chromedp.EmulateViewport(size.w, size.h))
		wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			b.fail("width", err)
		}
		if wide {
			b.t.Errorf("%s at %s scrolls sideways", name, size.name)
		}
		inner, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll("main table")).some(t => t.scrollWidth > t.clientWidth + 1)`))
		if err != nil {
			b.fail("table width", err)
		}
		if inner {
			b.t.Errorf("%s at %s: a table scrolls sideways", name, size.name)
		}
		if b.dir != "" {
			browsertest.Screenshot(b.t, b.ctx, filepath.Join(b.dir, "order-"+name+"-"+size.name+"-"+b.name+".png"))
		}
	}
}

// path is the address of the page shown.
func (b orderBrowser) path() string {
	b.t.Helper()
	p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		b.fail("path", err)
	}
	return p
}

// stockRows reads the stock page's table, a line per row, its cells
// separated by " / ".
func (b orderBrowser) stockRows() string {
	b.t.Helper()
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll("#stock tbody tr")).map(r => Array.from(r.cells).map(c => c.innerText.trim()).join(" / ")).join("\n")`))
	if err != nil {
		b.fail("stock rows", err)
	}
	return rows
}

func newOrderBrowser(t *testing.T, db *store.DB, f *storetest.Fixture) orderBrowser {
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	b := orderBrowser{t: t, ctx: browsertest.New(t), base: srv.URL, dir: os.Getenv("STOCKTRAIL_SCREENSHOTS"), name: string(db.Engine())}
	b.do("log in", browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword))
	return b
}

// orderEvents are the descriptions of an order's activity events, oldest
// first.
func orderEvents(t *testing.T, f *storetest.Fixture, number string) []string {
	t.Helper()
	o, err := orders.ByNumber(f.Ctx, f.DB, number)
	if err != nil {
		t.Fatal(err)
	}
	events, err := activity.ForEntity(f.Ctx, f.DB, "orders", fmt.Sprint(o.ID), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Category != activity.Orders {
			t.Errorf("event %q has category %s", events[i].Description, events[i].Category)
		}
		out = append(out, events[i].Description)
	}
	return out
}

// logOf is the change log's entries with reference, as "movement change
// allocated_change SKU location" lines, oldest first.
func logOf(t *testing.T, f *storetest.Fixture, reference string) []string {
	t.Helper()
	page, err := inventory.ListLog(f.Ctx, f.DB, inventory.LogFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		e := page.Entries[i]
		if e.Reference == reference {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", e.Movement, e.Change, e.AllocatedChange, e.SKU, e.LocationPath))
		}
	}
	return out
}

// TestOutboundOrderInBrowser takes a sales order from a new one to its
// shipment in a real Chromium, as a person would: create it, add two lines
// (after a refused zero quantity), confirm, allocate, pick, ship through the
// check page, close; each step's page, the stock after it, the order's
// activity events and the change-log entries with its number.
func TestOutboundOrderInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedOrderStock(t, f)
		b := newOrderBrowser(t, db, f)

		b.open("/orders")
		b.see("empty list", "Orders", "No orders yet.")
		b.submit("new sales order", "#new-outbound")
		b.see("new order", "New sales order", "Customer")
		b.shot("new")
		// A customer is required: the page says so next to the field.
		b.submit("create without customer", "#create-order")
		b.see("no customer", "There is a problem", "Name the customer")
		b.waitFor("message next to the field", `document.querySelector(".field.has-error #field-party")`)
		b.shot("new-error")
		b.do("fill order", chromedp.SendKeys(chromedp.ID("field-party"), "Acme Ltd"),
			chromedp.SendKeys(chromedp.ID("field-party_reference"), "ACME-PO-77"))
		b.submit("create", "#create-order")
		b.see("created", "SO-000001 created: add its lines", "Sales order · for Acme Ltd", "their reference ACME-PO-77", "Draft", "No lines yet.")

		// A zero quantity is refused next to the field; nothing is added.
		b.do("zero line", chromedp.SendKeys(chromedp.ID("field-sku"), "BOLT-M8"), chromedp.SendKeys(chromedp.ID("field-quantity"), "0"))
		b.submit("add zero", "#add-line-submit")
		b.see("zero refused", "There is a problem", "Must be greater than zero", "No lines yet.")
		b.waitFor("zero next to quantity", `document.querySelector(".field.has-error #field-quantity") && document.getElementById("field-sku").value === "BOLT-M8"`)
		b.shot("line-error")
		b.do("fix quantity", chromedp.SetValue(chromedp.ID("field-quantity"), "12"))
		b.submit("add bolts", "#add-line-submit")
		b.see("line 1", "Line 1 added: 12 pcs BOLT-M8")
		b.do("oil line", chromedp.SendKeys(chromedp.ID("field-sku"), "OIL-5"), chromedp.SendKeys(chromedp.ID("field-quantity"), "2.5"))
		b.submit("add oil", "#add-line-submit")
		b.see("line 2", "Line 2 added: 2.50 l OIL-5", "Hex bolt M8×40", "12 pcs", "2.50 l")
		b.shot("draft")

		b.submit("confirm", "#action-confirm")
		b.see("confirmed", "SO-000001 confirmed", "Allocate stock", "Choose the stock for line 1 yourself (12 pcs BOLT-M8 to allocate)")
		b.do("open the choices", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.choose").forEach(d => d.open = true)`))
		b.shot("confirmed")
		b.submit("allocate", "#action-allocate")
		b.see("allocated", "SO-000001 allocated in full", "WH1/A1: 10 pcs", "WH1/A2: 2 pcs", "WH1/A1: 2.50 l", "Mark as picked")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 10/10, WH1/A2 4/2" {
			t.Errorf("BOLT-M8 after allocating: %s", got)
		}
		b.shot("allocated")
		// The stock page says the same: on hand, allocated, available.
		orderPath := b.path()
		b.open("/inventory?sku=BOLT-M8")
		if got := b.stockRows(); got != "BOLT-M8 / Hex bolt M8×40 / WH1/A1 / 10 pcs / 10 pcs / 0 pcs\nBOLT-M8 / Hex bolt M8×40 / WH1/A2 / 4 pcs / 2 pcs / 2 pcs" {
			t.Errorf("stock page after allocating:\n%s", got)
		}
		b.open(orderPath)
		b.submit("pick", "#action-pick")
		b.see("picked", "SO-000001 picked: ready to ship", "Ship…")
		b.shot("picked")
		b.submit("ship check", "#action-ship")
		b.see("check page", "Check before you ship SO-000001", "Acme Ltd", "WH1/A2: 2 pcs", "cannot be undone")
		b.shot("ship-check")
		b.submit("ship", "#confirm-ship")
		b.see("shipped", "SO-000001 shipped", "Close order")
		b.shot("shipped")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A2 2/0" {
			t.Errorf("BOLT-M8 after shipping: %s", got)
		}
		if got := stockOf(t, f, "OIL-5"); got != "WH1/A1 10.00/0.00" {
			t.Errorf("OIL-5 after shipping: %s", got)
		}
		b.open("/inventory?sku=BOLT-M8")
		if got := b.stockRows(); got != "BOLT-M8 / Hex bolt M8×40 / WH1/A2 / 2 pcs / 0 pcs / 2 pcs" {
			t.Errorf("stock page after shipping:\n%s", got)
		}
		b.open(orderPath)
		b.submit("close", "#action-close")
		b.see("closed", "SO-000001 closed")
		b.waitFor("no actions when closed", `!document.getElementById("field-actions")`)

		// History tab: the order's events, before → after.
		b.submit("history", "#tab-history")
		b.see("history", "History", "SO-000001 created for customer Acme Ltd", "SO-000001 confirmed", "SO-000001 allocated in full",
			"SO-000001 shipped", "SO-000001 closed", "Status")
		b.shot("history")
		want := []string{"SO-000001 created for customer Acme Ltd", "SO-000001 line 1 added: 12 BOLT-M8", "SO-000001 line 2 added: 2.50 OIL-5",
			"SO-000001 confirmed", "SO-000001 allocated in full", "SO-000001 2 lines picked", "SO-000001 shipped", "SO-000001 closed"}
		if got := orderEvents(t, f, "SO-000001"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantLog := []string{"allocate 0 10 BOLT-M8 WH1/A1", "allocate 0 2 BOLT-M8 WH1/A2", "allocate 0 2.5 OIL-5 WH1/A1",
			"ship -10 -10 BOLT-M8 WH1/A1", "ship -2 -2 BOLT-M8 WH1/A2", "ship -2.5 -2.5 OIL-5 WH1/A1"}
		if got := logOf(t, f, "SO-000001"); strings.Join(got, "\n") != strings.Join(wantLog, "\n") {
			t.Errorf("change log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLog, "\n"))
		}
		// The order page links to the change log, whose entries carry the
		// order number.
		b.open("/orders/1")
		b.submit("change log link", `.log-link`)
		b.see("change log", "SO-000001", "BOLT-M8", "OIL-5")
		// Exactly the order's six entries (three allocations, three
		// shipments), each reference a link back to the order.
		b.waitFor("the order's entries", `document.querySelectorAll("table.log tbody tr").length === 6 &&
			document.querySelectorAll('table.log tbody a[href="/orders/by-number/SO-000001"]').length === 6`)
		b.shot("change-log-of-order")
		b.submit("reference link", `table.log tbody a[href="/orders/by-number/SO-000001"]`)
		if p := b.path(); p != "/orders/1" {
			t.Errorf("the reference link led to %s", p)
		}
		// A second order finds only part of its stock: partially allocated,
		// the shortfall on its line; cancelling it (through the check page,
		// with a reason) gives the stock back.
		so2, err := orders.Create(f.Ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Brightside Cafe",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "5"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orders.Confirm(f.Ctx, db, so2.ID); err != nil {
			t.Fatal(err)
		}
		b.open(fmt.Sprintf("/orders/%d", so2.ID))
		b.submit("allocate short", "#action-allocate")
		b.see("partially allocated", "SO-000002 partially allocated: line 1 is short 3 pcs", "Allocated (partly)", "WH1/A2: 2 pcs", "3 pcs")
		b.shot("partially-allocated")
		b.submit("cancel check", "#action-cancel")
		b.see("cancel check", "Cancel SO-000002?", "Brightside Cafe", "The stock it holds (1 allocation) is released in the same step.")
		b.do("reason", chromedp.SendKeys(chromedp.ID("field-reason"), "Customer found another supplier"))
		b.shot("cancel-check")
		b.submit("cancel", "#confirm-cancel")
		b.see("cancelled", "SO-000002 cancelled", "This order was cancelled", "nothing held")
		b.waitFor("no actions when cancelled", `!document.getElementById("field-actions")`)
		b.shot("cancelled")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A2 2/0" {
			t.Errorf("BOLT-M8 after cancelling: %s", got)
		}
		if got := logOf(t, f, "SO-000002"); strings.Join(got, "\n") != "allocate 0 2 BOLT-M8 WH1/A2\nrelease 0 -2 BOLT-M8 WH1/A2" {
			t.Errorf("change log of SO-000002:\n%s", strings.Join(got, "\n"))
		}
		if got := orderEvents(t, f, "SO-000002"); got[len(got)-1] != "SO-000002 cancelled: Customer found another supplier" {
			t.Errorf("events of SO-000002: %q", got)
		}

		b.open("/orders?q=acme")
		b.see("list", "SO-000001", "Closed", "Acme Ltd", "ref. ACME-PO-77", "2 lines", "BOLT-M8, OIL-5")
		b.shot("list")
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInboundOrderInBrowser takes a purchase order from a new one to its
// receipt: create, a line, confirm, receive part of it, then the rest into
// another bin, close; the stock, the events and the change log after.
func TestInboundOrderInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		locs := seedOrderStock(t, f)
		b := newOrderBrowser(t, db, f)

		b.open("/orders")
		b.submit("new purchase order", "#new-inbound")
		b.see("new", "New purchase order", "Supplier")
		b.do("fill", chromedp.SendKeys(chromedp.ID("field-party"), "Bolt Supply GmbH"))
		b.submit("create", "#create-order")
		b.see("created", "PO-000001 created", "Purchase order · from Bolt Supply GmbH")
		// An unknown SKU is refused next to the item field.
		b.do("unknown", chromedp.SendKeys(chromedp.ID("field-sku"), "NOPE-1"), chromedp.SendKeys(chromedp.ID("field-quantity"), "3"))
		b.submit("add unknown", "#add-line-submit")
		b.see("unknown refused", "There is a problem", `No item has the SKU "NOPE-1"`, "No lines yet.")
		b.do("fix sku", chromedp.SetValue(chromedp.ID("field-sku"), "BOLT-M8"), chromedp.SetValue(chromedp.ID("field-quantity"), "20"),
			chromedp.SetValue(chromedp.ID("field-location_id"), fmt.Sprint(locs["WH1/A2"].ID)))
		b.submit("add", "#add-line-submit")
		b.see("line", "Line 1 added: 20 pcs BOLT-M8", "WH1/A2")
		b.submit("confirm", "#action-confirm")
		b.see("confirmed", "PO-000001 confirmed", "Receive")
		b.shot("inbound-confirmed")

		// Receive 5 into the line's bin: partially received.
		b.do("part", chromedp.SendKeys(chromedp.CSS(`input[name$="-quantity"]`), "5"))
		b.submit("receive part", "#receive-submit")
		b.see("partial", "PO-000001: receipt recorded, more to come", "Received (partly)", "5 pcs", "15 pcs")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 10/0, WH1/A2 9/0" {
			t.Errorf("BOLT-M8 after the first receipt: %s", got)
		}
		// Too much: refused next to the line's quantity, nothing booked.
		b.do("too much", chromedp.SendKeys(chromedp.CSS(`input[name$="-quantity"]`), "16"))
		b.submit("receive too much", "#receive-submit")
		b.see("over receipt", "There is a problem", "at most 15 more may arrive")
		b.waitFor("next to the line", `document.querySelector("td.has-error input[name$='-quantity']")`)
		b.shot("receive-error")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 10/0, WH1/A2 9/0" {
			t.Errorf("BOLT-M8 after a refused receipt: %s", got)
		}
		// The rest into the other bin.
		b.do("rest", chromedp.SetValue(chromedp.CSS(`input[name$="-quantity"]`), "15"),
			chromedp.SetValue(chromedp.CSS(`select[name$="-location_id"]`), fmt.Sprint(locs["WH1/A1"].ID)))
		b.submit("receive rest", "#receive-submit")
		b.see("received", "PO-000001 received in full", "Close order")
		b.shot("received")
		if got := stockOf(t, f, "BOLT-M8"); got != "WH1/A1 25/0, WH1/A2 9/0" {
			t.Errorf("BOLT-M8 after the second receipt: %s", got)
		}
		b.submit("close", "#action-close")
		b.see("closed", "PO-000001 closed")
		b.shot("closed")
		want := []string{"PO-000001 created for supplier Bolt Supply GmbH", "PO-000001 line 1 added: 20 BOLT-M8",
			"PO-000001 confirmed", "PO-000001 partially received", "PO-000001 received", "PO-000001 closed"}
		if got := orderEvents(t, f, "PO-000001"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantLog := []string{"receipt 5 0 BOLT-M8 WH1/A2", "receipt 15 0 BOLT-M8 WH1/A1"}
		if got := logOf(t, f, "PO-000001"); strings.Join(got, "\n") != strings.Join(wantLog, "\n") {
			t.Errorf("change log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLog, "\n"))
		}
		b.open("/inventory/log?sku=BOLT-M8")
		b.see("change log", "PO-000001")
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
