package web_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// seedStationOrders gives seedStation's workspace stock and two orders for
// the station at WH1/A1: SO-000001 (allocated: 2.50 l OIL-5 and 5 pcs
// BOLT-M6 at WH1/A1, 2 pcs BOLT-M6 at WH1/A2) and PO-000001 (confirmed: 10
// pcs BOLT-M6, 5 l OIL-5 into WH1/A2).
func seedStationOrders(t *testing.T, f *storetest.Fixture, at map[string]inventory.Location) (orders.Order, orders.Order) {
	t.Helper()
	for _, r := range []struct {
		sku, loc string
		q        inventory.DecimalText
	}{{"OIL-5", "WH1/A1", "12.5"}, {"BOLT-M6", "WH1/A1", "10"}, {"BOLT-M6", "WH1/A2", "4"}} {
		if _, err := inventory.Receive(f.Ctx, f.DB, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: r.sku}, LocationRef: inventory.LocationRef{Location: r.loc},
			Quantity: r.q}); err != nil {
			t.Fatal(err)
		}
	}
	so, err := orders.Create(f.Ctx, f.DB, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd", Lines: []orders.LineInput{
		{SKU: "OIL-5", Quantity: "2.5", LocationID: at["WH1/A1"].ID}, {SKU: "BOLT-M6", Quantity: "5", LocationID: at["WH1/A1"].ID},
		{SKU: "BOLT-M6", Quantity: "2", LocationID: at["WH1/A2"].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	po, err := orders.Create(f.Ctx, f.DB, orders.OrderInput{Kind: orders.Inbound, Party: "Bolts & Co", Lines: []orders.LineInput{
		{SKU: "BOLT-M6", Quantity: "10"}, {SKU: "OIL-5", Quantity: "5", LocationID: at["WH1/A2"].ID}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []orders.Order{so, po} {
		if _, err := orders.Confirm(f.Ctx, f.DB, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	if so, err = orders.Allocate(f.Ctx, f.DB, so.ID, orders.AllocateInput{}); err != nil || so.Status != orders.Allocated {
		t.Fatalf("allocate: %v %s", err, so.Status)
	}
	return so, po
}

// TestStationOrderMode: in Order mode a station opens an order by its
// number and scans SKUs against it: an outbound line is picked whole (a
// count must be its allocation) where its stock lies at the station's
// location, an inbound line receives what is scanned (into the line's
// location when the station reaches it, else the station's). Each answer is
// one line; a repeated or refused scan changes nothing. Both engines.
func TestStationOrderMode(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, at := seedStation(t, f)
		so, po := seedStationOrders(t, f, at)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		s.post("/station/sign-in", url.Values{"token": {st.Token}})
		events := func() int {
			return count(t, db, `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1`, f.Workspace.ID)
		}
		scan := func(order, sku, qty string, status int, want string) string {
			t.Helper()
			form := url.Values{"mode": {"order"}, "sku": {sku}, "quantity": {qty}}
			if order != "" {
				form.Set("order", order)
			}
			before := events()
			got, body := s.post("/station/scan", form)
			if got != status || !strings.Contains(body, want) {
				t.Fatalf("scan %s %s %q on %s: %d, want %d and %q; the page says %q\n%s", sku, qty, order, order, got, status, want, alert(body), body)
			}
			if status != 200 && events() != before {
				t.Fatalf("the refused scan %s %s changed something", sku, qty)
			}
			return body
		}

		// Nothing open yet: the field asks for an order number.
		_, page, _ := s.get("/station?mode=order")
		if !strings.Contains(page, "Order number") || !strings.Contains(page, `value="order" checked`) {
			t.Fatalf("order mode without an order:\n%s", page)
		}
		scan("", "OIL-5", "1", 422, "Scan the order's number (SO-… or PO-…) first")
		scan("", "SO-000099", "1", 422, "No order has the number SO-000099")
		body := scan("", "so-000001", "1", 200, "SO-000001 · Acme Ltd: 2 lines to pick")
		for _, want := range []string{`name="order" value="SO-000001"`, `placeholder="all"`, "To pick", "Elsewhere", "WH1/A2"} {
			if !strings.Contains(body, want) {
				t.Errorf("open order: %q not on the page", want)
			}
		}

		// A count other than the allocation is refused; the right one, or
		// none, picks the line.
		scan("SO-000001", "OIL-5", "1", 422, "Line 1 holds 2.50 l of OIL-5 for SO-000001; counted 1.00: pick all 2.50")
		scan("SO-000001", "OIL-5", "2.5", 200, "Picked OIL-5: line 1 of SO-000001, 2.50 l")
		scan("SO-000001", "OIL-5", "", 422, "Line 1 (OIL-5) of SO-000001 is picked already")
		scan("SO-000001", "BOLT-M6", "", 200, "Picked BOLT-M6: line 2 of SO-000001, 5 pcs")
		scan("SO-000001", "BOLT-M6", "", 403, "Line 3 (BOLT-M6) of SO-000001 is picked at WH1/A2; this station works at WH1/A1")
		scan("SO-000001", "NOPE-1", "", 422, "NOPE-1 is not on SO-000001")
		got, err := orders.Get(f.Ctx, db, so.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != orders.Allocated || !got.Lines[0].Picked || !got.Lines[1].Picked || got.Lines[2].Picked {
			t.Fatalf("after the station's picks: %s, picked %v %v %v", got.Status, got.Lines[0].Picked, got.Lines[1].Picked, got.Lines[2].Picked)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND entity_type = 'orders' AND entity_id = $2
			AND actor_kind = 'station' AND actor_id = $3`, f.Workspace.ID, fmt.Sprint(so.ID), st.ID); n != 2 {
			t.Errorf("%d pick events by the station, want 2", n)
		}
		// Picked in full elsewhere: nothing left for the station.
		if _, err := orders.Pick(f.Ctx, db, so.ID, orders.LinesInput{}); err != nil {
			t.Fatal(err)
		}
		scan("SO-000001", "SO-000001", "", 422, "SO-000001 is picked: nothing is left to pick")

		// Receiving: one scan a unit, or the quantity typed.
		scan("", po.Number, "1", 200, "PO-000001 · Bolts & Co: 2 lines to receive")
		scan(po.Number, "BOLT-M6", "1", 200, "Received BOLT-M6 for PO-000001 line 1: +1 pcs, 1 of 10 received")
		e := newestEntry(t, f, "BOLT-M6")
		if e.Reference != po.Number || e.ActorKind != "station" || e.Action != inventory.Scan || e.LocationPath != "WH1/A1" || e.ChangeText() != "1" {
			t.Errorf("receipt entry %+v", e)
		}
		// Line 2 is for WH1/A2, beyond the station's reach: it arrives here.
		scan(po.Number, "OIL-5", "5", 200, "Received OIL-5 for PO-000001 line 2: +5.00 l, 5.00 of 5.00 received")
		if e := newestEntry(t, f, "OIL-5"); e.LocationPath != "WH1/A1" || e.Reference != po.Number {
			t.Errorf("receipt entry %+v", e)
		}
		scan(po.Number, "BOLT-M6", "10", 422, "Line 1 ordered 10 pcs of BOLT-M6 and has received 1; at most 9 more may arrive (over-receipt tolerance 0%)")
		scan(po.Number, "BOLT-M6", "0", 422, "Line 1: must be greater than zero")
		// A lot typed with the scan is the lot received.
		form := url.Values{"mode": {"order"}, "order": {po.Number}, "sku": {"BOLT-M6"}, "quantity": {"1"}, "lot": {"L7"}}
		if status, body := s.post("/station/scan", form); status != 200 || !strings.Contains(body, "2 of 10 received") {
			t.Fatalf("receipt with a lot: %d %s", status, alert(body))
		}
		if e := newestEntry(t, f, "BOLT-M6"); e.Lot != "L7" || e.LocationPath != "WH1/A1" {
			t.Errorf("receipt with a lot: %+v", e)
		}
		scan(po.Number, "BOLT-M6", "8", 200, "Received BOLT-M6 for PO-000001 line 1: +8 pcs, 10 of 10 received; PO-000001 is received in full")
		scan(po.Number, "BOLT-M6", "1", 422, "PO-000001 is received: nothing is left to receive")
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
