package activity_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestParseExportFormat(t *testing.T) {
	for in, want := range map[string]activity.ExportFormat{"": activity.CSV, "csv": activity.CSV, " PDF ": activity.PDF} {
		if got, err := activity.ParseExportFormat(in); err != nil || got != want {
			t.Errorf("ParseExportFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"xlsx", "csv,pdf", "json"} {
		_, err := activity.ParseExportFormat(in)
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Fields["format"] != "must be csv or pdf" {
			t.Errorf("ParseExportFormat(%q): %v", in, err)
		}
	}
}

// WriteExport writes the chosen format with times in the given zone,
// records the export, and refuses before writing a byte whoever may not
// read the log.
func TestWriteExport(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		var csv bytes.Buffer
		n, err := activity.WriteExport(s.f.Ctx, db, activity.Filter{EntityType: "products"}, activity.CSV, berlin, &csv)
		lines := strings.Split(strings.TrimSuffix(csv.String(), "\r\n"), "\r\n")
		if err != nil || n != 2 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID,Timestamp,") ||
			!strings.Contains(lines[1], ",2026-01-02T04:00:00+01:00,user,101,Alice,UPDATE,products,products,7,") {
			t.Fatalf("CSV export (%d rows, %v):\n%s", n, err, csv.String())
		}
		var pdf bytes.Buffer
		if n, err := activity.WriteExport(s.f.Ctx, db, activity.Filter{}, activity.PDF, berlin, &pdf); err != nil || n == 0 || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
			t.Fatalf("PDF export: %d rows, %v, %.20q", n, err, pdf.Bytes())
		}
		ex, err := activity.List(s.f.Ctx, db, activity.Filter{Action: activity.Export})
		if err != nil || len(ex.Events) != 2 {
			t.Fatalf("EXPORT events %d: %v", len(ex.Events), err)
		}
		var vals map[string]any
		json.Unmarshal(ex.Events[1].New.(json.RawMessage), &vals)
		if vals["format"] != "csv" || vals["rows"] != float64(2) || vals["entity_type"] != "products" || vals["complete"] != true {
			t.Errorf("EXPORT event of the CSV: %v", vals)
		}

		op := s.f.User(t, "olga@example.com", actor.Operator)
		var out bytes.Buffer
		if _, err := activity.WriteExport(s.f.As(op), db, activity.Filter{}, activity.CSV, time.UTC, &out); fault.KindOf(err) != fault.Forbidden || out.Len() != 0 {
			t.Errorf("operator's export: %v, %d bytes", err, out.Len())
		}
		if _, err := activity.WriteExport(s.f.Ctx, db, activity.Filter{}, "xlsx", time.UTC, &out); fault.KindOf(err) != fault.Invalid || out.Len() != 0 {
			t.Errorf("xlsx export: %v, %d bytes", err, out.Len())
		}
		if ex, _ := activity.List(s.f.Ctx, db, activity.Filter{Action: activity.Export}); len(ex.Events) != 2 {
			t.Errorf("refused exports were recorded: %d EXPORT events", len(ex.Events))
		}
	})
}
