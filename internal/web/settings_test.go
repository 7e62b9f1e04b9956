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
