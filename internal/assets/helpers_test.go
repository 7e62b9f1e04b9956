package assets_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func ptr[T any](v T) *T { return &v }

// world is a workspace with locations WH1 > WH1/A, WH2 and some assets.
type world struct {
	*storetest.Fixture
	wh1, zoneA, wh2 inventory.Location
	byTag           map[string]assets.Asset
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	f := storetest.NewFixture(t, db)
	w := &world{Fixture: f, byTag: map[string]assets.Asset{}}
	var err error
	if w.wh1, err = inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	if w.zoneA, err = inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Zone, Code: "A", ParentID: w.wh1.ID}); err != nil {
		t.Fatal(err)
	}
	if w.wh2, err = inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH2"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		tag    string
		loc    int64
		status assets.Status
	}{
		{"LAP-1", w.wh1.ID, assets.Active}, {"LAP-2", w.zoneA.ID, assets.InUse}, {"OLD-1", w.zoneA.ID, assets.Retired},
		{"DRL-1", w.wh2.ID, assets.Active}, {"NOLOC", 0, assets.Active},
	} {
		w.asset(t, a.tag, a.loc, a.status)
	}
	return w
}

func (w *world) asset(t *testing.T, tag string, loc int64, status assets.Status) assets.Asset {
	t.Helper()
	a, err := assets.CreateAsset(w.Ctx, w.DB, assets.AssetInput{Tag: ptr(tag), Name: ptr("Asset " + tag), Status: ptr(status), LocationID: ptr(loc)})
	if err != nil {
		t.Fatalf("create asset %s: %v", tag, err)
	}
	w.byTag[tag] = a
	return a
}

func (w *world) startedSession(t *testing.T, n assets.SessionInput) assets.Session {
	t.Helper()
	s, err := assets.CreateSession(w.Ctx, w.DB, n)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = assets.StartSession(w.Ctx, w.DB, s.ID); err != nil {
		t.Fatal(err)
	}
	return s
}

func (w *world) setLostEnforcement(t *testing.T, on bool) {
	t.Helper()
	if _, err := workspace.Update(w.Ctx, w.DB, workspace.Change{MarkUnscannedLost: &on}); err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, kind fault.Kind, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want kind %d", what, kind)
	}
	if fault.KindOf(err) != kind {
		t.Fatalf("%s: got %v (kind %d), want kind %d", what, err, fault.KindOf(err), kind)
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkProgress compares the progress counters with a count of the list.
func checkProgress(t *testing.T, db *store.DB, ctx context.Context, sessionID int64) assets.Progress {
	t.Helper()
	p, err := assets.GetSessionProgress(ctx, db, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var scanned, total int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(scanned_at), COUNT(*) FROM inventory_session_items
		WHERE session_id = $1 AND excluded_at IS NULL`, sessionID).Scan(&scanned, &total); err != nil {
		t.Fatal(err)
	}
	if p.Scanned != scanned || p.Total != total {
		t.Fatalf("progress counters %+v, list has %d of %d", p, scanned, total)
	}
	return p
}
