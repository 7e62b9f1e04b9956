package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMeasureHomeSearchAndCharts times the pages this work added on a
// synthetic history: STOCKTRAIL_MEASURE_HOME=300000 loads that many
// change-log entries (1,000 items × 50 locations, with allocations; every
// fifth item with a minimum) and reports the median of 20 requests each.
// Skipped unless set: it takes minutes.
func TestMeasureHomeSearchAndCharts(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOCKTRAIL_MEASURE_HOME"))
	if n <= 0 {
		t.Skip("set STOCKTRAIL_MEASURE_HOME to a number of entries")
	}
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "loader"))
		start := time.Now()
		if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 1000, Locations: 50, Entries: n, Span: 365 * 24 * time.Hour,
			Seed: 1, RebuildIndexes: true, Allocations: true}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: loaded %d entries in %s", db.Engine(), n, time.Since(start).Round(time.Second))
		items, err := inventory.ListItems(f.Ctx, db, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range items {
			if i%5 == 0 {
				if _, err := inventory.UpdateItem(f.Ctx, db, it.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true, Text: "100000"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		for _, p := range []struct{ name, path string }{
			{"home", "/"},
			{"search page", "/search?q=" + items[500].SKU[:len(items[500].SKU)-1]},
			{"suggestions", "/search/suggest?q=" + items[500].SKU},
			{"item page with chart", fmt.Sprintf("/inventory/items/%d", items[500].ID)},
			{"activity log with chart", "/activity"},
		} {
			var took []time.Duration
			for range 20 {
				s := time.Now()
				if status, body := b.get(p.path); status != 200 {
					t.Fatalf("%s: %d %s", p.path, status, body)
				}
				took = append(took, time.Since(s))
			}
			slices.Sort(took)
			t.Logf("%s: %s median %s, slowest %s", db.Engine(), p.name, took[len(took)/2].Round(100*time.Microsecond), took[len(took)-1].Round(100*time.Microsecond))
		}
	})
}
