package activity_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestEntityTypesListsWhatTheLogHolds: the filter offers the seed names and
// exactly the entity types this workspace's log holds, not another's.
func TestEntityTypesListsWhatTheLogHolds(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		record := func(ctx context.Context, types ...string) {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for _, ty := range types {
					if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Configuration, EntityType: ty, EntityID: "1"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		record(f.Ctx, "items", "zz_manual_table", "items", "locations")
		var other workspace.Workspace
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			var err error
			other, err = workspace.Create(actor.With(context.Background(), actor.SystemActor(0, "test")), tx, "Other", workspace.Starter)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		record(actor.With(context.Background(), actor.SystemActor(other.ID, "test")), "secret_other_type")

		got, err := activity.EntityTypes(f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]string{}
		seeds := 0
		for _, c := range got {
			if c.Seed {
				seeds++
			} else {
				stored[c.Value] = c.Label
			}
		}
		if seeds != len(activity.SeedTables()) || stored["items"] != "items (products)" || stored["zz_manual_table"] == "" || stored["locations"] == "" {
			t.Fatalf("choices %+v", got)
		}
		if _, leak := stored["secret_other_type"]; leak {
			t.Fatal("another workspace's entity type is offered")
		}
		operator := f.As(f.User(t, "op@example.com", actor.Operator))
		if _, err := activity.EntityTypes(operator, db); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("operator: %v", err)
		}
	})
}
