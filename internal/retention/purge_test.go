package retention_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/retention"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

const day = 24 * time.Hour

// world is a Business workspace (90 days) with a sealer.
type world struct {
	t      *testing.T
	db     *store.DB
	f      *storetest.Fixture
	sealer *ledger.Sealer
	op     context.Context
}

func newWorld(t *testing.T, db *store.DB, plan workspace.Plan) *world {
	t.Helper()
	w := &world{t: t, db: db, f: storetest.NewFixture(t, db), sealer: ledgertest.NewSealer(t, db)}
	w.op = actor.With(context.Background(), workspace.Operator("test operator"))
	if _, err := workspace.SetPlan(w.op, db, w.f.Workspace.ID, plan); err != nil {
		t.Fatal(err)
	}
	return w
}

// event records an activity event that happened at at.
func (w *world) event(at time.Time, what string) int64 {
	w.t.Helper()
	var id int64
	err := w.db.InTx(w.f.Ctx, func(tx *store.Tx) error {
		var err error
		id, err = activity.Record(w.f.Ctx, tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
			EntityType: "items", EntityID: what, Description: what, OccurredAt: at})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) exists(id int64) bool {
	w.t.Helper()
	var n int
	if err := w.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE id = $1`, id).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n == 1
}

func (w *world) count(query string, args ...any) int64 {
	w.t.Helper()
	var n int64
	if err := w.db.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (w *world) verify() ledger.Report {
	w.t.Helper()
	ledgertest.SealAll(w.t, w.sealer)
	r, err := ledger.Verify(context.Background(), w.db, ledger.VerifyOptions{Keys: []string{w.sealer.Key.Verifier}})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// withoutTriggers runs stmt with the activity log's guards off: what
// someone who controls the database could do.
func (w *world) withoutTriggers(stmt string) {
	w.t.Helper()
	ctx := context.Background()
	exec := func(q string) {
		w.t.Helper()
		if _, err := w.db.Exec(ctx, q); err != nil {
			w.t.Fatalf("%s: %v", q, err)
		}
	}
	store.Pick(w.db, func() {
		var sqlText string
		if err := w.db.Read().QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'activity_events_no_delete'`).Scan(&sqlText); err != nil {
			w.t.Fatal(err)
		}
		exec(`DROP TRIGGER activity_events_no_delete`)
		exec(stmt)
		exec(sqlText)
	}, func() {
		exec(`ALTER TABLE activity_events DISABLE TRIGGER activity_events_append_only`)
		exec(stmt)
		exec(`ALTER TABLE activity_events ENABLE TRIGGER activity_events_append_only`)
	})()
}

