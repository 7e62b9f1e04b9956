package export

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// MaxXLSXRows is the number of data rows one sheet can hold: Excel's
	// 1,048,576-row limit minus the header row.
	MaxXLSXRows = 1<<20 - 1

	// Excel's other limits: columns per sheet, UTF-16 units per cell,
	// characters per sheet name, column width.
	maxXLSXColumns     = 1 << 14
	maxCellChars       = 32767
	maxSheetNameLength = 31
	maxColumnWidth     = 255

	// xlsxDateFormat is the display format of Time cells. ISO order avoids
	// the day/month ambiguity of locale formats in a multi-country product.
	xlsxDateFormat = "yyyy-mm-dd hh:mm:ss"

	// maxNumberScale is the most fraction digits Excel can display.
	maxNumberScale = 30
)

// xlsxWriter writes a single-sheet workbook: the few package parts a
// spreadsheet needs (content types, relationships, workbook, styles,
// document properties) and the worksheet, all as SpreadsheetML it writes
// itself with archive/zip.
//
// Why not excelize's StreamWriter: on the million-row export benchmark
// (docs/inventory.md) it took about four times the CPU and over ten times
// the peak memory of this writer: its SetRow formats and allocates per cell,
// and its Write assembles the whole file in memory. The sheet written here
// is a tiny, fixed subset of the format (inline strings, numbers, style ids).
//
// The data rows are compressed as they arrive into a temporary file (see
// deflateSink). The worksheet's head (its dimension, which needs the row
// count) and tail (the autofilter) are compressed at Close, and the zip
// entry is the three pieces in a row, with a combined CRC-32.
type xlsxWriter struct {
	out   io.Writer
	sheet string
	cols  []Column
	loc   *time.Location

	tmp  *os.File     // data rows' XML, deflated, copied into the sheet at Close
	rows *deflateSink // compresses into tmp; nil once closed

	row   int        // last row number written; 1 is the header
	cells []xlsxCell // converted values of the row being written, reused
	refs  [][]byte   // column letters ("A", "B", ...), for cell references
	line  []byte     // one row's XML, reused
	err   error      // sticky: once the stream is broken nothing more is written
	done  bool       // Close was called

	// scales lists the decimal scales that got a number style, in the
	// order their styles were made: scale scales[i] has style
	// firstScaleStyle+i and number format firstScaleFormat+i.
	scales     []int
	scaleStyle [maxNumberScale + 1]int // 0 = not made yet
}

// xlsxCell is one converted value: what WriteRow validated, ready to render.
type xlsxCell struct {
	kind  cellKind
	style int
	str   string  // cellString
	num   float64 // cellFloat
	n     int64   // cellInt
}

type cellKind uint8

const (
	cellEmpty cellKind = iota
	cellString
	cellFloat
	cellInt
)

// Cell styles (indexes into styles.xml's cellXfs).
const (
	styleGeneral = iota
	styleHeader
	styleDate
	styleInt
	firstScaleStyle
)

// Number formats: 1 is Excel's built-in "0" (no thousands separator, no
// scientific notation for long IDs or large counts); custom ones start at
// 164.
const (
	formatInt        = 1
	formatDate       = 164
	firstScaleFormat = 165
)

// xlsxSheetPath is the worksheet part of the one sheet.
const xlsxSheetPath = "xl/worksheets/sheet1.xml"

// NewXLSX returns a TableWriter producing a single-sheet .xlsx workbook on w.
// The sheet has a bold header row that is frozen and carries an autofilter
// over all written rows; columns get Column.Width or a default per Kind.
// Number and Integer values become numeric cells, Time values become date
// cells (converted to loc, UTC if nil, since Excel dates have no zone).
// sheetName is cleaned to what Excel accepts ("Sheet1" if empty).
//
// Nothing reaches w until Close, which writes the whole file. Close must be
// called even after an error, to stop the writer's compressor goroutine and
// remove its temporary file.
func NewXLSX(w io.Writer, cols []Column, loc *time.Location, sheetName string) (TableWriter, error) {
	if err := validateColumns(cols); err != nil {
		return nil, err
	}
	if len(cols) > maxXLSXColumns {
		return nil, fmt.Errorf("export: %d columns exceed Excel's limit of %d", len(cols), maxXLSXColumns)
	}
	xw := &xlsxWriter{
		out:   w,
		sheet: cleanSheetName(sheetName),
		cols:  append([]Column(nil), cols...),
		loc:   orUTC(loc),
		cells: make([]xlsxCell, len(cols)),
		refs:  make([][]byte, len(cols)),
		row:   1,
	}
	for i := range cols {
		xw.refs[i] = []byte(columnName(i + 1))
	}
	tmp, err := os.CreateTemp("", "stocktrail-xlsx-*.xml")
	if err != nil {
		return nil, err
	}
	xw.tmp = tmp
	if xw.rows, err = newDeflateSink(tmp); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	return xw, nil
}

