package inventory_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// allocationModel is what a record's levels and holders must be after a
// sequence of movements, computed without the database.
type allocationModel struct {
	quantity, allocated int
	holders             map[string]int
}

// FuzzAllocationSequence runs arbitrary sequences of receipts, issues,
// corrections, allocations, releases and ships on a fresh record (SQLite;
// the same database across inputs) against a model of its levels: each
// movement is accepted exactly when the model says it may be, a refusal is
// an Invalid fault naming quantity or change, and after every sequence the
// record, its holders and the entries' levels agree with the model and
// CheckInvariant holds.
func FuzzAllocationSequence(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 9, 0, 1, 4, 0, 1, 3, 1, 3, 2, 0, 2, 1, 1, 4, 5, 0},
		{1, 1, 0, 0, 3, 0, 1, 3, 0, 4, 2, 0, 5, 200, 0, 3, 3, 0},
		{0, 5, 0, 1, 5, 2, 4, 1, 0, 5, 250, 0, 2, 5, 2, 3, 1, 1},
	} {
		f.Add(seed)
	}
	db := storetest.Open(f, store.SQLite)
	w := newWorld(f, db)
	round := 0
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3*40 {
			ops = ops[:3*40]
		}
		round++
		r := w.receive(t, "BOLT-M8", w.a1, "F"+strconv.Itoa(round), "1")
		m := allocationModel{quantity: 1, holders: map[string]int{}}
		ref := inventory.RecordRef{RecordID: r.ID}
		holders := []string{"SO-1", "SO-2", "SO-3"}
		for i := 0; i+2 < len(ops); i += 3 {
			q := int(ops[i+1]%10) + 1
			h := holders[int(ops[i+2])%len(holders)]
			text := inventory.DecimalText(strconv.Itoa(q))
			var mv inventory.Movement
			var ok bool
			var apply func()
			field := "quantity"
			switch ops[i] % 6 {
			case 0:
				mv, ok, apply = &inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: w.bolt.ID}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID},
					Lot: "F" + strconv.Itoa(round), Quantity: text}, true, func() { m.quantity += q }
			case 1:
				mv, ok, apply = &inventory.Allocate{Record: ref, Quantity: text, Holder: h}, q <= m.quantity-m.allocated, func() {
					m.allocated += q
					m.holders[h] += q
				}
			case 2:
				mv, ok, apply = &inventory.Release{Record: ref, Quantity: text, Holder: h}, q <= m.holders[h], func() {
					m.allocated -= q
					m.holders[h] -= q
				}
			case 3:
				mv, ok, apply = &inventory.Ship{Record: ref, Quantity: text, Holder: h}, q <= m.holders[h], func() {
					m.quantity -= q
					m.allocated -= q
					m.holders[h] -= q
				}
			case 4:
				mv, ok, apply = &inventory.Issue{RecordRef: ref, Quantity: text}, m.quantity-q >= m.allocated, func() { m.quantity -= q }
			case 5:
				d := q
				if ops[i+1] >= 128 {
					d = -q
				}
				field = "change"
				mv, ok, apply = &inventory.Correction{RecordRef: ref, Change: inventory.DecimalText(strconv.Itoa(d)), Options: inventory.Options{Reason: "fuzz"}},
					m.quantity+d >= m.allocated, func() { m.quantity += d }
			}
			_, err := inventory.Apply(w.ctx, db, mv)
			switch {
			case ok && err != nil:
				t.Fatalf("op %d: %s %+v refused though the model (%+v) allows it: %v", i/3, mv.Kind(), mv, m, err)
			case !ok && err == nil:
				t.Fatalf("op %d: %s %+v accepted though the model (%+v) refuses it", i/3, mv.Kind(), mv, m)
			case err != nil:
				if e, isFault := fault.As(err); !isFault || e.Kind != fault.Invalid || e.Fields[field] == "" {
					t.Fatalf("op %d: %s refused with %v, want an Invalid fault on %s", i/3, mv.Kind(), err, field)
				}
			default:
				apply()
			}
		}
		got := w.record(t, r.ID)
		if got.QuantityText() != strconv.Itoa(m.quantity) || got.AllocatedText() != strconv.Itoa(m.allocated) {
			t.Fatalf("record %s on hand, %s allocated; model %+v", got.QuantityText(), got.AllocatedText(), m)
		}
		want := map[string]string{}
		for h, n := range m.holders {
			if n != 0 {
				want[h] = strconv.Itoa(n)
			}
		}
		if got := w.holdings(t, r.ID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("holders %v, model %v", got, want)
		}
		if err := inventory.CheckInvariant(w.ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
