package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests use named zones; do not depend on the host's zoneinfo
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// writeCSV writes rows and returns the output; it fails the test on error.
func writeCSV(t *testing.T, cols []Column, loc *time.Location, rows ...[]any) string {
	t.Helper()
	var buf bytes.Buffer
	tw, err := NewCSV(&buf, cols, loc)
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
	return buf.String()
}

func TestCSVHeaderAndRows(t *testing.T) {
	cols := []Column{
		{Title: "SKU", Kind: Text},
		{Title: "Quantity", Kind: Number},
		{Title: "Count", Kind: Integer},
		{Title: "Timestamp", Kind: Time},
	}
	ts := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	got := writeCSV(t, cols, time.UTC,
		[]any{"SKU-1", "-12.500", int64(7), ts},
		[]any{"SKU-2", int64(3), 42, ts.Add(1500 * time.Millisecond)},
		[]any{nil, nil, nil, nil},
		[]any{"", "0", int64(-1), time.Time{}},
	)
	want := "SKU,Quantity,Count,Timestamp\r\n" +
		"SKU-1,-12.500,7,2024-03-01T09:30:00Z\r\n" +
		"SKU-2,3,42,2024-03-01T09:30:01.5Z\r\n" +
		",,,\r\n" +
		",0,-1,\r\n"
	if got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestCSVQuoting(t *testing.T) {
	cols := []Column{{Title: "Note, with comma", Kind: Text}, {Title: "Other", Kind: Text}}
	values := []string{
		`plain`,
		`a,b`,
		`say "hi"`,
		"two\nlines",
		"crlf\r\nline",
		` leading space`,
		`Grüße 東京`,
	}
	var rows [][]any
	for _, v := range values {
		rows = append(rows, []any{v, "x"})
	}
	out := writeCSV(t, cols, nil, rows...)
	if !strings.HasPrefix(out, "\"Note, with comma\",Other\r\n") {
		t.Errorf("header not quoted: %q", out)
	}
	if !strings.Contains(out, "\"say \"\"hi\"\"\",x\r\n") {
		t.Errorf("embedded quotes not doubled: %q", out)
	}
	// Whatever the quoting, a conforming reader must get the values back.
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(values)+1 {
		t.Fatalf("got %d records, want %d", len(recs), len(values)+1)
	}
	for i, v := range values {
		// encoding/csv's reader normalises \r\n inside quoted fields to \n.
		want := strings.ReplaceAll(v, "\r\n", "\n")
		if recs[i+1][0] != want {
			t.Errorf("row %d: got %q, want %q", i, recs[i+1][0], want)
		}
	}
}

func TestCSVFormulaInjectionGuard(t *testing.T) {
	cols := []Column{
		{Title: "Text", Kind: Text},
		{Title: "Number", Kind: Number},
		{Title: "Integer", Kind: Integer},
	}
	tests := []struct {
		name string
		text string
		want string // the first field as a CSV reader sees it
	}{
		{"equals", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"plus", "+1+1", "'+1+1"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		// encoding/csv's reader drops a lone CR, so only the prefix shows.
		{"carriage return", "\r=1", "'=1"},
		{"plain", "SKU-1", "SKU-1"},
		{"formula later", "a=1", "a=1"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := writeCSV(t, cols, nil, []any{tt.text, "-12.500", int64(-3)})
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[1][0]; got != tt.want {
				t.Errorf("text: got %q, want %q", got, tt.want)
			}
			// Check the raw bytes too: the quote must be the field's first
			// character (after the CSV quote, if any).
			line := strings.TrimPrefix(strings.SplitN(out, "\r\n", 2)[1], `"`)
			if guarded := strings.HasPrefix(tt.want, "'"); guarded != strings.HasPrefix(line, "'") {
				t.Errorf("raw field %q: guarded=%v, want %v", line, !guarded, guarded)
			}
			// Typed numbers are legitimately negative: never prefixed.
			if recs[1][1] != "-12.500" || recs[1][2] != "-3" {
				t.Errorf("numbers altered: %q", recs[1][1:])
			}
		})
	}
	t.Run("header titles", func(t *testing.T) {
		out := writeCSV(t, []Column{{Title: "=cmd", Kind: Text}}, nil)
		if out != "'=cmd\r\n" {
			t.Errorf("got %q", out)
		}
	})
}

func TestCSVTimeZone(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	newYork := mustLoc(t, "America/New_York")
	cols := []Column{{Title: "Timestamp", Kind: Time}}
	winter := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		loc  *time.Location
		in   time.Time
		want string
	}{
		{"utc", time.UTC, winter, "2024-01-15T12:00:00Z"},
		{"nil means utc", nil, winter.In(berlin), "2024-01-15T12:00:00Z"},
		{"berlin winter", berlin, winter, "2024-01-15T13:00:00+01:00"},
		{"berlin summer", berlin, summer, "2024-07-15T14:00:00+02:00"},
		{"new york from berlin", newYork, summer.In(berlin), "2024-07-15T08:00:00-04:00"},
		{"sub-second kept", time.UTC, winter.Add(123 * time.Millisecond), "2024-01-15T12:00:00.123Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeCSV(t, cols, tt.loc, []any{tt.in})
			if want := "Timestamp\r\n" + tt.want + "\r\n"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestCSVRejectsBadRows(t *testing.T) {
	cols := []Column{
		{Title: "Text", Kind: Text},
		{Title: "Number", Kind: Number},
		{Title: "Integer", Kind: Integer},
		{Title: "Time", Kind: Time},
	}
	ok := []any{"a", "1.5", int64(1), time.Now()}
	tests := []struct {
		name string
		row  []any
	}{
		{"short row", []any{"a"}},
		{"long row", append(append([]any{}, ok...), "extra")},
		{"text as int", []any{int64(1), "1", int64(1), time.Now()}},
		{"number as float", []any{"a", 1.5, int64(1), time.Now()}},
		{"number as formula", []any{"a", "=1+1", int64(1), time.Now()}},
		{"number exponent", []any{"a", "1e5", int64(1), time.Now()}},
		{"number trailing point", []any{"a", "1.", int64(1), time.Now()}},
		{"number bare fraction", []any{"a", ".5", int64(1), time.Now()}},
		{"number empty text", []any{"a", "", int64(1), time.Now()}},
		{"integer as string", []any{"a", "1", "1", time.Now()}},
		{"time as string", []any{"a", "1", int64(1), "2024-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw, err := NewCSV(&buf, cols, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tw.WriteRow(tt.row); err == nil {
				t.Fatal("bad row accepted")
			}
			// The writer stays usable: the bad row left nothing behind.
			if err := tw.WriteRow(ok); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\r\n"); n != 2 {
				t.Errorf("got %d lines, want header + 1 row:\n%s", n, buf.String())
			}
		})
	}
}

func TestConstructorsValidateColumns(t *testing.T) {
	ctors := map[string]func([]Column) error{
		"csv": func(c []Column) error { _, err := NewCSV(&bytes.Buffer{}, c, nil); return err },
		"xlsx": func(c []Column) error {
			tw, err := NewXLSX(&bytes.Buffer{}, c, nil, "")
			if err == nil {
				_ = tw.Close()
			}
			return err
		},
		"pdf": func(c []Column) error { _, err := NewPDF(&bytes.Buffer{}, c, nil, PDFMeta{}); return err },
	}
	bad := map[string][]Column{
		"no columns":     nil,
		"unknown kind":   {{Title: "x", Kind: Kind(42)}},
		"negative width": {{Title: "x", Kind: Text, Width: -1}},
	}
	for format, ctor := range ctors {
		for name, cols := range bad {
			if err := ctor(cols); err == nil {
				t.Errorf("%s: %s accepted", format, name)
			}
		}
	}
}

func TestWriteAfterClose(t *testing.T) {
	cols := []Column{{Title: "x", Kind: Text}}
	writers := map[string]func() (TableWriter, error){
		"csv":  func() (TableWriter, error) { return NewCSV(&bytes.Buffer{}, cols, nil) },
		"xlsx": func() (TableWriter, error) { return NewXLSX(&bytes.Buffer{}, cols, nil, "") },
		"pdf":  func() (TableWriter, error) { return NewPDF(&bytes.Buffer{}, cols, nil, PDFMeta{}) },
	}
	for name, mk := range writers {
		tw, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := tw.WriteRow([]any{"a"}); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: WriteRow after Close: %v", name, err)
		}
		if err := tw.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: second Close: %v", name, err)
		}
	}
}

func TestIsDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-12.500": true, "+3": true, "1000000.000001": true,
		"": false, "-": false, "1.": false, ".5": false, "1e3": false, "1,5": false,
		" 1": false, "1 ": false, "--1": false, "=1": false, "0x10": false, "NaN": false,
	} {
		if got := isDecimal(s); got != want {
			t.Errorf("isDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}
