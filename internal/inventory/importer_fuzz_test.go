package inventory_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// xlsxSeed is a small bulk-update workbook, so the fuzzer starts from a
// real XLSX file as well as from CSV.
func xlsxSeed(f *testing.F, rows [][]any) []byte {
	f.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			f.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := x.Write(&b); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

// bulkCSV writes rows back as a comma-separated bulk-update file.
func bulkCSV(rows []inventory.BulkRow) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"sku", "location", "lot", "quantity", "reason"})
	for _, r := range rows {
		w.Write([]string{r.SKU, r.Location, r.Lot, r.Quantity, r.Reason})
	}
	w.Flush()
	return b.Bytes()
}

// FuzzParseBulkFile feeds arbitrary bytes (CSV and XLSX) to the bulk-update
// parser. A refusal is a fault of a client kind naming the file, a column
// or rows; an accepted file has rows with the required cells, trimmed,
// in order and without repeats, and writing them back as CSV reads the same
// rows again.
func FuzzParseBulkFile(f *testing.F) {
	for _, seed := range []string{
		"sku,location,quantity\nA,WH1,1\n",
		"sku;location;quantity;lot;reason\nA;WH1;1.5;L;r\n",
		"sku,location,quantity\n\"A\",\"WH1\",\"1\"\n",
		"\xef\xbb\xbfsku,location,quantity\n",
		"PK\x03\x04",
		"sku,location,quantity\nA,WH1,1\nA,WH1,1\n",
		"SKU , Location,Quantity,,Lot\n A ,WH1/A, 2 ,,L1\n,,\n\"multi\nline\",WH1,3\n",
		"sku,location,quantity,colour\nA,WH1,1,red\n",
		"sku,sku,location,quantity\n",
		"sku,location,quantity\nA,WH1,\"1\n",
		"sku,location,quantity\n\xff,WH1,1\n",
		"sku,location,quantity\nA\x00,WH1,1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Add(xlsxSeed(f, [][]any{{"sku", "location", "quantity", "lot"}, {"OIL-5", "WH1", 2.5, "L1"}, {"OIL-6", "WH1/A", "3", nil}}))
	f.Add(xlsxSeed(f, [][]any{{"sku", "quantity"}, {"OIL-5", 1}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := inventory.ParseBulkFile(bytes.NewReader(data))
		if err != nil {
			e, ok := fault.As(err)
			if !ok || (e.Kind != fault.Invalid && e.Kind != fault.Malformed && e.Kind != fault.TooLarge) || len(e.Fields) == 0 {
				t.Fatalf("refusal %#v is not a client fault naming what is wrong", err)
			}
			for name := range e.Fields {
				if name != "file" && !strings.HasPrefix(name, "row ") && !strings.HasPrefix(name, "column ") {
					t.Fatalf("refusal names %q", name)
				}
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("success without rows")
		}
		seen := map[[3]string]bool{}
		for i, r := range rows {
			if r.SKU == "" || r.Location == "" || r.Quantity == "" || r.Row < 2 || i > 0 && r.Row <= rows[i-1].Row {
				t.Fatalf("bad row accepted: %+v", r)
			}
			for _, v := range []string{r.SKU, r.Location, r.Lot, r.Quantity, r.Reason} {
				if v != strings.TrimSpace(v) {
					t.Fatalf("untrimmed cell %q in %+v", v, r)
				}
			}
			key := [3]string{r.SKU, r.Location, r.Lot}
			if seen[key] {
				t.Fatalf("repeated row accepted: %+v", r)
			}
			seen[key] = true
		}
		again, err := inventory.ParseBulkFile(bytes.NewReader(bulkCSV(rows)))
		if err != nil || len(again) != len(rows) {
			t.Fatalf("rows %+v written as CSV read back as %+v, %v", rows, again, err)
		}
		for i := range rows {
			a, b := rows[i], again[i]
			// CSV turns a CR LF inside a quoted cell (possible from XLSX) into LF.
			norm := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
			if norm(a.SKU) != b.SKU || norm(a.Location) != b.Location || norm(a.Lot) != b.Lot || a.Quantity != b.Quantity || norm(a.Reason) != b.Reason {
				t.Fatalf("row %+v read back as %+v", a, b)
			}
		}
	})
}
