package export

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// MaxPDFRows caps PDF exports. fpdf keeps every page in memory until the
// document is closed, so memory grows with the row count: measured on a
// 10-column log, 50,000 rows (~1,600 pages) peak at ~125 MB of heap and take
// ~3 s, while 100,000 rows need ~230 MB. Nobody reads more than a thousand
// pages of table anyway. Past the cap WriteRow returns ErrTooManyRows so the
// caller can offer CSV instead.
const MaxPDFRows = 50_000

// PDFMeta is the report framing printed on the first page.
type PDFMeta struct {
	Title string
	// Filters describe the selection, one per line, e.g. "User: alice".
	Filters []string
	// Generated is when the report was made; printed in the writer's
	// location. The zero time means now.
	Generated time.Time
}

// Page geometry in millimetres (A4 landscape) and type sizes in points.
const (
	pdfMargin      = 10.0
	pdfFooterSpace = 10.0 // reserved at the bottom for the page footer
	pdfBodySize    = 8.0
	pdfLineH       = 3.8 // line height for 8 pt text
	pdfCellPadY    = 0.8 // vertical padding above and below cell text
	pdfMaxLines    = 3   // a cell wraps to at most this many lines, then is cut with "…"
	pdfHeaderLines = 2
	pdfFontFamily  = "go"
	pdfTimeLayout  = "2006-01-02 15:04:05"
)

// pdfWriter lays rows out as a table, starting a new page (with the column
// header repeated) whenever the next row would run into the footer.
type pdfWriter struct {
	out    io.Writer
	pdf    *fpdf.Fpdf
	cols   []Column
	loc    *time.Location
	meta   PDFMeta
	widths []float64 // column widths in mm, summing to the printable width
	aligns []string  // "L" or "R" per column
	rows   int
	lines  [][]string // reused per row: the wrapped lines of each cell
	done   bool
}

