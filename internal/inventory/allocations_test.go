package inventory_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func (w *world) allocate(t *testing.T, id int64, qty, holder string) inventory.Entry {
	t.Helper()
	res, err := inventory.Apply(w.ctx, w.db, &inventory.Allocate{Record: inventory.RecordRef{RecordID: id}, Quantity: inventory.DecimalText(qty), Holder: holder})
	if err != nil {
		t.Fatalf("allocate %s to %s: %v", qty, holder, err)
	}
	return res.Entries[0]
}

func (w *world) record(t *testing.T, id int64) inventory.Record {
	t.Helper()
	r, err := inventory.GetRecord(w.ctx, w.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// holdings returns a record's holders as holder → quantity text.
func (w *world) holdings(t *testing.T, id int64) map[string]string {
	t.Helper()
	r := w.record(t, id)
	hs, err := inventory.Allocations(w.ctx, w.db, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hs {
		out[h.Holder] = h.Quantity.Format(r.Scale)
	}
	return out
}

func TestAllocateReleaseShip(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")

		e := w.allocate(t, r.ID, "6", "SO-000012")
		if e.Movement != "allocate" || e.Change != 0 || e.AllocatedChangeText() != "6" || e.AllocatedLevelText() != "6" ||
			e.RecordLevelText() != "10" || e.LocationLevelText() != "10" || e.Reference != "SO-000012" {
			t.Fatalf("allocate entry %+v", e)
		}
		got := w.record(t, r.ID)
		if got.AllocatedText() != "6" || got.AvailableText() != "4" || got.QuantityText() != "10" {
			t.Fatalf("after allocate %+v", got)
		}
		w.allocate(t, r.ID, "2", "SO-000015")
		w.allocate(t, r.ID, "1", "SO-000012")
		if h := w.holdings(t, r.ID); len(h) != 2 || h["SO-000012"] != "7" || h["SO-000015"] != "2" {
			t.Fatalf("holdings %v", h)
		}

		res, err := inventory.Apply(w.ctx, db, &inventory.Release{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "2", Holder: "SO-000015"})
		if err != nil {
			t.Fatal(err)
		}
		e = res.Entries[0]
		if e.Movement != "release" || e.Change != 0 || e.AllocatedChangeText() != "-2" || e.AllocatedLevelText() != "7" || e.RecordLevelText() != "10" {
			t.Fatalf("release entry %+v", e)
		}
		if h := w.holdings(t, r.ID); len(h) != 1 || h["SO-000012"] != "7" {
			t.Fatalf("holdings after release %v", h)
		}

		res, err = inventory.Apply(w.ctx, db, &inventory.Ship{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "5", Holder: "SO-000012"})
		if err != nil {
			t.Fatal(err)
		}
		e = res.Entries[0]
		if e.Movement != "ship" || e.ChangeText() != "-5" || e.AllocatedChangeText() != "-5" || e.AllocatedLevelText() != "2" ||
			e.RecordLevelText() != "5" || e.LocationLevelText() != "5" {
			t.Fatalf("ship entry %+v", e)
		}
		got = w.record(t, r.ID)
		if got.QuantityText() != "5" || got.AllocatedText() != "2" || got.AvailableText() != "3" {
			t.Fatalf("after ship %+v", got)
		}
		if _, err := inventory.Apply(w.ctx, db, &inventory.Ship{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "2", Holder: "SO-000012"}); err != nil {
			t.Fatal(err)
		}
		if h := w.holdings(t, r.ID); len(h) != 0 {
			t.Fatalf("holdings after shipping all %v", h)
		}
		w.entriesAreLogged(t, res.Entries)
	})
}
