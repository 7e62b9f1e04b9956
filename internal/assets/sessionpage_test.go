package assets_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestSessionOfThousandsPagesAndFilters: a session of 3,000 assets is read
// page by page (keyset on tag), with every row exactly once, and filtered
// by state and by tag or name, with each page as cheap as the first.
func TestSessionOfThousandsPagesAndFilters(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.Ctx
		const n = 3000
		var csv strings.Builder
		csv.WriteString("tag,name,location\n")
		for i := 0; i < n; i++ {
			name := "Chair"
			if i%100 == 0 {
				name = "Projector"
			}
			fmt.Fprintf(&csv, "BULK-%05d,%s %d,WH2\n", i, name, i)
		}
		if got, err := assets.ImportAssets(ctx, db, strings.NewReader(csv.String())); err != nil || got != n {
			t.Fatalf("import: %d %v", got, err)
		}
		s := w.startedSession(t, assets.SessionInput{Name: "Big count", LocationID: w.wh2.ID})
		if s.Progress.Total != n+1 { // and DRL-1
			t.Fatalf("expected %d, got %+v", n+1, s.Progress)
		}
		for i := 0; i < 30; i++ {
			if _, err := assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: fmt.Sprintf("BULK-%05d", i*7)}); err != nil {
				t.Fatal(err)
			}
		}
		first, err := assets.ListSessionItemsPage(ctx, db, s.ID, assets.ItemQuery{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := assets.StageChanges(ctx, db, s.ID, first.Items[1].AssetID, assets.StagedChange{Comment: ptr("wobbly leg")}); err != nil {
			t.Fatal(err)
		}
		if err := assets.ExcludeAsset(ctx, db, s.ID, first.Items[2].AssetID); err != nil {
			t.Fatal(err)
		}

		walk := func(q assets.ItemQuery) (rows int, pages int, slowest time.Duration) {
			t.Helper()
			seen := map[int64]bool{}
			last := ""
			for {
				start := time.Now()
				page, err := assets.ListSessionItemsPage(ctx, db, s.ID, q)
				if d := time.Since(start); d > slowest {
					slowest = d
				}
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, it := range page.Items {
					if seen[it.AssetID] {
						t.Fatalf("asset %d twice", it.AssetID)
					}
					if it.Tag < last {
						t.Fatalf("out of order: %s after %s", it.Tag, last)
					}
					seen[it.AssetID], last = true, it.Tag
				}
				if page.Next == 0 {
					return len(seen), pages, slowest
				}
				q.After = page.Next
			}
		}
		if rows, pages, slowest := walk(assets.ItemQuery{Limit: 100}); rows != n+1 || pages != 31 {
			t.Fatalf("all: %d rows in %d pages", rows, pages)
		} else {
			t.Logf("3,001 rows in %d keyset pages of 100; slowest page %s", pages, slowest)
		}
		for _, tc := range []struct {
			q    assets.ItemQuery
			want int
		}{
			{assets.ItemQuery{State: assets.ItemsScanned, Limit: 7}, 30},
			{assets.ItemQuery{State: assets.ItemsNotScanned, Limit: 500}, n + 1 - 30 - 1},
			{assets.ItemQuery{State: assets.ItemsStaged}, 1},
			{assets.ItemQuery{State: assets.ItemsExcluded}, 1},
			{assets.ItemQuery{Search: "projector", Limit: 4}, 30},
			{assets.ItemQuery{Search: "bulk-0004"}, 10},
			{assets.ItemQuery{Search: "BULK-00049", State: assets.ItemsScanned}, 1}, // 49 = 7×7
			{assets.ItemQuery{Search: "50%"}, 0},
		} {
			if rows, _, _ := walk(tc.q); rows != tc.want {
				t.Errorf("%+v: %d rows, want %d", tc.q, rows, tc.want)
			}
		}
		for _, q := range []assets.ItemQuery{{State: "lost"}, {Limit: assets.MaxItemsPerPage + 1}, {After: -1}, {After: 987654}} {
			_, err := assets.ListSessionItemsPage(ctx, db, s.ID, q)
			wantKind(t, err, fault.Invalid, fmt.Sprintf("%+v", q))
		}
		it, err := assets.GetSessionItem(ctx, db, s.ID, first.Items[1].AssetID)
		if err != nil || it.StagedComment != "wobbly leg" {
			t.Fatalf("one row: %+v %v", it, err)
		}
		wantKind(t, ignoreValue(assets.GetSessionItem(ctx, db, s.ID, 987654)), fault.NotFound, "row not on the list")
	})
}
