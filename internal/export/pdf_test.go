package export

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/popplertest"
)

// auditCols mirrors the activity audit-log export.
var auditCols = []Column{
	{Title: "Timestamp", Kind: Time},
	{Title: "User", Kind: Text},
	{Title: "Action", Kind: Text},
	{Title: "Details", Kind: Text, Width: 50},
	{Title: "Quantity", Kind: Number},
	{Title: "Entry", Kind: Integer},
}

var auditMeta = PDFMeta{
	Title:     "Activity audit log",
	Filters:   []string{"User: alice", "Action: adjust", "From: 2024-03-01"},
	Generated: time.Date(2024, 3, 5, 16, 45, 0, 0, time.UTC),
}

// writePDF renders n audit rows (plus any extra rows) and returns the file.
func writePDF(t *testing.T, n int, loc *time.Location, meta PDFMeta, extra ...[]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw, err := NewPDF(&buf, auditCols, loc, meta)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range extra {
		if err := tw.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		row := []any{base.Add(time.Duration(i) * time.Minute), "alice", "adjust",
			fmt.Sprintf("Adjusted SKU-%d after cycle count", i), "-1.500", int64(i)}
		if err := tw.WriteRow(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pdfText extracts the text of one page with poppler's pdftotext, skipping
// the test when poppler-utils is not installed (failing it when
// STOCKTRAIL_REQUIRE_POPPLER=1).
func pdfText(t *testing.T, pdf []byte, page int) string {
	t.Helper()
	bin := popplertest.Tool(t, "pdftotext")
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa(page)
	out, err := exec.Command(bin, "-layout", "-f", p, "-l", p, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

var pageOfRE = regexp.MustCompile(`Page (\d+) of (\d+)`)

// pageCount reads "Page N of M" from page 1's footer.
func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	m := pageOfRE.FindStringSubmatch(pdfText(t, pdf, 1))
	if m == nil || m[1] != "1" {
		t.Fatalf("no \"Page 1 of M\" footer on page 1")
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

func TestPDFReport(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	long := strings.Repeat("very long details text that must wrap inside its column ", 12)
	doc := writePDF(t, 150, berlin, auditMeta,
		[]any{time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC), "zoë", "rename",
			"Grüße aus Köln — Привет, Αθήνα; emoji 📦 and CJK 東京 and\tcontrol\x01chars", "12.500", int64(-1)},
		[]any{nil, "bob", "note", long, nil, nil},
	)
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", doc[:min(len(doc), 16)])
	}
	if !bytes.Contains(doc[max(0, len(doc)-64):], []byte("%%EOF")) {
		t.Error("PDF trailer missing")
	}

	pages := pageCount(t, doc)
	if pages < 3 {
		t.Fatalf("got %d pages, want at least 3", pages)
	}
	first := pdfText(t, doc, 1)
	for _, want := range []string{
		"Activity audit log",
		"Filters: User: alice; Action: adjust; From: 2024-03-01",
		"Generated: 2024-03-05 17:45:00 CET (times shown in Europe/Berlin)",
		"Timestamp", "User", "Details", "Quantity",
		fmt.Sprintf("Page 1 of %d", pages),
		// Time cells are shown in the workspace zone.
		"2024-03-01 08:00:00",
		"Grüße aus Köln — Привет, Αθήνα",
		"12.500",
		"…", // the long text is cut after a few lines
	} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, first)
		}
	}
	// Wrapped text: the long cell spans several lines, not one clipped one.
	if strings.Count(first, "very long details") < 2 {
		t.Errorf("long text not wrapped:\n%s", first)
	}

	second := pdfText(t, doc, 2)
	for _, want := range []string{"Timestamp", "Details", "Quantity", "Activity audit log", fmt.Sprintf("Page 2 of %d", pages)} {
		if !strings.Contains(second, want) {
			t.Errorf("page 2 lacks %q (header row must repeat):\n%s", want, second)
		}
	}
	if strings.Contains(second, "Filters:") {
		t.Error("report framing repeated on page 2")
	}
	last := pdfText(t, doc, pages)
	if !strings.Contains(last, fmt.Sprintf("Page %d of %d", pages, pages)) {
		t.Errorf("last page footer wrong:\n%s", last)
	}
	if !strings.Contains(last, "Adjusted SKU-149 after cycle count") {
		t.Errorf("last row missing from last page:\n%s", last)
	}
}

func TestPDFNoRowsAndNoFilters(t *testing.T) {
	doc := writePDF(t, 0, nil, PDFMeta{Title: "Activity audit log", Generated: auditMeta.Generated})
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdfText(t, doc, 1)
	for _, want := range []string{"Filters: none", "No entries match these filters.", "Page 1 of 1", "Generated: 2024-03-05 16:45:00 UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q:\n%s", want, text)
		}
	}
}