// columnName returns the letters of 1-based column n: A…Z, AA…XFD.
func columnName(n int) string {
	var b [3]byte
	i := len(b)
	for n > 0 {
		n--
		i--
		b[i] = byte('A' + n%26)
		n /= 26
	}
	return string(b[i:])
}

func (xw *xlsxWriter) WriteRow(values []any) error {
	if err := xw.canWrite(len(values)); err != nil {
		return err
	}
	// Convert every value before writing anything, so a bad value rejects
	// the row as a whole instead of leaving half a row in the sheet.
	for i, v := range values {
		if err := xw.cell(i, v, &xw.cells[i]); err != nil {
			return err
		}
	}
	return xw.writeCells()
}

// canWrite says why a row of n values cannot be written, if it cannot.
func (xw *xlsxWriter) canWrite(n int) error {
	if xw.done {
		return ErrClosed
	}
	if xw.err != nil {
		return xw.err
	}
	if n != len(xw.cols) {
		return checkRowLen(make([]any, n), xw.cols)
	}
	if xw.row-1 >= MaxXLSXRows {
		return fmt.Errorf("%w: an Excel sheet holds at most %d rows; use CSV", ErrTooManyRows, MaxXLSXRows)
	}
	return nil
}

// writeCells writes the row of converted cells.
func (xw *xlsxWriter) writeCells() error {
	xw.row++
	xw.line = xw.appendRow(xw.line[:0])
	if _, err := xw.rows.Write(xw.line); err != nil {
		xw.err = err
		return err
	}
	return nil
}

// appendRow renders xw.cells as row xw.row. Empty cells are left out, as
// Excel itself does; every written cell carries its reference so readers
// never have to infer positions.
func (xw *xlsxWriter) appendRow(b []byte) []byte {
	var num [20]byte
	rn := strconv.AppendInt(num[:0], int64(xw.row), 10)
	b = append(b, `<row r="`...)
	b = append(b, rn...)
	b = append(b, `">`...)
	for i := range xw.cells {
		c := &xw.cells[i]
		if c.kind == cellEmpty {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, xw.refs[i]...)
		b = append(b, rn...)
		if c.style != 0 {
			b = append(b, `" s="`...)
			b = strconv.AppendInt(b, int64(c.style), 10)
		}
		switch c.kind {
		case cellString:
			b = append(b, `" t="inlineStr"><is>`...)
			b = appendXLSXText(b, c.str)
			b = append(b, `</is></c>`...)
		case cellFloat:
			b = append(b, `"><v>`...)
			b = strconv.AppendFloat(b, c.num, 'f', -1, 64)
			b = append(b, `</v></c>`...)
		case cellInt:
			b = append(b, `"><v>`...)
			b = strconv.AppendInt(b, c.n, 10)
			b = append(b, `</v></c>`...)
		}
	}
	return append(b, `</row>`...)
}

// cell converts one value into a renderable cell with the right style.
func (xw *xlsxWriter) cell(i int, v any, c *xlsxCell) error {
	*c = xlsxCell{}
	if v == nil {
		return nil
	}
	col := xw.cols[i]
	switch col.Kind {
	case Text:
		if s, ok := v.(string); ok {
			if s != "" {
				c.kind, c.str = cellString, s
			}
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
			c.kind, c.style, c.num = cellFloat, xw.numberStyle(decimalScale(s)), f
			return nil
		}
		if n, ok := asInt64(v); ok {
			c.kind, c.style, c.n = cellInt, styleInt, n
			return nil
		}
	case Integer:
		if n, ok := asInt64(v); ok {
			c.kind, c.style, c.n = cellInt, styleInt, n
			return nil
		}
	case Time:
		if t, ok := v.(time.Time); ok {
			if !t.IsZero() {
				xw.timeCell(t.In(xw.loc), c)
			}
			return nil
		}
	}
	return typeError(i, col, v)
}

