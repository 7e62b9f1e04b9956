package export

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// inventoryCols mirrors the inventory change-log export.
var inventoryCols = []Column{
	{Title: "SKU", Kind: Text},
	{Title: "Quantity", Kind: Number},
	{Title: "Unit", Kind: Text},
	{Title: "Action type", Kind: Text},
	{Title: "User", Kind: Text},
	{Title: "Station", Kind: Text},
	{Title: "Timestamp", Kind: Time},
	{Title: "Change ID", Kind: Integer, Width: 15},
}

// writeXLSX writes rows and reopens the result; it also returns the raw file.
func writeXLSX(t *testing.T, cols []Column, loc *time.Location, sheet string, rows ...[]any) (*excelize.File, []byte) {
	t.Helper()
	var buf bytes.Buffer
	tw, err := NewXLSX(&buf, cols, loc, sheet)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := tw.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := bytes.Clone(buf.Bytes())
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, raw
}

// zipEntry returns one part of an xlsx package, to check the XML itself.
func zipEntry(t *testing.T, raw []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func cellStyle(t *testing.T, f *excelize.File, sheet, cell string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestXLSXInventoryExport(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	ts := time.Date(2024, 7, 1, 7, 30, 15, 0, time.UTC) // 09:30:15 in Berlin (CEST)
	const sheet = "Changes"
	f, raw := writeXLSX(t, inventoryCols, berlin, sheet,
		[]any{"SKU-1", "-12.500", "kg", "adjust", "alice", "Dock 1", ts, int64(1)},
		[]any{"=SUM(A1)", int64(3), "pcs", "receive", "bob <b&b>", "Grüße 東京\nzweite Zeile", ts.Add(time.Hour), 1234567890123},
		[]any{"SKU-3", "0.25", nil, "pick", "carol", "", time.Time{}, int64(-5)},
	)

	if got := f.GetSheetList(); len(got) != 1 || got[0] != sheet {
		t.Fatalf("sheets = %v, want [%s]", got, sheet)
	}

	t.Run("values round trip", func(t *testing.T) {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"SKU", "Quantity", "Unit", "Action type", "User", "Station", "Timestamp", "Change ID"},
			{"SKU-1", "-12.500", "kg", "adjust", "alice", "Dock 1", "2024-07-01 09:30:15", "1"},
			// XLSX cells are typed, so a formula-looking text stays inert
			// text: no quote prefix is needed (unlike CSV).
			{"=SUM(A1)", "3", "pcs", "receive", "bob <b&b>", "Grüße 東京\nzweite Zeile", "2024-07-01 10:30:15", "1234567890123"},
			{"SKU-3", "0.25", "", "pick", "carol", "", "", "-5"},
		}
		if len(rows) != len(want) {
			t.Fatalf("got %d rows, want %d: %q", len(rows), len(want), rows)
		}
		for i := range want {
			for j := range want[i] {
				got := ""
				if j < len(rows[i]) {
					got = rows[i][j]
				}
				if got != want[i][j] {
					t.Errorf("row %d col %d: got %q, want %q", i+1, j+1, got, want[i][j])
				}
			}
		}
	})

	t.Run("numbers are numeric cells", func(t *testing.T) {
		for cell, want := range map[string]float64{
			"B2": -12.5, "B3": 3, "B4": 0.25, "H2": 1, "H3": 1234567890123, "H4": -5,
		} {
			// ECMA-376: a cell without a t attribute is a number (t="n"),
			// which excelize reports as Unset or Number.
			typ, err := f.GetCellType(sheet, cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("%s: cell type %v, want number", cell, typ)
			}
			v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := strconv.ParseFloat(v, 64)
			if err != nil || got != want {
				t.Errorf("%s: raw value %q, want %v", cell, v, want)
			}
		}
		for _, cell := range []string{"A2", "E3", "F3"} {
			if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString {
				t.Errorf("%s: cell type %v, want inline string", cell, typ)
			}
		}
		// The display format keeps the decimal text's scale.
		if got := cellStyle(t, f, sheet, "B2").CustomNumFmt; got == nil || *got != "0.000" {
			t.Errorf("B2 number format = %v, want 0.000", got)
		}
	})

	t.Run("dates are date cells in the workspace zone", func(t *testing.T) {
		st := cellStyle(t, f, sheet, "G2")
		if st.CustomNumFmt == nil || *st.CustomNumFmt != xlsxDateFormat {
			t.Errorf("G2 number format = %v, want %q", st.CustomNumFmt, xlsxDateFormat)
		}
		v, err := f.GetCellValue(sheet, "G2", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		serial, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("G2 raw value %q is not a serial date", v)
		}
		// 2024-07-01 is serial 45474; 09:30:15 local is 34215 s into it.
		want := 45474 + 34215.0/86400
		if math.Abs(serial-want) > 1e-9 {
			t.Errorf("G2 serial = %v, want %v", serial, want)
		}
		back, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.Format(time.DateTime); got != "2024-07-01 09:30:15" {
			t.Errorf("G2 = %s", got)
		}
	})

	t.Run("header is bold", func(t *testing.T) {
		for _, cell := range []string{"A1", "G1", "H1"} {
			if st := cellStyle(t, f, sheet, cell); st.Font == nil || !st.Font.Bold {
				t.Errorf("%s not bold", cell)
			}
		}
		if st := cellStyle(t, f, sheet, "A2"); st.Font != nil && st.Font.Bold {
			t.Error("data row is bold")
		}
	})

	t.Run("header row frozen", func(t *testing.T) {
		p, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
			t.Errorf("panes = %+v", p)
		}
	})

	t.Run("autofilter over all rows", func(t *testing.T) {
		xml := zipEntry(t, raw, "xl/worksheets/sheet1.xml")
		// excelize writes the range with absolute references.
		if !strings.Contains(xml, `<autoFilter ref="$A$1:$H$4"`) {
			t.Errorf("no autofilter A1:H4 in sheet XML")
		}
		found := false
		for _, dn := range f.GetDefinedName() {
			if dn.Name == "_xlnm._FilterDatabase" && strings.HasSuffix(dn.RefersTo, "!$A$1:$H$4") {
				found = true
			}
		}
		if !found {
			t.Errorf("no _FilterDatabase name: %+v", f.GetDefinedName())
		}
	})

	t.Run("column widths", func(t *testing.T) {
		// Excel wants <col> elements in ascending order.
		xml := zipEntry(t, raw, "xl/worksheets/sheet1.xml")
		last := -1
		for _, part := range strings.Split(xml, `<col min="`)[1:] {
			n, err := strconv.Atoi(part[:strings.IndexByte(part, '"')])
			if err != nil || n <= last {
				t.Fatalf("<col> elements out of order: %s", xml[strings.Index(xml, "<cols>"):strings.Index(xml, "</cols>")])
			}
			last = n
		}
		for col, want := range map[string]float64{
			"A": 18, // Text default
			"B": 12, // Number default
			"D": 18, // Text: "Action type" fits the default
			"G": 20, // Time default
			"H": 15, // explicit
		} {
			got, err := f.GetColWidth(sheet, col)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("column %s width = %v, want %v", col, got, want)
			}
		}
	})
}

