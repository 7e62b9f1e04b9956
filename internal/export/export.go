// Package export owns the file formats stocktrail hands to users: it turns a
// sequence of typed rows into CSV, XLSX or PDF bytes, one row at a time.
//
// The package is deliberately format-only. It knows nothing about the
// database, HTTP or which log is being exported: callers describe the columns
// once ([Column]), then push rows through a [TableWriter] and Close it. That
// keeps the streaming contract in one place: CSV and XLSX never hold more than
// a bounded amount of row data in memory, so a million-row inventory log can
// be exported without the server's memory growing with the export size.
//
// PDF is the exception: the PDF library builds the whole document in memory,
// so PDF output is capped at [MaxPDFRows] rows and WriteRow reports
// [ErrTooManyRows] past it, letting the caller tell the user to pick CSV.
//
// Cell values are passed as []any, one per column, typed by the column's Kind:
//
//	Text     string
//	Number   string holding an exact decimal ("-12.500"), int64 or int
//	Integer  int64 or int
//	Time     time.Time (the zero time is written as an empty cell)
//	any      nil for an empty cell
//
// Anything else is an error rather than a best-effort fmt.Sprint, because a
// silently mis-typed audit export is worse than a failed one.
package export

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind is the data type of a column; it decides how cells are validated and
// how they are typed in the output (numeric cell, date cell, plain text...).
type Kind int

const (
	// Text is free text. In CSV it is guarded against formula injection.
	Text Kind = iota
	// Number is an exact decimal, given as decimal text ("-12.500") or an
	// int64. CSV writes the text untouched; XLSX writes a numeric cell whose
	// display format keeps the same number of fraction digits.
	Number
	// Integer is a whole number given as int64.
	Integer
	// Time is an instant given as time.Time, rendered in the writer's
	// location: RFC 3339 in CSV, a real date-time cell in XLSX.
	Time
)

// String returns the Kind's name, for error messages.
func (k Kind) String() string {
	switch k {
	case Text:
		return "Text"
	case Number:
		return "Number"
	case Integer:
		return "Integer"
	case Time:
		return "Time"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column describes one output column.
type Column struct {
	Title string
	Kind  Kind
	// Width is the column width in characters; 0 picks a default for the
	// Kind. XLSX uses it as the Excel column width, PDF as the relative
	// share of the page width.
	Width float64
}

// TableWriter receives rows one at a time and writes them out in some format.
// It is not safe for concurrent use.
type TableWriter interface {
	// WriteRow writes one row. values must have exactly one entry per
	// column, typed as described in the package documentation.
	WriteRow(values []any) error
	// Close flushes buffered output and writes the format's trailer
	// (for XLSX and PDF, the whole file is only valid after Close). It does
	// not close the underlying io.Writer.
	Close() error
}

var (
	// ErrTooManyRows is returned (wrapped) by WriteRow when a format's row
	// limit is reached: Excel's sheet size, or MaxPDFRows. Callers can test
	// for it with errors.Is and suggest CSV instead.
	ErrTooManyRows = errors.New("export: too many rows for this format")
	// ErrClosed is returned by WriteRow and Close after Close.
	ErrClosed = errors.New("export: writer already closed")
)

// defaultWidth is the width in characters used when Column.Width is 0. The
// values fit typical content: a timestamp "2006-01-02 15:04:05" is 19 wide,
// quantities rarely exceed 12 characters.
func defaultWidth(c Column) float64 {
	if c.Width > 0 {
		return c.Width
	}
	w := 12.0
	switch c.Kind {
	case Text:
		w = 18
	case Time:
		w = 20
	}
	// Leave room for the header text (and, in Excel, the filter button) so
	// titles are not clipped at the default width.
	if t := float64(len([]rune(c.Title))) + 3; t > w {
		w = t
	}
	if w > 60 {
		w = 60
	}
	return w
}

// validateColumns checks the column list shared by every constructor.
func validateColumns(cols []Column) error {
	if len(cols) == 0 {
		return errors.New("export: no columns")
	}
	for i, c := range cols {
		if c.Kind < Text || c.Kind > Time {
			return fmt.Errorf("export: column %d (%q): invalid kind %v", i, c.Title, c.Kind)
		}
		if c.Width < 0 {
			return fmt.Errorf("export: column %d (%q): negative width", i, c.Title)
		}
	}
	return nil
}

// checkRowLen rejects rows whose length does not match the columns: a short
// or long row almost always means the caller's column list and row builder
// disagree, and shifting values into the wrong columns would be silent.
func checkRowLen(values []any, cols []Column) error {
	if len(values) != len(cols) {
		return fmt.Errorf("export: row has %d values, want %d", len(values), len(cols))
	}
	return nil
}

// typeError reports a value whose Go type does not fit its column.
func typeError(i int, c Column, v any) error {
	return fmt.Errorf("export: column %d (%q, %v): unsupported value %T", i, c.Title, c.Kind, v)
}

// asInt64 accepts the integer types callers are allowed to pass.
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// isDecimal reports whether s is plain decimal text: an optional sign,
// digits, and optionally a point followed by digits. Number cells bypass the
// CSV injection guard, so they must be checked to be what they claim to be.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > start && i == len(s)
}

// decimalScale returns the number of digits after the point of decimal text
// already accepted by isDecimal.
func decimalScale(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return len(s) - i - 1
		}
	}
	return 0
}

// orUTC lets callers pass a nil location without every writer checking it.
func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// invalidDecimal reports Number text that is not a plain decimal.
func invalidDecimal(i int, c Column, s string) error {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Errorf("export: column %d (%q, Number): %q is not a decimal number", i, c.Title, s)
}

// cellText renders a value as text for the text-based formats (CSV, PDF),
// which differ only in how they treat free text and which time layout they
// use. Number text is written verbatim so the exact decimal survives, and
// validated because it is trusted more than free text (CSV skips its formula
// guard for it).
func cellText(cols []Column, i int, v any, loc *time.Location, text func(string) string, timeLayout string) (string, error) {
	if v == nil {
		return "", nil
	}
	c := cols[i]
	switch c.Kind {
	case Text:
		if s, ok := v.(string); ok {
			return text(s), nil
		}
	case Number:
		if s, ok := v.(string); ok {
			if !isDecimal(s) {
				return "", invalidDecimal(i, c, s)
			}
			return s, nil
		}
		if n, ok := asInt64(v); ok {
			return strconv.FormatInt(n, 10), nil
		}
	case Integer:
		if n, ok := asInt64(v); ok {
			return strconv.FormatInt(n, 10), nil
		}
	case Time:
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				return "", nil
			}
			return t.In(loc).Format(timeLayout), nil
		}
	}
	return "", typeError(i, c, v)
}
