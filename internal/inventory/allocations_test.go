package inventory_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
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

// refused runs ms and wants a fault naming field whose message holds
// every one of want, with nothing changed: no entry, the record's levels as
// they were.
func (w *world) refused(t *testing.T, recordID int64, field string, want []string, ms ...inventory.Movement) {
	t.Helper()
	before, entries := w.record(t, recordID), w.logCount(t)
	holders := w.holdings(t, recordID)
	_, err := inventory.Apply(w.ctx, w.db, ms...)
	e, ok := fault.As(err)
	if !ok || e.Fields[field] == "" {
		t.Fatalf("%s: want a fault on %s, got %v", ms[0].Kind(), field, err)
	}
	for _, s := range want {
		if !strings.Contains(e.Fields[field], s) {
			t.Errorf("%s: %s message %q lacks %q", ms[0].Kind(), field, e.Fields[field], s)
		}
	}
	after := w.record(t, recordID)
	if after.Quantity != before.Quantity || after.Allocated != before.Allocated || after.Version != before.Version || w.logCount(t) != entries {
		t.Errorf("%s changed something: %+v → %+v, %d → %d entries", ms[0].Kind(), before, after, entries, w.logCount(t))
	}
	if h := w.holdings(t, recordID); !maps.Equal(h, holders) {
		t.Errorf("%s changed the holders: %v → %v", ms[0].Kind(), holders, h)
	}
}

