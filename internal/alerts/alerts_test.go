package alerts_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// world is a workspace whose sealed entries the alerts follow.
type world struct {
	f      *storetest.Fixture
	db     *store.DB
	sealer *ledger.Sealer
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	w := &world{f: storetest.NewFixture(t, db), db: db, sealer: ledgertest.NewSealer(t, db)}
	// The alerts start following at the end of what is sealed now.
	w.evaluate(t)
	return w
}

// evaluate seals everything and lets the alerts read it.
func (w *world) evaluate(t *testing.T) {
	t.Helper()
	ledgertest.SealAll(t, w.sealer)
	for {
		n, err := alerts.Follow(context.Background(), w.db)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (w *world) rule(t *testing.T, in alerts.RuleInput) alerts.Rule {
	t.Helper()
	r, err := alerts.CreateRule(w.f.Ctx, w.db, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// record writes an activity event as it would be written by its area.
func (w *world) record(t *testing.T, ev activity.Event) {
	t.Helper()
	ev.WorkspaceID = w.f.Workspace.ID
	if ev.ActorKind == "" {
		ev.ActorKind, ev.ActorID, ev.ActorName = "user", w.f.Admin.ID, w.f.Admin.Name
	}
	if ev.Category == "" {
		ev.Category = activity.Inventory
	}
	if err := activity.RecordNow(context.Background(), w.db, ev); err != nil {
		t.Fatal(err)
	}
}

func (w *world) failedLogin(t *testing.T, email, ip string, at time.Time, attempts int) {
	t.Helper()
	newValues := map[string]any{"email": email, "reason": "wrong password"}
	if attempts > 1 {
		newValues["attempts"] = attempts
		newValues["first_at"] = at.Add(-time.Minute).UTC().Format(time.RFC3339Nano)
		newValues["last_at"] = at.UTC().Format(time.RFC3339Nano)
	}
	w.record(t, activity.Event{ActorKind: "anonymous", ActorName: email, Action: activity.LoginFailed, Category: activity.Authentication,
		EntityType: "users", IP: ip, OccurredAt: at, New: newValues, Description: "failed login for " + email})
}

func (w *world) alerts(t *testing.T) []alerts.Alert {
	t.Helper()
	list, err := alerts.ListAlerts(w.f.Ctx, w.db, alerts.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (w *world) evidence(t *testing.T, id int64) []alerts.Evidence {
	t.Helper()
	_, ev, err := alerts.GetAlert(w.f.Ctx, w.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// events returns the workspace's events of one action, oldest first.
func (w *world) events(t *testing.T, action activity.Action) []activity.Event {
	t.Helper()
	var out []activity.Event
	rows, err := w.db.Read().QueryContext(context.Background(), `SELECT id FROM activity_events WHERE workspace_id = $1 AND action = $2 ORDER BY id`,
		w.f.Workspace.ID, string(action))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if out, err = activity.EventsByID(w.f.Ctx, w.db, ids); err != nil {
		t.Fatal(err)
	}
	return out
}

func newValues(t *testing.T, ev activity.Event) map[string]any {
	t.Helper()
	var m map[string]any
	raw, _ := ev.New.(json.RawMessage)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("event %d new values %s: %v", ev.ID, raw, err)
	}
	return m
}

func TestFailedLoginsRaiseOneAlertPerBurst(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rule := w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins", EmailTo: []string{"security@example.com"},
			Thresholds: alerts.Thresholds{Attempts: 5, Per: alerts.PerAccount, WindowMinutes: 10}})
		// Minutes from now, as failures come in (the rule's own creation
		// was just recorded: the window looks back from the latest entry).
		t0 := time.Now().UTC()
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		// Normal traffic: a few mistakes, and failures spread wider than the window.
		for i := 0; i < 4; i++ {
			w.failedLogin(t, "alice@example.com", "10.0.0.1", at(0), 1)
		}
		for i := 0; i < 3; i++ {
			w.failedLogin(t, "bob@example.com", "10.0.0.2", at(20+i), 1)
		}
		w.failedLogin(t, "alice@example.com", "10.0.0.1", at(30), 1)
		w.failedLogin(t, "alice@example.com", "10.0.0.1", at(31), 1)
		w.evaluate(t)
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("normal traffic raised %+v", got)
		}
		// The flood: 3 more failures within the window, then a coalesced
		// record of 20 attempts and one more.
		for i := 0; i < 3; i++ {
			w.failedLogin(t, "Alice@example.com", "10.0.0.9", at(35+i), 1)
		}
		w.evaluate(t)
		got := w.alerts(t)
		if len(got) != 1 || got[0].Weight != 5 || got[0].EvidenceCount != 5 || got[0].Subject != "alice@example.com" || !got[0].IsOpen() {
			t.Fatalf("after the fifth failure in 10 minutes: %+v", got)
		}
		w.failedLogin(t, "alice@example.com", "10.0.0.9", at(45), 20)
		w.failedLogin(t, "alice@example.com", "10.0.0.9", at(46), 1)
		w.evaluate(t)
		got = w.alerts(t)
		if len(got) != 1 || got[0].Weight != 26 || got[0].EvidenceCount != 7 {
			t.Fatalf("the burst went on: %+v", got)
		}
		if got[0].Summary != "26 failed logins for alice@example.com" {
			t.Fatalf("summary %q", got[0].Summary)
		}
		ev := w.evidence(t, got[0].ID)
		if len(ev) != 7 || ev[6].Weight != 1 || ev[5].Weight != 20 || !strings.HasPrefix(ev[0].Link(), "/activity?cursor=") {
			t.Fatalf("evidence %+v", ev)
		}
		raised := w.events(t, alerts.ActionRaised)
		if len(raised) != 1 || raised[0].EntityID != itoa(got[0].ID) || raised[0].Category != activity.Audit || raised[0].EntityType != "alerts" {
			t.Fatalf("ALERT_RAISED events %+v", raised)
		}
		vals := newValues(t, raised[0])
		if to, _ := vals["email_to"].([]any); len(to) != 1 || to[0] != "security@example.com" || vals["link"] != "/notifications/alerts/"+itoa(got[0].ID) ||
			vals["kind"] != "failed_logins" || vals["rule_name"] != "Failed logins" || vals["evidence_count"] != float64(5) || vals["rule_id"] != float64(rule.ID) {
			t.Fatalf("ALERT_RAISED values %v", vals)
		}
		// Acknowledged, the burst is over; the next one is a new alert.
		if _, err := alerts.Acknowledge(w.f.Ctx, db, got[0].ID, "  blocked the address  "); err != nil {
			t.Fatal(err)
		}
		if _, err := alerts.Acknowledge(w.f.Ctx, db, got[0].ID, ""); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second acknowledgement: %v", err)
		}
		acks := w.events(t, alerts.ActionAcknowledged)
		if len(acks) != 1 || newValues(t, acks[0])["note"] != "blocked the address" || newValues(t, acks[0])["alert_id"] != float64(got[0].ID) {
			t.Fatalf("ALERT_ACKNOWLEDGED %+v", acks)
		}
		w.failedLogin(t, "alice@example.com", "10.0.0.9", time.Now(), 5)
		w.evaluate(t)
		if got = w.alerts(t); len(got) != 2 || got[0].Weight != 5 || got[1].Status != alerts.Acknowledged || got[1].Note != "blocked the address" {
			t.Fatalf("after acknowledging: %+v", got)
		}
	})
}

// A backlog read in one batch (after downtime) spans more than the window:
// each entry still counts what came within the window before it, neither
// more (entries long gone) nor less (entries counted in an earlier batch).
func TestBacklogSpanningTheWindow(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Attempts: 5, Per: alerts.PerAccount, WindowMinutes: 10}})
		t0 := time.Now().UTC()
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		w.failedLogin(t, "bob@example.com", "10.0.0.1", at(0), 2)
		w.evaluate(t)
		// One batch: 3 failures 5 minutes later (5 within 10 minutes), a
		// quiet hour, then 4 more (not 5 on their own).
		for i := 0; i < 3; i++ {
			w.failedLogin(t, "bob@example.com", "10.0.0.1", at(5), 1)
		}
		for i := 0; i < 4; i++ {
			w.failedLogin(t, "bob@example.com", "10.0.0.1", at(70), 1)
		}
		w.evaluate(t)
		got := w.alerts(t)
		if len(got) != 1 || got[0].Weight != 5 || got[0].EvidenceCount != 4 {
			t.Fatalf("backlog: %+v", got)
		}
		w.failedLogin(t, "bob@example.com", "10.0.0.1", at(71), 1)
		w.evaluate(t)
		if got = w.alerts(t); len(got) != 2 || got[0].Weight != 5 {
			t.Fatalf("the later burst: %+v", got)
		}
	})
}

