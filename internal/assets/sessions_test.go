package assets_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestSessionScope(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for _, tc := range []struct {
			name string
			n    assets.SessionInput
			want int
		}{
			{"all", assets.SessionInput{Name: "all"}, 5},
			{"all without retired", assets.SessionInput{Name: "active", ExcludeRetired: true}, 4},
			{"WH1 and below", assets.SessionInput{Name: "wh1", LocationID: w.wh1.ID}, 3},
			{"WH1 without retired", assets.SessionInput{Name: "wh1", LocationID: w.wh1.ID, ExcludeRetired: true}, 2},
			{"zone only", assets.SessionInput{Name: "zone", LocationID: w.zoneA.ID}, 2},
		} {
			s := w.startedSession(t, tc.n)
			checkProgress(t, db, w.Ctx, s.ID)
			if s.Status != assets.InProgress || s.Progress.Total != tc.want || s.StartedAt == nil {
				t.Errorf("%s: %+v, want %d expected", tc.name, s, tc.want)
			}
		}
		for _, bad := range []assets.SessionInput{{Name: ""}, {Name: "x", LocationID: 424242}, {Name: strings.Repeat("n", 201)}} {
			_, err := assets.CreateSession(w.Ctx, db, bad)
			wantKind(t, err, fault.Invalid, fmt.Sprintf("create %+v", bad))
		}
		// Filtering the list.
		list, err := assets.ListSessions(w.Ctx, db, assets.SessionFilter{Search: "WH1"})
		if err != nil || len(list) != 2 {
			t.Fatalf("search: %d %v", len(list), err)
		}
		list, err = assets.ListSessions(w.Ctx, db, assets.SessionFilter{LocationID: w.zoneA.ID, Status: assets.InProgress})
		if err != nil || len(list) != 1 {
			t.Fatalf("filter: %d %v", len(list), err)
		}
		_, err = assets.ListSessions(w.Ctx, db, assets.SessionFilter{Status: "weird"})
		wantKind(t, err, fault.Invalid, "bad status filter")
	})
}

