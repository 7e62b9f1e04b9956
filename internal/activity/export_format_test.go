package activity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
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

// WriteExport writes the chosen format with times in the given zone and
// each event's ledger sequence (empty until sealed), records the export,
// and refuses before writing a byte whoever may not read the log.
func TestWriteExport(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		// The seeded events sealed, one older one recorded after that not.
		if _, err := ledgertest.NewSealer(t, db).Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		unsealed := activity.Event{WorkspaceID: s.f.Workspace.ID, OccurredAt: time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC), ActorKind: "user",
			ActorID: 101, ActorName: "Alice", Action: activity.Read, Category: activity.Products, EntityType: "products", EntityID: "7"}
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := activity.Record(context.Background(), tx, unsealed)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		seqs, err := ledger.Sequences(s.f.Ctx, db, ledger.ActivityEvents, []int64{s.ids["alice-update-product"], s.ids["alice-create-product"]})
		if err != nil || len(seqs) != 2 {
			t.Fatalf("sequences %v: %v", seqs, err)
		}
		var csv bytes.Buffer
		n, err := activity.WriteExport(s.f.Ctx, db, activity.Filter{EntityType: "products"}, activity.CSV, berlin, &csv)
		lines := strings.Split(strings.TrimSuffix(csv.String(), "\r\n"), "\r\n")
		if err != nil || n != 3 || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID,Timestamp,") || !strings.HasSuffix(lines[0], ",Reported by,Ledger sequence") ||
			!strings.Contains(lines[1], ",2026-01-02T04:00:00+01:00,user,101,Alice,UPDATE,products,products,7,") ||
			!strings.HasSuffix(lines[1], fmt.Sprintf(",%d", seqs[s.ids["alice-update-product"]])) ||
			!strings.HasSuffix(lines[2], fmt.Sprintf(",%d", seqs[s.ids["alice-create-product"]])) ||
			!strings.Contains(lines[3], ",2025-12-31T10:00:00+01:00,user,101,Alice,READ,") || !strings.HasSuffix(lines[3], ",,") {
			t.Fatalf("CSV export (%d rows, %v, sequences %v):\n%s", n, err, seqs, csv.String())
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
		if vals["format"] != "csv" || vals["rows"] != float64(3) || vals["entity_type"] != "products" || vals["complete"] != true {
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