func TestFailedLoginsPerAddress(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Password spraying",
			Thresholds: alerts.Thresholds{Attempts: 4, Per: alerts.PerAddress, WindowMinutes: 5}})
		now := time.Now().UTC()
		// One address trying many accounts fires; many addresses do not.
		for i, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			w.failedLogin(t, email, "203.0.113.7", now.Add(time.Duration(i)*time.Second), 1)
			w.failedLogin(t, email, "198.51.100."+itoa(int64(i)), now, 1)
		}
		w.evaluate(t)
		got := w.alerts(t)
		if len(got) != 1 || got[0].Subject != "203.0.113.7" || got[0].Summary != "4 failed logins from 203.0.113.7" {
			t.Fatalf("alerts %+v", got)
		}
	})
}

func TestAfterHoursAccess(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// Business all day on today's weekday only: what this test does
		// now is within hours, a day of last week at 02:00 is not.
		today := strings.ToLower(time.Now().UTC().Weekday().String())
		always, days := "00:00", []string{today}
		if _, err := workspace.Update(w.f.Ctx, db, workspace.Change{BusinessHoursStart: &always, BusinessHoursEnd: &always, BusinessDays: &days}); err != nil {
			t.Fatal(err)
		}
		w.rule(t, alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "After hours",
			Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 60}})
		y, m, d := time.Now().UTC().Date()
		wednesday := time.Date(y, m, d-7, 10, 0, 0, 0, time.UTC)
		saturday := time.Date(y, m, d-6, 2, 0, 0, 0, time.UTC)
		w.record(t, activity.Event{Action: activity.Login, OccurredAt: wednesday, EntityType: "users"})
		w.record(t, activity.Event{Action: activity.Update, OccurredAt: wednesday.Add(time.Hour), EntityType: "items"})
		// The system's own work and failed logins are not access.
		w.record(t, activity.Event{ActorKind: "system", ActorName: "retention", Action: activity.Delete, OccurredAt: saturday, EntityType: "activity_events"})
		w.failedLogin(t, "someone@example.com", "10.0.0.1", saturday, 1)
		w.evaluate(t)
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("business hours raised %+v", got)
		}
		w.record(t, activity.Event{Action: activity.Login, OccurredAt: saturday, EntityType: "users"})
		w.record(t, activity.Event{Action: activity.Read, OccurredAt: saturday.Add(10 * time.Minute), EntityType: "activity_events"})
		w.record(t, activity.Event{Action: activity.Export, OccurredAt: saturday.Add(20 * time.Minute), EntityType: "inventory_log"})
		w.record(t, activity.Event{ActorKind: "api_key", ActorID: 7, ActorName: "ERP", Action: activity.Update, OccurredAt: saturday.Add(20 * time.Minute), EntityType: "items"})
		w.evaluate(t)
		got := w.alerts(t)
		if len(got) != 2 {
			t.Fatalf("after hours: %+v", got)
		}
		byUser := got[1]
		if byUser.Subject != w.f.Admin.Name || byUser.EvidenceCount != 3 || got[0].Subject != "API key ERP" || got[0].EvidenceCount != 1 {
			t.Fatalf("after hours: %+v", got)
		}
		// Three hours later is another burst.
		w.record(t, activity.Event{Action: activity.Create, OccurredAt: saturday.Add(3 * time.Hour), EntityType: "items"})
		w.evaluate(t)
		if got = w.alerts(t); len(got) != 3 || got[0].Subject != w.f.Admin.Name || got[0].EvidenceCount != 1 {
			t.Fatalf("next burst: %+v", got)
		}
		// The alert events themselves never feed the rule.
		if raised := w.events(t, alerts.ActionRaised); len(raised) != 3 {
			t.Fatalf("%d ALERT_RAISED events", len(raised))
		}
	})
}