func TestPurgeRemovesExactlyTheExpired(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, workspace.Business)
		ctx := context.Background()
		ws := w.f.Workspace.ID
		now := time.Now().UTC()
		cutoff := now.Add(-90 * day)
		var expired []int64
		for i := range 5 {
			expired = append(expired, w.event(now.Add(-200*day).Add(time.Duration(i)*time.Minute), fmt.Sprint("old ", i)))
		}
		for i := range 3 {
			expired = append(expired, w.event(now.Add(-120*day).Add(time.Duration(i)*time.Minute), fmt.Sprint("older ", i)))
		}
		justOutside := w.event(cutoff.Add(-time.Minute), "just outside")
		expired = append(expired, justOutside)
		justInside := w.event(cutoff.Add(time.Minute), "just inside")
		recent := w.event(now.Add(-day), "recent")
		ledgertest.SealAll(t, w.sealer)
		unsealed := w.event(now.Add(-300*day), "expired but not sealed yet")

		if _, err := activity.RollupDays(ctx, db, now, 400, nil); err != nil {
			t.Fatal(err)
		}
		oldDay := now.Add(-200*day).UnixMicro() / 86_400_000_000
		if n := w.count(`SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1 AND day = $2`, ws, oldDay); n == 0 {
			t.Fatal("no rollup of the oldest day to purge")
		}

		// A plain DELETE of an expired, sealed event is refused: no purge
		// record covers it.
		if _, err := db.Exec(ctx, `DELETE FROM activity_events WHERE id = $1`, expired[0]); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("plain delete of an expired event: %v", err)
		}

		if _, err := activity.IndexSearch(ctx, db); err != nil {
			t.Fatal(err)
		}
		res, err := retention.Purge(ctx, db, now, retention.Options{Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != int64(len(expired)) || res.Batches != 3 || !res.Done {
			t.Fatalf("purged %+v, want %d events in 3 batches", res, len(expired))
		}
		for _, id := range expired {
			if w.exists(id) {
				t.Errorf("expired event %d survived", id)
			}
		}
		for _, id := range []int64{justInside, recent, unsealed} {
			if !w.exists(id) {
				t.Errorf("event %d was purged, but it is not expired or not sealed", id)
			}
		}
		// Their words left SQLite's full-text index (PostgreSQL's goes with
		// the rows); the kept event's stayed.
		if store.Pick(db, true, false) {
			match := func(word string) int64 {
				return w.count(`SELECT COUNT(*) FROM activity_events_fts WHERE activity_events_fts MATCH $1`, word)
			}
			if match("outside") != 0 || match("older") != 0 || match("inside") != 1 {
				t.Errorf("full-text index after the purge: outside %d, older %d, inside %d", match("outside"), match("older"), match("inside"))
			}
		}
		// The rollups of the days wholly purged went with them; the day of
		// the boundary keeps its rows (one event of it is left).
		insideDay := w.dayOf(justInside)
		if n := w.count(`SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1 AND day < $2 AND day <> $3`, ws, insideDay,
			w.dayOf(unsealed)); n != 0 {
			t.Errorf("%d rollup rows of purged days left", n)
		}
		if n := w.count(`SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1 AND day = $2`, ws, insideDay); n == 0 {
			t.Error("the rollup of a day with events left was deleted")
		}
		// Each batch is recorded, in the ledger's purge records and as a
		// system event in the workspace's activity log.
		if n := w.count(`SELECT COALESCE(SUM(entry_count), 0) FROM ledger_purges WHERE workspace_id = $1`, ws); n != int64(len(expired)) {
			t.Errorf("purge records count %d events, want %d", n, len(expired))
		}
		rows, err := db.Read().QueryContext(ctx, `SELECT actor_kind, actor_name, new_values, description FROM activity_events
			WHERE workspace_id = $1 AND entity_type = 'activity_events' AND entity_id = 'retention' AND action = 'DELETE' ORDER BY id`, ws)
		if err != nil {
			t.Fatal(err)
		}
		var events int
		for rows.Next() {
			var kind, name, values, desc string
			if err := rows.Scan(&kind, &name, &values, &desc); err != nil {
				t.Fatal(err)
			}
			events++
			if kind != "system" || !strings.Contains(values, `"rule":"Business plan: 90 days"`) || !strings.Contains(values, `"first_seq"`) ||
				!strings.Contains(values, `"oldest_occurred_at"`) || !strings.Contains(desc, "retention purged 3 activity events") {
				t.Errorf("purge event: %s %s %s %s", kind, name, values, desc)
			}
		}
		rows.Close()
		if events != 3 {
			t.Errorf("%d purge events, want 3", events)
		}

		// Once sealed, the event that was not is purged too.
		ledgertest.SealAll(t, w.sealer)
		if res, err := retention.Purge(ctx, db, now, retention.Options{}); err != nil || res.Events != 1 || w.exists(unsealed) {
			t.Errorf("pass after sealing: %+v %v", res, err)
		}
		expired = append(expired, unsealed)
		if n := w.count(`SELECT COUNT(*) FROM activity_daily_counts WHERE workspace_id = $1 AND day < $2`, ws, insideDay); n != 0 {
			t.Errorf("%d rollup rows of purged days left", n)
		}

		// What remains verifies, and verify says what was purged.
		r := w.verify()
		if !r.OK() {
			t.Fatalf("verify after the purge: %s", r.Summary())
		}
		if p := r.Purged[ws]; p.Entries != int64(len(expired)) {
			t.Errorf("verify counts %d purged, want %d", p.Entries, len(expired))
		}
		if want := fmt.Sprintf("workspace %d: %d entries purged by retention up to sequence", ws, len(expired)); !strings.Contains(r.Summary(), want) {
			t.Errorf("summary %q does not say %q", r.Summary(), want)
		}
		// Bundles: the whole ledger keeps purged entries' places by their
		// leaf hashes and still adds up to the signed root; a bundle of the
		// activity log leaves them out and says how many.
		var all bytes.Buffer
		if _, err := ledger.WriteBundle(w.f.Ctx, db, &all, ledger.BundleSelection{}); err != nil {
			t.Fatal(err)
		}
		br, err := ledger.VerifyBundle(bytes.NewReader(all.Bytes()), []string{w.sealer.Key.Verifier})
		if err != nil || !br.OK() || !br.Complete || br.Purged != int64(len(expired)) || !strings.Contains(br.Summary(), "purged by retention, present by their leaf hashes only") {
			t.Fatalf("whole-ledger bundle: %+v %v\n%s", br, err, br.Summary())
		}
		// One purged leaf hash altered: the root no longer adds up.
		lines := strings.Split(all.String(), "\n")
		for i, l := range lines {
			if at := strings.Index(l, `"purged":"`); at >= 0 {
				at += len(`"purged":"`)
				flip := byte('A')
				if l[at] == 'A' {
					flip = 'B'
				}
				lines[i] = l[:at] + string(flip) + l[at+1:]
				break
			}
		}
		if br, _ := ledger.VerifyBundle(strings.NewReader(strings.Join(lines, "\n")), []string{w.sealer.Key.Verifier}); br.OK() ||
			!strings.Contains(br.Summary(), "do not add up to the signed root") {
			t.Error("a whole-ledger bundle with an altered purged leaf hash verified")
		}
		var logBundle bytes.Buffer
		if _, err := ledger.WriteBundle(w.f.Ctx, db, &logBundle, ledger.BundleSelection{Log: ledger.ActivityEvents}); err != nil {
			t.Fatal(err)
		}
		br, err = ledger.VerifyBundle(bytes.NewReader(logBundle.Bytes()), []string{w.sealer.Key.Verifier})
		if err != nil || !br.OK() || br.Purged != int64(len(expired)) || strings.Contains(logBundle.String(), `"purged":"`) {
			t.Fatalf("activity bundle: %+v %v", br, err)
		}
		// A proof of a purged entry says so.
		_, err = ledger.ProveEntry(w.f.Ctx, db, ledger.ActivityEvents, justOutside)
		if fault.KindOf(err) != fault.Gone || !strings.Contains(err.Error(), "purged by retention") {
			t.Errorf("proof of a purged entry: %v", err)
		}
		// A second pass has nothing to do; an event still kept cannot be
		// deleted by hand even now that purge records exist.
		if res, err := retention.Purge(ctx, db, now, retention.Options{}); err != nil || res.Events != 0 {
			t.Errorf("second pass: %+v %v", res, err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM activity_events WHERE id = $1`, justInside); err == nil {
			t.Error("plain delete of a kept event accepted")
		}
		if _, err := db.Exec(ctx, `UPDATE activity_events SET description = 'x' WHERE id = $1`, justInside); err == nil {
			t.Error("update accepted")
		}
	})
}

// dayOf is the UTC day of event id.
func (w *world) dayOf(id int64) int64 {
	w.t.Helper()
	return w.count(`SELECT occurred_at FROM activity_events WHERE id = $1`, id) / 86_400_000_000
}

func TestLegalHoldStopsPurging(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, workspace.Starter)
		ctx := context.Background()
		now := time.Now().UTC()
		old := w.event(now.Add(-40*day), "old")
		ledgertest.SealAll(t, w.sealer)
		if _, err := workspace.SetLegalHold(w.op, db, w.f.Workspace.ID, true, ""); fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "reason") {
			t.Fatalf("hold without a reason: %v", err)
		}
		if _, err := workspace.SetLegalHold(w.f.Ctx, db, w.f.Workspace.ID, true, "case 12"); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("a workspace admin placed a hold: %v", err)
		}
		held, err := workspace.SetLegalHold(w.op, db, w.f.Workspace.ID, true, "case 2026-114, litigation")
		if err != nil || !held.LegalHold || held.LegalHoldSince == nil {
			t.Fatalf("hold: %+v %v", held, err)
		}
		if res, err := retention.Purge(ctx, db, now, retention.Options{}); err != nil || res.Events != 0 || !w.exists(old) {
			t.Fatalf("purge under a legal hold: %+v %v", res, err)
		}
		// Nor does the controlled path itself let it through: with a purge
		// record in place the trigger still refuses while the hold lasts.
		err = db.InTx(w.f.Ctx, func(tx *store.Tx) error {
			var seq int64
			if err := tx.QueryRowContext(ctx, `SELECT seq FROM ledger_leaves WHERE workspace_id = $1 AND log = 'activity_events' AND entry_id = $2`, w.f.Workspace.ID, old).Scan(&seq); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_purges (workspace_id, up_to_seq, entry_count, purged_at, rule) VALUES ($1, $2, 1, 0, 'test')`, w.f.Workspace.ID, seq); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM activity_events WHERE id = $1`, old)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("delete under a legal hold: %v", err)
		}
		lifted, err := workspace.SetLegalHold(w.op, db, w.f.Workspace.ID, false, "case closed")
		if err != nil || lifted.LegalHold || lifted.LegalHoldReason != "" {
			t.Fatalf("lift: %+v %v", lifted, err)
		}
		if res, err := retention.Purge(ctx, db, now, retention.Options{}); err != nil || res.Events != 1 || w.exists(old) {
			t.Fatalf("purge after the hold: %+v %v", res, err)
		}
		// Placing and lifting are in the workspace's activity log, with why.
		hist, err := activity.ForEntity(w.f.Ctx, db, "workspaces", fmt.Sprint(w.f.Workspace.ID), 20)
		if err != nil {
			t.Fatal(err)
		}
		var saw []string
		for _, e := range hist {
			if e.ActorKind == "system" && e.Category == activity.Configuration {
				saw = append(saw, e.Description)
			}
		}
		joined := strings.Join(saw, " | ")
		for _, want := range []string{"legal hold placed by the operator: case 2026-114, litigation", "legal hold lifted by the operator: case closed", "plan set to Starter"} {
			if !strings.Contains(joined, want) {
				t.Errorf("history lacks %q: %s", want, joined)
			}
		}
	})
}

func TestDeletionOutsideThePurgeFailsVerify(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, workspace.Starter)
		ctx := context.Background()
		now := time.Now().UTC()
		w.event(now.Add(-60*day), "expired")
		w.event(now.Add(-10*day), "kept")
		ledgertest.SealAll(t, w.sealer)
		if _, err := retention.Purge(ctx, db, now, retention.Options{}); err != nil {
			t.Fatal(err)
		}
		if r := w.verify(); !r.OK() {
			t.Fatalf("before tampering: %s", r.Summary())
		}
		later := w.event(now, "later")
		ledgertest.SealAll(t, w.sealer)

		// Deleted past the triggers, beyond every purge record.
		w.withoutTriggers(fmt.Sprintf(`DELETE FROM activity_events WHERE id = %d`, later))
		r := w.verify()
		if r.OK() || !strings.Contains(r.Summary(), fmt.Sprintf("activity_events entry %d", later)) || !strings.Contains(r.Summary(), "no retention purge covers it") {
			t.Fatalf("a deletion without a purge record: %s", r.Summary())
		}

		// Deleted past the triggers, below a purge record: the records do
		// not account for it. Sealed in the order expired, kept, expired, so
		// the purge's record covers the kept event's sequence number.
		w2 := newWorld(t, storetest.Open(t, store.Pick(db, store.SQLite, store.Postgres)), workspace.Starter)
		w2.event(now.Add(-60*day), "expired")
		kept2 := w2.event(now.Add(-10*day), "kept")
		w2.event(now.Add(-40*day), "expired")
		ledgertest.SealAll(t, w2.sealer)
		if res, err := retention.Purge(ctx, w2.db, now, retention.Options{}); err != nil || res.Events != 2 {
			t.Fatalf("purge: %+v %v", res, err)
		}
		if r := w2.verify(); !r.OK() || r.Purged[w2.f.Workspace.ID].Entries != 2 {
			t.Fatalf("after the purge: %s", r.Summary())
		}
		w2.withoutTriggers(fmt.Sprintf(`DELETE FROM activity_events WHERE id = %d`, kept2))
		r = w2.verify()
		if r.OK() || !strings.Contains(r.Summary(), "3 activity events are missing at or below sequence") || !strings.Contains(r.Summary(), "account for 2") {
			t.Fatalf("a kept event deleted below a purge record: %s", r.Summary())
		}
	})
}

// TestRuntimeRoleDeletesOnlyThroughThePurge: on PostgreSQL, with the
// tables owned by one role and serve running as another, the runtime role
// holds no DELETE on the activity log; the purge still works, through the
// owner's SECURITY DEFINER function, and nothing else it runs can delete.
func TestRuntimeRoleDeletesOnlyThroughThePurge(t *testing.T) {
	ctx := context.Background()
	adminURL := pgtest.NewDatabase(t) // skips when there is no PostgreSQL
	ownerName, ownerURL := pgtest.NewRole(t, adminURL, "owner")
	appName, appURL := pgtest.NewRole(t, adminURL, "app")
	pgtest.Exec(t, adminURL, `GRANT CREATE ON SCHEMA public TO "`+ownerName+`"`)
	open := func(url string) *store.DB {
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	owner := open(ownerURL)
	g, err := owner.GrantRuntime(ctx, appName)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Functions) != 1 || !strings.HasPrefix(g.Functions[0], "stocktrail_purge_activity(") {
		t.Fatalf("granted functions %v", g.Functions)
	}
	app := open(appURL)
	w := newWorld(t, app, workspace.Starter)
	now := time.Now().UTC()
	old := w.event(now.Add(-40*day), "old")
	ledgertest.SealAll(t, w.sealer)
	if _, err := app.Exec(ctx, `DELETE FROM activity_events WHERE id = $1`, old); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("runtime role's plain delete: %v", err)
	}
	if _, err := app.Exec(ctx, `DELETE FROM ledger_purges`); err == nil {
		t.Fatal("runtime role deleted purge records")
	}
	if res, err := retention.Purge(ctx, app, now, retention.Options{}); err != nil || res.Events != 1 || w.exists(old) {
		t.Fatalf("purge as the runtime role: %+v %v", res, err)
	}
	if r := w.verify(); !r.OK() {
		t.Fatal(r.Summary())
	}
	// Another login of the database may not call the function.
	_, otherURL := pgtest.NewRole(t, adminURL, "other")
	other, err := store.Open(ctx, store.Config{URL: otherURL})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(ctx, `SELECT stocktrail_purge_activity(1, ARRAY[1]::bigint[])`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("a role without the grant called the purge function: %v", err)
	}
}
