package inventory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// The bulk path (log indexes dropped and rebuilt in the load's own
// transaction) leaves a consistent workspace with every index in place,
// also when loaded on top of an earlier history; newWorld's cleanup runs
// CheckInvariant.
func TestSyntheticBulkLoadKeepsIndexesAndInvariant(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		indexes := func() int {
			q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inventory_log'`
			if db.Engine() == store.Postgres {
				q = `SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'inventory_log'`
			}
			var n int
			if err := db.Read().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := indexes()
		if before < 10 {
			t.Fatalf("only %d log indexes before the load", before)
		}
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "loader"))
		var phases []string
		for i, rebuild := range []bool{false, true, true} {
			var last int
			err := inventory.LoadSynthetic(sys, db, inventory.Synthetic{Items: 5, Locations: 4, Entries: 3000 + i, Span: 90 * 24 * time.Hour,
				Seed: uint64(i), RebuildIndexes: rebuild, Progress: func(done int) { last = done }, Log: func(m string) { phases = append(phases, m) }})
			if err != nil {
				t.Fatal(err)
			}
			if last != 3000+i {
				t.Fatalf("progress ended at %d, want %d", last, 3000+i)
			}
			if got := indexes(); got != before {
				t.Fatalf("load %d: %d log indexes, want %d", i, got, before)
			}
		}
		if len(phases) == 0 {
			t.Fatal("no phases logged")
		}
		var n int
		if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1`, w.f.Workspace.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3000+3001+3002 {
			t.Fatalf("%d log entries", n)
		}
		if err := inventory.CheckInvariant(w.f.Ctx, db); err != nil {
			t.Fatal(err)
		}
		// An update of a log entry is still refused.
		if _, err := db.Exec(context.Background(), `UPDATE inventory_log SET change = 0 WHERE workspace_id = $1`, w.f.Workspace.ID); err == nil {
			t.Fatal("the log accepted an UPDATE after the load")
		}
	})
}

// StockAsOf reads forward from the checkpoints before t or backward from
// today's levels, whichever side of t holds less history; WithEmpty always
// reads forward. Both give the same non-zero levels at every moment.
func TestStockAsOfForwardAndBackwardAgree(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "loader"))
		span := 300 * 24 * time.Hour
		if err := inventory.LoadSynthetic(sys, db, inventory.Synthetic{Items: 6, Locations: 3, Entries: 4000, Span: span, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		items, err := inventory.ListItems(w.ctx, db, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for days := -5; days <= 310; days += 3 {
			at := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
			for _, f := range []inventory.StockFilter{{}, {ItemID: items[len(items)-1].ID}} {
				got, err := inventory.StockAsOf(w.ctx, db, at, f)
				if err != nil {
					t.Fatal(err)
				}
				f.WithEmpty = true
				all, err := inventory.StockAsOf(w.ctx, db, at, f)
				if err != nil {
					t.Fatal(err)
				}
				var want []inventory.Level
				for _, l := range all {
					if l.Quantity != 0 {
						want = append(want, l)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%d days ago, filter %+v:\n got %v\nwant %v", days, f, got, want)
				}
				// And the sums of the log's changes up to then, per item and
				// location, read the slow way.
				args := []any{w.f.Workspace.ID, store.Micros(at)}
				cond := ""
				if f.ItemID != 0 {
					cond, args = " AND item_id = $3", append(args, f.ItemID)
				}
				rows, err := db.Read().QueryContext(w.ctx, `SELECT item_id, location_id, SUM(change) FROM inventory_log
					WHERE workspace_id = $1 AND effective_at <= $2`+cond+` GROUP BY item_id, location_id HAVING SUM(change) <> 0`, args...)
				if err != nil {
					t.Fatal(err)
				}
				sums := map[[2]int64]inventory.Quantity{}
				for rows.Next() {
					var k [2]int64
					var q inventory.Quantity
					if err := rows.Scan(&k[0], &k[1], &q); err != nil {
						t.Fatal(err)
					}
					sums[k] = q
				}
				rows.Close()
				if len(sums) != len(got) {
					t.Fatalf("%d days ago, filter %+v: %d levels, the log sums to %d", days, f, len(got), len(sums))
				}
				for _, l := range got {
					if sums[[2]int64{l.ItemID, l.LocationID}] != l.Quantity {
						t.Fatalf("%d days ago: %s at %s is %v, the log sums to %v", days, l.SKU, l.LocationPath, l.Quantity, sums[[2]int64{l.ItemID, l.LocationID}])
					}
				}
			}
		}
	})
}
