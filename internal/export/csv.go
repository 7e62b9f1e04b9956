package export

import (
	"encoding/csv"
	"io"
	"time"
)

// csvWriter streams RFC 4180 CSV. encoding/csv already buffers its output and
// quotes fields as RFC 4180 requires, so memory stays at one row plus the
// buffer no matter how many rows are written.
type csvWriter struct {
	w      *csv.Writer
	cols   []Column
	loc    *time.Location
	record []string // reused for every row to keep WriteRow allocation-free apart from formatting
	closed bool
}

// NewCSV returns a TableWriter that writes CSV to w: a header row of column
// titles first, then one record per row, CRLF line endings and RFC 4180
// quoting. Times are written in loc (UTC if nil) as RFC 3339, with fractional
// seconds only when present. Text cells (and titles) that a spreadsheet would
// evaluate as a formula are prefixed with a single quote; see guardFormula.
func NewCSV(w io.Writer, cols []Column, loc *time.Location) (TableWriter, error) {
	if err := validateColumns(cols); err != nil {
		return nil, err
	}
	cw := &csvWriter{
		w:      csv.NewWriter(w),
		cols:   append([]Column(nil), cols...),
		loc:    orUTC(loc),
		record: make([]string, len(cols)),
	}
	cw.w.UseCRLF = true // RFC 4180 line endings; what Excel itself writes.
	for i, c := range cols {
		cw.record[i] = guardFormula(c.Title)
	}
	if err := cw.w.Write(cw.record); err != nil {
		return nil, err
	}
	return cw, nil
}

func (cw *csvWriter) WriteRow(values []any) error {
	if cw.closed {
		return ErrClosed
	}
	if err := checkRowLen(values, cw.cols); err != nil {
		return err
	}
	for i, v := range values {
		s, err := cw.format(i, v)
		if err != nil {
			return err
		}
		cw.record[i] = s
	}
	return cw.w.Write(cw.record)
}

func (cw *csvWriter) format(i int, v any) (string, error) {
	return cellText(cw.cols, i, v, cw.loc, guardFormula, time.RFC3339Nano)
}

func (cw *csvWriter) Close() error {
	if cw.closed {
		return ErrClosed
	}
	cw.closed = true
	cw.w.Flush()
	return cw.w.Error()
}

// guardFormula neutralises CSV/formula injection (OWASP "CSV Injection"):
// spreadsheet programs evaluate a cell beginning with = + - @ as a formula,
// and tab/CR can be used to sneak such a cell past naive checks. Prefixing a
// single quote makes Excel and LibreOffice treat the cell as text. Only Text
// cells go through here: Number and Integer cells are validated numbers whose
// leading minus is a legitimate negative.
func guardFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
