package activity_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// A record's history is read under the permission the caller names, in the
// actor's own workspace only.
func TestForEntityChecksPermission(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		evs, err := activity.ForEntity(s.f.Ctx, db, activity.ViewPermission, "products", "7", 0)
		if err != nil || len(evs) != 2 || evs[0].ID != s.ids["alice-update-product"] {
			t.Fatalf("admin's history of product 7: %d events, %v", len(evs), err)
		}
		op := s.f.As(s.f.User(t, "olga@example.com", actor.Operator))
		if _, err := activity.ForEntity(op, db, activity.ViewPermission, "products", "7", 0); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("operator read the log's history: %v", err)
		}
		if evs, err := activity.ForEntity(op, db, actor.ViewInventory, "products", "7", 0); err != nil || len(evs) != 2 {
			t.Errorf("operator's history under ViewInventory: %d events, %v", len(evs), err)
		}
		other := actor.With(t.Context(), actor.Actor{WorkspaceID: s.f.Workspace.ID + 1000, Kind: actor.User, ID: 1, Name: "x", Role: actor.Admin})
		if evs, err := activity.ForEntity(other, db, activity.ViewPermission, "products", "7", 0); err != nil || len(evs) != 0 {
			t.Errorf("another workspace's admin saw %d events (%v)", len(evs), err)
		}
	})
}
