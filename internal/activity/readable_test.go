package activity_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// A change that moved a record from one location to another reads with the
// locations' paths, linked, and the field in words; an id that names
// nothing says so instead of showing a bare number, and another
// workspace's records are never named.
func TestReadableChangesNameWhatIdsPointAt(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		wh, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"})
		if err != nil {
			t.Fatal(err)
		}
		bin, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Bin, Code: "A-01", ParentID: wh.ID})
		if err != nil {
			t.Fatal(err)
		}
		ev := activity.Event{EntityType: "assets", EntityID: "1",
			Old: json.RawMessage(`{"location_id":` + itoa(wh.ID) + `,"exclude_retired":false}`),
			New: json.RawMessage(`{"location_id":` + itoa(bin.ID) + `,"exclude_retired":true}`)}
		missing := activity.Event{EntityType: "stations", New: json.RawMessage(`{"location_id":987654}`)}
		names, err := activity.LookUpNames(f.Ctx, db, []activity.Event{ev, missing})
		if err != nil {
			t.Fatal(err)
		}
		got := names.Changes(ev)
		if len(got) != 2 {
			t.Fatalf("%+v", got)
		}
		if c := got[1]; c.Label != "Location" || c.Before != "WH1" || c.After != "WH1/A-01" ||
			c.BeforeHref != "/inventory/locations/"+itoa(wh.ID) || c.AfterHref != "/inventory/locations/"+itoa(bin.ID) {
			t.Errorf("location change: %+v", c)
		}
		if c := got[0]; c.Label != "Exclude retired" || c.Before != "no" || c.After != "yes" {
			t.Errorf("boolean change: %+v", c)
		}
		if c := names.Changes(missing)[0]; c.After != "location 987654 (not found)" || c.AfterHref != "" {
			t.Errorf("unknown location: %+v", c)
		}
		if text := activity.ChangesText(got, "; "); text != "Exclude retired: no → yes; Location: WH1 → WH1/A-01" {
			t.Errorf("as text: %q", text)
		}
		// Another workspace's admin gets no names of this one's records.
		other := actor.With(t.Context(), actor.Actor{WorkspaceID: f.Workspace.ID + 1000, Kind: actor.User, ID: 1, Name: "x", Role: actor.Admin})
		names, err = activity.LookUpNames(other, db, []activity.Event{ev})
		if err != nil {
			t.Fatal(err)
		}
		if c := names.Changes(ev)[1]; !strings.Contains(c.After, "not found") {
			t.Errorf("another workspace read a location's path: %+v", c)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
