package inventory_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestDraftRules: the rules of a batch initialize being collected, as the
// station screen and the API apply them.
func TestDraftRules(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		zero, two := 0, 2
		for _, in := range []inventory.ItemInput{
			{SKU: "BOLT-M6", Name: "Bolt", Kind: inventory.Part, Unit: "pcs", Scale: &zero},
			{SKU: "OIL-5", Name: "Oil", Kind: inventory.Material, Unit: "l", Scale: &two},
		} {
			if _, err := inventory.CreateItem(f.Ctx, db, in); err != nil {
				t.Fatal(err)
			}
		}
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Bench 1",
			Role: actor.Operator})
		add := func(d inventory.Draft, sku, lot, qty string) inventory.DraftAddition {
			t.Helper()
			a, err := inventory.AddToDraft(station, db, inventory.DraftScan{Draft: d, Line: inventory.CountedLine{SKU: sku, Lot: lot, Quantity: inventory.DecimalText(qty)}})
			if err != nil {
				t.Fatalf("add %s %s: %v", sku, qty, err)
			}
			return a
		}

		a := add(nil, " BOLT-M6 ", "", "40")
		if a.Line != 1 || a.Merged || a.Counted != "40" || a.Added() != (inventory.DraftLine{SKU: "BOLT-M6", Quantity: "40", Unit: "pcs"}) {
			t.Fatalf("first line %+v", a)
		}
		b := add(a.Draft, "OIL-5", "", "5")
		if b.Line != 2 || b.Added().Quantity != "5.00" || b.Added().Unit != "l" {
			t.Fatalf("formatted by the unit's scale: %+v", b)
		}
		c := add(b.Draft, "BOLT-M6", "", "2")
		if c.Line != 1 || !c.Merged || c.Before != "40" || c.Counted != "2" || c.Added().Quantity != "42" || len(c.Draft) != 2 {
			t.Fatalf("a second scan adds to the line: %+v", c)
		}
		if b.Draft[0].Quantity != "40" {
			t.Fatal("adding changed the draft it was given")
		}
		if d := add(c.Draft, "BOLT-M6", "L7", "1"); d.Line != 3 || d.Merged {
			t.Fatalf("another lot is another line: %+v", d)
		}

		for _, tt := range []struct{ sku, lot, qty, field, want string }{
			{"", "", "1", "sku", "scan or type a SKU"},
			{"NOPE", "", "1", "sku", `there is no item with SKU NOPE`},
			{"OIL-5", "", "-2", "quantity", "a counted quantity may not be negative"},
			{"OIL-5", "", "ten", "quantity", "must be a decimal number"},
			{"OIL-5", "", "1.001", "quantity", "at most 2 decimals"},
			{"BOLT-M6", "", "1.5", "quantity", "must be a whole number for this unit"},
			{"OIL-5", "", "", "quantity", "required"},
			{"OIL-5", strings.Repeat("L", 65), "1", "lot", "at most 64 characters"},
			{"BOLT-M6", "", "999999999999", "quantity", "too large"}, // with the 42 already counted
		} {
			_, err := inventory.AddToDraft(station, db, inventory.DraftScan{Draft: c.Draft, Line: inventory.CountedLine{SKU: tt.sku, Lot: tt.lot, Quantity: inventory.DecimalText(tt.qty)}})
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid || !strings.Contains(e.Fields[tt.field], tt.want) {
				t.Errorf("%q %q %q: %v, want %s: %q", tt.sku, tt.lot, tt.qty, err, tt.field, tt.want)
			}
		}

		full := make(inventory.Draft, inventory.MaxDraftLines)
		for i := range full {
			full[i] = inventory.DraftLine{SKU: "OIL-5", Lot: "L" + strconv.Itoa(i), Quantity: "1.00"}
		}
		if _, err := inventory.AddToDraft(station, db, inventory.DraftScan{Draft: full, Line: inventory.CountedLine{SKU: "BOLT-M6", Quantity: "1"}}); fault.KindOf(err) != fault.Invalid ||
			!strings.Contains(err.Error(), "at most 1000 lines") {
			t.Errorf("a full draft took a line: %v", err)
		}
		if _, err := inventory.AddToDraft(station, db, inventory.DraftScan{Draft: append(full, full[0]), Line: inventory.CountedLine{SKU: "OIL-5", Quantity: "1"}}); fault.KindOf(err) != fault.Invalid {
			t.Errorf("an overfull draft was accepted: %v", err)
		}

		// Collecting lines is for those who may move stock.
		auditor := f.User(t, "auditor@example.com", actor.Auditor)
		if _, err := inventory.AddToDraft(f.As(auditor), db, inventory.DraftScan{Line: inventory.CountedLine{SKU: "OIL-5", Quantity: "1"}}); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("an auditor added a line: %v", err)
		}
		if _, err := inventory.AddToDraft(context.Background(), db, inventory.DraftScan{Line: inventory.CountedLine{SKU: "OIL-5", Quantity: "1"}}); fault.KindOf(err) != fault.Unauthorized {
			t.Errorf("nobody added a line: %v", err)
		}
	})
}

func TestDraftRemoveAndSubmit(t *testing.T) {
	d := inventory.Draft{{SKU: "A", Quantity: "1"}, {SKU: "B", Lot: "L", Quantity: "2.5", Unit: "l"}, {SKU: "C", Quantity: "3"}}
	rest, removed, err := d.Remove(2)
	if err != nil || removed.SKU != "B" || len(rest) != 2 || rest[1].SKU != "C" || d[1].SKU != "B" {
		t.Fatalf("remove: %v %+v %+v (draft now %+v)", err, removed, rest, d)
	}
	for _, n := range []int{0, -1, 4} {
		if _, _, err := d.Remove(n); fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "no such line") {
			t.Errorf("remove %d: %v", n, err)
		}
	}
	in, err := d.Initialize(inventory.LocationRef{Location: "WH1/A1"}, inventory.Options{Reference: "r"})
	if err != nil || len(in.Lines) != 3 || in.Location != "WH1/A1" || in.Reference != "r" ||
		in.Lines[1] != (inventory.InitializeLine{ItemRef: inventory.ItemRef{SKU: "B"}, Lot: "L", Quantity: "2.5"}) {
		t.Fatalf("initialize: %v %+v", err, in)
	}
	if _, err := inventory.Draft(nil).Initialize(inventory.LocationRef{}, inventory.Options{}); fault.KindOf(err) != fault.Invalid ||
		!strings.Contains(err.Error(), "scan at least one line") {
		t.Errorf("empty draft: %v", err)
	}
}

func TestDraftEncoding(t *testing.T) {
	d := inventory.Draft{{SKU: "A", Quantity: "1"}, {SKU: "B", Lot: "L", Quantity: "2.50", Unit: "l"}}
	raw, err := inventory.EncodeDraft(d)
	if err != nil || raw != `[{"sku":"A","quantity":"1"},{"sku":"B","lot":"L","quantity":"2.50","unit":"l"}]` {
		t.Fatalf("encode: %q %v", raw, err)
	}
	if back := inventory.DecodeDraft(raw); len(back) != 2 || back[1] != d[1] {
		t.Fatalf("decode: %+v", back)
	}
	if raw, err := inventory.EncodeDraft(nil); raw != "" || err != nil {
		t.Fatalf("empty: %q %v", raw, err)
	}
	for _, bad := range []string{"", "{", `{"sku":"A"}`, `[1]`} {
		if d := inventory.DecodeDraft(bad); len(d) != 0 {
			t.Errorf("%q read as %+v", bad, d)
		}
	}
}
