package orders_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func str(s string) *string { return &s }

// TestOutboundWorkflow walks an outbound order from draft to closed, with
// its activity events and change-log entries at each step.
func TestOutboundWorkflow(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		older := w.receive(t, w.bolt, w.a, "", "6")
		newer := w.receive(t, w.bolt, w.b, "", "20")
		oil := w.receive(t, w.oil, w.a, "L1", "10")

		o, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "ACME", PartyReference: "PO 77",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "10"}, {ItemID: w.oil.ID, Quantity: "2.5", Lot: "L1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if o.Number != "SO-000001" || o.Status != orders.Draft || len(o.Lines) != 2 || o.Lines[1].QuantityText() != "2.50" {
			t.Fatalf("created %+v", o)
		}
		e := w.lastEvent(t, o)
		if e.Action != "CREATE" || e.New["party"] != "ACME" || e.New["line 1 sku"] != "BOLT-M8" || e.New["line 2 quantity"] != "2.50" || e.Old != nil {
			t.Fatalf("create event %+v", e)
		}

		o, err = orders.Update(w.manager, db, o.ID, orders.OrderChange{Party: str("ACME Ltd")})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "party", "ACME", "ACME Ltd")
		o, err = orders.AddLine(w.manager, db, o.ID, orders.LineInput{SKU: "BOLT-M8", Quantity: "1"})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 3 quantity", nil, "1")
		q := inventory.DecimalText("2")
		o, err = orders.UpdateLine(w.manager, db, o.ID, lineOf(t, o, 3).ID, orders.LineChange{Quantity: &q})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 3 quantity", "1", "2")
		o, err = orders.RemoveLine(w.manager, db, o.ID, lineOf(t, o, 3).ID)
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 3 sku", "BOLT-M8", nil)
		if len(o.Lines) != 2 {
			t.Fatalf("lines after remove: %d", len(o.Lines))
		}

		o, err = orders.Confirm(w.manager, db, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "status", "draft", "confirmed")
		if len(w.entries(t, o.Number)) != 0 {
			t.Fatal("entries before allocation")
		}

		// Suggested records, oldest first: 6 from zone A, 4 from zone B.
		o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{})
		if err != nil {
			t.Fatal(err)
		}
		bolts := lineOf(t, o, 1)
		if o.Status != orders.Allocated || bolts.AllocatedText() != "10" || bolts.ShortfallText() != "0" || len(bolts.Allocations) != 2 ||
			bolts.Allocations[0].RecordID != older.ID || bolts.Allocations[0].Quantity.String() != "6" {
			t.Fatalf("allocated %+v", o)
		}
		e = w.expectChange(t, o, "status", "confirmed", "allocated")
		if e.Old["line 1 allocated"] != "0" || e.New["line 1 allocated"] != "10" || e.New["line 2 allocated"] != "2.50" {
			t.Fatalf("allocate event %+v", e)
		}
		if got, want := movements(w.entries(t, o.Number)), fmt.Sprintf("allocate %d 0/6; allocate %d 0/4; allocate %d 0/2.5", older.ID, newer.ID, oil.ID); got != want {
			t.Fatalf("entries after allocate: %s, want %s", got, want)
		}
		if r := w.record(t, newer.ID); r.Quantity.String() != "20" || r.Allocated.String() != "4" || r.Available().String() != "16" {
			t.Fatalf("record after allocate %+v", r)
		}
		w.invariant(t)

		// Operators fulfil; the station at zone B may not pick zone A's stock.
		w.refused(t, "station picks outside its location", fault.Forbidden, "lines[0]", func() error {
			_, err := orders.Pick(w.station, db, o.ID, orders.LinesInput{Lines: []int64{bolts.ID}})
			return err
		})
		o, err = orders.Pick(w.operator, db, o.ID, orders.LinesInput{})
		if err != nil {
			t.Fatal(err)
		}
		e = w.expectChange(t, o, "status", "allocated", "picked")
		if e.New["line 1 picked"] != true || e.New["line 2 picked"] != true {
			t.Fatalf("pick event %+v", e)
		}

		o, err = orders.Ship(w.operator, db, o.ID, orders.ShipInput{Lines: []orders.LineQuantity{{LineID: bolts.ID, Quantity: "10"}}})
		if err != nil {
			t.Fatal(err)
		}
		e = w.expectChange(t, o, "status", "picked", "shipped")
		if e.New["line 1 shipped"] != "10" || e.New["line 2 shipped"] != "2.50" {
			t.Fatalf("ship event %+v", e)
		}
		es := w.entries(t, o.Number)
		if got, want := movements(es[3:]), fmt.Sprintf("ship %d -6/-6; ship %d -4/-4; ship %d -2.5/-2.5", older.ID, newer.ID, oil.ID); got != want {
			t.Fatalf("entries after ship: %s, want %s", got, want)
		}
		for _, e := range es {
			if e.Reference != o.Number {
				t.Fatalf("entry %+v has reference %q", e, e.Reference)
			}
		}
		if r := w.record(t, newer.ID); r.Quantity.String() != "16" || r.Allocated != 0 {
			t.Fatalf("record after ship %+v", r)
		}
		if l := lineOf(t, o, 1); l.ShippedText() != "10" || l.Allocated != 0 || len(l.Allocations) != 0 {
			t.Fatalf("line after ship %+v", l)
		}
		w.invariant(t)

		w.refused(t, "edit a shipped order", fault.Conflict, "status", func() error {
			_, err := orders.Update(w.manager, db, o.ID, orders.OrderChange{Note: str("late")})
			return err
		})
		o, err = orders.Close(w.manager, db, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "status", "shipped", "closed")
		w.refused(t, "add a line to a closed order", fault.Conflict, "status", func() error {
			_, err := orders.AddLine(w.manager, db, o.ID, orders.LineInput{SKU: "BOLT-M8", Quantity: "1"})
			return err
		})
		w.refused(t, "cancel a closed order", fault.Conflict, "status", func() error {
			_, err := orders.Cancel(w.manager, db, o.ID, orders.CancelInput{})
			return err
		})
		if n := len(w.events(t, o.ID)); n != 10 {
			t.Fatalf("%d events, want 10 (create, edit, 3 line changes, confirm, allocate, pick, ship, close)", n)
		}
		hist, err := orders.History(w.operator, db, o.ID, 0)
		if err != nil || len(hist) != 10 || hist[0].Description != o.Number+" closed" {
			t.Fatalf("history as an operator: %d events %v", len(hist), err)
		}
		if _, err := orders.History(w.manager, db, w.otherOrder, 0); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another workspace's history: %v", err)
		}
		if got, err := orders.ByNumber(w.station, db, "so-000001"); err != nil || got.ID != o.ID {
			t.Fatalf("by number: %+v %v", got, err)
		}
		got, err := orders.Get(w.auditor, db, o.ID)
		if err != nil || got.Status != orders.Closed || got.Version != o.Version {
			t.Fatalf("auditor reads %+v %v", got, err)
		}
		w.invariant(t)
	})
}

