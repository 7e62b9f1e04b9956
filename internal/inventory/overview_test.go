package inventory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Minimum levels: set on creation and by UpdateItem (and removed), audited,
// refused naming the field when negative or finer than the unit; an item is
// below its minimum when its available stock summed over all locations is.
func TestMinimumLevelsAndShortages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		wh, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1", Name: "Main store"})
		if err != nil {
			t.Fatal(err)
		}
		bin, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{ParentID: wh.ID, Kind: inventory.Bin, Code: "B7"})
		if err != nil {
			t.Fatal(err)
		}
		two := 2
		oil, err := inventory.CreateItem(ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Unit: "l", Scale: &two, MinLevel: "10.5"})
		if err != nil {
			t.Fatal(err)
		}
		if oil.MinLevelText() != "10.50" {
			t.Fatalf("min level %q", oil.MinLevelText())
		}
		bolt, err := inventory.CreateItem(ctx, db, inventory.ItemInput{SKU: "BOLT-M6", Name: "Bolt"})
		if err != nil {
			t.Fatal(err)
		}
		if bolt.MinLevel != nil {
			t.Fatalf("bolt has a minimum: %v", *bolt.MinLevel)
		}
		// Bad minimums are refused naming the field, and change nothing.
		for _, bad := range []inventory.DecimalText{"-1", "1.234", "ten", "1e3"} {
			_, err := inventory.CreateItem(ctx, db, inventory.ItemInput{SKU: "BAD-1", Name: "Bad", Scale: &two, MinLevel: bad})
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields["min_level"] == "" {
				t.Errorf("create with min level %q: %v", bad, err)
			}
			_, err = inventory.UpdateItem(ctx, db, oil.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true, Text: bad}})
			if e, ok := fault.As(err); !ok || e.Fields["min_level"] == "" {
				t.Errorf("update to min level %q: %v", bad, err)
			}
		}
		if got, _ := inventory.GetItem(ctx, db, oil.ID); got.MinLevelText() != "10.50" {
			t.Errorf("after refused updates: %q", got.MinLevelText())
		}

		// 8 l on hand at two places, 1 l of it allocated: 7 available < 10.5.
		for _, at := range []string{"WH1", "WH1/B7"} {
			if _, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
				LocationRef: inventory.LocationRef{Location: at}, Quantity: "4"}); err != nil {
				t.Fatal(err)
			}
		}
		recs, err := inventory.ListRecords(ctx, db, inventory.RecordFilter{ItemID: oil.ID, LocationID: bin.ID})
		if err != nil || len(recs) != 1 {
			t.Fatalf("records %v %v", recs, err)
		}
		if _, err := inventory.Apply(ctx, db, &inventory.Allocate{Record: inventory.RecordRef{RecordID: recs[0].ID}, Quantity: "1", Holder: "SO-1"}); err != nil {
			t.Fatal(err)
		}
		short, total, err := inventory.BelowMinimum(ctx, db, 10)
		if err != nil {
			t.Fatal(err)
		}
		if total != 1 || len(short) != 1 || short[0].SKU != "OIL-5" || short[0].AvailableText() != "7.00" || short[0].ShortfallText() != "3.50" {
			t.Fatalf("below minimum: %d %+v", total, short)
		}
		// An item with a minimum and no stock at all is short by all of it.
		if _, err := inventory.UpdateItem(ctx, db, bolt.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true, Text: "100"}}); err != nil {
			t.Fatal(err)
		}
		short, total, err = inventory.BelowMinimum(ctx, db, 1)
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(short) != 1 || short[0].SKU != "BOLT-M6" || short[0].AvailableText() != "0" {
			t.Fatalf("largest shortfall first, limited to 1: %d %+v", total, short)
		}
		// Removing the minimum (and meeting the other) clears the alerts.
		if _, err := inventory.UpdateItem(ctx, db, bolt.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true}}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.UpdateItem(ctx, db, oil.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true, Text: "7"}}); err != nil {
			t.Fatal(err)
		}
		if short, total, err = inventory.BelowMinimum(ctx, db, 10); err != nil || total != 0 || len(short) != 0 {
			t.Fatalf("after raising stock to the minimum: %d %+v %v", total, short, err)
		}
		// Each change of the minimum is in the item's history, in words.
		hist, err := activity.History(ctx, db, "items", fmt.Sprint(bolt.ID), 10)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, ev := range hist {
			for _, c := range ev.Changes {
				if c.Field == "min_level" {
					changes = append(changes, c.Label+": "+c.Before+" → "+c.After)
				}
			}
		}
		if len(changes) != 2 || changes[0] != "Minimum level: 100 → " || changes[1] != "Minimum level:  → 100" {
			t.Errorf("history of the minimum: %q", changes)
		}
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: wh.ID})
		if _, _, err := inventory.BelowMinimum(station, db, 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a station read the stock alerts: %v", err)
		}
	})
}