func TestBulkExport(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.rule(t, alerts.RuleInput{Kind: alerts.BulkExport, Name: "Exports",
			Thresholds: alerts.Thresholds{RowsAbove: 1000, ExportsAbove: 3, WindowMinutes: 15}})
		now := time.Now().UTC()
		export := func(kind string, id int64, name string, rows int, at time.Time) {
			w.record(t, activity.Event{ActorKind: kind, ActorID: id, ActorName: name, Action: activity.Export, Category: activity.Inventory,
				EntityType: "inventory_log", OccurredAt: at, New: map[string]any{"format": "csv", "rows": rows}})
		}
		for i := 0; i < 3; i++ {
			export("user", 41, "Alice", 1000, now.Add(time.Duration(i)*time.Minute))
		}
		export("user", 42, "Bob", 10, now)
		export("system", 0, "report", 50000, now)
		w.evaluate(t)
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("normal exports raised %+v", got)
		}
		export("user", 41, "Alice", 5, now.Add(4*time.Minute))
		export("user", 42, "Bob", 1001, now.Add(time.Minute))
		export("user", 42, "Bob", 3, now.Add(2*time.Minute))
		w.evaluate(t)
		got := w.alerts(t)
		// Bob's large export fires at once, with his exports of the window
		// (the small one before) and the one after as evidence.
		if len(got) != 2 || got[1].Subject != "Alice" || got[1].EvidenceCount != 4 || got[0].Subject != "Bob" || got[0].EvidenceCount != 3 {
			t.Fatalf("exports: %+v", got)
		}
	})
}