// timeCell makes t (already in the writer's location) a date cell.
func (xw *xlsxWriter) timeCell(t time.Time, c *xlsxCell) {
	if serial, ok := excelSerial(t); ok {
		c.kind, c.style, c.num = cellFloat, styleDate, serial
	} else {
		// Outside Excel's calendar (before 1900 or after 9999):
		// keep the information as text rather than fail the export.
		c.kind, c.str = cellString, t.Format(time.RFC3339Nano)
	}
}

// WriteValues writes a row given as Values; the cells are those WriteRow
// writes for the equivalent []any.
func (xw *xlsxWriter) WriteValues(values []Value) error {
	if err := xw.canWrite(len(values)); err != nil {
		return err
	}
	for i, v := range values {
		if err := xw.valueCell(i, v, &xw.cells[i]); err != nil {
			return err
		}
	}
	return xw.writeCells()
}

// valueCell is cell for a Value.
func (xw *xlsxWriter) valueCell(i int, v Value, c *xlsxCell) error {
	if err := checkValue(i, xw.cols[i], v); err != nil {
		return err
	}
	*c = xlsxCell{}
	switch v.kind {
	case valueString:
		if xw.cols[i].Kind == Number {
			return xw.cell(i, v.s, c)
		}
		if v.s != "" {
			c.kind, c.str = cellString, v.s
		}
	case valueInt:
		c.kind, c.style, c.n = cellInt, styleInt, v.n
	case valueScaled:
		c.kind, c.style, c.num = cellFloat, xw.numberStyle(int(v.scale)), scaledFloat(v.n, v.scale)
	case valueMicros:
		xw.timeCell(microsTime(v.n, xw.loc), c)
	}
	return nil
}

// appendXLSXText appends s as the <t> element of an inline string. Most
// export text (SKUs, names, actions) is short plain ASCII and is copied as
// is; anything else takes the careful path in appendXLSXTextSlow.
func appendXLSXText(b []byte, s string) []byte {
	plain := len(s) <= maxCellChars && s[0] != ' ' && s[len(s)-1] != ' '
	for i := 0; plain && i < len(s); i++ {
		switch ch := s[i]; {
		case ch < 0x20 || ch >= 0x7f, ch == '<', ch == '>', ch == '&', ch == '\'', ch == '"', ch == '_' && i+1 < len(s) && s[i+1] == 'x':
			plain = false
		}
	}
	if !plain {
		return appendXLSXTextSlow(b, s)
	}
	b = append(b, `<t>`...)
	b = append(b, s...)
	return append(b, `</t>`...)
}

// bstrEscape matches text that readers would decode as an escaped character
// (ST_Xstring's _xHHHH_); such text is kept literal by escaping its
// underscore as _x005F_.
var bstrEscape = regexp.MustCompile(`_x[0-9A-Fa-f]{4}_`)

// appendXLSXTextSlow does what Excel needs of a cell string: cut it to
// Excel's 32,767 UTF-16 units, preserve leading/trailing white space, escape
// XML (characters XML 1.0 cannot carry become U+FFFD) and protect literal
// _xHHHH_ sequences.
func appendXLSXTextSlow(b []byte, s string) []byte {
	units := 0
	for i, r := range s {
		if units += utf16.RuneLen(r); units > maxCellChars {
			s = s[:i]
			break
		}
	}
	if s != "" && (isXMLSpace(s[0]) || isXMLSpace(s[len(s)-1])) {
		b = append(b, `<t xml:space="preserve">`...)
	} else {
		b = append(b, `<t>`...)
	}
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(s)) // writes to a bytes.Buffer cannot fail
	text := bytes.ReplaceAll(esc.Bytes(), []byte("&#xA;"), []byte("\n"))
	text = bstrEscape.ReplaceAllFunc(text, func(m []byte) []byte { return append([]byte("_x005F"), m...) })
	b = append(b, text...)
	return append(b, `</t>`...)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// numberStyle returns the style showing exactly scale fraction digits,
