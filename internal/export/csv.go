package export

import (
	"bufio"
	"io"
	"time"
	"unicode"
	"unicode/utf8"
)

// csvBufferSize is the output buffer: large writes keep the per-write cost
// (an HTTP chunk, a syscall) negligible next to the rows.
const csvBufferSize = 64 << 10

// csvWriter streams RFC 4180 CSV, byte for byte what encoding/csv writes
// with UseCRLF (see appendCSVField), but from one reused line buffer, so
// neither WriteRow nor WriteValues allocates apart from WriteRow's
// formatting; memory stays at one row plus the buffer whatever the size.
type csvWriter struct {
	w    *bufio.Writer
	cols []Column
	loc  *time.Location
	line []byte // the row being written, reused
	// The last Micros value written and its text.
	timeMicros int64
	timeText   []byte
	err        error // sticky write error
	closed     bool
}

// NewCSV returns a TableWriter (a ValueWriter) that writes CSV to w: a
// header row of column titles first, then one record per row, CRLF line
// endings and RFC 4180 quoting. Times are written in loc (UTC if nil) as
// RFC 3339, with fractional seconds only when present. Text cells (and
// titles) that a spreadsheet would evaluate as a formula are prefixed with a
// single quote; see guardFormula.
func NewCSV(w io.Writer, cols []Column, loc *time.Location) (TableWriter, error) {
	if err := validateColumns(cols); err != nil {
		return nil, err
	}
	cw := &csvWriter{
		w:    bufio.NewWriterSize(w, csvBufferSize),
		cols: append([]Column(nil), cols...),
		loc:  orUTC(loc),
	}
	for i, c := range cols {
		cw.line = cw.appendSep(cw.line, i)
		cw.line = appendCSVField(cw.line, guardFormula(c.Title))
	}
	if err := cw.endLine(); err != nil {
		return nil, err
	}
	return cw, nil
}

func (cw *csvWriter) WriteRow(values []any) error {
	if cw.closed {
		return ErrClosed
	}
	if cw.err != nil {
		return cw.err
	}
	if err := checkRowLen(values, cw.cols); err != nil {
		return err
	}
	cw.line = cw.line[:0]
	for i, v := range values {
		s, err := cw.format(i, v)
		if err != nil {
			return err
		}
		cw.line = cw.appendSep(cw.line, i)
		cw.line = appendCSVField(cw.line, s)
	}
	return cw.endLine()
}

func (cw *csvWriter) format(i int, v any) (string, error) {
	return cellText(cw.cols, i, v, cw.loc, guardFormula, time.RFC3339Nano)
}

// WriteValues writes a row given as Values, with the same output WriteRow
// gives for the equivalent []any.
func (cw *csvWriter) WriteValues(values []Value) error {
	if cw.closed {
		return ErrClosed
	}
	if cw.err != nil {
		return cw.err
	}
	if len(values) != len(cw.cols) {
		return checkRowLen(make([]any, len(values)), cw.cols)
	}
	// Check the whole row first: a bad value rejects it before any of it
	// is written.
	for i, v := range values {
		if err := checkValue(i, cw.cols[i], v); err != nil {
			return err
		}
	}
	b := cw.line[:0]
	for i, v := range values {
		b = cw.appendSep(b, i)
		switch v.kind {
		case valueString:
			if cw.cols[i].Kind == Text {
				b = appendCSVText(b, v.s)
			} else {
				b = appendCSVField(b, v.s)
			}
		case valueInt:
			b = appendScaled(b, v.n, 0)
		case valueScaled:
			b = appendScaled(b, v.n, v.scale)
		case valueMicros:
			// RFC 3339 times never need quoting. A row's times are often
			// the same (recorded = effective), so the last one is kept.
			if cw.timeText == nil || v.n != cw.timeMicros {
				cw.timeText = microsTime(v.n, cw.loc).AppendFormat(cw.timeText[:0], time.RFC3339Nano)
				cw.timeMicros = v.n
			}
			b = append(b, cw.timeText...)
		}
	}
	cw.line = b
	return cw.endLine()
}

func (cw *csvWriter) appendSep(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	return b
}

// endLine ends the row in cw.line and hands it to the buffer.
func (cw *csvWriter) endLine() error {
	cw.line = append(cw.line, '\r', '\n')
	if _, err := cw.w.Write(cw.line); err != nil {
		cw.err = err
		return err
	}
	cw.line = cw.line[:0]
	return nil
}

func (cw *csvWriter) Close() error {
	if cw.closed {
		return ErrClosed
	}
	cw.closed = true
	if cw.err != nil {
		return cw.err
	}
	return cw.w.Flush()
}

// appendCSVText appends free text, guarded against formula injection,
// without building the guarded string.
func appendCSVText(b []byte, s string) []byte {
	if s != "" && needsGuard(s[0]) {
		if !csvNeedsQuotes(s) {
			b = append(b, '\'')
			return append(b, s...)
		}
		return appendCSVField(b, guardFormula(s))
	}
	return appendCSVField(b, s)
}

// appendCSVField appends one field as encoding/csv's Writer (UseCRLF, comma
// separator) writes it: quoted when it holds a quote, CR, LF or comma, is
// `\.`, or starts with white space; quotes doubled, LF written as CRLF and
// CR dropped inside the quotes.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b = append(b, '"', '"')
		case '\r':
		case '\n':
			b = append(b, '\r', '\n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for a comma separator.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	if s[0] < utf8.RuneSelf {
		return s[0] == ' ' || s[0] == '\t' || s[0] == '\v' || s[0] == '\f'
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// guardFormula neutralises CSV/formula injection (OWASP "CSV Injection"):
// spreadsheet programs evaluate a cell beginning with = + - @ as a formula,
// and tab/CR can be used to sneak such a cell past naive checks. Prefixing a
// single quote makes Excel and LibreOffice treat the cell as text. Only Text
// cells go through here: Number and Integer cells are validated numbers whose
// leading minus is a legitimate negative.
func guardFormula(s string) string {
	if s != "" && needsGuard(s[0]) {
		return "'" + s
	}
	return s
}

func needsGuard(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}