func TestStockRules(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.f.Ctx
		bolt, err := inventory.CreateItem(ctx, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "Bolt M8", Kind: inventory.Part, Unit: "pcs"})
		if err != nil {
			t.Fatal(err)
		}
		bin, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"})
		if err != nil {
			t.Fatal(err)
		}
		// Open around the clock every day: no change is after hours.
		always, all := "00:00", workspace.Weekdays
		if _, err := workspace.Update(ctx, db, workspace.Change{BusinessHoursStart: &always, BusinessHoursEnd: &always, BusinessDays: &all}); err != nil {
			t.Fatal(err)
		}
		w.rule(t, alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "Large corrections",
			Thresholds: alerts.Thresholds{QuantityAbove: "100", PercentAbove: 50, WindowMinutes: 60}})
		w.rule(t, alerts.RuleInput{Kind: alerts.AfterHoursStockChange, Name: "Night changes",
			Thresholds: alerts.Thresholds{Actions: 2, WindowMinutes: 60}})
		res, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: bolt.ID},
			LocationRef: inventory.LocationRef{LocationID: bin.ID}, Quantity: "1000"})
		if err != nil {
			t.Fatal(err)
		}
		record := inventory.RecordRef{RecordID: res.Entries[0].RecordID}
		correct := func(change string) {
			if _, err := inventory.Correct(ctx, db, inventory.Correction{RecordRef: record, Change: inventory.DecimalText(change),
				Options: inventory.Options{Reason: "count"}}); err != nil {
				t.Fatal(err)
			}
		}
		correct("-10") // 1%, 10 pieces: a normal correction
		if _, err := inventory.IssueStock(ctx, db, inventory.Issue{RecordRef: record, Quantity: "500"}); err != nil {
			t.Fatal(err) // an issue is no correction, however large
		}
		w.evaluate(t)
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("normal stock work raised %+v", got)
		}
		correct("-300") // 61% of 490
		correct("20")   // small: not evidence
		correct("101")  // above 100 pieces
		w.evaluate(t)
		got := w.alerts(t)
		if len(got) != 1 || got[0].Kind != alerts.LargeCorrection || got[0].EvidenceCount != 2 {
			t.Fatalf("large corrections: %+v", got)
		}
		ev := w.evidence(t, got[0].ID)
		if !strings.Contains(ev[0].Summary, "BOLT-M8 corrected at WH1 by -300 pcs (level 490 → 190 pcs)") || !strings.HasPrefix(ev[0].Link(), "/inventory/log?cursor=e") {
			t.Fatalf("evidence %+v", ev)
		}
		// Business days that exclude today: every change is after hours.
		var other []string
		for _, d := range workspace.Weekdays {
			if !strings.EqualFold(d, time.Now().UTC().Weekday().String()) {
				other = append(other, d)
			}
		}
		if _, err := workspace.Update(ctx, db, workspace.Change{BusinessDays: &other}); err != nil {
			t.Fatal(err)
		}
		correct("1")
		w.evaluate(t)
		if got = w.alerts(t); len(got) != 1 {
			t.Fatalf("one change of two raised: %+v", got)
		}
		correct("1")
		correct("1")
		w.evaluate(t)
		if got = w.alerts(t); len(got) != 2 || got[0].Kind != alerts.AfterHoursStockChange || got[0].EvidenceCount != 3 {
			t.Fatalf("after-hours changes: %+v", got)
		}
	})
}

