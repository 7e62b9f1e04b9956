package export

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"
)

// valueCols covers every kind of column and every kind of Value.
var valueCols = []Column{
	{Title: "=Text", Kind: Text},
	{Title: "Number", Kind: Number},
	{Title: "Scaled", Kind: Number},
	{Title: "Int number", Kind: Number},
	{Title: "Integer", Kind: Integer},
	{Title: "Time", Kind: Time},
	{Title: "Empty", Kind: Text},
}

// valueRows gives the same rows as []any and as []Value.
func valueRows(t *testing.T) ([][]any, [][]Value) {
	berlin := mustLoc(t, "Europe/Berlin")
	texts := []string{"plain", "", "=SUM(A1)", "-3", "+x", "@me", "\tx", "\rx", " lead", "a,b", `say "hi"`, "two\nlines", "cr\r\nlf",
		`\.`, "\u00a0nbsp", "\u2003em", "ünï", "\v", "'quoted'"}
	scaled := []struct {
		n     int64
		scale int
		text  string
	}{{-12500, 3, "-12.500"}, {0, 0, "0"}, {5, 2, "0.05"}, {-5, 6, "-0.000005"}, {123456789, 1, "12345678.9"},
		{math.MinInt64, 0, "-9223372036854775808"}, {math.MaxInt64, 6, "9223372036854.775807"}, {math.MinInt64, 18, "-9.223372036854775808"}}
	var anyRows [][]any
	var valRows [][]Value
	for i := range max(len(texts), len(scaled)) {
		s := texts[i%len(texts)]
		sc := scaled[i%len(scaled)]
		at := time.Date(2024, time.Month(1+i%12), 1+i, 12, 0, 0, i*123000, berlin)
		if i == 3 {
			at = time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC) // outside Excel's calendar
		}
		anyRows = append(anyRows, []any{s, sc.text, sc.text, int64(i - 5), int64(i * 1000), at, nil})
		valRows = append(valRows, []Value{Str(s), Str(sc.text), Scaled(sc.n, sc.scale), Int(int64(i - 5)), Int(int64(i * 1000)), Micros(at.UnixMicro()), {}})
	}
	return anyRows, valRows
}

func TestCSVWriteValuesMatchesWriteRow(t *testing.T) {
	anyRows, valRows := valueRows(t)
	for _, loc := range []*time.Location{time.UTC, mustLoc(t, "America/New_York")} {
		var viaRow, viaValues bytes.Buffer
		rw, _ := NewCSV(&viaRow, valueCols, loc)
		vw, _ := NewCSV(&viaValues, valueCols, loc)
		for j := range 2 * len(anyRows) {
			i := j / 2 // every row twice: the CSV writer keeps the last time's text
			if err := rw.WriteRow(anyRows[i]); err != nil {
				t.Fatal(err)
			}
			if err := vw.(ValueWriter).WriteValues(valRows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := vw.Close(); err != nil {
			t.Fatal(err)
		}
		if viaRow.String() != viaValues.String() {
			t.Errorf("WriteValues wrote\n%q\nWriteRow wrote\n%q", viaValues.String(), viaRow.String())
		}
	}
}

// The CSV writer must quote exactly as encoding/csv does.
func TestCSVFieldMatchesEncodingCSV(t *testing.T) {
	alphabet := []string{"a", " ", "\t", ",", `"`, "\r", "\n", `\`, ".", "=", "\u00a0", "\u2028", "é", "\v"}
	var fields []string
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		fields = append(fields, prefix)
		if depth == 0 {
			return
		}
		for _, a := range alphabet {
			gen(prefix+a, depth-1)
		}
	}
	gen("", 3)
	for _, f := range fields {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.UseCRLF = true
		_ = cw.Write([]string{f, "x"})
		cw.Flush()
		got := string(appendCSVField(nil, f)) + ",x\r\n"
		if got != want.String() {
			t.Fatalf("field %q: got %q, encoding/csv writes %q", f, got, want.String())
		}
		if g, w := string(appendCSVText(nil, f)), string(appendCSVField(nil, guardFormula(f))); g != w {
			t.Fatalf("text %q: got %q, want %q", f, g, w)
		}
	}
}

func TestXLSXWriteValuesMatchesWriteRow(t *testing.T) {
	anyRows, valRows := valueRows(t)
	ny := mustLoc(t, "America/New_York")
	rtw, err := NewXLSX(&bytes.Buffer{}, valueCols, ny, "x")
	if err != nil {
		t.Fatal(err)
	}
	vtw, err := NewXLSX(&bytes.Buffer{}, valueCols, ny, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rtw.Close()
	defer vtw.Close()
	rw, vw := rtw.(*xlsxWriter), vtw.(*xlsxWriter)
	for i := range anyRows {
		for j := range valueCols {
			var a, b xlsxCell
			if err := rw.cell(j, anyRows[i][j], &a); err != nil {
				t.Fatal(err)
			}
			if err := vw.valueCell(j, valRows[i][j], &b); err != nil {
				t.Fatal(err)
			}
			// Styles are created per writer in the same order, so ids match.
			if a != b {
				t.Errorf("row %d col %d: WriteValues cell %+v, WriteRow cell %+v", i, j, b, a)
			}
		}
		if err := vw.WriteValues(valRows[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteValuesRejectsBadValues(t *testing.T) {
	for _, open := range []func() (TableWriter, error){
		func() (TableWriter, error) { return NewCSV(&bytes.Buffer{}, valueCols, nil) },
		func() (TableWriter, error) { return NewXLSX(&bytes.Buffer{}, valueCols, nil, "x") },
	} {
		tw, err := open()
		if err != nil {
			t.Fatal(err)
		}
		vw := tw.(ValueWriter)
		good := []Value{Str("a"), Str("1.5"), Scaled(15, 1), Int(1), Int(2), Micros(0), {}}
		bad := map[string]func(r []Value){
			"not a decimal":   func(r []Value) { r[1] = Str("1e5") },
			"int in text":     func(r []Value) { r[0] = Int(1) },
			"scaled integer":  func(r []Value) { r[4] = Scaled(1, 1) },
			"text in time":    func(r []Value) { r[5] = Str("2024-01-01") },
			"micros in text":  func(r []Value) { r[0] = Micros(1) },
			"short row":       nil,
			"text in integer": func(r []Value) { r[4] = Str("1") },
		}
		for name, spoil := range bad {
			row := append([]Value(nil), good...)
			if spoil == nil {
				row = row[:3]
			} else {
				spoil(row)
			}
			if err := vw.WriteValues(row); err == nil {
				t.Errorf("%T %s: accepted", tw, name)
			}
		}
		if err := vw.WriteValues(good); err != nil {
			t.Errorf("%T: good row refused: %v", tw, err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := vw.WriteValues(good); err != ErrClosed {
			t.Errorf("%T: after Close: %v", tw, err)
		}
	}
	if s := string(appendScaled(nil, -1, 3)); !strings.EqualFold(s, "-0.001") {
		t.Errorf("appendScaled(-1, 3) = %q", s)
	}
}
