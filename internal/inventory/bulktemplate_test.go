package inventory_test

import (
	"bytes"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
)

// TestBulkTemplateReadsBack: both templates parse as a bulk-update file
// with exactly their example row, so what users download is what the
// importer takes.
func TestBulkTemplateReadsBack(t *testing.T) {
	for _, format := range []string{"csv", "xlsx"} {
		var buf bytes.Buffer
		if err := inventory.WriteBulkTemplate(&buf, format); err != nil {
			t.Fatal(format, err)
		}
		rows, err := inventory.ParseBulkFile(&buf)
		if err != nil {
			t.Fatalf("%s: the template does not parse: %v", format, err)
		}
		if len(rows) != 1 || rows[0].SKU != "BOLT-M8" || rows[0].Location != "WH1/A-01" || rows[0].Quantity != "120" ||
			rows[0].Lot != "L2026-03" || rows[0].Reason == "" {
			t.Fatalf("%s: %+v", format, rows)
		}
	}
	if err := inventory.WriteBulkTemplate(&bytes.Buffer{}, "ods"); err == nil {
		t.Fatal("an unknown format was written")
	}
}