// A new runner on the same database carries on where the last one stopped:
// the window counted before the restart is kept, and nothing is raised twice.
func TestRestartNeitherLosesNorRepeats(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Attempts: 5, Per: alerts.PerAccount, WindowMinutes: 10}})
		runOnce := func() {
			ledgertest.SealAll(t, w.sealer)
			ticks := make(chan time.Time)
			ctx, cancel := context.WithCancel(context.Background())
			r := jobs.Alerts(db, nil, time.Second)
			r.Ticks = ticks
			done := make(chan struct{})
			go func() { defer close(done); r.Run(ctx) }()
			ticks <- time.Now()
			ticks <- time.Now() // taken once the first run is over
			cancel()
			<-done
		}
		now := time.Now().UTC()
		for i := 0; i < 3; i++ {
			w.failedLogin(t, "alice@example.com", "10.0.0.1", now.Add(time.Duration(i)*time.Second), 1)
		}
		runOnce()
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("raised early: %+v", got)
		}
		for i := 3; i < 6; i++ {
			w.failedLogin(t, "alice@example.com", "10.0.0.1", now.Add(time.Duration(i)*time.Second), 1)
		}
		runOnce()
		runOnce()
		got := w.alerts(t)
		if len(got) != 1 || got[0].EvidenceCount != 6 {
			t.Fatalf("after restarts: %+v", got)
		}
		if raised := w.events(t, alerts.ActionRaised); len(raised) != 1 {
			t.Fatalf("%d ALERT_RAISED events", len(raised))
		}
	})
}

func TestBadThresholdsAreRefusedNamingTheField(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		cases := []struct {
			in    alerts.RuleInput
			field string
		}{
			{alerts.RuleInput{Kind: alerts.FailedLogins, Name: "x", Thresholds: alerts.Thresholds{Attempts: 1, Per: "account", WindowMinutes: 10}}, "attempts"},
			{alerts.RuleInput{Kind: alerts.FailedLogins, Name: "x", Thresholds: alerts.Thresholds{Attempts: 5, Per: "planet", WindowMinutes: 10}}, "per"},
			{alerts.RuleInput{Kind: alerts.FailedLogins, Name: "x", Thresholds: alerts.Thresholds{Attempts: 5, Per: "ip", WindowMinutes: 0}}, "window_minutes"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "x", Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 20000}}, "window_minutes"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "x", Thresholds: alerts.Thresholds{Actions: 0, WindowMinutes: 60}}, "actions"},
			{alerts.RuleInput{Kind: alerts.BulkExport, Name: "x", Thresholds: alerts.Thresholds{WindowMinutes: 60}}, "rows_above"},
			{alerts.RuleInput{Kind: alerts.BulkExport, Name: "x", Thresholds: alerts.Thresholds{RowsAbove: -1, ExportsAbove: 2, WindowMinutes: 60}}, "rows_above"},
			{alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "x", Thresholds: alerts.Thresholds{QuantityAbove: "lots", WindowMinutes: 60}}, "quantity_above"},
			{alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "x", Thresholds: alerts.Thresholds{QuantityAbove: "-5", WindowMinutes: 60}}, "quantity_above"},
			{alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "x", Thresholds: alerts.Thresholds{PercentAbove: -5, QuantityAbove: "5", WindowMinutes: 60}}, "percent_above"},
			{alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "x", Thresholds: alerts.Thresholds{WindowMinutes: 60}}, "quantity_above"},
			{alerts.RuleInput{Kind: "earthquake", Name: "x", Thresholds: alerts.Thresholds{WindowMinutes: 60}}, "kind"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "  ", Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 60}}, "name"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "red \x1b[31m", Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 60}}, "name"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "two\nlines", Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 60}}, "name"},
			{alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "x", EmailTo: []string{"not an address"}, Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 60}}, "email_to"},
		}
		for _, c := range cases {
			_, err := alerts.CreateRule(w.f.Ctx, db, c.in)
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid || e.Fields[c.field] == "" {
				t.Errorf("%+v: %v, want a message for %s", c.in, err, c.field)
			}
		}
		r := w.rule(t, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Attempts: 5, Per: "account", WindowMinutes: 10}})
		if _, err := alerts.CreateRule(w.f.Ctx, db, alerts.RuleInput{Kind: alerts.AfterHoursAccess, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Actions: 1, WindowMinutes: 10}}); !fault.Is(err, fault.Invalid) {
			t.Errorf("duplicate name: %v", err)
		}
		_, err := alerts.UpdateRule(w.f.Ctx, db, r.ID, alerts.RuleInput{Name: "Renamed", Thresholds: alerts.Thresholds{Attempts: 0, Per: "account", WindowMinutes: 10}})
		if e, ok := fault.As(err); !ok || e.Fields["attempts"] == "" {
			t.Fatalf("bad update: %v", err)
		}
		rules, err := alerts.ListRules(w.f.Ctx, db)
		if err != nil || len(rules) != 1 || rules[0].Name != "Failed logins" || rules[0].Thresholds.Attempts != 5 {
			t.Fatalf("something changed: %+v %v", rules, err)
		}
		if changes := configurationEvents(t, w); len(changes) != 1 {
			t.Fatalf("%d rule events after refused changes, want the creation only", len(changes))
		}
	})
}