// TestSessionLifecycle runs a whole session: snapshot, scans (typed payload,
// bare tag, by hand), a repeat, an unexpected asset and its inclusion,
// exclusion guardrails, staged changes with a photo, finish with Lost
// enforcement, the report and the asset histories.
func TestSessionLifecycle(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.Ctx
		w.setLostEnforcement(t, true)
		s, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Q4 WH1", LocationID: w.wh1.ID})
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != assets.Scheduled {
			t.Fatalf("new session is %s", s.Status)
		}
		_, err = assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: "LAP-1"})
		wantKind(t, err, fault.Conflict, "scan before start")
		s, err = assets.StartSession(ctx, db, s.ID)
		if err != nil || s.Progress.Total != 3 {
			t.Fatalf("start: %+v %v", s, err)
		}
		_, err = assets.StartSession(ctx, db, s.ID)
		wantKind(t, err, fault.Conflict, "start twice")
		// Assets changed after the start do not change the snapshot.
		if _, err := assets.UpdateAsset(ctx, db, w.byTag["LAP-1"].ID, assets.AssetInput{Name: ptr("Renamed")}); err != nil {
			t.Fatal(err)
		}

		operator := w.As(w.User(t, "op@example.com", actor.Operator))
		lap1 := qrlabel.Payload(w.Workspace.ID, "LAP-1")
		r, err := assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: lap1 + "\r\n", ClientScanID: "phone-1"})
		if err != nil || r.Outcome != assets.Found || r.Progress.Scanned != 1 || r.Progress.Percent != 33 {
			t.Fatalf("scan: %+v %v", r, err)
		}
		r, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: lap1, ClientScanID: "phone-1"})
		if err != nil || !r.Duplicate || r.Progress.Scanned != 1 {
			t.Fatalf("retry: %+v %v", r, err)
		}
		r, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: "LAP-1", ClientScanID: "phone-2"})
		if err != nil || r.Outcome != assets.Repeat || r.Progress.Scanned != 1 {
			t.Fatalf("repeat: %+v %v", r, err)
		}
		_, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: "LAP-2", ClientScanID: "phone-1"})
		wantKind(t, err, fault.Conflict, "client id reused for another asset")
		r, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{AssetID: w.byTag["LAP-2"].ID})
		if err != nil || r.Outcome != assets.Found || r.Progress.Scanned != 2 {
			t.Fatalf("manual check: %+v %v", r, err)
		}
		r, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: "DRL-1"})
		if err != nil || r.Outcome != assets.Unexpected || r.Progress.Total != 3 {
			t.Fatalf("unexpected: %+v %v", r, err)
		}

		// Bad scans change nothing.
		for _, tc := range []struct {
			name string
			in   assets.ScanInput
			kind fault.Kind
		}{
			{"unknown tag", assets.ScanInput{Code: "NOPE-1"}, fault.NotFound},
			{"malformed payload", assets.ScanInput{Code: "ST1:abc:LAP-1"}, fault.Invalid},
			{"garbage", assets.ScanInput{Code: "hello world!"}, fault.Invalid},
			{"empty", assets.ScanInput{Code: "  "}, fault.Invalid},
			{"other workspace", assets.ScanInput{Code: qrlabel.Payload(w.Workspace.ID+1, "LAP-1")}, fault.Invalid},
			{"unknown asset id", assets.ScanInput{AssetID: 99999}, fault.NotFound},
			{"long client id", assets.ScanInput{Code: "LAP-1", ClientScanID: strings.Repeat("x", 101)}, fault.Invalid},
		} {
			_, err := assets.ScanAsset(operator, db, s.ID, tc.in)
			wantKind(t, err, tc.kind, tc.name)
		}
		_, err = assets.ScanAsset(operator, db, 99999, assets.ScanInput{Code: "LAP-1"})
		wantKind(t, err, fault.NotFound, "unknown session")

		// Operators scan but do not manage the session.
		wantKind(t, assets.ExcludeAsset(operator, db, s.ID, w.byTag["OLD-1"].ID), fault.Forbidden, "operator excludes")
		// Exclude guardrail.
		err = assets.ExcludeAsset(ctx, db, s.ID, w.byTag["LAP-1"].ID)
		wantKind(t, err, fault.Conflict, "exclude scanned")
		if !strings.Contains(fault.PublicMessage(err), "already been scanned") {
			t.Errorf("message: %s", fault.PublicMessage(err))
		}
		wantKind(t, assets.ExcludeAsset(ctx, db, s.ID, w.byTag["NOLOC"].ID), fault.NotFound, "exclude unlisted")
		if err := assets.ExcludeAsset(ctx, db, s.ID, w.byTag["OLD-1"].ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, assets.ExcludeAsset(ctx, db, s.ID, w.byTag["OLD-1"].ID), fault.Conflict, "exclude twice")
		// Include the unexpected asset: its scan now counts.
		if err := assets.IncludeAsset(ctx, db, s.ID, w.byTag["DRL-1"].ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, assets.IncludeAsset(ctx, db, s.ID, w.byTag["DRL-1"].ID), fault.Conflict, "include twice")
		wantKind(t, assets.IncludeAsset(ctx, db, s.ID, 99999), fault.NotFound, "include unknown")
		p := checkProgress(t, db, ctx, s.ID)
		if p != (assets.Progress{Scanned: 3, Total: 3, Percent: 100}) {
			t.Fatalf("progress %+v", p)
		}
		// Include an unscanned asset, left missing.
		if err := assets.IncludeAsset(ctx, db, s.ID, w.byTag["NOLOC"].ID); err != nil {
			t.Fatal(err)
		}

		checkProgress(t, db, ctx, s.ID)
		// Stage changes.
		lap2 := w.byTag["LAP-2"]
		if err := assets.StageChanges(operator, db, s.ID, lap2.ID, assets.StagedChange{Condition: ptr(assets.Broken), Assignee: ptr("Grace"),
			LocationID: ptr(w.wh2.ID), Comment: ptr("screen cracked")}); err != nil {
			t.Fatal(err)
		}
		if _, err := assets.StagePhoto(operator, db, s.ID, lap2.ID, pngBytes(t)); err != nil {
			t.Fatal(err)
		}
		_, err = assets.StagePhoto(operator, db, s.ID, lap2.ID, []byte("GIF89a not really"))
		wantKind(t, err, fault.UnsupportedMedia, "gif photo")
		wantKind(t, assets.StageChanges(operator, db, s.ID, lap2.ID, assets.StagedChange{Assignee: ptr("Mallory"), Photo: []byte("%PDF-1.4 not a photo")}),
			fault.UnsupportedMedia, "change with a fake photo")
		if items, _ := assets.ListSessionItems(ctx, db, s.ID); !slices.ContainsFunc(items, func(it assets.Item) bool {
			return it.AssetID == lap2.ID && it.StagedAssignee != nil && *it.StagedAssignee == "Grace"
		}) {
			t.Fatal("a refused photo left its change staged")
		}
		wantKind(t, assets.StageChanges(operator, db, s.ID, lap2.ID, assets.StagedChange{Condition: ptr(assets.Condition("shiny"))}), fault.Invalid, "bad condition")
		wantKind(t, assets.StageChanges(operator, db, s.ID, lap2.ID, assets.StagedChange{LocationID: ptr(int64(4242))}), fault.Invalid, "bad location")
		wantKind(t, assets.StageChanges(operator, db, s.ID, w.byTag["OLD-1"].ID, assets.StagedChange{Assignee: ptr("x")}), fault.NotFound, "stage excluded")
		if photos, _ := assets.ListAssetPhotos(ctx, db, lap2.ID); len(photos) != 1 || photos[0].Applied {
			t.Fatalf("staged photo %+v", photos)
		}
		before, _ := assets.GetAsset(ctx, db, lap2.ID)
		if before.Condition == assets.Broken {
			t.Fatal("staged change applied before finish")
		}

		res, err := assets.FinishSession(ctx, db, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 2 || res.MarkedLost != 1 || res.Session.Status != assets.Completed || !res.Session.LostMarked {
			t.Fatalf("finish %+v", res)
		}
		_, err = assets.FinishSession(ctx, db, s.ID)
		wantKind(t, err, fault.Conflict, "finish twice")
		_, err = assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: "NOLOC"})
		wantKind(t, err, fault.Conflict, "scan after finish")
		wantKind(t, assets.StageChanges(operator, db, s.ID, lap2.ID, assets.StagedChange{Assignee: ptr("x")}), fault.Conflict, "stage after finish")
		wantKind(t, assets.IncludeAsset(ctx, db, s.ID, w.byTag["OLD-1"].ID), fault.Conflict, "include after finish")
		_, err = assets.CancelSession(ctx, db, s.ID)
		wantKind(t, err, fault.Conflict, "cancel completed")

		after, _ := assets.GetAsset(ctx, db, lap2.ID)
		if after.Condition != assets.Broken || after.Assignee != "Grace" || after.LocationID != w.wh2.ID || !strings.Contains(after.Notes, "screen cracked") {
			t.Fatalf("applied %+v", after)
		}
		if photos, _ := assets.ListAssetPhotos(ctx, db, lap2.ID); len(photos) != 1 || !photos[0].Applied {
			t.Fatalf("photo not applied %+v", photos)
		}
		noloc, _ := assets.GetAsset(ctx, db, w.byTag["NOLOC"].ID)
		old1, _ := assets.GetAsset(ctx, db, w.byTag["OLD-1"].ID)
		lap1a, _ := assets.GetAsset(ctx, db, w.byTag["LAP-1"].ID)
		if noloc.Status != assets.Lost || old1.Status != assets.Retired || lap1a.Status != assets.Active {
			t.Fatalf("lost marking: noloc %s old1 %s lap1 %s", noloc.Status, old1.Status, lap1a.Status)
		}

		// Histories.
		h, err := assets.GetAssetHistory(ctx, db, lap2.ID)
		if err != nil || len(h.Sessions) != 1 || !h.Sessions[0].Found || h.Sessions[0].Applied == "" {
			t.Fatalf("lap2 history %+v %v", h.Sessions, err)
		}
		if !strings.Contains(h.Changes[0].Description, "Q4 WH1") {
			t.Fatalf("lap2 change %+v", h.Changes[0])
		}
		h, _ = assets.GetAssetHistory(ctx, db, noloc.ID)
		if len(h.Sessions) != 1 || h.Sessions[0].Found || !strings.Contains(h.Changes[0].Description, "Lost") {
			t.Fatalf("noloc history %+v %+v", h.Sessions, h.Changes)
		}

		// Report.
		var buf bytes.Buffer
		name, err := assets.WriteSessionReportCSV(ctx, db, s.ID, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("inventory-session-%d-Q4-WH1.csv", s.ID); name != want {
			t.Errorf("report file name %q, want %q", name, want)
		}
		var exports int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM activity_events WHERE action = 'EXPORT' AND entity_type = 'inventory_sessions' AND entity_id = $1`,
			fmt.Sprint(s.ID)).Scan(&exports)
		if exports != 1 {
			t.Fatalf("%d export events, want 1", exports)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		results := map[string]string{}
		for _, row := range rows[1:] {
			results[row[0]] = row[2]
		}
		want := map[string]string{"LAP-1": "found", "LAP-2": "found", "OLD-1": "excluded", "DRL-1": "found", "NOLOC": "missing"}
		for tag, res := range want {
			if results[tag] != res {
				t.Errorf("report %s = %q, want %q (%v)", tag, results[tag], res, rows)
			}
		}
		for _, row := range rows[1:] {
			if row[0] == "LAP-1" && (row[4] != "op@example.com" || row[5] == "" || row[1] != "Asset LAP-1") {
				t.Errorf("LAP-1 row %v", row)
			}
			if row[0] == "LAP-2" && !strings.Contains(row[7], "Grace") {
				t.Errorf("LAP-2 row %v", row)
			}
		}
	})
}

func TestSessionStateGuards(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s, _ := assets.CreateSession(w.Ctx, db, assets.SessionInput{Name: "c"})
		_, err := assets.FinishSession(w.Ctx, db, s.ID)
		wantKind(t, err, fault.Conflict, "finish scheduled")
		wantKind(t, assets.IncludeAsset(w.Ctx, db, s.ID, w.byTag["LAP-1"].ID), fault.Conflict, "include scheduled")
		if s, err = assets.CancelSession(w.Ctx, db, s.ID); err != nil || s.Status != assets.Cancelled {
			t.Fatalf("cancel %+v %v", s, err)
		}
		_, err = assets.StartSession(w.Ctx, db, s.ID)
		wantKind(t, err, fault.Conflict, "start cancelled")
		_, err = assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: "LAP-1"})
		wantKind(t, err, fault.Conflict, "scan cancelled")
		// Lost enforcement off: unscanned assets keep their status.
		s2 := w.startedSession(t, assets.SessionInput{Name: "no lost"})
		res, err := assets.FinishSession(w.Ctx, db, s2.ID)
		if err != nil || res.MarkedLost != 0 || res.Session.LostMarked {
			t.Fatalf("finish %+v %v", res, err)
		}
	})
}

// TestConcurrentScansAndFinishes: many scanners on one session, with
// retries racing their first attempt, count each asset once; two finishes
// at once apply once.
func TestConcurrentScansAndFinishes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		const extra = 40
		for i := 0; i < extra; i++ {
			w.asset(t, fmt.Sprintf("BULK-%03d", i), w.wh2.ID, assets.Active)
		}
		w.setLostEnforcement(t, true)
		s := w.startedSession(t, assets.SessionInput{Name: "rush", LocationID: w.wh2.ID})
		if s.Progress.Total != extra+1 {
			t.Fatalf("expected %d, got %d", extra+1, s.Progress.Total)
		}
		const scanners = 20
		var wg sync.WaitGroup
		errs := make(chan error, scanners*extra)
		for g := 0; g < scanners; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < extra; i++ {
					// Every scanner scans every asset; pairs of scanners share
					// client ids, as a retried request would.
					_, err := assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: fmt.Sprintf("BULK-%03d", (i+g)%extra), ClientScanID: fmt.Sprintf("c%d-%d", g/2, (i+g)%extra)})
					if err != nil {
						errs <- err
					}
				}
			}(g)
		}
		// Meanwhile a manager excludes and includes the one asset nobody scans.
		wg.Add(1)
		go func() {
			defer wg.Done()
			drl := w.byTag["DRL-1"].ID
			for i := 0; i < 10; i++ {
				if err := assets.ExcludeAsset(w.Ctx, db, s.ID, drl); err != nil {
					errs <- err
				}
				if err := assets.IncludeAsset(w.Ctx, db, s.ID, drl); err != nil {
					errs <- err
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		p := checkProgress(t, db, w.Ctx, s.ID)
		if p.Scanned != extra || p.Total != extra+1 {
			t.Fatalf("progress %+v", p)
		}
		var scans int
		db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM inventory_scans WHERE session_id = $1`, s.ID).Scan(&scans)
		if scans != scanners/2*extra {
			t.Fatalf("%d scan rows, want %d (one per client id)", scans, scanners/2*extra)
		}

		var ok, conflict int
		var mu sync.Mutex
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := assets.FinishSession(w.Ctx, db, s.ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case fault.Is(err, fault.Conflict):
					conflict++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflict != 3 {
			t.Fatalf("finishes: %d ok, %d conflict", ok, conflict)
		}
		var lostEvents int
		db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM activity_events WHERE entity_type = 'assets' AND description LIKE '%marked Lost%'`).Scan(&lostEvents)
		if lostEvents != 1 {
			t.Fatalf("%d lost events, want 1", lostEvents)
		}
	})
}

// TestScanRacesFinish: scans racing a finish either land before it or are
// refused; none is recorded after the session completed.
func TestScanRacesFinish(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s := w.startedSession(t, assets.SessionInput{Name: "race"})
		var wg sync.WaitGroup
		for _, tag := range []string{"LAP-1", "LAP-2", "OLD-1", "DRL-1", "NOLOC"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: tag})
				if err != nil && !fault.Is(err, fault.Conflict) {
					t.Error(err)
				}
			}()
		}
		wg.Add(1)
		go func() { defer wg.Done(); assets.FinishSession(w.Ctx, db, s.ID) }()
		wg.Wait()
		var late int
		db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM inventory_session_items i JOIN inventory_sessions s ON s.id = i.session_id
			WHERE s.id = $1 AND i.scanned_at > s.finished_at`, s.ID).Scan(&late)
		if late != 0 {
			t.Fatalf("%d scans after finish", late)
		}
	})
}

