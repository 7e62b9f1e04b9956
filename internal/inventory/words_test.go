package inventory_test

import (
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestLogInWords: every movement's entries read as what happened, and each
// record creation a movement wrote folds into that movement's entry.
func TestLogInWords(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rec := w.receive(t, "BOLT-M8", w.a1, "", "100")
		ref := inventory.RecordRef{RecordID: rec.ID}
		apply := func(m inventory.Movement) {
			t.Helper()
			if _, err := inventory.Apply(w.ctx, db, m); err != nil {
				t.Fatalf("%s: %v", m.Kind(), err)
			}
		}
		apply(&inventory.Issue{RecordRef: ref, Quantity: "5"})
		apply(&inventory.Move{RecordRef: ref, ToLocationID: w.a2.ID, Quantity: "10"})
		apply(&inventory.Split{RecordRef: ref, NewLot: "L2", Quantity: "15"})
		apply(&inventory.Correction{RecordRef: ref, Change: "-2", Options: inventory.Options{Reason: "damaged in handling"}})
		apply(&inventory.Reconciliation{RecordRef: ref, Counted: "60"})
		apply(&inventory.Allocate{Record: ref, Quantity: "4", Holder: "SO-000012"})
		apply(&inventory.Release{Record: ref, Quantity: "1", Holder: "SO-000012"})
		apply(&inventory.Ship{Record: ref, Quantity: "3", Holder: "SO-000012"})
		page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{ItemID: w.bolt.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		folded := inventory.FoldCreations(page.Entries)
		for i := len(folded) - 1; i >= 0; i-- {
			e := folded[i]
			words := e.Description()
			if e.Created != nil {
				words += " +created"
				if e.Created.Action != inventory.CreateRecordAction || e.Created.RecordID != e.RecordID || e.Created.Change != 0 {
					t.Errorf("%s folded %+v", e.Description(), *e.Created)
				}
				if !strings.Contains(e.Created.CreationText(), "WH1/A") {
					t.Errorf("creation text %q", e.Created.CreationText())
				}
			}
			got = append(got, words)
		}
		want := []string{"Receipt +created", "Issue", "Move out", "Move in +created", "Split off to a new lot", "Split into this lot +created",
			"Correction: damaged in handling", "Count", "Allocated to SO-000012", "Released", "Shipped"}
		if strings.Join(got, " | ") != strings.Join(want, " | ") {
			t.Errorf("the log in words:\n got %q\nwant %q", got, want)
		}
		if len(page.Entries) != len(folded)+3 {
			t.Errorf("%d entries folded into %d rows, want 3 creations folded", len(page.Entries), len(folded))
		}
		// Filtered to creations alone, there is nothing to fold them into.
		only, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{ItemID: w.bolt.ID, Action: inventory.CreateRecordAction})
		if err != nil {
			t.Fatal(err)
		}
		if f := inventory.FoldCreations(only.Entries); len(f) != 3 || f[0].Description() != "Record created" || f[0].Created != nil {
			t.Errorf("creations alone: %+v", f)
		}
		// A record made on purpose with an opening quantity is its own row.
		res, err := inventory.CreateRecord(w.ctx, db, inventory.RecordInput{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
			LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "0"})
		if err != nil {
			t.Fatal(err)
		}
		if f := inventory.FoldCreations(res.Entries); len(f) != 1 || f[0].Created != nil || f[0].Description() != "Record created" {
			t.Errorf("a new record: %+v", f)
		}
		if got := inventory.MovementName("reconciliation"); got != "Count" {
			t.Errorf("MovementName(reconciliation) = %q", got)
		}
		for _, a := range inventory.Actions() {
			if l := a.Label(); l == "" || strings.Contains(l, "_") || l == string(a) {
				t.Errorf("%s.Label() = %q: not words", a, l)
			}
		}
		if got := inventory.UserCorrection.Label(); got != "Corrections" {
			t.Errorf("UserCorrection.Label() = %q", got)
		}
	})
}

// TestIssueFromLots: an issue that names no lot (or a lot with no record)
// where the item is kept in lots is refused naming the lots, and nothing
// changes; an item with no stock there at all is refused as before.
func TestIssueFromLots(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "BOLT-M8", w.a1, "L1", "300")
		w.receive(t, "BOLT-M8", w.a1, "L2", "275")
		before := countEntries(t, w)
		for _, tt := range []struct{ lot, want string }{
			{"", "BOLT-M8 at WH1/A1 is kept in lots: L1 (300 pcs), L2 (275 pcs). Say which lot."},
			{"L9", "BOLT-M8 has no lot L9 at WH1/A1; it is kept there in lots: L1 (300 pcs), L2 (275 pcs). Say which lot."},
		} {
			_, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"},
				LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Lot: tt.lot}, Quantity: "5"})
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid || e.Fields["lot"] != tt.want || e.Message != tt.want {
				t.Fatalf("lot %q: %v", tt.lot, err)
			}
			lots, ok := inventory.LotsOffered(err)
			if !ok || len(lots.Lots) != 2 || lots.Lots[0] != (inventory.LotLevel{Lot: "L1", Quantity: "300"}) || lots.SKU != "BOLT-M8" || lots.Unit != "pcs" {
				t.Fatalf("lot %q offers %+v", tt.lot, lots)
			}
		}
		_, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"},
			LocationRef: inventory.LocationRef{LocationID: w.a2.ID}}, Quantity: "5"})
		if e, ok := fault.As(err); !ok || !strings.Contains(e.Fields["record_id"], "no stock of BOLT-M8 at WH1/A2") {
			t.Fatalf("no stock at all: %v", err)
		}
		if _, ok := inventory.LotsOffered(err); ok {
			t.Fatal("lots offered where there are none")
		}
		if n := countEntries(t, w); n != before {
			t.Fatalf("refused issues wrote %d entries", n-before)
		}
	})
}