func configurationEvents(t *testing.T, w *world) []activity.Event {
	t.Helper()
	var out []activity.Event
	for _, ev := range w.events(t, activity.Create) {
		if ev.EntityType == "alert_rules" {
			out = append(out, ev)
		}
	}
	for _, ev := range w.events(t, activity.Update) {
		if ev.EntityType == "alert_rules" {
			out = append(out, ev)
		}
	}
	return out
}

func TestRuleChangesAreAudited(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		always, all := "00:00", workspace.Weekdays
		if _, err := workspace.Update(w.f.Ctx, db, workspace.Change{BusinessHoursStart: &always, BusinessHoursEnd: &always, BusinessDays: &all}); err != nil {
			t.Fatal(err)
		}
		n, err := alerts.CreateRecommendedRules(w.f.Ctx, db)
		if err != nil || n != len(alerts.Kinds()) {
			t.Fatalf("recommended: %d %v", n, err)
		}
		if n, err := alerts.CreateRecommendedRules(w.f.Ctx, db); err != nil || n != 0 {
			t.Fatalf("recommended twice: %d %v", n, err)
		}
		rules, err := alerts.ListRules(w.f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var r alerts.Rule
		for _, x := range rules {
			if x.Kind == alerts.FailedLogins {
				r = x
			}
		}
		on := true
		if _, err := alerts.UpdateRule(w.f.Ctx, db, r.ID, alerts.RuleInput{Name: r.Name, Enabled: &on, EmailTo: []string{"ops@example.com"},
			Thresholds: alerts.Thresholds{Attempts: 8, Per: alerts.PerAddress, WindowMinutes: 10}}); err != nil {
			t.Fatal(err)
		}
		if _, err := alerts.SetRuleEnabled(w.f.Ctx, db, r.ID, false); err != nil {
			t.Fatal(err)
		}
		history, err := activity.ForEntity(w.f.Ctx, db, "alert_rules", itoa(r.ID), 10)
		if err != nil || len(history) != 3 {
			t.Fatalf("history %+v %v", history, err)
		}
		off, changed := history[0], history[1]
		if off.Category != activity.Configuration || !strings.Contains(off.Description, "switched off") {
			t.Fatalf("switch off %+v", off)
		}
		var before, after map[string]any
		_ = json.Unmarshal(changed.Old.(json.RawMessage), &before)
		_ = json.Unmarshal(changed.New.(json.RawMessage), &after)
		if before["attempts"] != float64(5) || after["attempts"] != float64(8) || before["per"] != "account" || after["per"] != "ip" ||
			after["email_to"] != "ops@example.com" || after["name"] != nil {
			t.Fatalf("before %v → after %v", before, after)
		}
		// Switched off, the rule fires no more.
		for i := 0; i < 10; i++ {
			w.failedLogin(t, "alice@example.com", "10.0.0.1", time.Now(), 1)
		}
		w.evaluate(t)
		if got := w.alerts(t); len(got) != 0 {
			t.Fatalf("a rule switched off raised %+v", got)
		}
		// Only admins change rules; auditors read them.
		auditor := w.f.User(t, "auditor@example.com", actor.Auditor)
		if _, err := alerts.SetRuleEnabled(w.f.As(auditor), db, r.ID, true); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("auditor changed a rule: %v", err)
		}
		if _, err := alerts.ListRules(w.f.As(auditor), db); err != nil {
			t.Fatal(err)
		}
		operator := w.f.User(t, "operator@example.com", actor.Operator)
		if _, err := alerts.ListAlerts(w.f.As(operator), db, alerts.AlertFilter{}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("operator read alerts: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
