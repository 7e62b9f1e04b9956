package orders_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestConcurrentAllocation: two orders allocating the last units of a
// record at once. One gets them, the other a shortfall; never both. On
// PostgreSQL also with two *store.DB handles on one database, as two
// `serve` nodes would hold it.
func TestConcurrentAllocation(t *testing.T) {
	run := func(t *testing.T, first, second *store.DB) {
		w := newWorld(t, first)
		for round := 0; round < 16; round++ {
			// Rounds alternate: both want all 5 units, then 3 each.
			want := "5"
			if round%2 == 1 {
				want = "3"
			}
			item, err := inventory.CreateItem(w.ctx, first, inventory.ItemInput{SKU: fmt.Sprintf("LAST-%d", round), Name: "Last units", Kind: "part", Unit: "pcs", Scale: scale(0)})
			if err != nil {
				t.Fatal(err)
			}
			rec := w.receive(t, item, w.a, "", "5")
			var ids [2]int64
			for i := range ids {
				o, err := orders.Create(w.manager, first, orders.OrderInput{Kind: orders.Outbound, Party: fmt.Sprintf("customer %d", i),
					Lines: []orders.LineInput{{ItemID: item.ID, Quantity: inventory.DecimalText(want)}}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := orders.Confirm(w.manager, first, o.ID); err != nil {
					t.Fatal(err)
				}
				ids[i] = o.ID
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			var got [2]orders.Order
			var errs [2]error
			for i, db := range []*store.DB{first, second} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i], errs[i] = orders.Allocate(w.operator, db, ids[i], orders.AllocateInput{})
				}()
			}
			close(start)
			wg.Wait()
			var total inventory.Quantity
			for i := range got {
				if errs[i] != nil {
					t.Fatalf("round %d: order %d: %v", round, i, errs[i])
				}
				l := got[i].Lines[0]
				total += l.Allocated
				if l.Allocated+l.Shortfall != l.Quantity {
					t.Fatalf("round %d: line %+v: allocated and shortfall do not add up", round, l)
				}
			}
			if total.String() != "5" {
				t.Fatalf("round %d: %s units allocated of 5: %+v / %+v", round, total, got[0].Lines[0], got[1].Lines[0])
			}
			a, b := got[0].Lines[0], got[1].Lines[0]
			switch want {
			case "5": // one has all, the other none
				if (a.Allocated == 0) == (b.Allocated == 0) || got[0].Status == got[1].Status {
					t.Fatalf("round %d: %s %s / %s %s", round, got[0].Status, a.AllocatedText(), got[1].Status, b.AllocatedText())
				}
			case "3": // one has 3, the other the last 2 and a shortfall of 1
				if min(a.Allocated, b.Allocated).String() != "2" || min(a.Shortfall, b.Shortfall) != 0 || max(a.Shortfall, b.Shortfall).String() != "1" {
					t.Fatalf("round %d: %+v / %+v", round, a, b)
				}
			}
			if r := w.record(t, rec.ID); r.Allocated.String() != "5" || r.Available() != 0 {
				t.Fatalf("round %d: record %+v", round, r)
			}
			w.invariant(t)
		}
	}
	storetest.Engines(t, func(t *testing.T, db *store.DB) { run(t, db, db) })
	t.Run("postgres two handles", func(t *testing.T) {
		first, second := storetest.OpenTwice(t, store.Postgres)
		run(t, first, second)
	})
}
