package activity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Search sees every committed event at once, although SQLite indexes them
// after the fact, and never an event whose transaction rolled back.
func TestSearchIndexFollowsTheLog(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		if _, err := activity.IndexSearch(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
		record := func(description string, fail bool) {
			t.Helper()
			err := db.InTx(f.Ctx, func(tx *store.Tx) error {
				if _, err := activity.Record(f.Ctx, tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
					EntityType: "inventory_records", EntityID: "1", Description: description}); err != nil {
					return err
				}
				if fail {
					return errors.New("abandoned")
				}
				return nil
			})
			if fail != (err != nil) {
				t.Fatalf("record %q: %v", description, err)
			}
		}
		record("quarantined pallet", false)
		record("phantom pallet", true)

		// Written but not yet indexed on SQLite; PostgreSQL indexes on insert.
		n, err := activity.IndexSearch(context.Background(), db)
		want := store.Pick(db, 1, 0)
		if err != nil || n != want {
			t.Fatalf("indexed %d events (%v), want %d", n, err, want)
		}
		if n, err := activity.IndexSearch(context.Background(), db); err != nil || n != 0 {
			t.Fatalf("second pass indexed %d (%v)", n, err)
		}

		record("quarantined drum", false) // left for the search to index
		for _, c := range []struct {
			text string
			want int
		}{{"quarantined", 2}, {"drum", 1}, {"phantom", 0}} {
			res, err := activity.List(f.Ctx, db, activity.Filter{Text: c.text, Category: activity.Inventory})
			if err != nil || len(res.Events) != c.want {
				t.Errorf("search %q: %d events (%v), want %d", c.text, len(res.Events), err, c.want)
			}
		}
	})
}
