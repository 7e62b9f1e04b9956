package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestAlertsAPI: rules are created, refused with the field named, changed
// and read by role; an alert raised by the follower is listed, read with its
// evidence and acknowledged once.
func TestAlertsAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		keys := map[actor.Role]string{}
		for _, role := range actor.Roles() {
			k, err := f.Auth.CreateAPIKey(f.Ctx, string(role)+"-key", role)
			if err != nil {
				t.Fatal(err)
			}
			keys[role] = k.Secret
		}
		sealer := ledgertest.NewSealer(t, db)
		follow := func() {
			ledgertest.SealAll(t, sealer)
			if _, err := alerts.Follow(context.Background(), db); err != nil {
				t.Fatal(err)
			}
		}
		follow()
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		call := func(role actor.Role, method, path string, body any) (int, map[string]any) {
			t.Helper()
			var rd *bytes.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			} else {
				rd = bytes.NewReader(nil)
			}
			req, _ := http.NewRequest(method, srv.URL+path, rd)
			req.Header.Set("Authorization", "Bearer "+keys[role])
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		bad := map[string]any{"kind": "failed_logins", "name": "Guessing", "thresholds": map[string]any{"attempts": 1, "per": "account", "window_minutes": 10}}
		status, body := call(actor.Admin, "POST", "/api/v1/alert-rules", bad)
		if errs, _ := body["errors"].(map[string]any); status != 422 || errs["attempts"] == nil {
			t.Fatalf("bad threshold: %d %v", status, body)
		}
		if status, _ := call(actor.Auditor, "POST", "/api/v1/alert-rules", bad); status != 403 {
			t.Fatalf("auditor created a rule: %d", status)
		}
		good := map[string]any{"kind": "failed_logins", "name": "Guessing", "email_to": []string{"sec@example.com"},
			"thresholds": map[string]any{"attempts": 3, "per": "account", "window_minutes": 10}}
		status, rule := call(actor.Admin, "POST", "/api/v1/alert-rules", good)
		if status != 201 || rule["enabled"] != true || rule["name"] != "Guessing" {
			t.Fatalf("create: %d %v", status, rule)
		}
		id := int64(rule["id"].(float64))
		good["thresholds"] = map[string]any{"attempts": 4, "per": "account", "window_minutes": 10}
		if status, rule = call(actor.Admin, "PUT", fmt.Sprintf("/api/v1/alert-rules/%d", id), good); status != 200 || rule["thresholds"].(map[string]any)["attempts"] != float64(4) {
			t.Fatalf("update: %d %v", status, rule)
		}
		if status, body = call(actor.Auditor, "GET", "/api/v1/alert-rules", nil); status != 200 || len(body["data"].([]any)) != 1 {
			t.Fatalf("auditor list: %d %v", status, body)
		}
		if status, _ = call(actor.Operator, "GET", "/api/v1/alerts", nil); status != 403 {
			t.Fatalf("operator read alerts: %d", status)
		}
		if status, body = call(actor.Admin, "GET", "/api/v1/alerts?limit=abc", nil); status != 400 {
			t.Fatalf("bad limit: %d %v", status, body)
		}
		for i := 0; i < 4; i++ {
			if err := activity.RecordNow(context.Background(), db, activity.Event{WorkspaceID: f.Workspace.ID, ActorKind: "anonymous",
				ActorName: "eve@example.com", Action: activity.LoginFailed, Category: activity.Authentication, EntityType: "users",
				IP: "203.0.113.5", OccurredAt: time.Now(), New: map[string]any{"email": "eve@example.com"}, Description: "failed login for eve@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		follow()
		status, body = call(actor.Auditor, "GET", "/api/v1/alerts?status=open", nil)
		list, _ := body["data"].([]any)
		if status != 200 || len(list) != 1 {
			t.Fatalf("alerts: %d %v", status, body)
		}
		alertID := int64(list[0].(map[string]any)["id"].(float64))
		status, body = call(actor.Auditor, "GET", fmt.Sprintf("/api/v1/alerts/%d", alertID), nil)
		evidence, _ := body["evidence"].([]any)
		if status != 200 || len(evidence) != 4 || body["summary"] != "4 failed logins for eve@example.com" ||
			evidence[0].(map[string]any)["log"] != "activity_events" || evidence[0].(map[string]any)["link"] == "" {
			t.Fatalf("alert: %d %v", status, body)
		}
		if status, _ = call(actor.Auditor, "POST", fmt.Sprintf("/api/v1/alerts/%d/acknowledge", alertID), map[string]any{"note": "x"}); status != 403 {
			t.Fatalf("auditor acknowledged: %d", status)
		}
		if status, body = call(actor.Admin, "POST", fmt.Sprintf("/api/v1/alerts/%d/acknowledge", alertID), map[string]any{"note": "known tester"}); status != 200 ||
			body["status"] != "acknowledged" || body["note"] != "known tester" {
			t.Fatalf("acknowledge: %d %v", status, body)
		}
		if status, _ = call(actor.Admin, "POST", fmt.Sprintf("/api/v1/alerts/%d/acknowledge", alertID), map[string]any{}); status != 409 {
			t.Fatalf("second acknowledgement: %d", status)
		}
	})
}
