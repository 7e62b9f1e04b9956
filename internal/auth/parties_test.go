package auth_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestListParties: users, stations and API keys by name, the deleted and
// revoked ones too (marked), in a stable order on both engines; readers of
// the logs may list them, a station may not.
func TestListParties(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ann := f.User(t, "ann@example.com", actor.Operator)
		bob := f.User(t, "bob@example.com", actor.Auditor)
		if err := f.Auth.DeleteUser(f.Ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		dock, err := f.Auth.CreateStation(f.Ctx, "dock", 0)
		if err != nil {
			t.Fatal(err)
		}
		key, err := f.Auth.CreateAPIKey(f.Ctx, "ERP", actor.Operator)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Auth.RevokeAPIKey(f.Ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		got, err := f.Auth.ListParties(f.As(ann))
		if err != nil {
			t.Fatal(err)
		}
		var kinds []actor.Kind
		byID := map[actor.Kind]map[int64]auth.Party{}
		for _, p := range got {
			if len(kinds) == 0 || kinds[len(kinds)-1] != p.Kind {
				kinds = append(kinds, p.Kind)
			}
			if byID[p.Kind] == nil {
				byID[p.Kind] = map[int64]auth.Party{}
			}
			byID[p.Kind][p.ID] = p
		}
		if len(kinds) != 3 || kinds[0] != actor.User || kinds[1] != actor.Station || kinds[2] != actor.APIKey {
			t.Fatalf("kinds in order %v", kinds)
		}
		if p := byID[actor.User][bob.ID]; !p.Gone || byID[actor.User][ann.ID].Gone || got[len(byID[actor.User])-1].ID != bob.ID {
			t.Fatalf("deleted user %+v should be listed, marked, after the others: %+v", p, got)
		}
		if p := byID[actor.Station][dock.ID]; p.Name != "dock" || p.Gone {
			t.Fatalf("station %+v", p)
		}
		if p := byID[actor.APIKey][key.ID]; !p.Gone {
			t.Fatalf("revoked key %+v", p)
		}
		station := actor.With(f.Ctx, actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.Station, ID: dock.ID, Name: "dock", Role: actor.StationRole})
		if _, err := f.Auth.ListParties(station); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("a station lists parties: %v", err)
		}
	})
}
