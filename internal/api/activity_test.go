package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// download sends GET path with role's API key and returns the answer's
// status, headers and body.
func (e *auditEnv) download(role actor.Role, path string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

func TestActivityExportAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		// Every event sealed: each row shows its ledger sequence.
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		const filter = "table_name=products&start_date=2026-03-01&end_date=2026-03-31"
		code, h, csv := e.download(actor.Auditor, "/api/v1/activity/export?format=csv&"+filter)
		if code != 200 || h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="activity-`) ||
			!strings.HasSuffix(h.Get("Content-Disposition"), `.csv"`) || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("CSV export: %d %v %s", code, h, csv)
		}
		lines := strings.Split(strings.TrimSuffix(string(csv), "\r\n"), "\r\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], itoa(e.ids["p-update"])+",") || !strings.HasPrefix(lines[2], itoa(e.ids["p-create"])+",") {
			t.Errorf("CSV rows:\n%s", csv)
		}
		if sealed := ledgertest.CheckSequenceColumn(t, e.f.Ctx, db, ledger.ActivityEvents, csv, 0); sealed != 2 {
			t.Errorf("%d of the events sealed, want 2", sealed)
		}
		// The same file as the web's Activity Log export, byte for byte.
		code, _, web := e.download(actor.Auditor, "/activity/export.csv?"+filter)
		if code != 200 || !bytes.Equal(web, csv) {
			t.Errorf("web export (%d) differs from the API's:\n%s\n---\n%s", code, web, csv)
		}
		// csv is the default.
		if code, _, plain := e.download(actor.Admin, "/api/v1/activity/export?"+filter); code != 200 || !bytes.Equal(plain, csv) {
			t.Errorf("export without format: %d\n%s", code, plain)
		}
		code, h, pdf := e.download(actor.Admin, "/api/v1/activity/export?format=pdf&action=update")
		if code != 200 || h.Get("Content-Type") != "application/pdf" || !strings.HasSuffix(h.Get("Content-Disposition"), `.pdf"`) || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("PDF export: %d %v %.20q", code, h, pdf)
		}

		// Each export is recorded, by whoever exported, with what it selected.
		_, body := e.call(actor.Admin, "GET", "/api/v1/audit-logs?action=EXPORT&table_name=activity_events", "")
		data, _ := body["data"].([]any)
		if len(data) != 4 {
			t.Fatalf("EXPORT events: %v", body)
		}
		oldest := data[3].(map[string]any)
		vals := oldest["new_values"].(map[string]any)
		if oldest["actor_kind"] != "api_key" || oldest["username"] != "auditor-key" || vals["format"] != "csv" || vals["rows"] != float64(2) ||
			vals["entity_type"] != "products" || vals["start_date"] != "2026-03-01" || vals["complete"] != true {
			t.Errorf("EXPORT event of the API's CSV: %v", oldest)
		}
		if vals := data[0].(map[string]any)["new_values"].(map[string]any); vals["format"] != "pdf" || vals["action"] != "UPDATE" || vals["rows"] != float64(2) {
			t.Errorf("EXPORT event of the PDF: %v", vals)
		}
	})
}

func TestActivityExportAPIBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db)
		before := e.count()
		for _, c := range []struct {
			role   actor.Role
			query  string
			status int
			field  string // named in the problem's errors
		}{
			{actor.Admin, "format=xlsx", 422, "format"},
			{actor.Admin, "format=pdf&start_date=31.12.2025", 422, "start_date"},
			{actor.Admin, "start_date=2026-03-05&end_date=2026-03-01", 422, "end_date"},
			{actor.Admin, "action=STEAL", 422, "action"},
			{actor.Admin, "limit=5", 400, ""},
			{actor.Admin, "cursor=1_2", 400, ""},
			{actor.Admin, "tabel_name=products", 400, ""},
			{actor.Manager, "format=csv", 403, ""},
			{actor.Operator, "", 403, ""},
			{"", "", 401, ""},
		} {
			code, h, body := e.download(c.role, "/api/v1/activity/export?"+c.query)
			var problem struct {
				Status int               `json:"status"`
				Detail string            `json:"detail"`
				Errors map[string]string `json:"errors"`
			}
			err := json.Unmarshal(body, &problem)
			if code != c.status || err != nil || problem.Status != c.status || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") ||
				h.Get("Content-Disposition") != "" || (c.field != "" && problem.Errors[c.field] == "") {
				t.Errorf("%q %s: %d %v %s", c.role, c.query, code, h, body)
			}
		}
		if after := e.count(); after != before {
			t.Errorf("refused exports wrote %d events", after-before)
		}
	})
}

func TestOpenAPIDescribesActivityExport(t *testing.T) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	get, ok := doc.Paths["/api/v1/activity/export"]["get"]
	if !ok {
		t.Fatal("GET /api/v1/activity/export is not in the OpenAPI document")
	}
	var op struct {
		Parameters []struct {
			Name string `json:"name"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(get, &op); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Name)
	}
	for _, want := range []string{"format", "start_date", "end_date", "table_name", "q"} {
		if !slices.Contains(names, want) {
			t.Errorf("parameter %s not described (have %v)", want, names)
		}
	}
}
