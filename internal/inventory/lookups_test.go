package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// A batch reads the items and locations it names up front; every way of
// naming them still resolves, and what does not exist or may not be used
// is refused with the movement's field, writing nothing.
func TestBatchLookups(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		receipt := func(item inventory.ItemRef, loc inventory.LocationRef, qty string) inventory.Movement {
			return &inventory.Receipt{ItemRef: item, LocationRef: loc, Quantity: inventory.DecimalText(qty)}
		}
		res, err := inventory.Apply(w.ctx, db,
			receipt(inventory.ItemRef{ItemID: w.bolt.ID}, inventory.LocationRef{LocationID: w.a1.ID}, "1"),
			receipt(inventory.ItemRef{SKU: " BOLT-M8 "}, inventory.LocationRef{Location: "WH1/A1"}, "2"),
			receipt(inventory.ItemRef{SKU: "OIL-5"}, inventory.LocationRef{Location: " WH1/A2"}, "0.25"),
			receipt(inventory.ItemRef{ItemID: w.oil.ID}, inventory.LocationRef{LocationID: w.a2.ID}, "0.5"),
			&inventory.Issue{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"},
				LocationRef: inventory.LocationRef{Location: "WH1/A1"}}, Quantity: "1"},
		)
		if err != nil {
			t.Fatal(err)
		}
		levels := map[string]string{}
		for _, r := range res.Records {
			levels[r.SKU+"@"+r.LocationPath] = r.QuantityText()
		}
		if levels["BOLT-M8@WH1/A1"] != "2" || levels["OIL-5@WH1/A2"] != "0.75" {
			t.Fatalf("levels after the batch: %v", levels)
		}

		if _, err := db.Exec(context.Background(), `UPDATE locations SET archived_at = 1 WHERE id = $1`, w.a2.ID); err != nil {
			t.Fatal(err)
		}
		before := w.logCount(t)
		for _, c := range []struct {
			name  string
			bad   inventory.Movement
			field string
		}{
			{"unknown SKU", receipt(inventory.ItemRef{SKU: "NOPE"}, inventory.LocationRef{LocationID: w.a1.ID}, "1"), "movements[1].sku"},
			{"unknown item id", receipt(inventory.ItemRef{ItemID: 999999}, inventory.LocationRef{LocationID: w.a1.ID}, "1"), "movements[1].item_id"},
			{"unknown path", receipt(inventory.ItemRef{ItemID: w.bolt.ID}, inventory.LocationRef{Location: "WH9/Z"}, "1"), "movements[1].location"},
			{"archived location", receipt(inventory.ItemRef{ItemID: w.bolt.ID}, inventory.LocationRef{Location: "WH1/A2"}, "1"), "movements[1].location"},
			{"archived location by id", receipt(inventory.ItemRef{ItemID: w.bolt.ID}, inventory.LocationRef{LocationID: w.a2.ID}, "1"), "movements[1].location"},
		} {
			_, err := inventory.Apply(w.ctx, db, receipt(inventory.ItemRef{ItemID: w.bolt.ID}, inventory.LocationRef{LocationID: w.a1.ID}, "1"), c.bad)
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields[c.field] == "" {
				t.Errorf("%s: %v, want a problem with %s", c.name, err, c.field)
			}
		}
		if after := w.logCount(t); after != before {
			t.Fatalf("refused batches wrote %d entries", after-before)
		}
	})
}

// Movements of one batch that write the same record each see what the
// earlier ones left: receipts, issues and corrections interleaved, and a
// record created by one receipt and added to by the next.
func TestBatchReceiptsAroundOtherMovements(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rec := w.receive(t, "BOLT-M8", w.a1, "", "10")
		at := func(lot, qty string) inventory.Movement {
			return &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID},
				Lot: lot, Quantity: inventory.DecimalText(qty)}
		}
		// Two lots received two months ago.
		past := inventory.Options{EffectiveAt: time.Now().AddDate(0, -2, 0)}
		for _, lot := range []string{"A", "B"} {
			if _, err := inventory.Receive(w.ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
				LocationRef: inventory.LocationRef{LocationID: w.a2.ID}, Lot: lot, Quantity: "5", Options: past}); err != nil {
				t.Fatal(err)
			}
		}
		oldRecs, err := inventory.ListRecords(w.ctx, db, inventory.RecordFilter{ItemID: w.oil.ID, LocationID: w.a2.ID})
		if err != nil || len(oldRecs) != 2 {
			t.Fatalf("old lots %v %v", oldRecs, err)
		}
		oldB := oldRecs[0]
		if oldB.Lot != "B" {
			oldB = oldRecs[1]
		}
		ref := inventory.RecordRef{RecordID: rec.ID}
		res, err := inventory.Apply(actor.WithRequest(w.ctx, actor.Request{RequestID: "batch-1"}), db,
			&inventory.Issue{RecordRef: ref, Quantity: "5"},
			at("", "1"),
			&inventory.Issue{RecordRef: ref, Quantity: "5"},
			at("", "2"),
			&inventory.Correction{RecordRef: ref, Change: "-1", Options: inventory.Options{Reason: "recount"}},
			at("", "3"),
			at("L1", "4"), // a new record, then the same one again
			at("L1", "1"),
			// In on one lot and out of another at an item-location with no
			// change this month yet: the month's changes cancel out, and
			// its checkpoint row still says so.
			&inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"}, LocationRef: inventory.LocationRef{LocationID: w.a2.ID}, Lot: "A", Quantity: "2"},
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: oldB.ID}, Quantity: "2"},
			// Out to a location with no stock yet, and back in part.
			&inventory.Move{RecordRef: ref, ToLocation: "WH1/A2", Quantity: "2"},
			&inventory.Move{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a2.ID}},
				ToLocationID: w.a1.ID, Quantity: "1"},
		)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.level(t, rec.ID); got != "4" {
			t.Fatalf("record level %s, want 10-5+1-5+2-1+3-2+1 = 4", got)
		}
		w.entriesAreLogged(t, res.Entries)
		recs, err := inventory.ListRecords(w.ctx, db, inventory.RecordFilter{ItemID: w.bolt.ID, LocationID: w.a1.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Lot == "L1" && r.QuantityText() != "5" {
				t.Fatalf("lot L1 holds %s, want 5", r.QuantityText())
			}
		}
		// A receipt refused mid-batch leaves the records as they were.
		_, err = inventory.Apply(w.ctx, db, at("", "1"), &inventory.Issue{RecordRef: ref, Quantity: "100"}, at("", "1"))
		if err == nil || w.level(t, rec.ID) != "4" {
			t.Fatalf("refused batch: %v, level %s", err, w.level(t, rec.ID))
		}
	})
}