func TestAllocationRefusals(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "8")
		other := w.receive(t, "BOLT-M8", w.a1, "L2", "3")
		w.allocate(t, r.ID, "3", "SO-000012")
		w.allocate(t, r.ID, "2", "SO-000015")
		ref := inventory.RecordRef{RecordID: r.ID}

		// Over what is available: the shortfall in the message.
		w.refused(t, r.ID, "quantity", []string{"only 3 pcs", "8 on hand, 5 allocated", "1 short"},
			&inventory.Allocate{Record: ref, Quantity: "4", Holder: "SO-000016"})
		// Releasing or shipping more than the holder holds, or for one that
		// holds none of it.
		w.refused(t, r.ID, "quantity", []string{"SO-000012 holds only 3 pcs"}, &inventory.Release{Record: ref, Quantity: "4", Holder: "SO-000012"})
		w.refused(t, r.ID, "quantity", []string{"SO-000015 holds only 2 pcs"}, &inventory.Ship{Record: ref, Quantity: "3", Holder: "SO-000015"})
		w.refused(t, r.ID, "quantity", []string{"SO-000099 holds none"}, &inventory.Ship{Record: ref, Quantity: "1", Holder: "SO-000099"})
		w.refused(t, other.ID, "quantity", []string{"SO-000012 holds none"}, &inventory.Release{Record: inventory.RecordRef{RecordID: other.ID}, Quantity: "1", Holder: "SO-000012"})
		// Bad quantities, holders, times and references.
		for _, q := range []string{"0", "-1", "1.5", "x", ""} {
			w.refused(t, r.ID, "quantity", nil, &inventory.Allocate{Record: ref, Quantity: inventory.DecimalText(q), Holder: "SO-000016"})
		}
		w.refused(t, r.ID, "holder", []string{"required"}, &inventory.Allocate{Record: ref, Quantity: "1", Holder: "  "})
		w.refused(t, r.ID, "holder", []string{"at most 100"}, &inventory.Allocate{Record: ref, Quantity: "1", Holder: strings.Repeat("S", 101)})
		w.refused(t, r.ID, "holder", nil, &inventory.Allocate{Record: ref, Quantity: "1", Holder: "SO-1\nSO-2"})
		w.refused(t, r.ID, "effective_at", []string{"now"}, &inventory.Allocate{Record: ref, Quantity: "1", Holder: "SO-000016",
			Options: inventory.Options{EffectiveAt: time.Now().Add(-time.Hour)}})
		w.refused(t, r.ID, "effective_at", nil, &inventory.Ship{Record: ref, Quantity: "1", Holder: "SO-000012",
			Options: inventory.Options{EffectiveAt: time.Now().Add(-time.Hour)}})
		w.refused(t, r.ID, "reference", []string{"SO-000016"}, &inventory.Allocate{Record: ref, Quantity: "1", Holder: "SO-000016",
			Options: inventory.Options{Reference: "SO-000017"}})
		// In a batch, the failing movement is named and the others undone.
		w.refused(t, r.ID, "movements[1].quantity", []string{"short"},
			&inventory.Allocate{Record: ref, Quantity: "2", Holder: "SO-000016"}, &inventory.Allocate{Record: ref, Quantity: "2", Holder: "SO-000017"})

		// Every other movement that would take allocated stock: refused,
		// naming the holders.
		holders := []string{"5 of 8 pcs of BOLT-M8 at WH1/A1 are allocated to SO-000012, SO-000015; release them first"}
		w.refused(t, r.ID, "quantity", holders, &inventory.Issue{RecordRef: ref, Quantity: "4"})
		w.refused(t, r.ID, "quantity", holders, &inventory.Move{RecordRef: ref, ToLocationID: w.a2.ID, Quantity: "4"})
		w.refused(t, r.ID, "quantity", holders, &inventory.Split{RecordRef: ref, NewLot: "L9", Quantity: "4"})
		w.refused(t, r.ID, "change", holders, &inventory.Correction{RecordRef: ref, Change: "-4", Options: inventory.Options{Reason: "lost"}})
		w.refused(t, r.ID, "counted", holders, &inventory.Reconciliation{RecordRef: ref, Counted: "4"})
		w.refused(t, r.ID, "lines[0].quantity", holders, &inventory.Initialize{LocationRef: inventory.LocationRef{LocationID: w.a1.ID},
			Lines: []inventory.InitializeLine{{ItemRef: inventory.ItemRef{ItemID: w.bolt.ID}, Quantity: "0"}}})
		w.refused(t, r.ID, "record_ids", holders, &inventory.Merge{RecordIDs: []int64{r.ID}, IntoRecordID: other.ID})
		before := w.logCount(t)
		if _, err := inventory.BulkUpdate(w.ctx, db, []inventory.BulkRow{{Row: 2, SKU: "BOLT-M8", Location: "WH1/A1", Quantity: "4"}},
			inventory.Options{Reason: "count"}); err == nil || !strings.Contains(err.Error(), "SO-000012, SO-000015") {
			t.Fatalf("bulk update below allocated: %v", err)
		}
		if _, err := inventory.DeleteRecord(w.ctx, db, r.ID, inventory.Options{Reason: "gone"}); err == nil || !strings.Contains(err.Error(), "SO-000012, SO-000015") {
			t.Fatalf("delete of an allocated record: %v", err)
		}
		if got := w.record(t, r.ID); got.QuantityText() != "8" || got.AllocatedText() != "5" || w.logCount(t) != before {
			t.Fatalf("delete changed something: %+v", got)
		}
		// What is not allocated may still go, whether by issue or backdated.
		if _, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: ref, Quantity: "3"}); err != nil {
			t.Fatal(err)
		}
		if got := w.record(t, r.ID); got.AvailableText() != "0" || got.AllocatedText() != "5" {
			t.Fatalf("after issuing the available %+v", got)
		}
		// Even where the workspace allows negative stock, allocated stock
		// stays.
		if _, err := workspaceUpdate(w, true); err != nil {
			t.Fatal(err)
		}
		w.refused(t, r.ID, "quantity", []string{"SO-000012, SO-000015"}, &inventory.Issue{RecordRef: ref, Quantity: "1"})

		// A station ships but neither allocates nor releases.
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: w.a1.ID})
		for _, m := range []inventory.Movement{&inventory.Allocate{Record: ref, Quantity: "1", Holder: "SO-1"}, &inventory.Release{Record: ref, Quantity: "1", Holder: "SO-000012"}} {
			if _, err := inventory.Apply(station, db, m); !fault.Is(err, fault.Forbidden) {
				t.Fatalf("station %s: %v", m.Kind(), err)
			}
		}
		res, err := inventory.Apply(station, db, &inventory.Ship{Record: ref, Quantity: "1", Holder: "SO-000012"})
		if err != nil || res.Entries[0].Action != inventory.Scan {
			t.Fatalf("station ship: %v %+v", err, res)
		}

		// Another workspace's record is not there.
		var otherCtx context.Context
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			ws, err := workspace.Create(actor.With(context.Background(), actor.SystemActor(0, "test")), tx, "Other", workspace.Starter)
			otherCtx = actor.With(context.Background(), actor.SystemActor(ws.ID, "test"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		entries := w.logCount(t)
		for _, m := range []inventory.Movement{&inventory.Allocate{Record: ref, Quantity: "1", Holder: "SO-1"},
			&inventory.Release{Record: ref, Quantity: "1", Holder: "SO-000012"}, &inventory.Ship{Record: ref, Quantity: "1", Holder: "SO-000012"}} {
			if _, err := inventory.Apply(otherCtx, db, m); err == nil || !strings.Contains(err.Error(), "no such inventory record") {
				t.Fatalf("%s from another workspace: %v", m.Kind(), err)
			}
		}
		if hs, err := inventory.Allocations(otherCtx, db, r.ID); err != nil || len(hs) != 0 {
			t.Fatalf("another workspace sees the holders: %v %v", hs, err)
		}
		if got := w.record(t, r.ID); got.AllocatedText() != "4" || w.logCount(t) != entries {
			t.Fatalf("another workspace changed the record: %+v", got)
		}
	})
}

