package export

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

const (
	// MaxXLSXRows is the number of data rows one sheet can hold: Excel's
	// 1,048,576-row limit minus the header row.
	MaxXLSXRows = excelize.TotalRows - 1

	// xlsxDateFormat is the display format of Time cells. ISO order avoids
	// the day/month ambiguity of locale formats in a multi-country product.
	xlsxDateFormat = "yyyy-mm-dd hh:mm:ss"

	// maxNumberScale is the most fraction digits Excel can display.
	maxNumberScale = 30
)

// xlsxWriter streams rows into an excelize StreamWriter. The StreamWriter
// keeps at most a 16 MB chunk of sheet XML in memory and spills the rest to
// a temporary file; Close then zips that file straight into the caller's
// io.Writer (see NewXLSX) so the finished workbook is never held in memory
// either.
type xlsxWriter struct {
	out   io.Writer
	f     *excelize.File
	sw    *excelize.StreamWriter
	sheet string
	cols  []Column
	loc   *time.Location

	row   int             // last row number written; 1 is the header
	cells []excelize.Cell // reused per row
	vals  []any           // pointers into cells, so boxing them does not allocate
	refs  []string        // "A", "B", ... : column letters for the row's first cell
	err   error           // sticky: once the stream is broken nothing more is written
	done  bool            // Close was called

	dateStyle   int
	intStyle    int
	numStyles   [maxNumberScale + 1]int // style per decimal scale, created lazily (0 = not yet)
	headerStyle int
}

// NewXLSX returns a TableWriter producing a single-sheet .xlsx workbook on w.
// The sheet has a bold header row that is frozen and carries an autofilter
// over all written rows; columns get Column.Width or a default per Kind.
// Number and Integer values become numeric cells, Time values become date
// cells (converted to loc, UTC if nil, since Excel dates have no zone).
// sheetName is cleaned to what Excel accepts ("Sheet1" if empty).
//
// Nothing reaches w until Close, which writes the whole file. Close must be
// called even after an error, to remove the writer's temporary file.
func NewXLSX(w io.Writer, cols []Column, loc *time.Location, sheetName string) (TableWriter, error) {
	if err := validateColumns(cols); err != nil {
		return nil, err
	}
	if len(cols) > excelize.MaxColumns {
		return nil, fmt.Errorf("export: %d columns exceed Excel's limit of %d", len(cols), excelize.MaxColumns)
	}
	f := excelize.NewFile()
	xw := &xlsxWriter{
		out:   w,
		f:     f,
		sheet: cleanSheetName(sheetName),
		cols:  append([]Column(nil), cols...),
		loc:   orUTC(loc),
		cells: make([]excelize.Cell, len(cols)),
		vals:  make([]any, len(cols)),
	}
	if err := xw.init(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return xw, nil
}

func (xw *xlsxWriter) init() error {
	f := xw.f
	if err := f.SetSheetName(f.GetSheetName(0), xw.sheet); err != nil {
		return err
	}
	// excelize's template names "xuri" as the author; say who made it.
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "stocktrail", LastModifiedBy: "stocktrail"}); err != nil {
		return err
	}
	var err error
	if xw.headerStyle, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	}); err != nil {
		return err
	}
	dateFmt := xlsxDateFormat
	if xw.dateStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return err
	}
	// Built-in format 1 is "0": no thousands separator, no scientific
	// notation for long IDs or large counts.
	if xw.intStyle, err = f.NewStyle(&excelize.Style{NumFmt: 1}); err != nil {
		return err
	}

	if xw.sw, err = f.NewStreamWriter(xw.sheet); err != nil {
		return err
	}
	// Widths and panes must be set before the first SetRow: the stream
	// writer emits <cols> and <sheetViews> ahead of the row data. excelize
	// puts each new <col> before the existing ones, so going right to left
	// yields the ascending order Excel expects.
	for i := len(xw.cols) - 1; i >= 0; i-- {
		if err := xw.sw.SetColWidth(i+1, i+1, defaultWidth(xw.cols[i])); err != nil {
			return err
		}
	}
	if err := xw.sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	for i, c := range xw.cols {
		xw.cells[i] = excelize.Cell{StyleID: xw.headerStyle, Value: c.Title}
		xw.vals[i] = &xw.cells[i]
	}
	return xw.setRow()
}

// setRow writes xw.cells as the next row.
func (xw *xlsxWriter) setRow() error {
	xw.row++
	if err := xw.sw.SetRow("A"+strconv.Itoa(xw.row), xw.vals); err != nil {
		xw.err = err
		return err
	}
	return nil
}

func (xw *xlsxWriter) WriteRow(values []any) error {
	if xw.done {
		return ErrClosed
	}
	if xw.err != nil {
		return xw.err
	}
	if err := checkRowLen(values, xw.cols); err != nil {
		return err
	}
	if xw.row-1 >= MaxXLSXRows {
		return fmt.Errorf("%w: an Excel sheet holds at most %d rows; use CSV", ErrTooManyRows, MaxXLSXRows)
	}
	// Convert every value before writing anything, so a bad value rejects
	// the row as a whole instead of leaving half a row in the sheet.
	for i, v := range values {
		if err := xw.cell(i, v, &xw.cells[i]); err != nil {
			return err
		}
	}
	return xw.setRow()
}

