package inventory_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestParseBulkFileRejects(t *testing.T) {
	tests := []struct {
		name, file, field string
	}{
		{"empty", "", "file"},
		{"wrong columns", "sku,where,quantity\nA,B,1\n", "column B"},
		{"missing column", "sku,location\nA,B\n", "file"},
		{"repeated column", "sku,location,quantity,sku\nA,B,1,A\n", "column D"},
		{"bad encoding", "sku,location,quantity\nA\xff,WH1,1\n", "row 2"},
		{"duplicate rows", "sku,location,quantity\nA,WH1,1\nA,WH1,2\n", "row 3"},
		{"empty sku", "sku,location,quantity\n,WH1,1\n", "row 2"},
		{"bad quoting", "sku,location,quantity\n\"A,WH1,1\n", "row 2"},
		{"no data", "sku,location,quantity\n", "file"},
		{"binary junk", "\x00\x01\x02junk", "file"},
		{"fake zip", "PK\x03\x04 not really a zip", "file"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			_, err := inventory.ParseBulkFile(strings.NewReader(tt.file))
			e, ok := fault.As(err)
			if !ok || e.Fields[tt.field] == "" {
				t.Fatalf("want a problem with %q, got %v", tt.field, err)
			}
		})
	}
	big := bytes.Repeat([]byte("x"), inventory.MaxImportBytes+10)
	if _, err := inventory.ParseBulkFile(bytes.NewReader(big)); !fault.Is(err, fault.TooLarge) {
		t.Fatalf("100 MB of junk: %v", err)
	}
	rows, err := inventory.ParseBulkFile(strings.NewReader("\xef\xbb\xbfSKU;Location;Quantity;Lot\nA;WH1;1.5;L\n\n"))
	if err != nil || len(rows) != 1 || rows[0].Quantity != "1.5" || rows[0].Lot != "L" {
		t.Fatalf("semicolon CSV: %v %v", rows, err)
	}
}

func TestBulkUpdate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		bad := "sku,location,quantity,reason\nBOLT-M8,WH1/A1,7,count\nNOPE,WH1/A1,1,\nOIL-5,WH1/A2,0.001,\nOIL-5,WH9,1,\n"
		rows, err := inventory.ParseBulkFile(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		_, err = inventory.BulkUpdate(w.ctx, db, rows, inventory.Options{})
		problems := inventory.RowProblems(err)
		if len(problems) != 3 || problems[0].Row != "row 3" || problems[1].Row != "row 4" || problems[2].Row != "row 5" {
			t.Fatalf("problems %+v (%v)", problems, err)
		}
		if w.level(t, r.ID) != "10" {
			t.Fatal("a failed import changed stock")
		}
		// The same as XLSX, corrected.
		x := excelize.NewFile()
		for i, row := range [][]any{{"sku", "location", "quantity", "lot"}, {"BOLT-M8", "WH1/A1", 7, ""}, {"OIL-5", "WH1/A2", "2.25", "L9"}} {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			x.SetSheetRow("Sheet1", cell, &row)
		}
		var buf bytes.Buffer
		x.Write(&buf)
		rows, err = inventory.ParseBulkFile(&buf)
		if err != nil {
			t.Fatal(err)
		}
		res, err := inventory.BulkUpdate(w.ctx, db, rows, inventory.Options{Reference: "import stock.xlsx"})
		if err != nil {
			t.Fatal(err)
		}
		if w.level(t, r.ID) != "7" {
			t.Fatalf("level %s", w.level(t, r.ID))
		}
		for _, e := range res.Entries {
			if e.Movement == "bulk_update" && (e.Action != inventory.UserCorrection || e.Reference != "import stock.xlsx") {
				t.Fatalf("entry %+v", e)
			}
		}
		w.entriesAreLogged(t, res.Entries)
	})
}
