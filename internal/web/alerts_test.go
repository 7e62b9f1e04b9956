package web_test

import (
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestNotificationsPages: the rule forms refuse bad thresholds with the
// field named and keep what was typed; admins change rules, auditors only
// read them, operators do not see them.
func TestNotificationsPages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		f.User(t, "audrey@example.com", actor.Auditor)
		f.User(t, "otto@example.com", actor.Operator)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		auditor := loginAs(t, srv.URL, "audrey@example.com", testPassword)
		operator := loginAs(t, srv.URL, "otto@example.com", testPassword)

		for _, tt := range []struct {
			form  url.Values
			field string
			want  string
		}{
			{url.Values{"kind": {"failed_logins"}, "name": {"A"}, "attempts": {"1"}, "per": {"account"}, "window_minutes": {"10"}}, "attempts", "from 2 to 10000"},
			{url.Values{"kind": {"failed_logins"}, "name": {"A"}, "attempts": {"five"}, "per": {"account"}, "window_minutes": {"10"}}, "attempts", "as a whole number"},
			{url.Values{"kind": {"failed_logins"}, "name": {"A"}, "attempts": {"5"}, "window_minutes": {"10"}}, "per", "per account or per network address"},
			{url.Values{"kind": {"after_hours_access"}, "name": {"A"}, "actions": {"1"}, "window_minutes": {"0"}}, "window_minutes", "from 1 to 10080"},
			{url.Values{"kind": {"bulk_export"}, "name": {"A"}, "rows_above": {"0"}, "exports_above": {"0"}, "window_minutes": {"10"}}, "rows_above", "a number of exports, or both"},
			{url.Values{"kind": {"large_correction"}, "name": {"A"}, "quantity_above": {"a lot"}, "window_minutes": {"10"}}, "quantity_above", "such as 100 or 2.5"},
			{url.Values{"kind": {"after_hours_stock_change"}, "name": {""}, "actions": {"1"}, "window_minutes": {"10"}}, "name", "Enter a name"},
			{url.Values{"kind": {"after_hours_stock_change"}, "name": {"A"}, "actions": {"1"}, "window_minutes": {"10"}, "email_to": {"ops@example.com, nobody"}}, "email_to", "is not an e-mail address"},
		} {
			status, page := admin.post("/notifications/rules", tt.form)
			page = html.UnescapeString(page)
			if status != 422 || !strings.Contains(page, `href="#field-`+tt.field+`"`) || !strings.Contains(page, tt.want) ||
				!strings.Contains(page, "There is a problem") || !strings.Contains(page, `value="`+tt.form.Get("name")+`"`) {
				t.Errorf("%v: %d, want %s: %q\n%s", tt.form, status, tt.field, tt.want, page)
			}
		}
		if rules, _ := alerts.ListRules(f.Ctx, db); len(rules) != 0 {
			t.Fatalf("refused forms saved %+v", rules)
		}
		if status, page := admin.get("/notifications/rules/new?kind=earthquake"); status != 200 || !strings.Contains(page, "Choose what the rule watches for") {
			t.Errorf("unknown kind: %d", status)
		}
		if status, _ := admin.get("/notifications/alerts?before=abc"); status != 400 {
			t.Errorf("bad cursor: %d", status)
		}

		if status, page := admin.post("/notifications/rules/recommended", url.Values{}); status != 200 || !strings.Contains(page, "5 recommended rules created") {
			t.Fatalf("recommended: %d %s", status, page)
		}
		rules, err := alerts.ListRules(f.Ctx, db)
		if err != nil || len(rules) != 5 {
			t.Fatalf("rules %v %v", rules, err)
		}
		status, page := admin.post("/notifications/rules/"+itoa(rules[0].ID)+"/enabled", url.Values{})
		if status != 200 || !strings.Contains(page, "switched off") || !strings.Contains(page, `<span class="status off">Off</span>`) {
			t.Fatalf("switch off: %d %s", status, page)
		}
		// Editing keeps the kind; a bad value leaves the rule as it was.
		status, page = admin.post("/notifications/rules/"+itoa(rules[0].ID), url.Values{"kind": {"failed_logins"}, "name": {"Renamed"}, "window_minutes": {"-3"}})
		if status != 422 || !strings.Contains(page, `href="#field-window_minutes"`) {
			t.Fatalf("bad edit: %d", status)
		}
		if r, _ := alerts.GetRule(f.Ctx, db, rules[0].ID); r.Name != rules[0].Name {
			t.Fatalf("a refused edit renamed the rule to %q", r.Name)
		}

		status, page = auditor.get("/notifications")
		if status != 200 || !strings.Contains(page, rules[1].Name) || strings.Contains(page, "Add a rule") || strings.Contains(page, "Switch off") {
			t.Fatalf("auditor: %d %s", status, page)
		}
		status, page = auditor.get("/notifications/rules/" + itoa(rules[1].ID))
		if status != 200 || !strings.Contains(page, `<fieldset class="plain" disabled>`) || strings.Contains(page, "Save the rule") {
			t.Fatalf("auditor's rule page: %d %s", status, page)
		}
		if status, _ = auditor.post("/notifications/rules/"+itoa(rules[1].ID)+"/enabled", url.Values{}); status != 403 {
			t.Errorf("auditor switched a rule: %d", status)
		}
		if status, _ = operator.get("/notifications"); status != 403 {
			t.Errorf("operator saw notifications: %d", status)
		}
	})
}