func TestXLSXEmptyAndEdgeCases(t *testing.T) {
	cols := []Column{{Title: "When", Kind: Time}, {Title: "Amount", Kind: Number}}

	t.Run("header only", func(t *testing.T) {
		f, raw := writeXLSX(t, cols, nil, "")
		rows, err := f.GetRows("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0][0] != "When" {
			t.Errorf("rows = %q", rows)
		}
		if !strings.Contains(zipEntry(t, raw, "xl/worksheets/sheet1.xml"), `<autoFilter ref="$A$1:$B$1"`) {
			t.Error("no autofilter on the header")
		}
	})

	t.Run("dates outside Excel's calendar become text", func(t *testing.T) {
		old := time.Date(1850, 5, 1, 0, 0, 0, 0, time.UTC)
		f, _ := writeXLSX(t, cols, nil, "s", []any{old, "1"})
		if typ, _ := f.GetCellType("s", "A2"); typ != excelize.CellTypeInlineString {
			t.Errorf("type %v", typ)
		}
		if v, _ := f.GetCellValue("s", "A2"); v != "1850-05-01T00:00:00Z" {
			t.Errorf("value %q", v)
		}
	})

	t.Run("excel leap-year bug", func(t *testing.T) {
		for _, tt := range []struct {
			t    time.Time
			want float64
		}{
			{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 1},
			{time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC), 59.5},
			{time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 61},
			{time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), 45474},
		} {
			got, ok := excelSerial(tt.t)
			if !ok || got != tt.want {
				t.Errorf("excelSerial(%s) = %v, %v; want %v", tt.t, got, ok, tt.want)
			}
		}
	})

	t.Run("sheet names are cleaned", func(t *testing.T) {
		for in, want := range map[string]string{
			"":                             "Sheet1",
			"Changes: 2024/03":             "Changes_ 2024_03",
			"'quoted'":                     "quoted",
			strings.Repeat("x", 40):        strings.Repeat("x", 31),
			"[History] *all* \\ ? entries": "_History_ _all_ _ _ entries",
		} {
			if got := cleanSheetName(in); got != want {
				t.Errorf("cleanSheetName(%q) = %q, want %q", in, got, want)
			}
			f, _ := writeXLSX(t, cols, nil, in)
			if got := f.GetSheetName(0); got != want {
				t.Errorf("sheet %q written as %q", in, got)
			}
		}
	})

	t.Run("bad value rejects the whole row", func(t *testing.T) {
		var buf bytes.Buffer
		tw, err := NewXLSX(&buf, cols, nil, "s")
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteRow([]any{time.Now(), "12abc"}); err == nil {
			t.Fatal("bad decimal accepted")
		}
		if err := tw.WriteRow([]any{time.Now(), 1.5}); err == nil {
			t.Fatal("float accepted")
		}
		if err := tw.WriteRow([]any{nil, "7"}); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, _ := f.GetRows("s")
		if len(rows) != 2 || rows[1][1] != "7" {
			t.Errorf("rows = %q", rows)
		}
	})

	t.Run("row limit", func(t *testing.T) {
		tw, err := NewXLSX(io.Discard, cols, nil, "s")
		if err != nil {
			t.Fatal(err)
		}
		defer tw.Close()
		// Writing a million rows here would be slow; jump to the limit.
		tw.(*xlsxWriter).row = MaxXLSXRows + 1
		if err := tw.WriteRow([]any{nil, nil}); !errors.Is(err, ErrTooManyRows) {
			t.Errorf("err = %v, want ErrTooManyRows", err)
		}
	})
}

// TestXLSXWriteErrorSurfaces checks that a failing destination is reported
// by Close rather than producing a silently truncated file.
func TestXLSXWriteErrorSurfaces(t *testing.T) {
	tw, err := NewXLSX(failingWriter{}, inventoryCols[:1], nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteRow([]any{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err == nil {
		t.Fatal("Close succeeded on a failing writer")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
