package api_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestAuditReportsAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		// The API keys the env created are configuration changes.
		today := time.Now().UTC().Format("2006-01-02")
		code, body := e.call(actor.Auditor, "GET", "/api/v1/reports/audit/configuration-changes?from="+today+"&to="+today, "")
		rows, _ := body["rows"].([]any)
		if code != 200 || body["title"] != "Configuration changes" || body["from"] != today || len(rows) < len(actor.Roles()) || body["generated_at"] == nil {
			t.Fatalf("configuration changes: %d %v", code, body)
		}
		keys := 0
		for _, row := range rows {
			r := row.(map[string]any)
			if r["table_name"] == "api_keys" && r["action"] == "CREATE" && len(r["changes"].([]any)) > 0 {
				keys++
			}
		}
		if keys != len(actor.Roles()) {
			t.Errorf("%d API keys created, want %d: %v", keys, len(actor.Roles()), rows)
		}
		// Products of March: the env's events are by users 501 and 502.
		code, body = e.call(actor.Admin, "GET", "/api/v1/reports/audit/user-activity?from=2026-03-01&to=2026-03-31", "")
		rows, _ = body["rows"].([]any)
		if code != 200 || len(rows) != 2 || rows[0].(map[string]any)["actions"] != float64(2) {
			t.Errorf("user activity: %d %v", code, body)
		}
		code, body = e.call(actor.Admin, "GET", "/api/v1/reports/audit/data-access?limit=1", "")
		if rows, _ := body["rows"].([]any); code != 200 || len(rows) != 1 || body["next_cursor"] == nil {
			t.Errorf("data access page: %d %v", code, body)
		}
		code, h, csv := e.download(actor.Auditor, "/api/v1/reports/audit/data-access?format=csv")
		if code != 200 || h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(csv), "Report,Data access report\r\n") ||
			!strings.Contains(h.Get("Content-Disposition"), "audit-data-access-") {
			t.Errorf("CSV: %d %v %.200s", code, h, csv)
		}
		if code, h, pdf := e.download(actor.Admin, "/api/v1/reports/audit/user-activity?format=pdf"); code != 200 ||
			h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("PDF: %d %v", code, h)
		}

		// Bad input names its field; nothing but the refusal is recorded.
		for _, c := range []struct {
			path  string
			code  int
			field string
		}{
			{"/api/v1/reports/audit/user-activity?from=2026-03-10&to=2026-03-01", 422, "to"},
			{"/api/v1/reports/audit/user-activity?from=March", 422, "from"},
			{"/api/v1/reports/audit/data-access?format=xlsx", 422, "format"},
			{"/api/v1/reports/audit/data-access?limit=5000", 422, "limit"},
			{"/api/v1/reports/audit/everything", 404, ""},
			{"/api/v1/reports/audit/user-activity?start_date=2026-03-01", 400, ""},
		} {
			code, body := e.call(actor.Admin, "GET", c.path, "")
			fields, _ := body["errors"].(map[string]any)
			if code != c.code || (c.field != "" && fields[c.field] == nil) {
				t.Errorf("%s: %d %v", c.path, code, body)
			}
		}
		for _, role := range []actor.Role{actor.Manager, actor.Operator} {
			if code, _ := e.call(role, "GET", "/api/v1/reports/audit/user-activity", ""); code != 403 {
				t.Errorf("%s read a report: %d", role, code)
			}
		}
		// Reading and downloading are on the trail.
		_, body = e.call(actor.Admin, "GET", "/api/v1/audit-logs?table_name=audit_reports", "")
		if n, _ := body["count"].(float64); n != 5 {
			t.Errorf("%v report reads recorded, want 5: %v", n, body)
		}
	})
}

// TestAuditLogsSeedTableNames: the seed's table names filter the audit-log
// API's list and summary; the entries keep their shape and stored names.
func TestAuditLogsSeedTableNames(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := activity.Record(context.Background(), tx, activity.Event{WorkspaceID: e.f.Workspace.ID, ActorKind: "user", ActorID: 501,
				ActorName: "Alice", OccurredAt: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC), Action: activity.Create,
				Category: activity.Inventory, EntityType: "items", EntityID: "12", Description: "item GEAR-9 created"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		code, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?table_name=products", "")
		data, _ := body["data"].([]any)
		if code != 200 || body["status"] != "success" || body["count"] != float64(3) || len(data) != 3 {
			t.Fatalf("table_name=products: %d %v", code, body)
		}
		newest := data[0].(map[string]any)
		if newest["table_name"] != "items" || newest["record_id"] != "12" || newest["category"] != "inventory" {
			t.Errorf("entry %v", newest)
		}
		if _, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?category=products", ""); body["count"] != float64(3) {
			t.Errorf("category=products: %v", body)
		}
		if _, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?table_name=items", ""); body["count"] != float64(1) {
			t.Errorf("table_name=items: %v", body)
		}
		code, body = e.call(actor.Admin, "GET", "/api/v1/audit-logs/summary?table_name=products", "")
		s, _ := body["data"].(map[string]any)
		byTable, _ := s["by_table"].(map[string]any)
		if code != 200 || s["total"] != float64(3) || byTable["items"] != float64(1) || byTable["products"] != float64(2) {
			t.Errorf("summary: %d %v", code, body)
		}
		if _, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?table_name=warehouses", ""); body["count"] != float64(1) {
			t.Errorf("table_name=warehouses: %v", body)
		}
	})
}