// levelAt finds the level of an item at a location in ls.
func levelAt(t *testing.T, ls []inventory.Level, itemID, locationID int64) inventory.Level {
	t.Helper()
	for _, l := range ls {
		if l.ItemID == itemID && l.LocationID == locationID {
			return l
		}
	}
	t.Fatalf("no level of item %d at location %d in %+v", itemID, locationID, ls)
	return inventory.Level{}
}

// triple formats a level as on hand/allocated/available.
func triple(l inventory.Level) string {
	return l.QuantityText() + "/" + l.AllocatedText() + "/" + l.AvailableText()
}

func TestAllocatedAsOfAndBetweenMoments(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		w.receive(t, "OIL-5", w.a2, "", "1") // a second item, so a whole-workspace read splits by item
		ref := inventory.RecordRef{RecordID: r.ID}
		mark := func() time.Time {
			time.Sleep(3 * time.Millisecond)
			at := time.Now()
			time.Sleep(3 * time.Millisecond)
			return at
		}
		t1 := mark()
		w.allocate(t, r.ID, "4", "SO-000001")
		t2 := mark()
		if _, err := inventory.Apply(w.ctx, db, &inventory.Ship{Record: ref, Quantity: "1", Holder: "SO-000001"}); err != nil {
			t.Fatal(err)
		}
		t3 := mark()
		if _, err := inventory.Apply(w.ctx, db, &inventory.Release{Record: ref, Quantity: "1", Holder: "SO-000001"}); err != nil {
			t.Fatal(err)
		}
		t4 := mark()
		// Next month's as-of reads this month's allocated from the
		// checkpoints alone.
		later := time.Now().AddDate(0, 1, 5)
		for _, c := range []struct {
			at   time.Time
			want string
		}{{t1, "10/0/10"}, {t2, "10/4/6"}, {t3, "9/3/6"}, {t4, "9/2/7"}, {later, "9/2/7"}} {
			for _, f := range []inventory.StockFilter{{}, {ItemID: w.bolt.ID}, {LocationID: w.a1.ID}, {ItemID: w.bolt.ID, WithEmpty: true}} {
				ls, err := inventory.StockAsOf(w.ctx, db, c.at, f)
				if err != nil {
					t.Fatal(err)
				}
				if got := triple(levelAt(t, ls, w.bolt.ID, w.a1.ID)); got != c.want {
					t.Errorf("as of %s (filter %+v): %s, want %s", c.at.Format(time.StampMicro), f, got, c.want)
				}
			}
			if c.at == later {
				continue
			}
			ls, err := inventory.StockAsShown(w.ctx, db, c.at, inventory.StockFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if got := triple(levelAt(t, ls, w.bolt.ID, w.a1.ID)); got != c.want {
				t.Errorf("as shown at %s: %s, want %s", c.at.Format(time.StampMicro), got, c.want)
			}
		}
		now, err := inventory.CurrentStock(w.ctx, db, inventory.StockFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := triple(levelAt(t, now, w.bolt.ID, w.a1.ID)); got != "9/2/7" {
			t.Errorf("current %s", got)
		}
		if got := triple(levelAt(t, now, w.oil.ID, w.a2.ID)); got != "1.00/0.00/1.00" {
			t.Errorf("current oil %s", got)
		}

		diff := func(from, to time.Time) []inventory.Difference {
			t.Helper()
			ds, err := inventory.StockDiff(w.ctx, db, from, to, inventory.StockFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		ds := diff(t1, t3)
		if len(ds) != 1 || ds[0].ChangeText() != "-1" || ds[0].FromAllocatedText() != "0" || ds[0].ToAllocatedText() != "3" ||
			ds[0].AllocatedChangeText() != "3" || triple(ds[0].Level) != "9/3/6" {
			t.Fatalf("t1→t3 %+v", ds)
		}
		// Only allocated changed: still a difference.
		ds = diff(t3, t4)
		if len(ds) != 1 || ds[0].Change != 0 || ds[0].AllocatedChangeText() != "-1" || triple(ds[0].Level) != "9/2/7" {
			t.Fatalf("t3→t4 %+v", ds)
		}
	})
}

func TestCheckInvariantCatchesBrokenAllocations(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		w.allocate(t, r.ID, "4", "SO-000001")
		w.checkInvariant(t)
		exec := func(query string, args ...any) {
			t.Helper()
			if err := db.InTx(w.ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(w.ctx, query, args...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		broken := func(wants ...string) {
			t.Helper()
			err := inventory.CheckInvariant(w.ctx, db)
			if err == nil {
				t.Fatalf("invariant holds; want %q", wants)
			}
			for _, want := range wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("invariant error lacks %q:\n%v", want, err)
				}
			}
		}
		exec(`UPDATE inventory_records SET allocated = 5000000 WHERE id = $1`, r.ID)
		broken("record allocated", "record holders", "item-location allocated", "record last entry allocated")
		exec(`UPDATE inventory_records SET allocated = 4000000 WHERE id = $1`, r.ID)
		w.checkInvariant(t)

		exec(`UPDATE inventory_allocations SET quantity = 3000000 WHERE record_id = $1`, r.ID)
		broken("record holders", `holder "SO-000001"`)
		exec(`DELETE FROM inventory_allocations WHERE record_id = $1`, r.ID)
		broken("record holders", `holder "SO-000001" of record`)
		exec(`INSERT INTO inventory_allocations (workspace_id, record_id, holder, quantity) VALUES ($1, $2, 'SO-000001', 4000000)`, w.f.Workspace.ID, r.ID)
		w.checkInvariant(t)

		exec(`UPDATE stock_levels SET allocated = 0 WHERE item_id = $1`, w.bolt.ID)
		broken("item-location allocated")
		exec(`UPDATE stock_levels SET allocated = 4000000 WHERE item_id = $1`, w.bolt.ID)

		exec(`UPDATE inventory_checkpoints SET allocated_sum = 0 WHERE item_id = $1`, w.bolt.ID)
		broken("stored allocated 0, log says 4000000")
		exec(`UPDATE inventory_checkpoints SET allocated_sum = 4000000 WHERE item_id = $1`, w.bolt.ID)
		w.checkInvariant(t)

		// More allocated than on hand (records, levels and checkpoints
		// brought along, so only that is wrong).
		exec(`UPDATE inventory_records SET quantity = 3000000 WHERE id = $1`, r.ID)
		exec(`UPDATE stock_levels SET quantity = 3000000 WHERE item_id = $1`, w.bolt.ID)
		broken("3000000 on hand, 4000000 allocated")
		exec(`UPDATE inventory_records SET quantity = 10000000 WHERE id = $1`, r.ID)
		exec(`UPDATE stock_levels SET quantity = 10000000 WHERE item_id = $1`, w.bolt.ID)
	})
}

// TestAllocationRace: two transactions allocate the last units of one
// record at once, through two handles on one database (two processes, or
// two nodes on one PostgreSQL): one gets them, the other the shortfall,
// never both.
func TestAllocationRace(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			first, second := storetest.OpenTwice(t, engine)
			w := newWorld(t, first)
			for round := range 10 {
				r := w.receive(t, "BOLT-M8", w.a1, fmt.Sprintf("R%d", round), "5")
				w.allocate(t, r.ID, "1", "SO-BASE")
				start := make(chan struct{})
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i, db := range []*store.DB{first, second} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = inventory.Apply(w.ctx, db, &inventory.Allocate{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "3",
							Holder: fmt.Sprintf("SO-%d", i)})
					}()
				}
				close(start)
				wg.Wait()
				won := 0
				for _, err := range errs {
					if err == nil {
						won++
						continue
					}
					if e, ok := fault.As(err); !ok || !strings.Contains(e.Fields["quantity"], "only 1 pcs") || !strings.Contains(e.Fields["quantity"], "2 short") {
						t.Fatalf("round %d: the loser's error %v", round, err)
					}
				}
				got := w.record(t, r.ID)
				if won != 1 || got.AllocatedText() != "4" || got.AvailableText() != "1" {
					t.Fatalf("round %d: %d won; record %+v", round, won, got)
				}
			}
		})
	}
}

