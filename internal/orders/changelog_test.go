package orders_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestChangeLogOfAnOrder: the change log filtered by an order's number
// answers exactly the entries the order caused (allocations, shipments,
// receipts), page by page, and none of another order's, of a reference
// that only looks alike, or of movements without one.
func TestChangeLogOfAnOrder(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, w.bolt, w.a, "", "6")
		w.receive(t, w.bolt, w.b, "", "20")
		w.receive(t, w.oil, w.a, "L1", "10")

		// Ours: two lines allocated over three records, picked and shipped.
		ours, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "ACME",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "10"}, {ItemID: w.oil.ID, Quantity: "2.5", Lot: "L1"}}})
		if err != nil {
			t.Fatal(err)
		}
		// Theirs: another order on the same records, allocated and cancelled.
		theirs, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "Other",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "3"}}})
		if err != nil {
			t.Fatal(err)
		}
		inbound, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Inbound, Party: "Supplier",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "5", LocationID: w.a.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		step := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		for _, o := range []orders.Order{ours, theirs, inbound} {
			_, err := orders.Confirm(w.manager, db, o.ID)
			step("confirm "+o.Number, err)
		}
		_, err = orders.Allocate(w.operator, db, ours.ID, orders.AllocateInput{})
		step("allocate", err)
		_, err = orders.Allocate(w.operator, db, theirs.ID, orders.AllocateInput{})
		step("allocate theirs", err)
		_, err = orders.Pick(w.operator, db, ours.ID, orders.LinesInput{})
		step("pick", err)
		_, err = orders.Ship(w.operator, db, ours.ID, orders.ShipInput{})
		step("ship", err)
		_, err = orders.Cancel(w.manager, db, theirs.ID, orders.CancelInput{Reason: "changed their mind"})
		step("cancel theirs", err)
		_, err = orders.Receive(w.operator, db, inbound.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: inbound.Lines[0].ID, Quantity: "5"}}})
		step("receive", err)
		// Hand-made references that only look like ours.
		for _, ref := range []string{ours.Number + "0", "so-000001 ", "x" + ours.Number} {
			_, err := inventory.Receive(w.ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: w.bolt.ID},
				LocationRef: inventory.LocationRef{LocationID: w.a.ID}, Quantity: "1", Options: inventory.Options{Reference: ref}})
			step("receipt "+ref, err)
		}

		// What the order caused: 3 allocations (6 + 4 bolts, 2.5 l oil) and
		// 3 shipments.
		want := map[string]string{}
		for _, e := range w.entries(t, ours.Number) {
			want[fmt.Sprint(e.RecordID, e.Movement, e.Change, e.AllocatedChange)] = e.Movement
		}
		if len(want) != 6 {
			t.Fatalf("%s caused %d distinct entries, want 6: %v", ours.Number, len(want), want)
		}
		for _, limit := range []int{100, 4, 1} {
			var got []inventory.Entry
			f := inventory.LogFilter{Reference: ours.Number, Limit: limit}
			for {
				page, err := inventory.ListLog(w.auditor, db, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page.Entries...)
				if page.NextCursor == "" {
					break
				}
				if f.Before, err = inventory.ParseCursor(page.NextCursor); err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != 6 {
				t.Fatalf("pages of %d: %d entries, want 6", limit, len(got))
			}
			var movements []string
			for i, e := range got {
				if e.Reference != ours.Number {
					t.Fatalf("pages of %d: entry %d has reference %q", limit, e.ID, e.Reference)
				}
				if i > 0 && e.ID >= got[i-1].ID {
					t.Fatalf("pages of %d: not newest first", limit)
				}
				if want[fmt.Sprint(e.RecordID, e.Movement, e.Change, e.AllocatedChange)] == "" {
					t.Fatalf("pages of %d: entry %d (%s) is not the order's", limit, e.ID, e.Movement)
				}
				movements = append(movements, e.Movement)
			}
			slices.Sort(movements)
			if fmt.Sprint(movements) != "[allocate allocate allocate ship ship ship]" {
				t.Fatalf("pages of %d: movements %v", limit, movements)
			}
		}
		// The other orders' entries are theirs alone; a reference nobody
		// carries answers nothing.
		for number, n := range map[string]int{theirs.Number: 2, inbound.Number: 1, "SO-999999": 0} {
			page, err := inventory.ListLog(w.auditor, db, inventory.LogFilter{Reference: number})
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, e := range page.Entries {
				if e.Movement != "create_record" {
					got++
				}
			}
			if got != n {
				t.Errorf("%s: %d entries, want %d", number, got, n)
			}
		}
		w.invariant(t)
	})
}

// TestIsOrderNumber: what pages link to an order is written as numbers
// are handed out.
func TestIsOrderNumber(t *testing.T) {
	for s, want := range map[string]bool{"SO-000001": true, "PO-000123": true, "SO-1234567": true, "SO-00001": false, "so-000001": false,
		"SO-000001 ": false, "XSO-000001": false, "SO-00000a": false, "delivery note 77": false, "": false} {
		if orders.IsNumber(s) != want {
			t.Errorf("IsNumber(%q) = %v, want %v", s, !want, want)
		}
	}
}
