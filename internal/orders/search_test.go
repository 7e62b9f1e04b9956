package orders_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Search finds orders by part of the number, party or reference, the exact
// number first, only in the actor's workspace, and not for a station.
func TestSearch(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		mk := func(kind orders.Kind, party, ref string) orders.Order {
			t.Helper()
			o, err := orders.Create(w.manager, db, orders.OrderInput{Kind: kind, Party: party, PartyReference: ref,
				Lines: []orders.LineInput{{SKU: "BOLT-M8", Quantity: "1"}}})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		so := mk(orders.Outbound, "ACME", "ACME-77")
		po := mk(orders.Inbound, "Bolts Inc", "")
		mk(orders.Outbound, "Globex", "G-1")
		got, err := orders.Search(w.operator, db, so.Number, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].ID != so.ID {
			t.Fatalf("search %s: %+v", so.Number, got)
		}
		if got, err := orders.Search(w.auditor, db, "acme-7", 10); err != nil || len(got) != 1 || got[0].ID != so.ID {
			t.Errorf("by reference: %+v %v", got, err)
		}
		if got, err := orders.Search(w.ctx, db, "bolts", 10); err != nil || len(got) != 1 || got[0].ID != po.ID {
			t.Errorf("by supplier: %+v %v", got, err)
		}
		// Newest first after the exact match, at most limit.
		if got, err := orders.Search(w.ctx, db, "O-", 2); err != nil || len(got) != 2 || got[0].ID < got[1].ID {
			t.Errorf("limit and order: %+v %v", got, err)
		}
		if got, err := orders.Search(w.ctx, db, "   ", 10); err != nil || len(got) != 0 {
			t.Errorf("blank: %+v %v", got, err)
		}
		// The other workspace's order is never found.
		other, err := orders.Get(w.other, db, w.otherOrder)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range mustSearch(t, w, db, other.Number) {
			if o.ID == w.otherOrder {
				t.Errorf("found another workspace's order %s", o.Number)
			}
		}
		if _, err := orders.Search(w.station, db, "SO", 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a station searched orders: %v", err)
		}
	})
}

func mustSearch(t *testing.T, w *world, db *store.DB, text string) []orders.Order {
	t.Helper()
	got, err := orders.Search(w.ctx, db, text, 100)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
