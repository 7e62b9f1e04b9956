package activity_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// A record's history takes the log's permission (an asset's, the permission
// to see assets), in the actor's own workspace only.
func TestForEntityChecksPermission(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		evs, err := activity.ForEntity(s.f.Ctx, db, "products", "7", 0)
		if err != nil || len(evs) != 2 || evs[0].ID != s.ids["alice-update-product"] {
			t.Fatalf("admin's history of product 7: %d events, %v", len(evs), err)
		}
		op := s.f.As(s.f.User(t, "olga@example.com", actor.Operator))
		if _, err := activity.ForEntity(op, db, "products", "7", 0); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("operator read the log's history: %v", err)
		}
		if _, err := activity.ForEntity(op, db, "assets", "7", 0); err != nil {
			t.Errorf("operator could not read an asset's history: %v", err)
		}
		aud := s.f.As(s.f.User(t, "audrey@example.com", actor.Auditor))
		if evs, err := activity.ForEntity(aud, db, "products", "7", 0); err != nil || len(evs) != 2 {
			t.Errorf("auditor's history of product 7: %d events, %v", len(evs), err)
		}
		other := actor.With(t.Context(), actor.Actor{WorkspaceID: s.f.Workspace.ID + 1000, Kind: actor.User, ID: 1, Name: "x", Role: actor.Admin})
		if evs, err := activity.ForEntity(other, db, "products", "7", 0); err != nil || len(evs) != 0 {
			t.Errorf("another workspace's admin saw %d events (%v)", len(evs), err)
		}
	})
}