// making it on first use.
func (xw *xlsxWriter) numberStyle(scale int) int {
	if scale == 0 {
		return styleInt
	}
	if scale > maxNumberScale {
		return styleGeneral // Excel cannot show more digits anyway.
	}
	if st := xw.scaleStyle[scale]; st != 0 {
		return st
	}
	st := firstScaleStyle + len(xw.scales)
	xw.scales = append(xw.scales, scale)
	xw.scaleStyle[scale] = st
	return st
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
// serial date. The time zone conversion is explicit: Excel dates have none.
func excelSerial(t time.Time) (float64, bool) {
	// The wall clock as if it were UTC: the instant plus the zone's offset
	// (what Date and Clock compute, without splitting it into fields).
	_, offset := t.Zone()
	wall := t.Unix() + int64(offset)
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
	// Always release the compressor and the temporary file, whatever
	// happens below.
	defer func() {
		if xw.rows != nil {
			xw.rows.abort()
		}
		_ = xw.tmp.Close()
		_ = os.Remove(xw.tmp.Name())
	}()
	if xw.err != nil {
		return xw.err
	}
	rows, err := xw.rows.Close()
	xw.rows = nil
	if err != nil {
		return err
	}
	if _, err := xw.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// The autofilter covers the rows actually written, and the dimension
	// tells readers the sheet's extent without scanning it.
	lastCell := string(xw.refs[len(xw.refs)-1]) + strconv.Itoa(xw.row)
	zw := zip.NewWriter(xw.out)
	for _, part := range []struct {
		name string
		xml  []byte
	}{
		{"[Content_Types].xml", []byte(xlsxContentTypes)},
		{"_rels/.rels", []byte(xlsxPackageRels)},
		{"docProps/core.xml", []byte(xlsxCoreProps)},
		{"xl/workbook.xml", xw.workbookXML(lastCell)},
		{"xl/_rels/workbook.xml.rels", []byte(xlsxWorkbookRels)},
		{"xl/styles.xml", xw.stylesXML()},
	} {
		w, err := zw.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := w.Write(part.xml); err != nil {
			return err
		}
	}
	if err := xw.writeSheet(zw, rows, lastCell); err != nil {
		return err
	}
	return zw.Close()
}

// writeSheet adds the worksheet part: its head and tail around the data
// rows compressed in xw.tmp.
func (xw *xlsxWriter) writeSheet(zw *zip.Writer, rows deflateResult, lastCell string) error {
	head, tail := xw.sheetHead(lastCell), xw.sheetTail(lastCell)
	headZ, headCRC, err := deflatePiece(head, false)
	if err != nil {
		return err
	}
	tailZ, tailCRC, err := deflatePiece(tail, true)
	if err != nil {
		return err
	}
	crc := crc32Combine(crc32Combine(headCRC, rows.crc, rows.size), tailCRC, int64(len(tail)))
	// The sizes and CRC are known up front, so the entry goes in raw,
	// without a data descriptor.
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               xlsxSheetPath,
		Method:             zip.Deflate,
		CRC32:              crc,
		CompressedSize64:   uint64(len(headZ)) + uint64(rows.compressed) + uint64(len(tailZ)),
		UncompressedSize64: uint64(len(head)) + uint64(rows.size) + uint64(len(tail)),
	})
	if err != nil {
		return err
	}
	if _, err := w.Write(headZ); err != nil {
		return err
	}
	if n, err := io.CopyN(w, xw.tmp, rows.compressed); err != nil {
		return fmt.Errorf("export: copying compressed rows (%d of %d bytes): %w", n, rows.compressed, err)
	}
	_, err = w.Write(tailZ)
	return err
}

// deflatePiece compresses p on its own, ending in a sync flush, or in a
// final block when last, and returns it with p's CRC-32.
func deflatePiece(p []byte, last bool) ([]byte, uint32, error) {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, 0, err
	}
	if _, err := fw.Write(p); err != nil {
		return nil, 0, err
	}
	if last {
		err = fw.Close()
	} else {
		err = fw.Flush()
	}
	return buf.Bytes(), crc32.ChecksumIEEE(p), err
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
	if utf8.RuneCountInString(name) > maxSheetNameLength {
		name = string([]rune(name)[:maxSheetNameLength])
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}