// A batch (on PostgreSQL its writes are held and sent together) carries
// the allocated columns like the single movements.
func TestAllocationsInABatch(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r1 := w.receive(t, "BOLT-M8", w.a1, "", "10")
		r2 := w.receive(t, "BOLT-M8", w.a2, "", "10")
		res, err := inventory.Apply(w.ctx, db,
			&inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "2"},
			&inventory.Allocate{Record: inventory.RecordRef{RecordID: r1.ID}, Quantity: "7", Holder: "SO-000001"},
			&inventory.Allocate{Record: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a2.ID}},
				Quantity: "3", Holder: "SO-000001"},
			&inventory.Ship{Record: inventory.RecordRef{RecordID: r1.ID}, Quantity: "5", Holder: "SO-000001"},
			&inventory.Release{Record: inventory.RecordRef{RecordID: r2.ID}, Quantity: "1", Holder: "SO-000001"},
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r1.ID}, Quantity: "5"},
		)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Entries {
			got = append(got, fmt.Sprintf("%s %s/%s → %s/%s", e.Movement, e.ChangeText(), e.AllocatedChangeText(), e.RecordLevelText(), e.AllocatedLevelText()))
		}
		want := []string{"receipt 2/0 → 12/0", "allocate 0/7 → 12/7", "allocate 0/3 → 10/3", "ship -5/-5 → 7/2", "release 0/-1 → 10/2", "issue -5/0 → 2/2"}
		if !slices.Equal(got, want) {
			t.Fatalf("entries\n got %q\nwant %q", got, want)
		}
		w.entriesAreLogged(t, res.Entries)
		page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{Limit: 6})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range page.Entries {
			r := res.Entries[len(res.Entries)-1-i]
			if e.ID != r.ID || e.AllocatedChange != r.AllocatedChange || e.AllocatedLevel != r.AllocatedLevel || e.Reference != r.Reference {
				t.Fatalf("logged %+v\nreturned %+v", e, r)
			}
		}
		if h := w.holdings(t, r1.ID); h["SO-000001"] != "2" {
			t.Fatalf("holders of r1 %v", h)
		}
		if h := w.holdings(t, r2.ID); h["SO-000001"] != "2" {
			t.Fatalf("holders of r2 %v", h)
		}
		// Shares reaching 0 in a batch: their rows go.
		if _, err := inventory.Apply(w.ctx, db,
			&inventory.Allocate{Record: inventory.RecordRef{RecordID: r2.ID}, Quantity: "1", Holder: "SO-000002"},
			&inventory.Release{Record: inventory.RecordRef{RecordID: r2.ID}, Quantity: "2", Holder: "SO-000001"},
			&inventory.Ship{Record: inventory.RecordRef{RecordID: r1.ID}, Quantity: "2", Holder: "SO-000001"},
		); err != nil {
			t.Fatal(err)
		}
		if h1, h2 := w.holdings(t, r1.ID), w.holdings(t, r2.ID); len(h1) != 0 || len(h2) != 1 || h2["SO-000002"] != "1" {
			t.Fatalf("holders after the second batch: %v, %v", h1, h2)
		}
	})
}