// TestPartialAllocationReleaseAndCancel covers shortfalls, allocating the
// rest later, releasing by hand and by a line edit, and cancelling.
func TestPartialAllocationReleaseAndCancel(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		first := w.receive(t, w.bolt, w.a, "", "6")
		w.receive(t, w.bolt, w.b, "", "100") // outside the line's subtree
		o, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "ACME",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "10", LocationID: w.a.ID}, {SKU: "OIL-5", Quantity: "1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if o, err = orders.Confirm(w.manager, db, o.ID); err != nil {
			t.Fatal(err)
		}
		o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{})
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, o, 1); o.Status != orders.PartiallyAllocated || l.AllocatedText() != "6" || l.ShortfallText() != "4" ||
			lineOf(t, o, 2).ShortfallText() != "1.00" {
			t.Fatalf("partial %+v", o)
		}
		e := w.expectChange(t, o, "status", "confirmed", "partially_allocated")
		if e.Description != o.Number+" partially allocated: line 1 short 4 pcs, line 2 short 1.00 l" {
			t.Fatalf("description %q", e.Description)
		}
		// Nothing more to be had: no change, no event.
		n := len(w.events(t, o.ID))
		if o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{}); err != nil || len(w.events(t, o.ID)) != n {
			t.Fatalf("allocating nothing: %v, %d events", err, len(w.events(t, o.ID)))
		}
		// Stock arrives: the rest is allocated from a chosen record.
		more := w.receive(t, w.bolt, w.a, "L9", "10")
		w.receive(t, w.oil, w.a, "", "5")
		o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{Lines: []orders.LineAllocation{
			{LineID: lineOf(t, o, 1).ID, Records: []orders.RecordQuantity{{RecordID: more.ID, Quantity: "4"}}},
			{LineID: lineOf(t, o, 2).ID}}})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 1 allocated", "6", "10")
		w.expectChange(t, o, "status", "partially_allocated", "allocated")
		w.invariant(t)

		// Release line 2 by hand, then change line 1 (which releases it).
		o, err = orders.Release(w.operator, db, o.ID, orders.LinesInput{Lines: []int64{lineOf(t, o, 2).ID}})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 2 allocated", "1.00", "0.00")
		w.expectChange(t, o, "status", "allocated", "partially_allocated")
		q := inventory.DecimalText("8")
		o, err = orders.UpdateLine(w.manager, db, o.ID, lineOf(t, o, 1).ID, orders.LineChange{Quantity: &q})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "line 1 allocated", "10", "0")
		w.expectChange(t, o, "line 1 quantity", "10", "8")
		w.expectChange(t, o, "status", "partially_allocated", "confirmed")
		es := w.entries(t, o.Number)
		if got, want := movements(es[len(es)-3:]), fmt.Sprintf("release %d 0/-1; release %d 0/-6; release %d 0/-4", es[3].RecordID, first.ID, more.ID); got != want {
			t.Fatalf("releases: %s, want %s", got, want)
		}
		if r := w.record(t, first.ID); r.Allocated != 0 {
			t.Fatalf("record still allocated after the line edit: %+v", r)
		}
		w.invariant(t)

		// Allocate again, pick, then cancel: every allocation is released.
		if o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{}); err != nil || o.Status != orders.Allocated {
			t.Fatalf("reallocate: %v %+v", err, o)
		}
		if o, err = orders.Pick(w.operator, db, o.ID, orders.LinesInput{}); err != nil {
			t.Fatal(err)
		}
		before := len(w.entries(t, o.Number))
		o, err = orders.Cancel(w.manager, db, o.ID, orders.CancelInput{Reason: "customer withdrew"})
		if err != nil {
			t.Fatal(err)
		}
		e = w.expectChange(t, o, "status", "picked", "cancelled")
		if e.New["reason"] != "customer withdrew" || e.New["line 1 allocated"] != "0" || e.Old["line 1 allocated"] != "8" {
			t.Fatalf("cancel event %+v", e)
		}
		// Line 1 held 6 of the first record and 2 of the newer lot, line 2 one litre.
		if got, want := movements(w.entries(t, o.Number)[before:]), fmt.Sprintf("release %d 0/-6; release %d 0/-2; release %d 0/-1", first.ID, more.ID, es[3].RecordID); got != want {
			t.Fatalf("cancel entries %s, want %s", got, want)
		}
		for _, l := range o.Lines {
			if l.Allocated != 0 || l.Picked || l.Shortfall != 0 {
				t.Fatalf("line after cancel %+v", l)
			}
		}
		var held int
		db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM inventory_allocations WHERE holder = $1`, o.Number).Scan(&held)
		if held != 0 {
			t.Fatalf("%d holdings left after cancel", held)
		}
		w.invariant(t)
	})
}

// TestInboundWorkflow receives a purchase order in parts, within and
// beyond the over-receipt tolerance.
func TestInboundWorkflow(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		o, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Inbound, Party: "Bolts Inc",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "100", LocationID: w.b.ID}, {SKU: "OIL-5", Quantity: "20"}}})
		if err != nil {
			t.Fatal(err)
		}
		if o.Number != "PO-000001" {
			t.Fatalf("number %s", o.Number)
		}
		w.refused(t, "receive a draft", fault.Conflict, "status", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: o.Lines[0].ID, Quantity: "1"}}})
			return err
		})
		if o, err = orders.Confirm(w.manager, db, o.ID); err != nil {
			t.Fatal(err)
		}
		bolts, oil := lineOf(t, o, 1), lineOf(t, o, 2)
		w.refused(t, "receive without a location", fault.Invalid, "lines[0].location_id", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: oil.ID, Quantity: "1"}}})
			return err
		})
		// The station at zone B receives the bolts into its own location.
		o, err = orders.Receive(w.station, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: bolts.ID, Quantity: "60"}}})
		if err != nil {
			t.Fatal(err)
		}
		e := w.expectChange(t, o, "status", "confirmed", "partially_received")
		if e.Old["line 1 received"] != "0" || e.New["line 1 received"] != "60" {
			t.Fatalf("receive event %+v", e)
		}
		es := receipts(w.entries(t, o.Number))
		if len(es) != 1 || es[0].Movement != "receipt" || es[0].Change.String() != "60" {
			t.Fatalf("entries %s", movements(es))
		}
		w.refused(t, "station receives outside its location", fault.Forbidden, "", func() error {
			_, err := orders.Receive(w.station, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: oil.ID, Quantity: "1", LocationID: w.a.ID}}})
			return err
		})
		w.refused(t, "over-receipt without tolerance", fault.Invalid, "lines[0].quantity", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: bolts.ID, Quantity: "41"}}})
			return err
		})
		ten := 10
		if _, err := workspace.Update(w.ctx, db, workspace.Change{OverReceiptPercent: &ten}); err != nil {
			t.Fatal(err)
		}
		pe := w.refused(t, "over-receipt beyond 10%", fault.Invalid, "lines[1].quantity", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{
				{LineID: bolts.ID, Quantity: "30"}, {LineID: bolts.ID, Quantity: "21"}}})
			return err
		})
		if want := "line 1 ordered 100 pcs of BOLT-M8 and has received 60; at most 50 more may arrive (over-receipt tolerance 10%)"; pe.Fields["lines[1].quantity"] != want {
			t.Fatalf("message %q", pe.Fields["lines[1].quantity"])
		}
		lot := "L7"
		o, err = orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{
			{LineID: bolts.ID, Quantity: "50"}, {LineID: oil.ID, Quantity: "20", LocationID: w.a.ID, Lot: &lot}}})
		if err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "status", "partially_received", "received")
		w.expectChange(t, o, "line 1 received", "60", "110")
		if es := receipts(w.entries(t, o.Number)); len(es) != 3 || es[2].Movement != "receipt" || es[2].Change.String() != "20" {
			t.Fatalf("entries %s", movements(es))
		}
		w.refused(t, "receive a received order", fault.Conflict, "status", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: oil.ID, Quantity: "1", LocationID: w.a.ID}}})
			return err
		})
		if o, err = orders.Close(w.manager, db, o.ID); err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, o, "status", "received", "closed")
		w.invariant(t)

		// A partially received order may be cancelled; what arrived stays.
		p, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Inbound, Party: "Bolts Inc",
			Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "10", LocationID: w.a.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Number != "PO-000002" {
			t.Fatalf("second number %s", p.Number)
		}
		p, _ = orders.Confirm(w.manager, db, p.ID)
		if p, err = orders.Receive(w.operator, db, p.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: p.Lines[0].ID, Quantity: "3"}}}); err != nil {
			t.Fatal(err)
		}
		if p, err = orders.Cancel(w.manager, db, p.ID, orders.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		w.expectChange(t, p, "status", "partially_received", "cancelled")
		if lineOf(t, p, 1).ReceivedText() != "3" || len(receipts(w.entries(t, p.Number))) != 1 {
			t.Fatalf("after cancel %+v", p)
		}
		w.invariant(t)
	})
}

// TestBadInput: each refusal names the field or line, and changes nothing.
func TestBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rec := w.receive(t, w.bolt, w.a, "", "10")
		create := func(in orders.OrderInput) func() error {
			return func() error { _, err := orders.Create(w.manager, db, in); return err }
		}
		line := func(l orders.LineInput) orders.OrderInput {
			return orders.OrderInput{Kind: orders.Outbound, Party: "ACME", Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "1"}, l}}
		}
		w.refused(t, "unknown kind", fault.Invalid, "kind", create(orders.OrderInput{Kind: "sideways", Party: "ACME"}))
		w.refused(t, "no party", fault.Invalid, "party", create(orders.OrderInput{Kind: orders.Outbound, Party: "  "}))
		w.refused(t, "party of two lines", fault.Invalid, "party", create(orders.OrderInput{Kind: orders.Outbound, Party: "A\nB"}))
		w.refused(t, "unknown SKU", fault.Invalid, "lines[1].sku", create(line(orders.LineInput{SKU: "NOPE", Quantity: "1"})))
		w.refused(t, "unknown item id", fault.Invalid, "lines[1].item_id", create(line(orders.LineInput{ItemID: 987654, Quantity: "1"})))
		w.refused(t, "another workspace's item", fault.Invalid, "lines[1].item_id", create(line(orders.LineInput{ItemID: w.otherItem, Quantity: "1"})))
		w.refused(t, "no item", fault.Invalid, "lines[1].item_id", create(line(orders.LineInput{Quantity: "1"})))
		w.refused(t, "zero quantity", fault.Invalid, "lines[1].quantity", create(line(orders.LineInput{SKU: "BOLT-M8", Quantity: "0"})))
		w.refused(t, "negative quantity", fault.Invalid, "lines[1].quantity", create(line(orders.LineInput{SKU: "BOLT-M8", Quantity: "-3"})))
		w.refused(t, "decimals on a whole unit", fault.Invalid, "lines[1].quantity", create(line(orders.LineInput{SKU: "BOLT-M8", Quantity: "1.5"})))
		w.refused(t, "not a number", fault.Invalid, "lines[1].quantity", create(line(orders.LineInput{SKU: "BOLT-M8", Quantity: "1e3"})))
		w.refused(t, "unknown location", fault.Invalid, "lines[1].location_id", create(line(orders.LineInput{SKU: "BOLT-M8", Quantity: "1", LocationID: 987654})))

		o, err := orders.Create(w.manager, db, line(orders.LineInput{SKU: "BOLT-M8", Quantity: "5"}))
		if err != nil {
			t.Fatal(err)
		}
		l1 := o.Lines[0]
		zero := inventory.DecimalText("0")
		w.refused(t, "line edited to zero", fault.Invalid, "quantity", func() error {
			_, err := orders.UpdateLine(w.manager, db, o.ID, l1.ID, orders.LineChange{Quantity: &zero})
			return err
		})
		w.refused(t, "another order's line", fault.NotFound, "", func() error {
			_, err := orders.RemoveLine(w.manager, db, o.ID, 987654)
			return err
		})
		// Skipping workflow steps.
		w.refused(t, "allocate a draft", fault.Conflict, "status", func() error {
			_, err := orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{})
			return err
		})
		w.refused(t, "pick a draft", fault.Conflict, "status", func() error { _, err := orders.Pick(w.operator, db, o.ID, orders.LinesInput{}); return err })
		w.refused(t, "ship a draft", fault.Conflict, "status", func() error { _, err := orders.Ship(w.operator, db, o.ID, orders.ShipInput{}); return err })
		w.refused(t, "close a draft", fault.Conflict, "status", func() error { _, err := orders.Close(w.manager, db, o.ID); return err })
		w.refused(t, "receive an outbound order", fault.Conflict, "kind", func() error {
			_, err := orders.Receive(w.operator, db, o.ID, orders.ReceiveInput{Lines: []orders.ReceiveLine{{LineID: l1.ID, Quantity: "1"}}})
			return err
		})
		empty, err := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "ACME"})
		if err != nil {
			t.Fatal(err)
		}
		w.refused(t, "confirm without lines", fault.Invalid, "lines", func() error { _, err := orders.Confirm(w.manager, db, empty.ID); return err })

		if o, err = orders.Confirm(w.manager, db, o.ID); err != nil {
			t.Fatal(err)
		}
		w.refused(t, "confirm twice", fault.Conflict, "status", func() error { _, err := orders.Confirm(w.manager, db, o.ID); return err })
		w.refused(t, "ship before picking", fault.Conflict, "status", func() error { _, err := orders.Ship(w.operator, db, o.ID, orders.ShipInput{}); return err })
		chosen := func(lineID, recordID int64, q string) func() error {
			return func() error {
				_, err := orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{Lines: []orders.LineAllocation{
					{LineID: lineID, Records: []orders.RecordQuantity{{RecordID: recordID, Quantity: inventory.DecimalText(q)}}}}})
				return err
			}
		}
		w.refused(t, "another workspace's record", fault.Invalid, "lines[0].records[0].record_id", chosen(l1.ID, w.otherRecord, "1"))
		w.refused(t, "an unknown line", fault.Invalid, "lines[0]", chosen(987654, rec.ID, "1"))
		w.refused(t, "more than the line needs", fault.Invalid, "lines[0].records[0].quantity", chosen(l1.ID, rec.ID, "2"))
		w.refused(t, "zero from a record", fault.Invalid, "lines[0].records[0].quantity", chosen(l1.ID, rec.ID, "0"))
		oilRec := w.receive(t, w.oil, w.a, "", "1")
		w.refused(t, "a record of another item", fault.Invalid, "lines[0].records[0].record_id", chosen(l1.ID, oilRec.ID, "1"))
		w.refused(t, "the station allocates", fault.Forbidden, "", func() error {
			_, err := orders.Allocate(w.station, db, o.ID, orders.AllocateInput{})
			return err
		})
		// A chosen record short of stock refuses with inventory's shortfall.
		hog, _ := orders.Create(w.manager, db, orders.OrderInput{Kind: orders.Outbound, Party: "Hog", Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "9"}}})
		hog, _ = orders.Confirm(w.manager, db, hog.ID)
		if hog, err = orders.Allocate(w.operator, db, hog.ID, orders.AllocateInput{}); err != nil || hog.Status != orders.Allocated {
			t.Fatalf("hog: %v %+v", err, hog)
		}
		pe := w.refused(t, "a chosen record without enough available", fault.Invalid, "lines[0].records[0].quantity", chosen(o.Lines[1].ID, rec.ID, "2"))
		t.Logf("shortfall message: %s", pe.Fields["lines[0].records[0].quantity"])
		// Stock held by an order cannot be issued away.
		w.refused(t, "issue allocated stock", fault.Invalid, "", func() error {
			_, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: rec.ID}, Quantity: "5"})
			return err
		})
		if o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{}); err != nil || o.Status != orders.PartiallyAllocated {
			t.Fatalf("allocate: %v %+v", err, o)
		}
		w.refused(t, "release a line holding nothing", fault.Invalid, "lines[0]", func() error {
			_, err := orders.Release(w.operator, db, o.ID, orders.LinesInput{Lines: []int64{o.Lines[1].ID}})
			return err
		})
		if o, err = orders.Pick(w.operator, db, o.ID, orders.LinesInput{}); err != nil || o.Status != orders.Picked {
			t.Fatalf("pick: %v %+v", err, o)
		}
		w.refused(t, "edit a picked order's lines", fault.Conflict, "status", func() error {
			_, err := orders.RemoveLine(w.manager, db, o.ID, l1.ID)
			return err
		})
		w.refused(t, "ship more than allocated", fault.Invalid, "lines[0].quantity", func() error {
			_, err := orders.Ship(w.operator, db, o.ID, orders.ShipInput{Lines: []orders.LineQuantity{{LineID: l1.ID, Quantity: "2"}}})
			return err
		})

		// Another workspace's order is not found, whoever asks.
		for name, op := range map[string]func() error{
			"get": func() error { _, err := orders.Get(w.manager, db, w.otherOrder); return err },
			"update": func() error {
				_, err := orders.Update(w.manager, db, w.otherOrder, orders.OrderChange{Note: str("x")})
				return err
			},
			"add line": func() error {
				_, err := orders.AddLine(w.manager, db, w.otherOrder, orders.LineInput{SKU: "BOLT-M8", Quantity: "1"})
				return err
			},
			"confirm": func() error { _, err := orders.Confirm(w.manager, db, w.otherOrder); return err },
			"allocate": func() error {
				_, err := orders.Allocate(w.manager, db, w.otherOrder, orders.AllocateInput{})
				return err
			},
			"cancel": func() error { _, err := orders.Cancel(w.manager, db, w.otherOrder, orders.CancelInput{}); return err },
		} {
			w.refused(t, "another workspace's order: "+name, fault.NotFound, "", op)
		}
		page, err := orders.List(w.manager, db, orders.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			if o.ID == w.otherOrder {
				t.Fatal("List shows another workspace's order")
			}
		}
		w.invariant(t)
	})
}

// TestPermissions: who may read, manage and fulfil orders.
func TestPermissions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, w.bolt, w.b, "", "5")
		in := orders.OrderInput{Kind: orders.Outbound, Party: "ACME", Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "1"}}}
		for name, ctx := range map[string]context.Context{"operator": w.operator, "auditor": w.auditor, "station": w.station} {
			w.refused(t, name+" creates", fault.Forbidden, "", func() error { _, err := orders.Create(ctx, db, in); return err })
		}
		o, err := orders.Create(w.manager, db, in)
		if err != nil {
			t.Fatal(err)
		}
		w.refused(t, "operator confirms", fault.Forbidden, "", func() error { _, err := orders.Confirm(w.operator, db, o.ID); return err })
		w.refused(t, "auditor confirms", fault.Forbidden, "", func() error { _, err := orders.Confirm(w.auditor, db, o.ID); return err })
		if o, err = orders.Confirm(w.manager, db, o.ID); err != nil {
			t.Fatal(err)
		}
		w.refused(t, "auditor allocates", fault.Forbidden, "", func() error {
			_, err := orders.Allocate(w.auditor, db, o.ID, orders.AllocateInput{})
			return err
		})
		if _, err := orders.List(w.auditor, db, orders.Filter{}); err != nil {
			t.Fatalf("auditor lists: %v", err)
		}
		w.refused(t, "station lists", fault.Forbidden, "", func() error { _, err := orders.List(w.station, db, orders.Filter{}); return err })
		// Operators allocate and pick; the station at zone B picks and
		// ships what lies there, and reads the order to do it.
		if o, err = orders.Allocate(w.operator, db, o.ID, orders.AllocateInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := orders.Get(w.station, db, o.ID); err != nil {
			t.Fatalf("station reads: %v", err)
		}
		if o, err = orders.Pick(w.station, db, o.ID, orders.LinesInput{}); err != nil {
			t.Fatalf("station picks: %v", err)
		}
		if o, err = orders.Ship(w.station, db, o.ID, orders.ShipInput{}); err != nil {
			t.Fatalf("station ships: %v", err)
		}
		w.refused(t, "operator closes", fault.Forbidden, "", func() error { _, err := orders.Close(w.operator, db, o.ID); return err })
		if e := w.lastEvent(t, o); e.New["status"] != "shipped" {
			t.Fatalf("station's ship event %+v", e)
		}
		w.invariant(t)
	})
}

// TestListAndEdges: List's filters and paging; a note edit keeps what a
// line holds; an order left without lines allocates nothing.
func TestListAndEdges(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, w.bolt, w.a, "", "10")
		mk := func(kind orders.Kind, party string, lines ...orders.LineInput) orders.Order {
			t.Helper()
			o, err := orders.Create(w.manager, db, orders.OrderInput{Kind: kind, Party: party, Lines: lines})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		bolt := orders.LineInput{SKU: "BOLT-M8", Quantity: "2"}
		oil := orders.LineInput{SKU: "OIL-5", Quantity: "1"}
		so1 := mk(orders.Outbound, "ACME", bolt)
		so2 := mk(orders.Outbound, "Globex", oil)
		po1 := mk(orders.Inbound, "Bolts Inc", bolt, oil)
		so1, _ = orders.Confirm(w.manager, db, so1.ID)
		so1, err := orders.Allocate(w.operator, db, so1.ID, orders.AllocateInput{})
		if err != nil || so1.Status != orders.Allocated {
			t.Fatalf("allocate: %v %+v", err, so1)
		}
		numbers := func(f orders.Filter) string {
			t.Helper()
			page, err := orders.List(w.auditor, db, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, o := range page.Orders {
				out = append(out, fmt.Sprintf("%s/%d", o.Number, len(o.Lines)))
			}
			return fmt.Sprint(out)
		}
		for _, c := range []struct {
			f    orders.Filter
			want string
		}{
			{orders.Filter{}, "[PO-000001/2 SO-000002/1 SO-000001/1]"},
			{orders.Filter{Kind: orders.Outbound}, "[SO-000002/1 SO-000001/1]"},
			{orders.Filter{Status: orders.Allocated}, "[SO-000001/1]"},
			{orders.Filter{Search: "glob"}, "[SO-000002/1]"},
			{orders.Filter{Search: "po-0"}, "[PO-000001/2]"},
			{orders.Filter{Party: "INC"}, "[PO-000001/2]"},
			{orders.Filter{ItemID: w.oil.ID}, "[PO-000001/2 SO-000002/1]"},
			{orders.Filter{Search: "100%_"}, "[]"},
			{orders.Filter{To: so1.CreatedAt}, "[]"},
			{orders.Filter{From: so1.CreatedAt, Kind: orders.Outbound, Limit: 1}, "[SO-000002/1]"},
			{orders.Filter{Before: po1.ID, Limit: 1}, "[SO-000002/1]"},
		} {
			if got := numbers(c.f); got != c.want {
				t.Errorf("List(%+v) = %s, want %s", c.f, got, c.want)
			}
		}
		page, err := orders.List(w.auditor, db, orders.Filter{Limit: 2})
		if err != nil || len(page.Orders) != 2 || page.Next != page.Orders[1].ID {
			t.Fatalf("first page %+v %v", page, err)
		}
		if l := lineOf(t, page.Orders[1], 1); page.Orders[1].ID != so2.ID || l.Shortfall.String() != "1" {
			t.Fatalf("listed lines %+v", page.Orders[1])
		}
		for _, f := range []orders.Filter{{Kind: "x"}, {Status: "lost"}, {Limit: 501}, {From: so1.CreatedAt, To: so1.CreatedAt}} {
			if _, err := orders.List(w.auditor, db, f); !fault.Is(err, fault.Invalid) {
				t.Errorf("List(%+v): %v", f, err)
			}
		}

		// A new note keeps the allocation; a new lot releases it.
		note := "fragile"
		so1, err = orders.UpdateLine(w.manager, db, so1.ID, so1.Lines[0].ID, orders.LineChange{Note: &note})
		if err != nil || so1.Status != orders.Allocated || so1.Lines[0].AllocatedText() != "2" {
			t.Fatalf("note edit: %v %+v", err, so1)
		}
		w.expectChange(t, so1, "line 1 note", "", "fragile")
		lot := "L9"
		if so1, err = orders.UpdateLine(w.manager, db, so1.ID, so1.Lines[0].ID, orders.LineChange{Lot: &lot}); err != nil || so1.Status != orders.Confirmed {
			t.Fatalf("lot edit: %v %+v", err, so1)
		}
		w.expectChange(t, so1, "line 1 allocated", "2", "0")
		// Allocating a lot nobody has: the whole line is short, nothing changes.
		before := w.snapshot(t)
		if so1, err = orders.Allocate(w.operator, db, so1.ID, orders.AllocateInput{}); err != nil || so1.Lines[0].ShortfallText() != "2" || w.snapshot(t) != before {
			t.Fatalf("allocate a missing lot: %v %+v", err, so1)
		}
		// Without lines, a confirmed order has nothing to allocate.
		if so1, err = orders.RemoveLine(w.manager, db, so1.ID, so1.Lines[0].ID); err != nil {
			t.Fatal(err)
		}
		if so1, err = orders.Allocate(w.operator, db, so1.ID, orders.AllocateInput{}); err != nil || so1.Status != orders.Confirmed {
			t.Fatalf("allocate without lines: %v %+v", err, so1)
		}
		w.invariant(t)
	})
}