// LevelHistory gives each location's level after every entry, with the
// level before it, oldest first; Search finds items and locations by part
// of a code or name, exact and leading matches first.
func TestLevelHistoryAndSearch(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		wh, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1", Name: "Main store"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{ParentID: wh.ID, Kind: inventory.Bin, Code: "B7", Name: "Bolts"}); err != nil {
			t.Fatal(err)
		}
		for _, sku := range []string{"BOLT-M6", "BOLT-M8", "NUT-BOLT"} {
			if _, err := inventory.CreateItem(ctx, db, inventory.ItemInput{SKU: sku, Name: "Part " + sku}); err != nil {
				t.Fatal(err)
			}
		}
		bolt, err := inventory.ItemBySKU(ctx, db, "BOLT-M6")
		if err != nil {
			t.Fatal(err)
		}
		ref := inventory.ItemRef{SKU: "BOLT-M6"}
		if _, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: ref, LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: "50"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.MoveStock(ctx, db, inventory.Move{RecordRef: inventory.RecordRef{ItemRef: ref, LocationRef: inventory.LocationRef{Location: "WH1"}},
			ToLocation: "WH1/B7", Quantity: "20"}); err != nil {
			t.Fatal(err)
		}
		series, complete, err := inventory.LevelHistory(ctx, db, bolt.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !complete || len(series) != 2 || series[0].LocationPath != "WH1" || series[1].LocationPath != "WH1/B7" {
			t.Fatalf("series %+v complete %v", series, complete)
		}
		wh1 := series[0].Points
		if last := wh1[len(wh1)-1]; last.Before != 50_000_000 || last.After != 30_000_000 {
			t.Errorf("WH1 after the move: %+v", last)
		}
		for i := 1; i < len(wh1); i++ {
			if wh1[i].RecordedAt.Before(wh1[i-1].RecordedAt) || wh1[i].Before != wh1[i-1].After {
				t.Errorf("WH1 points out of order or not continuous: %+v", wh1)
			}
		}
		if last := series[1].Points[len(series[1].Points)-1]; last.After != 20_000_000 {
			t.Errorf("B7 after the move: %+v", last)
		}
		// Cut to the latest entry: not complete.
		if cut, complete, err := inventory.LevelHistory(ctx, db, bolt.ID, 1); err != nil || complete || len(cut) != 1 {
			t.Errorf("cut history: %+v %v %v", cut, complete, err)
		}
		if _, _, err := inventory.LevelHistory(ctx, db, 99999, 10); !fault.Is(err, fault.NotFound) {
			t.Errorf("history of no item: %v", err)
		}

		found, err := inventory.Search(ctx, db, "bolt", 10)
		if err != nil {
			t.Fatal(err)
		}
		var skus []string
		for _, it := range found.Items {
			skus = append(skus, it.SKU)
		}
		// Leading matches first (BOLT-…), then the one containing it; the
		// location named "Bolts" by its name.
		if len(skus) != 3 || skus[0] != "BOLT-M6" || skus[2] != "NUT-BOLT" || len(found.Locations) != 1 || found.Locations[0].Path != "WH1/B7" {
			t.Errorf("search bolt: %v %+v", skus, found.Locations)
		}
		if found, err := inventory.Search(ctx, db, "bolt-m8", 10); err != nil || len(found.Items) != 1 || found.Items[0].SKU != "BOLT-M8" {
			t.Errorf("exact SKU: %+v %v", found, err)
		}
		if found, err := inventory.Search(ctx, db, "wh1/b", 10); err != nil || len(found.Locations) != 1 {
			t.Errorf("by path: %+v %v", found, err)
		}
		// LIKE's wildcards are letters here.
		if found, err := inventory.Search(ctx, db, "%", 10); err != nil || len(found.Items)+len(found.Locations) != 0 {
			t.Errorf("search %%: %+v %v", found, err)
		}
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: wh.ID})
		if _, err := inventory.Search(station, db, "bolt", 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a station searched the catalogue: %v", err)
		}
	})
}