// ApplyIn runs in the caller's transaction: what the caller does and the
// stock entries commit together, or neither does.
func TestApplyInCommitsWithTheCaller(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		entries := w.logCount(t)
		callerFailed := fault.New(fault.Conflict, "the order changed meanwhile")
		err := db.InTx(w.ctx, func(tx *store.Tx) error {
			if _, err := inventory.ApplyIn(w.ctx, tx, &inventory.Allocate{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "4", Holder: "SO-000001"}); err != nil {
				return err
			}
			return callerFailed
		})
		if err != callerFailed || w.logCount(t) != entries || w.record(t, r.ID).Allocated != 0 {
			t.Fatalf("rolled back: %v, %d entries (had %d), %+v", err, w.logCount(t), entries, w.record(t, r.ID))
		}
		var res inventory.Result
		if err := db.InTx(w.ctx, func(tx *store.Tx) error {
			var err error
			res, err = inventory.ApplyIn(w.ctx, tx, &inventory.Allocate{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "4", Holder: "SO-000001"},
				&inventory.Allocate{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "2", Holder: "SO-000002"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 2 || res.Entries[1].AllocatedLevelText() != "6" || res.Entries[1].ID == 0 {
			t.Fatalf("entries %+v", res.Entries)
		}
		// The same checks as Apply: permission and validation.
		auditor := w.f.As(w.f.User(t, "auditor@example.com", actor.Auditor))
		if err := db.InTx(w.ctx, func(tx *store.Tx) error {
			_, err := inventory.ApplyIn(auditor, tx, &inventory.Release{Record: inventory.RecordRef{RecordID: r.ID}, Quantity: "1", Holder: "SO-000001"})
			return err
		}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("auditor: %v", err)
		}
		if _, err := inventory.ApplyIn(w.ctx, nil); err == nil {
			t.Fatal("no movements accepted")
		}
	})
}

func TestAvailableRecords(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		first := w.receive(t, "BOLT-M8", w.a2, "L1", "5")
		time.Sleep(2 * time.Millisecond) // created_at orders the suggestions
		full := w.receive(t, "BOLT-M8", w.a1, "L1", "3")
		time.Sleep(2 * time.Millisecond)
		last := w.receive(t, "BOLT-M8", w.a1, "L2", "4")
		w.receive(t, "OIL-5", w.a1, "", "9")
		w.allocate(t, full.ID, "3", "SO-000001")
		w.allocate(t, last.ID, "1", "SO-000001")
		ids := func(loc int64, lot string) []int64 {
			t.Helper()
			rs, err := inventory.AvailableRecords(w.ctx, db, w.bolt.ID, loc, lot)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		if got := ids(0, ""); !slices.Equal(got, []int64{first.ID, last.ID}) {
			t.Fatalf("all: %v, want %v (oldest first, the fully allocated one left out)", got, []int64{first.ID, last.ID})
		}
		if got := ids(w.wh.ID, ""); !slices.Equal(got, []int64{first.ID, last.ID}) {
			t.Fatalf("under WH1: %v", got)
		}
		if got := ids(w.a1.ID, ""); !slices.Equal(got, []int64{last.ID}) {
			t.Fatalf("at WH1/A1: %v", got)
		}
		if got := ids(0, "L1"); !slices.Equal(got, []int64{first.ID}) {
			t.Fatalf("lot L1: %v", got)
		}
		// Many at once answer what each alone answers, in the order asked.
		oil, err := inventory.ItemBySKU(w.ctx, db, "OIL-5")
		if err != nil {
			t.Fatal(err)
		}
		wants := []inventory.Wanted{{ItemID: w.bolt.ID}, {ItemID: oil.ID}, {ItemID: w.bolt.ID, LocationID: w.a1.ID}, {ItemID: w.bolt.ID, Lot: "L1"},
			{ItemID: oil.ID, LocationID: w.a2.ID}, {ItemID: w.bolt.ID, LocationID: w.wh.ID}}
		many, err := inventory.AvailableRecordsOf(w.ctx, db, wants)
		if err != nil || len(many) != len(wants) {
			t.Fatalf("many at once: %v %v", many, err)
		}
		for i, want := range wants {
			one, err := inventory.AvailableRecords(w.ctx, db, want.ItemID, want.LocationID, want.Lot)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(one) != fmt.Sprint(many[i]) {
				t.Errorf("want %+v: %v at once, %v alone", want, many[i], one)
			}
		}
		if len(many[0]) != 2 || len(many[1]) != 1 || len(many[4]) != 0 {
			t.Errorf("many at once: %d, %d, %d records", len(many[0]), len(many[1]), len(many[4]))
		}
		if _, err := inventory.AvailableRecordsOf(w.ctx, db, []inventory.Wanted{{ItemID: w.bolt.ID, LocationID: 999999}}); err == nil ||
			!strings.Contains(err.Error(), "no such location") {
			t.Fatalf("many at once, unknown location: %v", err)
		}
		if rs, _ := inventory.AvailableRecords(w.ctx, db, w.bolt.ID, 0, ""); rs[1].AvailableText() != "3" {
			t.Fatalf("available of the last %+v", rs[1])
		}
		if _, err := inventory.AvailableRecords(w.ctx, db, w.bolt.ID, 999999, ""); err == nil || !strings.Contains(err.Error(), "no such location") {
			t.Fatalf("unknown location: %v", err)
		}
		// Reading needs the permission to view inventory; an auditor has it.
		auditor := w.f.As(w.f.User(t, "auditor@example.com", actor.Auditor))
		if rs, err := inventory.AvailableRecords(auditor, db, w.bolt.ID, 0, ""); err != nil || len(rs) != 2 {
			t.Fatalf("auditor: %v %v", rs, err)
		}
		if hs, err := inventory.Allocations(auditor, db, last.ID); err != nil || len(hs) != 1 || hs[0].Holder != "SO-000001" {
			t.Fatalf("auditor's view of the holders: %v %v", hs, err)
		}
		w.allocate(t, first.ID, "2", "SO-000001")
		if hs, err := inventory.AllocationsOf(auditor, db, "SO-000001"); err != nil || len(hs) != 3 || hs[0].RecordID != first.ID ||
			hs[0].Quantity.Format(0) != "2" || hs[1].RecordID != full.ID || hs[2].RecordID != last.ID {
			t.Fatalf("what SO-000001 holds: %+v %v", hs, err)
		}
		if hs, err := inventory.AllocationsOf(auditor, db, "SO-404"); err != nil || len(hs) != 0 {
			t.Fatalf("what nobody holds: %+v %v", hs, err)
		}
		if _, err := inventory.Allocations(context.Background(), db, last.ID); !fault.Is(err, fault.Unauthorized) && !fault.Is(err, fault.Forbidden) {
			t.Fatalf("no actor: %v", err)
		}
	})
}
