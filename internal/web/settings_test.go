package web_test

import (
	"context"
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestSettingsRetention: the plan and its retention are read-only for the
// workspace's admins; an Enterprise admin may keep activity longer, never
// shorter than the plan's minimum; the legal hold shows. Both engines.
func TestSettingsRetention(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db) // Enterprise
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		form := func(extra url.Values) url.Values {
			v := url.Values{"name": {"My workspace"}, "time_zone": {"UTC"}, "business_hours_start": {"07:00"}, "business_hours_end": {"19:00"},
				"business_days": {"monday"}}
			for k, vs := range extra {
				v[k] = vs
			}
			return v
		}
		current := func() workspace.Workspace {
			w, err := workspace.Get(f.Ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}

		status, page := admin.get("/settings")
		page = html.UnescapeString(page)
		if status != 200 || strings.Contains(page, `name="plan"`) || !strings.Contains(page, "Enterprise") ||
			!strings.Contains(page, "set by the install's operator") || !strings.Contains(page, `name="activity_retention_days"`) ||
			!strings.Contains(page, "For ever") || !strings.Contains(page, "<dt>Legal hold</dt><dd>None") {
			t.Fatalf("settings page: %d\n%s", status, page)
		}
		// Below the plan's minimum, or not a number: the field is named and
		// nothing changes.
		for _, bad := range []string{"100", "364", "a year", "99999999"} {
			status, page := admin.post("/settings", form(url.Values{"activity_retention_days": {bad}, "name": {"Renamed"}}))
			if status != 422 || !strings.Contains(html.UnescapeString(page), `<span class="field-error">`) || !strings.Contains(page, "activity_retention_days") {
				t.Errorf("retention %q: %d\n%s", bad, status, page)
			}
			if w := current(); w.ActivityRetentionDays != 365 || w.Name != "My workspace" {
				t.Errorf("retention %q changed the workspace: %+v", bad, w)
			}
		}
		// A plan sent by a form is ignored: the plan is the operator's.
		status, _ = admin.post("/settings", form(url.Values{"activity_retention_days": {"400"}, "plan": {"starter"}}))
		if w := current(); status != 200 || w.ActivityRetentionDays != 400 || w.Plan != workspace.Enterprise {
			t.Fatalf("longer retention: %d %+v", status, w)
		}

		// On Business the retention is the plan's: shown, not editable.
		op := actor.With(context.Background(), workspace.Operator("test operator"))
		if _, err := workspace.SetPlan(op, db, f.Workspace.ID, workspace.Business); err != nil {
			t.Fatal(err)
		}
		if _, err := workspace.SetLegalHold(op, db, f.Workspace.ID, true, "case 2026-114"); err != nil {
			t.Fatal(err)
		}
		_, page = admin.get("/settings")
		page = html.UnescapeString(page)
		if strings.Contains(page, `name="activity_retention_days"`) || !strings.Contains(page, "90 days") ||
			!strings.Contains(page, "case 2026-114") || !strings.Contains(page, "<strong>On</strong>") {
			t.Fatalf("Business settings page:\n%s", page)
		}
		status, page = admin.post("/settings", form(url.Values{"activity_retention_days": {"120"}}))
		if status != 422 || !strings.Contains(page, "only the Enterprise plan may keep it longer") || current().ActivityRetentionDays != 90 {
			t.Fatalf("longer retention on Business: %d\n%s", status, page)
		}
	})
}

// TestSettingsOverReceipt: the over-receipt tolerance of purchase orders is
// set on the settings form, its change is an activity event of the
// workspace (shown in the page's history), and a value that is not a whole
// percentage from 0 to 1000 is named next to its field with nothing
// changed. A form without the field leaves it as it is. Both engines.
func TestSettingsOverReceipt(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		form := func(percent string) url.Values {
			v := url.Values{"name": {"My workspace"}, "time_zone": {"UTC"}, "business_hours_start": {"07:00"}, "business_hours_end": {"19:00"},
				"business_days": {"monday"}, "activity_retention_days": {"365"}}
			if percent != "-" {
				v.Set("over_receipt_percent", percent)
			}
			return v
		}
		tolerance := func() int {
			w, err := workspace.Get(f.Ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return w.Settings.OverReceiptPercent
		}
		events := func() int {
			var n int
			if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1
				AND entity_type = 'workspaces' AND new_values LIKE '%over_receipt_percent%'`, f.Workspace.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		_, page := admin.get("/settings")
		if !strings.Contains(page, `id="field-over_receipt_percent" name="over_receipt_percent" inputmode="numeric" value="0"`) {
			t.Fatalf("no over-receipt field:\n%s", page)
		}
		admin.post("/settings", form("-")) // settles the other fields
		base := events()
		status, page := admin.post("/settings", form(" 10% "))
		if status != 200 || tolerance() != 10 || events() != base+1 || !strings.Contains(page, "Settings saved") {
			t.Fatalf("10%%: %d, tolerance %d, %d events", status, tolerance(), events()-base)
		}
		if !strings.Contains(html.UnescapeString(page), `value="10"`) {
			t.Errorf("the saved tolerance is not shown")
		}
		var old, new string
		if err := db.Read().QueryRowContext(context.Background(), `SELECT old_values, new_values FROM activity_events WHERE workspace_id = $1
			AND entity_type = 'workspaces' ORDER BY id DESC LIMIT 1`, f.Workspace.ID).Scan(&old, &new); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(old, `"over_receipt_percent":0`) || !strings.Contains(new, `"over_receipt_percent":10`) {
			t.Errorf("event: %s → %s", old, new)
		}
		for _, bad := range []struct{ value, says string }{{"ten", "Enter a whole percentage from 0 to 1000"}, {"-1", "from 0 to 1000"},
			{"1001", "from 0 to 1000"}, {"2.5", "Enter a whole percentage"}} {
			status, page := admin.post("/settings", form(bad.value))
			page = html.UnescapeString(page)
			at := strings.Index(page, `id="field-over_receipt_percent"`)
			if status != 422 || at < 0 || !strings.Contains(page[at:], `<span class="field-error">`) || !strings.Contains(page[at:], bad.says) {
				t.Errorf("%q: %d\n%s", bad.value, status, page)
			}
			if tolerance() != 10 || events() != base+1 {
				t.Errorf("%q changed the tolerance to %d", bad.value, tolerance())
			}
		}
		// Without the field, and with the same value: nothing changes.
		admin.post("/settings", form("-"))
		admin.post("/settings", form("10"))
		if tolerance() != 10 || events() != base+1 {
			t.Errorf("unchanged forms: tolerance %d, %d events", tolerance(), events()-base)
		}
		// An operator may not change it.
		f.User(t, "op@example.com", actor.Operator)
		op := loginAs(t, srv.URL, "op@example.com", "correct horse battery")
		if status, _ := op.post("/settings", form("50")); status != 403 || tolerance() != 10 {
			t.Errorf("an operator's change: %d, tolerance %d", status, tolerance())
		}
	})
}
