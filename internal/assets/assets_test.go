package assets_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestAssetRegister(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.Ctx

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				in    assets.AssetInput
				field string
			}{
				{"no tag", assets.AssetInput{Name: ptr("x")}, "tag"},
				{"tag with space", assets.AssetInput{Tag: ptr("A B"), Name: ptr("x")}, "tag"},
				{"no name", assets.AssetInput{Tag: ptr("T-1")}, "name"},
				{"bad status", assets.AssetInput{Tag: ptr("T-1"), Name: ptr("x"), Status: ptr(assets.Status("gone"))}, "status"},
				{"bad condition", assets.AssetInput{Tag: ptr("T-1"), Name: ptr("x"), Condition: ptr(assets.Condition("meh"))}, "condition"},
				{"unknown location", assets.AssetInput{Tag: ptr("T-1"), Name: ptr("x"), LocationID: ptr(int64(99999))}, "location_id"},
			} {
				_, err := assets.CreateAsset(ctx, db, tc.in)
				wantKind(t, err, fault.Invalid, tc.name)
				if e, _ := fault.As(err); e.Fields[tc.field] == "" {
					t.Errorf("%s: no message for field %s: %v", tc.name, tc.field, err)
				}
			}
			_, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("LAP-1"), Name: ptr("dup")})
			wantKind(t, err, fault.Conflict, "duplicate tag")
		})

		t.Run("edit records changes", func(t *testing.T) {
			a := w.byTag["LAP-1"]
			if a.QRPayload == "" || !strings.HasSuffix(a.QRPayload, ":LAP-1") {
				t.Fatalf("payload %q", a.QRPayload)
			}
			got, err := assets.UpdateAsset(ctx, db, a.ID, assets.AssetInput{Assignee: ptr("Ada"), Condition: ptr(assets.Fair)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Assignee != "Ada" || got.Condition != assets.Fair || got.Name != a.Name {
				t.Fatalf("updated %+v", got)
			}
			h, err := assets.GetAssetHistory(ctx, db, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Changes) != 2 || !strings.Contains(string(h.Changes[0].New.(json.RawMessage)), "Ada") {
				t.Fatalf("history %+v", h.Changes)
			}
		})

		t.Run("list and filters", func(t *testing.T) {
			for _, tc := range []struct {
				f    assets.AssetFilter
				want int
			}{
				{assets.AssetFilter{}, 5},
				{assets.AssetFilter{Search: "lap"}, 2},
				{assets.AssetFilter{Status: assets.Retired}, 1},
				{assets.AssetFilter{LocationID: w.wh1.ID}, 3},
				{assets.AssetFilter{LocationID: w.zoneA.ID, Status: assets.InUse}, 1},
				{assets.AssetFilter{Search: "100%"}, 0},
			} {
				list, total, err := assets.ListAssets(ctx, db, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if total != tc.want || len(list) != tc.want {
					t.Errorf("%+v: got %d/%d, want %d", tc.f, len(list), total, tc.want)
				}
			}
			_, _, err := assets.ListAssets(ctx, db, assets.AssetFilter{Status: "nope"})
			wantKind(t, err, fault.Invalid, "bad status filter")
		})

		t.Run("csv import is all or nothing", func(t *testing.T) {
			bad := "tag,name,status,location\nCSV-1,Drill,active,WH1/A\nCSV-2,,active,\nCSV-3,Saw,active,NOPE\nLAP-1,Dup,,\nCSV-1,Again,,\n"
			_, err := assets.ImportAssets(ctx, db, strings.NewReader(bad))
			wantKind(t, err, fault.Invalid, "bad csv")
			e, _ := fault.As(err)
			for _, row := range []string{"row 3", "row 4", "row 5", "row 6"} {
				if e.Fields[row] == "" {
					t.Errorf("no problem reported for %s: %v", row, e.Fields)
				}
			}
			if _, total, _ := assets.ListAssets(ctx, db, assets.AssetFilter{Search: "CSV-"}); total != 0 {
				t.Fatalf("partial import: %d", total)
			}
			n, err := assets.ImportAssets(ctx, db, strings.NewReader("\ufeffTag,Name,Status,Condition,Location\nCSV-1,Drill,In use,poor,WH1/A\nCSV-2,Saw,,,\n"))
			if err != nil || n != 2 {
				t.Fatalf("import: %d %v", n, err)
			}
			got, err := assets.GetAssetByTag(ctx, db, "CSV-1")
			if err != nil || got.Status != assets.InUse || got.Condition != assets.Poor || got.LocationID != w.zoneA.ID {
				t.Fatalf("imported %+v %v", got, err)
			}
			for _, in := range []string{"", "foo,bar\n1,2\n", "tag\nX\n", "tag,name\n"} {
				_, err := assets.ImportAssets(ctx, db, strings.NewReader(in))
				wantKind(t, err, fault.Invalid, "import "+in)
			}
		})

		t.Run("photos checked", func(t *testing.T) {
			a := w.byTag["LAP-2"]
			if _, err := assets.AddAssetPhoto(ctx, db, a.ID, pngBytes(t)); err != nil {
				t.Fatal(err)
			}
			_, err := assets.AddAssetPhoto(ctx, db, a.ID, []byte("<script>alert(1)</script>"))
			wantKind(t, err, fault.UnsupportedMedia, "script as photo")
			fake := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
			_, err = assets.AddAssetPhoto(ctx, db, a.ID, fake)
			wantKind(t, err, fault.UnsupportedMedia, "fake png")
			_, err = assets.AddAssetPhoto(ctx, db, a.ID, make([]byte, assets.MaxPhotoBytes+1))
			wantKind(t, err, fault.TooLarge, "oversized")
			photos, err := assets.ListAssetPhotos(ctx, db, a.ID)
			if err != nil || len(photos) != 1 || photos[0].ContentType != "image/png" {
				t.Fatalf("photos %+v %v", photos, err)
			}
			data, ct, err := assets.GetPhotoData(ctx, db, photos[0].ID)
			if err != nil || ct != "image/png" || len(data) != int(photos[0].Size) {
				t.Fatalf("photo data %d %s %v", len(data), ct, err)
			}
		})

		t.Run("roles", func(t *testing.T) {
			auditor := w.As(w.User(t, "aud@example.com", actor.Auditor))
			_, err := assets.CreateAsset(auditor, db, assets.AssetInput{Tag: ptr("X-1"), Name: ptr("x")})
			wantKind(t, err, fault.Forbidden, "auditor creates")
			if _, _, err := assets.ListAssets(auditor, db, assets.AssetFilter{}); err != nil {
				t.Fatal(err)
			}
		})
	})
}
