package activity_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestSeedVocabulary: the seeds' table names and their products category
// find the events stocktrail files under its own names, in lists and in
// summaries (from the events and from the rollups), while today's names
// still find exactly themselves.
func TestSeedVocabulary(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
		evs := []struct {
			name             string
			category, entity string
		}{
			{"item", "inventory", "items"},
			{"manual-product", "products", "products"},
			{"location", "inventory", "locations"},
			{"manual-warehouse", "inventory", "warehouses"},
			{"record", "inventory", "inventory_records"},
			{"batch", "inventory", "inventory_batch"},
			{"log-export", "inventory", "inventory_log"},
			{"user", "users", "users"},
			{"asset", "assets", "assets"},
		}
		ids := map[int64]string{}
		for i, e := range evs {
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				id, err := activity.Record(context.Background(), tx, activity.Event{WorkspaceID: f.Workspace.ID, ActorKind: "user", ActorID: 7,
					ActorName: "Vera", OccurredAt: at.Add(time.Duration(i) * time.Hour), Action: activity.Update,
					Category: activity.Category(e.category), EntityType: e.entity, EntityID: "1", Description: e.name})
				ids[id] = e.name
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			query string
			want  []string
		}{
			{"table_name=products", []string{"item", "manual-product"}},
			{"table_name=Products", []string{"item", "manual-product"}},
			{"table_name=items", []string{"item"}},
			{"entity_type=warehouses", []string{"location", "manual-warehouse"}},
			{"table_name=locations", []string{"location"}},
			{"table_name=inventory", []string{"record", "batch", "log-export"}},
			{"table_name=movements", []string{"record", "batch"}},
			{"table_name=transactions", []string{"record", "batch"}},
			{"table_name=inventory_records", []string{"record"}},
			{"table_name=users", []string{"user"}},
			{"category=products", []string{"item", "manual-product"}},
			// Today's category keeps finding what it found.
			{"category=inventory", []string{"item", "location", "manual-warehouse", "record", "batch", "log-export"}},
			{"category=products&table_name=items", []string{"item"}},
		}
		check := func(stage string) {
			for _, c := range cases {
				v, _ := url.ParseQuery(c.query + "&start_date=2026-01-05&end_date=2026-01-05")
				filter, err := activity.ParseFilter(v, time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				res, err := activity.List(f.Ctx, db, filter)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range res.Events {
					got = append(got, ids[ev.ID])
				}
				slices.Sort(got)
				want := slices.Clone(c.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s lists %v, want %v", stage, c.query, got, want)
				}
				s, err := activity.Summarize(f.Ctx, db, filter)
				if err != nil {
					t.Fatal(err)
				}
				if s.Total != int64(len(c.want)) {
					t.Errorf("%s: %s summary counts %d, want %d (%v)", stage, c.query, s.Total, len(c.want), s.ByTable)
				}
			}
		}
		check("events")
		if _, err := activity.RollupDays(context.Background(), db, time.Now(), 0, nil); err != nil {
			t.Fatal(err)
		}
		check("rollups")
		if activity.TableLabel("items") != "products" || activity.TableLabel("locations") != "warehouses" || activity.TableLabel("assets") != "assets" {
			t.Error("labels of stored entity types")
		}
	})
}

// TestFiltersOfferWords: every action, category and search field a filter
// offers has words of its own, not its code.
func TestFiltersOfferWords(t *testing.T) {
	for _, a := range activity.Actions() {
		if l := a.Label(); l == "" || l == string(a) || strings.Contains(l, "_") {
			t.Errorf("%s.Label() = %q", a, l)
		}
	}
	for _, c := range activity.Categories() {
		if l := c.Label(); l == "" || l == string(c) {
			t.Errorf("%s.Label() = %q", c, l)
		}
	}
	for _, f := range activity.SearchFields() {
		if l := activity.SearchFieldLabel(f); l == "" || l == f {
			t.Errorf("SearchFieldLabel(%s) = %q", f, l)
		}
	}
}
