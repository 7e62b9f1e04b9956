package assets_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Search finds assets by part of the tag or name, the exact tag first, then
// tags starting with the text; a station may not search the register.
func TestSearchAssets(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.asset(t, "XLAP-9", w.wh1.ID, assets.Active)
		tags := func(text string, limit int) []string {
			t.Helper()
			got, err := assets.Search(w.Ctx, db, text, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range got {
				out = append(out, a.Tag)
			}
			return out
		}
		if got := tags("lap", 10); len(got) != 3 || got[0] != "LAP-1" || got[1] != "LAP-2" || got[2] != "XLAP-9" {
			t.Errorf("search lap: %q", got)
		}
		if got := tags("lap-2", 10); len(got) != 1 || got[0] != "LAP-2" {
			t.Errorf("exact tag: %q", got)
		}
		if got := tags("asset drl", 10); len(got) != 1 || got[0] != "DRL-1" {
			t.Errorf("by name: %q", got)
		}
		if got := tags("lap", 1); len(got) != 1 {
			t.Errorf("limit: %q", got)
		}
		if got := tags("_", 10); len(got) != 0 {
			t.Errorf("a LIKE wildcard matched: %q", got)
		}
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.Workspace.ID, Kind: actor.Station, ID: 3, Name: "Door",
			Role: actor.StationRole})
		if _, err := assets.Search(station, db, "lap", 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a station searched assets: %v", err)
		}
	})
}
