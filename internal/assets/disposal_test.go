package assets_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestRetireDisposeDelete(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.Ctx
		lap, drill := w.byTag["LAP-1"], w.byTag["DRL-1"]
		today := time.Now().Format(time.DateOnly)

		t.Run("retire and reinstate", func(t *testing.T) {
			a, err := assets.RetireAsset(ctx, db, lap.ID, assets.LifecycleInput{Reason: "replaced by LAP-9"})
			if err != nil || a.Status != assets.Retired {
				t.Fatalf("retire: %+v %v", a, err)
			}
			_, err = assets.RetireAsset(ctx, db, lap.ID, assets.LifecycleInput{})
			wantKind(t, err, fault.Conflict, "retire twice")
			if a, err = assets.ReinstateAsset(ctx, db, lap.ID, assets.LifecycleInput{}); err != nil || a.Status != assets.Active {
				t.Fatalf("reinstate: %+v %v", a, err)
			}
			_, err = assets.ReinstateAsset(ctx, db, lap.ID, assets.LifecycleInput{})
			wantKind(t, err, fault.Conflict, "reinstate an active asset")
			h, err := assets.GetAssetHistory(ctx, db, lap.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(h.Changes[1].Old.(json.RawMessage)) + string(h.Changes[1].New.(json.RawMessage)); !strings.Contains(got, `"active"`) || !strings.Contains(got, "replaced by LAP-9") {
				t.Fatalf("retire event before → after: %s", got)
			}
		})

		t.Run("bad disposals change nothing", func(t *testing.T) {
			tomorrow := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
			for _, tc := range []struct {
				name  string
				in    assets.DisposalInput
				field string
			}{
				{"no date", assets.DisposalInput{Method: assets.Sold, Reason: "x"}, "date"},
				{"bad date", assets.DisposalInput{Date: "31/12/2026", Method: assets.Sold, Reason: "x"}, "date"},
				{"future", assets.DisposalInput{Date: tomorrow, Method: assets.Sold, Reason: "x"}, "date"},
				{"no method", assets.DisposalInput{Date: today, Reason: "x"}, "method"},
				{"bad method", assets.DisposalInput{Date: today, Method: "burnt", Reason: "x"}, "method"},
				{"no reason", assets.DisposalInput{Date: today, Method: assets.Sold, Reason: "  "}, "reason"},
				{"long reason", assets.DisposalInput{Date: today, Method: assets.Sold, Reason: strings.Repeat("x", 1001)}, "reason"},
			} {
				_, err := assets.DisposeAsset(ctx, db, drill.ID, tc.in)
				wantKind(t, err, fault.Invalid, tc.name)
				if e, _ := fault.As(err); e.Fields[tc.field] == "" {
					t.Errorf("%s: no message for %s: %v", tc.name, tc.field, err)
				}
			}
			a, err := assets.GetAsset(ctx, db, drill.ID)
			if err != nil || a.Disposal != nil {
				t.Fatalf("after refused disposals: %+v %v", a, err)
			}
		})

		t.Run("dispose is final and kept", func(t *testing.T) {
			a, err := assets.DisposeAsset(ctx, db, drill.ID, assets.DisposalInput{Date: today, Method: assets.Sold, Reason: "sold to Ben for 40 EUR"})
			if err != nil {
				t.Fatal(err)
			}
			if a.Disposal == nil || a.Disposal.Method != assets.Sold || a.State() != "Disposed: Sold" {
				t.Fatalf("disposed %+v", a)
			}
			for what, err := range map[string]error{
				"dispose twice": ignoreValue(assets.DisposeAsset(ctx, db, drill.ID, assets.DisposalInput{Date: today, Method: assets.Scrapped, Reason: "x"})),
				"edit":          ignoreValue(assets.UpdateAsset(ctx, db, drill.ID, assets.AssetInput{Assignee: ptr("Ada")})),
				"retire":        ignoreValue(assets.RetireAsset(ctx, db, drill.ID, assets.LifecycleInput{})),
				"photo":         ignoreValue(assets.AddAssetPhoto(ctx, db, drill.ID, pngBytes(t))),
				"label":         ignoreValue(assets.ListLabels(ctx, db, []int64{drill.ID}, assets.AssetFilter{})),
			} {
				wantKind(t, err, fault.Conflict, what+" a disposed asset")
			}
			// Hidden from the register, shown by the filter, its page and
			// history still there.
			list, _, err := assets.ListAssets(ctx, db, assets.AssetFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range list {
				if x.ID == drill.ID {
					t.Fatal("a disposed asset is listed in the register")
				}
			}
			removed, n, err := assets.ListAssets(ctx, db, assets.AssetFilter{Show: assets.ShowRemoved})
			if err != nil || n != 1 || removed[0].ID != drill.ID {
				t.Fatalf("removed list %+v %d %v", removed, n, err)
			}
			if _, all, _ := assets.ListAssets(ctx, db, assets.AssetFilter{Show: assets.ShowAll}); all != len(list)+1 {
				t.Fatalf("all = %d, register %d", all, len(list))
			}
			_, _, err = assets.ListAssets(ctx, db, assets.AssetFilter{Show: "gone"})
			wantKind(t, err, fault.Invalid, "unknown show")
			h, err := assets.GetAssetHistory(ctx, db, drill.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := h.Changes[0]
			if !strings.Contains(string(last.Old.(json.RawMessage)), `"disposed":false`) || !strings.Contains(string(last.New.(json.RawMessage)), "sold to Ben") {
				t.Fatalf("disposal event %s → %s", last.Old, last.New)
			}
			// The tag stays reserved, and says why.
			_, err = assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("DRL-1"), Name: ptr("new drill")})
			wantKind(t, err, fault.Conflict, "reuse a disposed asset's tag")
			if !strings.Contains(err.Error(), "disposed") {
				t.Fatalf("reuse message %v", err)
			}
		})

		t.Run("not scannable into sessions", func(t *testing.T) {
			s := w.startedSession(t, assets.SessionInput{Name: "after disposal", LocationID: w.wh2.ID})
			if s.Progress.Total != 0 {
				t.Fatalf("the disposed drill is on the snapshot: %+v", s.Progress)
			}
			_, err := assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: "DRL-1"})
			wantKind(t, err, fault.Conflict, "scan a disposed asset")
			wantKind(t, assets.IncludeAsset(ctx, db, s.ID, drill.ID), fault.Conflict, "include a disposed asset")
		})

		t.Run("delete is soft and reversible", func(t *testing.T) {
			lap2 := w.byTag["LAP-2"]
			live := w.startedSession(t, assets.SessionInput{Name: "live", LocationID: w.zoneA.ID})
			_, err := assets.DeleteAsset(ctx, db, lap2.ID, assets.LifecycleInput{})
			wantKind(t, err, fault.Conflict, "delete an asset on a live session's list")
			_, err = assets.DisposeAsset(ctx, db, lap2.ID, assets.DisposalInput{Date: today, Method: assets.Scrapped, Reason: "broken"})
			wantKind(t, err, fault.Conflict, "dispose of an asset on a live session's list")
			if err := assets.ExcludeAsset(ctx, db, live.ID, lap2.ID); err != nil {
				t.Fatal(err)
			}
			a, err := assets.DeleteAsset(ctx, db, lap2.ID, assets.LifecycleInput{Reason: "entered twice"})
			if err != nil || a.Deleted == nil || a.State() != "Deleted" {
				t.Fatalf("delete: %+v %v", a, err)
			}
			_, err = assets.DeleteAsset(ctx, db, lap2.ID, assets.LifecycleInput{})
			wantKind(t, err, fault.Conflict, "delete twice")
			wantKind(t, ignoreValue(assets.UpdateAsset(ctx, db, lap2.ID, assets.AssetInput{Name: ptr("x")})), fault.Conflict, "edit a deleted asset")
			_, err = assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("LAP-2"), Name: ptr("again")})
			if wantKind(t, err, fault.Conflict, "reuse a deleted tag"); !strings.Contains(err.Error(), "restore") {
				t.Fatalf("reuse message %v", err)
			}
			if got, err := assets.GetAsset(ctx, db, lap2.ID); err != nil || got.Deleted == nil {
				t.Fatalf("a deleted asset's page: %+v %v", got, err)
			}
			if a, err = assets.RestoreAsset(ctx, db, lap2.ID, assets.LifecycleInput{}); err != nil || a.Deleted != nil {
				t.Fatalf("restore: %+v %v", a, err)
			}
			_, err = assets.RestoreAsset(ctx, db, lap2.ID, assets.LifecycleInput{})
			wantKind(t, err, fault.Conflict, "restore an asset that is not deleted")
			h, err := assets.GetAssetHistory(ctx, db, lap2.ID)
			if err != nil {
				t.Fatal(err)
			}
			if h.Changes[1].Action != "DELETE" || !strings.Contains(h.Changes[1].Description, "entered twice") || h.Changes[0].Action != "UPDATE" {
				t.Fatalf("history %+v", h.Changes[:2])
			}
		})

		t.Run("only asset managers", func(t *testing.T) {
			auditor := w.As(w.User(t, "aud@example.com", actor.Auditor))
			id := w.byTag["NOLOC"].ID
			for what, err := range map[string]error{
				"retire":  ignoreValue(assets.RetireAsset(auditor, db, id, assets.LifecycleInput{})),
				"dispose": ignoreValue(assets.DisposeAsset(auditor, db, id, assets.DisposalInput{Date: today, Method: assets.Sold, Reason: "x"})),
				"delete":  ignoreValue(assets.DeleteAsset(auditor, db, id, assets.LifecycleInput{})),
				"restore": ignoreValue(assets.RestoreAsset(auditor, db, id, assets.LifecycleInput{})),
				"check":   ignoreValue(assets.CheckDeletion(auditor, db, id, assets.LifecycleInput{})),
			} {
				wantKind(t, err, fault.Forbidden, "auditor "+what)
			}
		})
	})
}
