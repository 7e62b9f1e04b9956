package orders_test

import (
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
)

// TestStationScans: what a scan at a station means for an order, decided
// from the order as read: the line of the SKU it may work on, and why not.
func TestStationScans(t *testing.T) {
	q := func(s string) inventory.Quantity {
		v, err := inventory.ParseQuantity(s, 2)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	at := func(path string, n string) orders.Allocation {
		return orders.Allocation{LocationPath: path, Quantity: q(n)}
	}
	so := orders.Order{Number: "SO-000004", Kind: orders.Outbound, Status: orders.Allocated, Lines: []orders.Line{
		{ID: 11, Number: 1, SKU: "OIL-5", Unit: "l", Scale: 2, Quantity: q("2.5"), Allocated: q("2.5"), Allocations: []orders.Allocation{at("WH1/A1", "2.5")}},
		{ID: 12, Number: 2, SKU: "BOLT", Unit: "pcs", Scale: 2, Quantity: q("5"), Allocated: q("5"), Picked: true, Allocations: []orders.Allocation{at("WH1/A1", "5")}},
		{ID: 13, Number: 3, SKU: "BOLT", Unit: "pcs", Scale: 2, Quantity: q("2"), Allocated: q("2"), Allocations: []orders.Allocation{at("WH1/A1/x", "1"), at("WH1/A2", "1")}},
		{ID: 14, Number: 4, SKU: "NUT", Unit: "pcs", Scale: 2, Quantity: q("3")},
	}}
	for _, c := range []struct {
		sku, qty, home string
		line           int64
		kind           fault.Kind
		says           string
	}{
		{"OIL-5", "", "WH1/A1", 11, fault.Internal, ""},
		{"OIL-5", "2.50", "WH1", 11, fault.Internal, ""},
		{"OIL-5", "", "", 11, fault.Internal, ""},
		{"OIL-5", "1", "WH1/A1", 0, fault.Invalid, "counted 1.00: pick all 2.50"},
		{"OIL-5", "x", "WH1/A1", 0, fault.Invalid, ""},
		{"OIL-5", "", "WH1/A2", 0, fault.Forbidden, "line 1 (OIL-5) of SO-000004 is picked at WH1/A1; this station works at WH1/A2"},
		{"OIL-5", "", "WH1/A", 0, fault.Forbidden, "this station works at WH1/A"}, // a prefix of a path is not above it
		{"BOLT", "", "WH1", 13, fault.Internal, ""},
		{"BOLT", "", "WH1/A1", 0, fault.Forbidden, "line 3 (BOLT) of SO-000004 is picked at WH1/A1/x, WH1/A2"},
		{"NUT", "", "WH1", 0, fault.Invalid, "line 4 (NUT) of SO-000004 holds no stock to pick"},
		{"GONE", "", "WH1", 0, fault.Invalid, "GONE is not on SO-000004"},
		{" ", "", "WH1", 0, fault.Invalid, "scan or type a SKU"},
	} {
		in, l, err := so.PickScan(orders.Scan{SKU: c.sku, Quantity: inventory.DecimalText(c.qty), Home: c.home})
		if c.kind == fault.Internal { // no refusal
			if err != nil || len(in.Lines) != 1 || in.Lines[0] != c.line || l.ID != c.line {
				t.Errorf("pick %s %q at %q: %v %v, want line %d", c.sku, c.qty, c.home, in, err, c.line)
			}
			continue
		}
		if e, ok := fault.As(err); !ok || e.Kind != c.kind || !strings.Contains(e.Error()+strings.Join(fieldTexts(e), " "), c.says) {
			t.Errorf("pick %s %q at %q: %v, want kind %v saying %q", c.sku, c.qty, c.home, err, c.kind, c.says)
		}
	}
	if picked := (orders.Line{Allocated: q("1"), Picked: true}); picked.Pickable("") {
		t.Error("a picked line is pickable")
	}

	po := orders.Order{Number: "PO-000002", Kind: orders.Inbound, Status: orders.PartiallyReceived, Lines: []orders.Line{
		{ID: 21, Number: 1, SKU: "BOLT", Quantity: q("10"), Received: q("10"), LocationID: 7, LocationPath: "WH1/A2"},
		{ID: 22, Number: 2, SKU: "BOLT", Quantity: q("4"), Received: q("1"), LocationID: 7, LocationPath: "WH1/A2"},
		{ID: 23, Number: 3, SKU: "OIL-5", Quantity: q("4")},
	}}
	for _, c := range []struct {
		sku, home, lot string
		homeID         int64
		line, into     int64
		lot2           string
	}{
		{"BOLT", "WH1", "", 3, 22, 0, ""},        // the line still expecting stock, into its own location
		{"BOLT", "WH1/A1", "L9", 5, 22, 5, "L9"}, // its location is beyond the station: into the station's
		{"OIL-5", "WH1/A1", "", 5, 23, 5, ""},    // a line without a location: the station's
		{"OIL-5", "", "", 0, 23, 0, ""},          // an unbound station without a chosen location: Receive asks
	} {
		in, l, err := po.ReceiveScan(orders.Scan{SKU: c.sku, Quantity: "1", Home: c.home, HomeID: c.homeID, Lot: c.lot})
		if err != nil || l.ID != c.line || len(in.Lines) != 1 || in.Lines[0].LineID != c.line || in.Lines[0].LocationID != c.into ||
			(c.lot2 == "") != (in.Lines[0].Lot == nil) || (in.Lines[0].Lot != nil && *in.Lines[0].Lot != c.lot2) {
			t.Errorf("receive %s at %q: %+v %v, want line %d into %d", c.sku, c.home, in, err, c.line, c.into)
		}
	}
	if _, _, err := po.PickScan(orders.Scan{SKU: "BOLT"}); err == nil || !strings.Contains(fieldTexts(err.(*fault.Error))[0], "receive against it") {
		t.Errorf("picking a purchase order: %v", err)
	}
	for _, c := range []struct {
		o    orders.Order
		work string
		says string
	}{
		{orders.Order{Number: "SO-1", Kind: orders.Outbound, Status: orders.PartiallyAllocated}, "pick", ""},
		{orders.Order{Number: "SO-1", Kind: orders.Outbound, Status: orders.Confirmed}, "", "SO-1 holds no stock yet"},
		{orders.Order{Number: "SO-1", Kind: orders.Outbound, Status: orders.Shipped}, "", "SO-1 is shipped: nothing is left to pick"},
		{orders.Order{Number: "PO-1", Kind: orders.Inbound, Status: orders.Draft}, "", "PO-1 is a draft"},
		{orders.Order{Number: "PO-1", Kind: orders.Inbound, Status: orders.Confirmed}, "receive", ""},
		{orders.Order{Number: "PO-1", Kind: orders.Inbound, Status: orders.Cancelled}, "", "PO-1 is cancelled: nothing is left to receive"},
	} {
		if work, why := c.o.StationWork(); work != c.work || !strings.Contains(why, c.says) {
			t.Errorf("%s %s: %q %q", c.o.Number, c.o.Status, work, why)
		}
	}
}

func fieldTexts(e *fault.Error) []string {
	out := []string{e.Message}
	for _, v := range e.Fields {
		out = append(out, v)
	}
	return out
}