// NewPDF returns a TableWriter that renders an A4 landscape PDF report: the
// title, the filters and the generation time on the first page, then a table
// whose header row repeats on every page, and "Page N of M" in each footer.
// Long text wraps inside its column (up to a few lines, then is cut with an
// ellipsis). Times are shown in loc (UTC if nil).
//
// The text uses the embedded Go fonts, so Latin, Greek and Cyrillic text
// renders as written without any font files at run time; characters outside
// the fonts show as blanks or boxes rather than failing the export.
//
// The document is built in memory and written to w by Close; at most
// MaxPDFRows rows are accepted.
func NewPDF(w io.Writer, cols []Column, loc *time.Location, meta PDFMeta) (TableWriter, error) {
	if err := validateColumns(cols); err != nil {
		return nil, err
	}
	loc = orUTC(loc)
	if meta.Generated.IsZero() {
		meta.Generated = time.Now()
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	pw := &pdfWriter{
		out:   w,
		pdf:   pdf,
		cols:  append([]Column(nil), cols...),
		loc:   loc,
		meta:  meta,
		lines: make([][]string, len(cols)),
	}

	// The fonts must be added before AliasNbPages: fpdf only pre-seeds the
	// font subset with the digits (needed when "{nb}" is replaced by the
	// page count at the very end) if no alias is set at that point.
	pdf.AddUTF8FontFromBytes(pdfFontFamily, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(pdfFontFamily, "B", gobold.TTF)
	pdf.AliasNbPages("")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	// Page breaks are placed by hand so that a wrapped row is never split
	// across pages and the header row can be repeated.
	pdf.SetAutoPageBreak(false, pdfMargin)
	pdf.SetCreator("stocktrail", true)
	pdf.SetProducer("stocktrail", true)
	pdf.SetTitle(cleanPDFText(meta.Title), true)
	pdf.SetCreationDate(meta.Generated)
	pdf.SetModificationDate(meta.Generated)

	pageW, _ := pdf.GetPageSize()
	pw.layoutColumns(pageW - 2*pdfMargin)
	pdf.SetHeaderFunc(pw.drawPageHeader)
	pdf.SetFooterFunc(pw.drawFooter)
	pdf.AddPage()
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("export: pdf: %w", err)
	}
	return pw, nil
}

// layoutColumns shares the printable width among the columns in proportion
// to their character widths, so the table always spans the page.
func (pw *pdfWriter) layoutColumns(printable float64) {
	total := 0.0
	for _, c := range pw.cols {
		total += defaultWidth(c)
	}
	pw.widths = make([]float64, len(pw.cols))
	pw.aligns = make([]string, len(pw.cols))
	for i, c := range pw.cols {
		pw.widths[i] = printable * defaultWidth(c) / total
		pw.aligns[i] = "L"
		if c.Kind == Number || c.Kind == Integer {
			pw.aligns[i] = "R" // so digits line up
		}
	}
}

// drawPageHeader is called by fpdf at the start of every page: the report
// framing on page 1, then the column header row on every page.
func (pw *pdfWriter) drawPageHeader() {
	pdf := pw.pdf
	pageW, _ := pdf.GetPageSize()
	printable := pageW - 2*pdfMargin
	if pdf.PageNo() == 1 {
		pdf.SetFont(pdfFontFamily, "B", 14)
		for _, l := range wrapText(pdf, cleanPDFText(pw.meta.Title), printable, 2) {
			pdf.CellFormat(printable, 7, l, "", 1, "L", false, 0, "")
		}
		pdf.Ln(1)
		pdf.SetFont(pdfFontFamily, "", 9)
		filters := "none"
		if len(pw.meta.Filters) > 0 {
			filters = strings.Join(pw.meta.Filters, "; ")
		}
		for _, l := range wrapText(pdf, "Filters: "+cleanPDFText(filters), printable, 4) {
			pdf.CellFormat(printable, 4.5, l, "", 1, "L", false, 0, "")
		}
		gen := pw.meta.Generated.In(pw.loc)
		pdf.CellFormat(printable, 4.5, fmt.Sprintf("Generated: %s %s (times shown in %s)",
			gen.Format(pdfTimeLayout), gen.Format("MST"), pw.loc.String()), "", 1, "L", false, 0, "")
		pdf.Ln(3)
	} else {
		// Later pages carry a one-line running title so a loose printout
		// still says what it is.
		pdf.SetFont(pdfFontFamily, "", 7)
		pdf.SetTextColor(96, 96, 96)
		pdf.CellFormat(printable, 4, truncateText(pdf, cleanPDFText(pw.meta.Title), printable), "", 1, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.Ln(1)
	}

	pdf.SetFont(pdfFontFamily, "B", pdfBodySize)
	for i, c := range pw.cols {
		pw.lines[i] = wrapText(pdf, cleanPDFText(c.Title), pw.cellTextWidth(i), pdfHeaderLines)
	}
	pdf.SetFillColor(217, 225, 242)
	pw.drawCells(true)
	pdf.SetFont(pdfFontFamily, "", pdfBodySize)
}

func (pw *pdfWriter) drawFooter() {
	pdf := pw.pdf
	pageW, pageH := pdf.GetPageSize()
	printable := pageW - 2*pdfMargin
	pdf.SetXY(pdfMargin, pageH-pdfMargin-4)
	pdf.SetFont(pdfFontFamily, "", 7)
	pdf.SetTextColor(96, 96, 96)
	pdf.CellFormat(printable*0.7, 4, truncateText(pdf, cleanPDFText(pw.meta.Title), printable*0.7), "", 0, "L", false, 0, "")
	pdf.CellFormat(printable*0.3, 4, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	pdf.SetTextColor(0, 0, 0)
}

// cellTextWidth is the width available to text inside column i.
func (pw *pdfWriter) cellTextWidth(i int) float64 {
	return pw.widths[i] - 2*pw.pdf.GetCellMargin()
}

// drawCells draws pw.lines as one table row at the current position.
func (pw *pdfWriter) drawCells(fill bool) {
	pdf := pw.pdf
	n := 1
	for _, l := range pw.lines {
		n = max(n, len(l))
	}
	h := float64(n)*pdfLineH + 2*pdfCellPadY
	x0, y0 := pdfMargin, pdf.GetY()
	x := x0
	if fill {
		pdf.Rect(x0, y0, pw.tableWidth(), h, "F")
	}
	for i, lines := range pw.lines {
		for j, l := range lines {
			pdf.SetXY(x, y0+pdfCellPadY+float64(j)*pdfLineH)
			pdf.CellFormat(pw.widths[i], pdfLineH, l, "", 0, pw.aligns[i], false, 0, "")
		}
		x += pw.widths[i]
	}
	// A hairline under each row guides the eye across wide tables.
	pdf.SetDrawColor(200, 200, 200)
	pdf.SetLineWidth(0.1)
	pdf.Line(x0, y0+h, x0+pw.tableWidth(), y0+h)
	pdf.SetXY(x0, y0+h)
}

func (pw *pdfWriter) tableWidth() float64 {
	w := 0.0
	for _, cw := range pw.widths {
		w += cw
	}
	return w
}

func (pw *pdfWriter) WriteRow(values []any) error {
	if pw.done {
		return ErrClosed
	}
	if err := checkRowLen(values, pw.cols); err != nil {
		return err
	}
	if pw.rows >= MaxPDFRows {
		return fmt.Errorf("%w: PDF exports are limited to %d rows; use CSV", ErrTooManyRows, MaxPDFRows)
	}
	pdf := pw.pdf
	for i, v := range values {
		s, err := pw.format(i, v)
		if err != nil {
			return err
		}
		if pw.cols[i].Kind == Text {
			pw.lines[i] = wrapText(pdf, s, pw.cellTextWidth(i), pdfMaxLines)
		} else {
			pw.lines[i] = append(pw.lines[i][:0], truncateText(pdf, s, pw.cellTextWidth(i)))
		}
	}
	n := 1
	for _, l := range pw.lines {
		n = max(n, len(l))
	}
	h := float64(n)*pdfLineH + 2*pdfCellPadY
	_, pageH := pdf.GetPageSize()
	if pdf.GetY()+h > pageH-pdfMargin-pdfFooterSpace {
		// AddPage runs drawPageHeader, which overwrites pw.lines with the
		// titles; keep this row's lines aside until it is done.
		saved := pw.lines
		pw.lines = make([][]string, len(pw.cols))
		pdf.AddPage()
		pw.lines = saved
	}
	// Zebra striping: every other row shaded for readability.
	pdf.SetFillColor(245, 245, 245)
	pw.drawCells(pw.rows%2 == 1)
	pw.rows++
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("export: pdf: %w", err)
	}
	return nil
}

// format renders a value as the text shown in the table.
func (pw *pdfWriter) format(i int, v any) (string, error) {
	return cellText(pw.cols, i, v, pw.loc, cleanPDFText, pdfTimeLayout)
}

func (pw *pdfWriter) Close() error {
	if pw.done {
		return ErrClosed
	}
	pw.done = true
	pdf := pw.pdf
	if pw.rows == 0 {
		pdf.SetFont(pdfFontFamily, "", 9)
		pdf.Ln(2)
		pdf.CellFormat(0, 6, "No entries match these filters.", "", 1, "L", false, 0, "")
	}
	// Output finishes the document (last footer, {nb} substitution,
	// compression) and writes it.
	if err := pdf.Output(pw.out); err != nil {
		return fmt.Errorf("export: pdf: %w", err)
	}
	return nil
}

// cleanPDFText makes arbitrary user text safe for fpdf: invalid UTF-8 and
// characters beyond the Basic Multilingual Plane (emoji...) become "?",
// since fpdf's UTF-8 font code indexes a 65,536-entry width table and would
// panic on them; tabs become spaces and other control characters are
// dropped, keeping newlines for wrapping.
func cleanPDFText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r > 0xFFFF || (r < 0x20 && r != '\n') || r == 0x7F {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError || r > 0xFFFF:
			return '?'
		case r == '\t' || r == '\r':
			return ' '
		case r == '\n':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// wrapText breaks s into lines no wider than w in the current font, breaking
// at spaces where possible and inside words otherwise, honouring newlines.
// Past maxLines the last kept line is cut and ends with an ellipsis. fpdf's
// own SplitText is not used because it indexes its width table by rune and
// panics on characters outside it.
func wrapText(pdf *fpdf.Fpdf, s string, w float64, maxLines int) []string {
	if !strings.ContainsRune(s, '\n') && pdf.GetStringWidth(s) <= w {
		return []string{s}
	}
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = appendWrapped(lines, pdf, para, w, maxLines+1)
		if len(lines) > maxLines {
			break
		}
	}
	// Trailing newlines would otherwise leave blank lines at the end.
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = truncateText(pdf, lines[maxLines-1]+"…", w)
	}
	return lines
}

// appendWrapped appends the wrapped lines of one paragraph, stopping once
// lines holds limit entries so huge cells cost no more than a few lines.
func appendWrapped(lines []string, pdf *fpdf.Fpdf, para string, w float64, limit int) []string {
	words := strings.Fields(para)
	if len(words) == 0 {
		return append(lines, "")
	}
	line := ""
	for _, word := range words {
		if len(lines) >= limit {
			return lines
		}
		candidate := word
		if line != "" {
			candidate = line + " " + word
		}
		if pdf.GetStringWidth(candidate) <= w {
			line = candidate
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		// A word wider than the column is split by characters.
		for pdf.GetStringWidth(word) > w && len(lines) < limit {
			head := fitPrefix(pdf, word, w)
			lines = append(lines, head)
			word = word[len(head):]
		}
		line = word
	}
	return append(lines, line)
}

// truncateText returns s if it fits in w, else its longest prefix that fits
// followed by an ellipsis.
func truncateText(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w {
		return s
	}
	const ellipsis = "…"
	head := fitPrefix(pdf, s, w-pdf.GetStringWidth(ellipsis))
	return strings.TrimRight(head, " ") + ellipsis
}

// fitPrefix returns the longest prefix of s (whole runes, at least one rune
// so wrapping always progresses) whose width is at most w.
func fitPrefix(pdf *fpdf.Fpdf, s string, w float64) string {
	lo, hi := 0, len(s) // byte offsets; binary search over rune boundaries
	best := 0
	for lo <= hi {
		mid := (lo + hi) / 2
		for mid > 0 && mid < len(s) && !utf8.RuneStart(s[mid]) {
			mid--
		}
		if pdf.GetStringWidth(s[:mid]) <= w {
			best = mid
			lo = mid + 1
			// Advance lo to the next rune boundary.
			for lo < len(s) && !utf8.RuneStart(s[lo]) {
				lo++
			}
		} else {
			hi = mid - 1
		}
	}
	if best == 0 && len(s) > 0 {
		_, size := utf8.DecodeRuneInString(s)
		best = size
	}
	return s[:best]
}