// cell converts one value into an excelize cell with the right style.
func (xw *xlsxWriter) cell(i int, v any, c *excelize.Cell) error {
	*c = excelize.Cell{}
	if v == nil {
		return nil
	}
	col := xw.cols[i]
	switch col.Kind {
	case Text:
		if s, ok := v.(string); ok {
			c.Value = s
			return nil
		}
	case Number:
		if s, ok := v.(string); ok {
			if !isDecimal(s) {
				return invalidDecimal(i, col, s)
			}
			// Excel cells are IEEE doubles, so float64 loses nothing Excel
			// could have kept; the display format restores the text's
			// number of fraction digits ("12.500" shows as 12.500).
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return invalidDecimal(i, col, s)
			}
			st, err := xw.numberStyle(decimalScale(s))
			if err != nil {
				return err
			}
			c.StyleID, c.Value = st, f
			return nil
		}
		if n, ok := asInt64(v); ok {
			c.StyleID, c.Value = xw.intStyle, n
			return nil
		}
	case Integer:
		if n, ok := asInt64(v); ok {
			c.StyleID, c.Value = xw.intStyle, n
			return nil
		}
	case Time:
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				return nil
			}
			if serial, ok := excelSerial(t.In(xw.loc)); ok {
				c.StyleID, c.Value = xw.dateStyle, serial
			} else {
				// Outside Excel's calendar (before 1900 or after 9999):
				// keep the information as text rather than fail the export.
				c.Value = t.In(xw.loc).Format(time.RFC3339Nano)
			}
			return nil
		}
	}
	return typeError(i, col, v)
}

// numberStyle returns the style showing exactly scale fraction digits.
func (xw *xlsxWriter) numberStyle(scale int) (int, error) {
	if scale == 0 {
		return xw.intStyle, nil
	}
	if scale > maxNumberScale {
		return 0, nil // General: Excel cannot show more digits anyway.
	}
	if st := xw.numStyles[scale]; st != 0 {
		return st, nil
	}
	format := "0." + strings.Repeat("0", scale)
	st, err := xw.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, err
	}
	xw.numStyles[scale] = st
	return st, nil
}

// Excel's 1900 date system counts days from 1899-12-30 (serial 1 is
// 1900-01-01, with the Lotus leap-year bug inserting a fake 1900-02-29 at
// serial 60).
var (
	excelEpoch     = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Unix()
	excelLeapBug   = time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	excelFirstDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	excelLastDate  = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// excelSerial converts t's wall clock (in its own location) to an Excel
// serial date. It is computed here rather than by excelize so the time zone
// conversion is explicit and no per-cell workbook lookups happen.
func excelSerial(t time.Time) (float64, bool) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wall := time.Date(y, mo, d, h, mi, s, 0, time.UTC).Unix()
	if wall < excelFirstDate || wall >= excelLastDate {
		return 0, false
	}
	days := float64(wall-excelEpoch) / 86400
	if wall < excelLeapBug {
		days--
	}
	return days + float64(t.Nanosecond())/(86400*1e9), true
}

func (xw *xlsxWriter) Close() error {
	if xw.done {
		return ErrClosed
	}
	xw.done = true
	// Always release the temporary file, whatever happens below.
	defer func() { _ = xw.f.Close() }()
	if xw.err != nil {
		return xw.err
	}
	lastCol, err := excelize.ColumnNumberToName(len(xw.cols))
	if err != nil {
		return err
	}
	// The autofilter range must be known before Flush writes the sheet
	// trailer, and it should cover the rows actually written.
	if err := xw.f.AutoFilter(xw.sheet, "A1:"+lastCol+strconv.Itoa(max(xw.row, 1)), nil); err != nil {
		return err
	}
	if err := xw.sw.Flush(); err != nil {
		return err
	}
	// excelize's Write assembles the whole zip in a bytes.Buffer, which for
	// a million rows means tens of megabytes. Its ZipWriter hook lets us
	// point the zip at the caller's writer instead, so the archive streams
	// out and the buffer it passes stays empty. BestSpeed deflate: sheet XML
	// is repetitive, so it still compresses well, at a fraction of the CPU.
	var zw *zip.Writer
	xw.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = zip.NewWriter(xw.out)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	buf, err := xw.f.WriteToBuffer()
	if err != nil {
		return err
	}
	if zw == nil || buf.Len() != 0 {
		// Would mean excelize stopped honouring the hook; fail loudly
		// rather than hand out a truncated file.
		return errors.New("export: excelize did not stream the workbook through the zip writer")
	}
	return nil
}

// cleanSheetName makes name acceptable to Excel: at most 31 characters, none
// of : \ / ? * [ ], not starting or ending with an apostrophe. Export titles
// often come from user-chosen filters, so cleaning beats failing.
func cleanSheetName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch r {
		case ':', '\\', '/', '?', '*', '[', ']':
			return '_'
		}
		if r < 0x20 {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), "'")
	if utf8.RuneCountInString(name) > excelize.MaxSheetNameLength {
		name = string([]rune(name)[:excelize.MaxSheetNameLength])
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}
