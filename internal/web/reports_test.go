package web_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/popplertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Reports → Audit: admins and auditors only; the page, its CSV and PDF are
// one report; a bad range is a 422 naming the field, with nothing reported.
func TestAuditReportsPage(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newWebEnv(t, db)
		today := time.Now().UTC().Format("2006-01-02")
		sel := "report=configuration-changes&from=" + today + "&to=" + today
		for email, want := range map[string]int{"admin@example.com": 200, "audrey@example.com": 200, "olga@example.com": 403} {
			c := e.client(t, email)
			for _, path := range []string{"/reports/audit", "/reports/audit?" + sel, "/reports/audit/export.csv?" + sel, "/reports/audit/export.pdf?" + sel} {
				if res, _ := get(t, c, e.srv.URL+path); res.StatusCode != want {
					t.Errorf("%s %s: %d, want %d", email, path, res.StatusCode, want)
				}
			}
		}
		c := e.client(t, "audrey@example.com")
		res, body := get(t, c, e.srv.URL+"/reports/audit?"+sel)
		for _, want := range []string{"Reports</li>", "Audit</li>", "Configuration changes", "role of olga@example.com changed from operator to manager",
			"<del>operator</del> → <ins>manager</ins>", "Generated", `/reports/audit/export.csv?from=` + today + `&amp;report=configuration-changes&amp;to=` + today} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
		res, body = get(t, c, e.srv.URL+"/reports/audit/export.csv?"+sel)
		r := csv.NewReader(bytes.NewReader(body))
		r.FieldsPerRecord = -1
		records, err := r.ReadAll()
		if err != nil || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || records[0][1] != "Configuration changes" ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "audit-configuration-changes-") {
			t.Fatalf("CSV %v %v %q", err, res.Header, records)
		}
		found := false
		for _, rec := range records {
			if len(rec) > 7 && rec[3] == "ROLE_CHANGE" && rec[7] == "role: operator → manager" {
				found = true
			}
		}
		if !found {
			t.Errorf("CSV lacks the role change: %q", records)
		}
		res, body = get(t, c, e.srv.URL+"/reports/audit/export.pdf?"+sel)
		if res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
			t.Fatalf("PDF %v", res.Header)
		}
		if pdftotext, ok := popplertest.Lookup(t, "pdftotext"); ok {
			dir := t.TempDir()
			pdf := filepath.Join(dir, "report.pdf")
			os.WriteFile(pdf, body, 0o644)
			out, err := exec.Command(pdftotext, pdf, "-").CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("Configuration changes")) || !bytes.Contains(out, []byte("From: "+today)) ||
				!bytes.Contains(out, []byte("ROLE_CHANGE")) || !bytes.Contains(out, []byte("role: operator → manager")) {
				t.Errorf("PDF text: %v\n%s", err, out)
			}
		}
		res, body = get(t, c, e.srv.URL+"/reports/audit?report=data-access&from=2026-03-10&to=2026-03-01")
		if res.StatusCode != 422 || !bytes.Contains(body, []byte("There is a problem")) || !bytes.Contains(body, []byte(`href="#to"`)) ||
			bytes.Contains(body, []byte(`id="report-result"`)) {
			t.Errorf("bad range: %d\n%s", res.StatusCode, body)
		}
		if res, _ := get(t, c, e.srv.URL+"/reports/audit/export.csv?report=data-access&from=2026-03-10&to=2026-03-01"); res.StatusCode != 422 {
			t.Errorf("bad range download: %d", res.StatusCode)
		}
	})
}

// The activity log's export links carry the page's filters as parameters.
func TestActivityExportLinksKeepFilters(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newWebEnv(t, db)
	_, body := get(t, e.client(t, "admin@example.com"), e.srv.URL+"/activity?action=ROLE_CHANGE&table_name=users")
	if !bytes.Contains(body, []byte(`href="/activity/export.csv?action=ROLE_CHANGE&amp;table_name=users"`)) {
		t.Errorf("export link lost the filters:\n%s", body)
	}
}
