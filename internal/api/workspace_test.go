package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestWorkspaceRetentionAPI: the workspace shows its plan, retention and
// legal hold; its admins may not change the plan, may keep activity longer
// on Enterprise, and never shorter than the plan's minimum. Both engines.
func TestWorkspaceRetentionAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db) // Enterprise
		code, body := e.call(actor.Admin, "GET", "/api/v1/workspace", "")
		if code != 200 || body["plan"] != "enterprise" || body["activity_retention_days"] != float64(365) || body["legal_hold"] != false {
			t.Fatalf("GET: %d %v", code, body)
		}
		cases := []struct {
			body   string
			status int
			field  string
		}{
			{`{"plan": "starter"}`, 400, "plan"},
			{`{"activity_retention_days": 364}`, 422, "activity_retention_days"},
			{`{"activity_retention_days": 30, "name": "Renamed"}`, 422, "activity_retention_days"},
		}
		for _, c := range cases {
			code, body := e.call(actor.Admin, "PATCH", "/api/v1/workspace", c.body)
			if code != c.status || !strings.Contains(fmt.Sprint(body), c.field) {
				t.Errorf("PATCH %s: %d %v", c.body, code, body)
			}
		}
		w, err := workspace.Get(e.f.Ctx, db)
		if err != nil || w.Plan != workspace.Enterprise || w.ActivityRetentionDays != 365 || w.Name != "My workspace" {
			t.Fatalf("bad input changed the workspace: %+v %v", w, err)
		}
		if code, body := e.call(actor.Admin, "PATCH", "/api/v1/workspace", `{"activity_retention_days": 730}`); code != 200 || body["activity_retention_days"] != float64(730) {
			t.Fatalf("longer retention: %d %v", code, body)
		}
		if code, _ := e.call(actor.Manager, "PATCH", "/api/v1/workspace", `{"activity_retention_days": 800}`); code != 403 {
			t.Fatalf("a manager changed the retention: %d", code)
		}
	})
}