// TestScansRacingFinishCountedByIt: 20 scanners scan back to back while the
// session is finished. Every scan that succeeded committed before the
// finish, which counted it: the finish's event states as many scanned
// assets as the list holds afterwards, and none was both found and marked
// Lost.
func TestScansRacingFinishCountedByIt(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		const n = 200
		for i := 0; i < n; i++ {
			w.asset(t, fmt.Sprintf("RACE-%03d", i), w.wh2.ID, assets.Active)
		}
		w.setLostEnforcement(t, true)
		s := w.startedSession(t, assets.SessionInput{Name: "race to finish", LocationID: w.wh2.ID})
		const scanners = 20
		var wg sync.WaitGroup
		var found atomic.Int64
		for g := 0; g < scanners; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < n; i += scanners {
					r, err := assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: fmt.Sprintf("RACE-%03d", i)})
					switch {
					case err == nil && r.Outcome == assets.Found:
						found.Add(1)
					case err == nil:
						t.Errorf("RACE-%03d: %s", i, r.Outcome)
					case !fault.Is(err, fault.Conflict):
						t.Error(err)
					}
				}
			}()
		}
		for found.Load() < n/4 {
			time.Sleep(time.Millisecond)
		}
		if _, err := assets.FinishSession(w.Ctx, db, s.ID); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		var scanned, lostAndFound int
		var event string
		db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE session_id = $1 AND scanned_at IS NOT NULL`, s.ID).Scan(&scanned)
		db.Read().QueryRowContext(w.Ctx, `SELECT COUNT(*) FROM inventory_session_items i JOIN assets a ON a.id = i.asset_id
			WHERE i.session_id = $1 AND i.scanned_at IS NOT NULL AND a.status = 'lost'`, s.ID).Scan(&lostAndFound)
		if err := db.Read().QueryRowContext(w.Ctx, `SELECT new_values FROM activity_events WHERE entity_type = 'inventory_sessions' AND entity_id = $1
			AND new_values LIKE '%"completed"%'`, fmt.Sprint(s.ID)).Scan(&event); err != nil {
			t.Fatal(err)
		}
		var finished struct{ Scanned int }
		if err := json.Unmarshal([]byte(event), &finished); err != nil {
			t.Fatal(err)
		}
		if int(found.Load()) != scanned || finished.Scanned != scanned || lostAndFound != 0 {
			t.Fatalf("%d scans succeeded, %d assets scanned on the list, %d of them marked Lost; the finish recorded %s", found.Load(), scanned, lostAndFound, event)
		}
		t.Logf("%d of %d scans landed before the finish", scanned, n)
	})
}

// TestScanWaitsForFinishUnderWay: a scan that starts while a finish holds
// the session (its row lock taken and the status changed, not committed
// yet) waits for it and is then refused: it never lands after the finish
// on a snapshot taken before it.
func TestScanWaitsForFinishUnderWay(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s := w.startedSession(t, assets.SessionInput{Name: "held"})
		locked, release := make(chan struct{}), make(chan struct{})
		finished := make(chan error)
		// SQLite's group runs this again once the refused scan fails after
		// it in the same group.
		var lockedOnce sync.Once
		go func() {
			finished <- db.InTx(w.Ctx, func(tx *store.Tx) error {
				var status string
				if err := tx.QueryRowContext(w.Ctx, `SELECT status FROM inventory_sessions WHERE id = $1`+tx.ForUpdate(), s.ID).Scan(&status); err != nil {
					return err
				}
				if _, err := tx.ExecContext(w.Ctx, `UPDATE inventory_sessions SET status = 'completed' WHERE id = $1`, s.ID); err != nil {
					return err
				}
				lockedOnce.Do(func() { close(locked) })
				<-release
				return nil
			})
		}()
		<-locked
		scanned := make(chan error)
		go func() {
			_, err := assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: "LAP-1"})
			scanned <- err
		}()
		select {
		case err := <-scanned:
			t.Fatalf("the scan did not wait for the finish under way: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-finished; err != nil {
			t.Fatal(err)
		}
		if err := <-scanned; !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "completed") {
			t.Fatalf("a scan after the finish: %v, want refused because the session is completed", err)
		}
	})
}

// TestConcurrentIncludes: many managers including the same asset at once
// include it once; the others are told it is already there.
func TestConcurrentIncludes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s := w.startedSession(t, assets.SessionInput{Name: "zone", LocationID: w.zoneA.ID})
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[string]int{}
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := assets.IncludeAsset(w.Ctx, db, s.ID, w.byTag["DRL-1"].ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					outcomes["ok"]++
				case fault.Is(err, fault.Conflict):
					outcomes["conflict"]++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if outcomes["ok"] != 1 || outcomes["conflict"] != 7 {
			t.Fatalf("outcomes %v", outcomes)
		}
		if p := checkProgress(t, db, w.Ctx, s.ID); p.Total != 3 {
			t.Fatalf("progress %+v", p)
		}
	})
}

// TestSessionRoles: operators scan and stage but do not create, start,
// include, exclude or finish; auditors only look.
func TestSessionRoles(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		s := w.startedSession(t, assets.SessionInput{Name: "roles"})
		operator := w.As(w.User(t, "op@example.com", actor.Operator))
		auditor := w.As(w.User(t, "aud@example.com", actor.Auditor))
		lap := w.byTag["LAP-1"].ID
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"operator creates", ignoreValue(assets.CreateSession(operator, db, assets.SessionInput{Name: "x"}))},
			{"operator includes", assets.IncludeAsset(operator, db, s.ID, lap)},
			{"operator finishes", ignoreValue(assets.FinishSession(operator, db, s.ID))},
			{"operator cancels", ignoreValue(assets.CancelSession(operator, db, s.ID))},
			{"operator schedules", ignoreValue(assets.CreateSchedule(operator, db, assets.ScheduleInput{Name: "x", Recurrence: assets.Daily, Time: "01:00"}))},
			{"auditor scans", ignoreValue(assets.ScanAsset(auditor, db, s.ID, assets.ScanInput{Code: "LAP-1"}))},
			{"auditor stages", assets.StageChanges(auditor, db, s.ID, lap, assets.StagedChange{Assignee: ptr("x")})},
			{"auditor starts", ignoreValue(assets.StartSession(auditor, db, s.ID))},
		} {
			wantKind(t, tc.err, fault.Forbidden, tc.name)
		}
		if _, err := assets.ScanAsset(operator, db, s.ID, assets.ScanInput{Code: "LAP-1"}); err != nil {
			t.Fatal(err)
		}
		if err := assets.StageChanges(operator, db, s.ID, lap, assets.StagedChange{Comment: ptr("ok")}); err != nil {
			t.Fatal(err)
		}
		if _, err := assets.GetSessionReport(auditor, db, s.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func ignoreValue[T any](_ T, err error) error { return err }

// TestStationScansOnlyAtItsPlace: a station bound to zone A scans into a
// session of zone A, not into one covering all of WH1, nor another
// warehouse, nor the whole workspace; and it reads no asset register.
func TestStationScansOnlyAtItsPlace(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.Workspace.ID, Kind: actor.Station, ID: 9, Name: "Zone A scanner",
			Role: actor.StationRole, LocationID: w.zoneA.ID})
		start := func(name string, loc int64) assets.Session {
			s, err := assets.CreateSession(w.Ctx, db, assets.SessionInput{Name: name, LocationID: loc})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := assets.StartSession(w.Ctx, db, s.ID); err != nil {
				t.Fatal(err)
			}
			return s
		}
		if _, err := assets.ScanAsset(station, db, start("zone A", w.zoneA.ID).ID, assets.ScanInput{Code: "LAP-2"}); err != nil {
			t.Fatalf("scan at its own place: %v", err)
		}
		for _, s := range []assets.Session{start("all of WH1", w.wh1.ID), start("WH2", w.wh2.ID), start("everywhere", 0)} {
			_, err := assets.ScanAsset(station, db, s.ID, assets.ScanInput{Code: "LAP-2"})
			wantKind(t, err, fault.Forbidden, "scan into "+s.Name)
		}
		_, _, err := assets.ListAssets(station, db, assets.AssetFilter{})
		wantKind(t, err, fault.Forbidden, "station lists the asset register")
	})
}
