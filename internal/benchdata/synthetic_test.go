package benchdata_test

import (
	"context"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// The bulk path (log indexes dropped and rebuilt in the load's own
// transaction) leaves a consistent workspace with every index in place,
// also when loaded on top of an earlier history.
func TestSyntheticBulkLoadKeepsIndexesAndInvariant(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		indexes := func() int {
			q := store.Pick(db, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inventory_log'`,
				`SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'inventory_log'`)
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
		sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "loader"))
		var phases []string
		for i, rebuild := range []bool{false, true, true} {
			var last int
			err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 5, Locations: 4, Entries: 3000 + i, Span: 90 * 24 * time.Hour,
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
		if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1`, f.Workspace.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3000+3001+3002 {
			t.Fatalf("%d log entries", n)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
		// An update of a log entry is still refused.
		if _, err := db.Exec(context.Background(), `UPDATE inventory_log SET change = 0 WHERE workspace_id = $1`, f.Workspace.ID); err == nil {
			t.Fatal("the log accepted an UPDATE after the load")
		}
	})
}