func TestPDFRowCap(t *testing.T) {
	tw, err := NewPDF(&bytes.Buffer{}, auditCols, nil, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	// Building MaxPDFRows rows here would be slow; jump to the cap.
	tw.(*pdfWriter).rows = MaxPDFRows
	err = tw.WriteRow([]any{nil, nil, nil, nil, nil, nil})
	if !errors.Is(err, ErrTooManyRows) {
		t.Fatalf("err = %v, want ErrTooManyRows", err)
	}
	if !strings.Contains(err.Error(), "CSV") {
		t.Errorf("error does not point to CSV: %v", err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPDFRejectsBadValues(t *testing.T) {
	tw, err := NewPDF(&bytes.Buffer{}, auditCols, nil, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]any{
		{"2024-01-01", "u", "a", "d", "1", int64(1)}, // time as text
		{nil, "u", "a", "d", "=1", int64(1)},         // not a decimal
		{nil, "u", "a", "d", "1", "1"},               // integer as text
		{nil, "u", "a", "d", "1"},                    // short row
	} {
		if err := tw.WriteRow(row); err == nil {
			t.Errorf("accepted %v", row)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWrapText(t *testing.T) {
	tw, err := NewPDF(&bytes.Buffer{}, auditCols, nil, auditMeta)
	if err != nil {
		t.Fatal(err)
	}
	pdf := tw.(*pdfWriter).pdf
	const w = 30.0 // mm
	tests := []struct {
		name     string
		in       string
		maxLines int
		wantN    int
		cut      bool
	}{
		{"fits", "short", 3, 1, false},
		{"wraps at spaces", "one two three four five six seven eight", 3, 2, false},
		{"newlines kept", "a\nb\nc", 3, 3, false},
		{"too many lines", "a\nb\nc\nd", 3, 3, true},
		{"long word split", strings.Repeat("x", 60), 5, 3, false},
		{"huge text bounded", strings.Repeat("word ", 10000), 3, 3, true},
		{"trailing newline", "a\n", 3, 1, false},
		{"empty", "", 3, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := wrapText(pdf, tt.in, w, tt.maxLines)
			if len(lines) != tt.wantN {
				t.Errorf("got %d lines %q, want %d", len(lines), lines, tt.wantN)
			}
			for _, l := range lines {
				if pdf.GetStringWidth(l) > w {
					t.Errorf("line %q wider than %v", l, w)
				}
			}
			if cut := strings.HasSuffix(lines[len(lines)-1], "…"); cut != tt.cut {
				t.Errorf("ellipsis = %v, want %v: %q", cut, tt.cut, lines)
			}
		})
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCleanPDFText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"tab\there":       "tab here",
		"bell\x07gone":    "bellgone",
		"line\nbreak":     "line\nbreak",
		"box 📦":           "box ?",
		"bad \xff utf8":   "bad ? utf8",
		"Grüße Привет 東京": "Grüße Привет 東京",
	} {
		if got := cleanPDFText(in); got != want {
			t.Errorf("cleanPDFText(%q) = %q, want %q", in, got, want)
		}
	}
}
