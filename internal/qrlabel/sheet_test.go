package qrlabel

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/popplertest"
)

func TestPapers(t *testing.T) {
	names := PaperNames()
	if !sort.StringsAreSorted(names) {
		t.Errorf("PaperNames not sorted: %v", names)
	}
	for _, want := range []string{"avery-l7160", "avery-5160", "a4-3x8"} {
		if _, ok := PaperByName(want); !ok {
			t.Errorf("paper %q missing", want)
		}
	}
	for _, n := range names {
		p, ok := PaperByName(n)
		if !ok || p.Name != n {
			t.Errorf("PaperByName(%q) = %+v, %v", n, p, ok)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("built-in paper %q invalid: %v", n, err)
		}
	}
	// Published templates: the grid should be centred on the page to
	// within rounding (a wrong margin or pitch shows up here).
	for _, n := range names {
		p, _ := PaperByName(n)
		right := p.PageW - p.MarginLeft - float64(p.Cols)*p.LabelW - float64(p.Cols-1)*p.GapX
		bottom := p.PageH - p.MarginTop - float64(p.Rows)*p.LabelH - float64(p.Rows-1)*p.GapY
		if math.Abs(right-p.MarginLeft) > 0.1 || math.Abs(bottom-p.MarginTop) > 0.1 {
			t.Errorf("%s: grid not centred: left %.2f right %.2f top %.2f bottom %.2f", n, p.MarginLeft, right, p.MarginTop, bottom)
		}
	}

	l7160, _ := PaperByName("Avery-L7160 ")
	if l7160.PageW != 210 || l7160.PageH != 297 || l7160.Cols != 3 || l7160.Rows != 7 || l7160.LabelW != 63.5 || l7160.LabelH != 38.1 {
		t.Errorf("avery-l7160 = %+v", l7160)
	}
	l5160, _ := PaperByName("avery-5160")
	if l5160.PageW != 215.9 || l5160.PageH != 279.4 || l5160.Cols != 3 || l5160.Rows != 10 || math.Abs(l5160.LabelW-66.7) > 0.05 || l5160.LabelH != 25.4 {
		t.Errorf("avery-5160 = %+v", l5160)
	}
	if _, ok := PaperByName("nope"); ok {
		t.Error("PaperByName(nope) found something")
	}

	// Callers get copies: changing one does not change the registry.
	l7160.Cols = 99
	names[0] = "changed"
	if p, _ := PaperByName("avery-l7160"); p.Cols != 3 {
		t.Error("PaperByName returned shared state")
	}
	if PaperNames()[0] == "changed" {
		t.Error("PaperNames returned shared state")
	}
}

func TestPaperValidate(t *testing.T) {
	base, _ := PaperByName("avery-l7160")
	tests := []struct {
		name string
		edit func(*Paper)
	}{
		{"zero page", func(p *Paper) { p.PageW = 0 }},
		{"negative label", func(p *Paper) { p.LabelH = -1 }},
		{"negative gap", func(p *Paper) { p.GapX = -1 }},
		{"negative margin", func(p *Paper) { p.MarginTop = -1 }},
		{"NaN", func(p *Paper) { p.LabelW = math.NaN() }},
		{"Inf", func(p *Paper) { p.PageH = math.Inf(1) }},
		{"huge page", func(p *Paper) { p.PageW = 1e6 }},
		{"no cols", func(p *Paper) { p.Cols = 0 }},
		{"too many", func(p *Paper) { p.Cols, p.Rows = 100, 100 }},
		{"too wide", func(p *Paper) { p.Cols = 4 }},
		{"too tall", func(p *Paper) { p.Rows = 8 }},
	}
	for _, tt := range tests {
		p := base
		tt.edit(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", tt.name, p)
		}
		if err := Sheet(&bytes.Buffer{}, []Label{{WorkspaceID: 1, Tag: "A"}}, p); err == nil {
			t.Errorf("%s: Sheet accepted %+v", tt.name, p)
		}
	}
}

func manyLabels(n int) []Label {
	ls := make([]Label, n)
	for i := range ls {
		ls[i] = Label{WorkspaceID: 7, Tag: fmt.Sprintf("LAP-%05d", i+1), Name: fmt.Sprintf("Laptop %d", i+1), Location: "Store room"}
	}
	return ls
}

// pdfPageObjects counts page objects in the written file, independently of
// fpdf's own bookkeeping.
var pdfPageObjects = regexp.MustCompile(`/Type /Page\b[^s]`)

func TestSheetPageCounts(t *testing.T) {
	tests := []struct {
		paper string
		n     int
		pages int
	}{
		{"avery-l7160", 1, 1},
		{"avery-l7160", 21, 1},
		{"avery-l7160", 22, 2},
		{"avery-l7160", 43, 3},
		{"avery-l7159", 24, 1},
		{"avery-l7159", 25, 2},
		{"avery-5160", 30, 1},
		{"avery-5160", 31, 2},
		{"a4-3x8", 48, 2},
		{"a4-3x8", 49, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.paper, tt.n), func(t *testing.T) {
			p, _ := PaperByName(tt.paper)
			var buf bytes.Buffer
			if err := Sheet(&buf, manyLabels(tt.n), p); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
				t.Fatalf("output is not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
			}
			if got := len(pdfPageObjects.FindAll(buf.Bytes(), -1)); got != tt.pages {
				t.Errorf("PDF has %d page objects, want %d", got, tt.pages)
			}
		})
	}
}

func TestSheetErrors(t *testing.T) {
	p, _ := PaperByName("avery-l7160")
	var buf bytes.Buffer
	if err := Sheet(&buf, nil, p); err == nil {
		t.Error("Sheet with no labels succeeded")
	}
	ls := manyLabels(5)
	ls[3].Tag = "bad tag"
	err := Sheet(&buf, ls, p)
	if !errors.Is(err, ErrBadTag) || !strings.Contains(err.Error(), "label 4") {
		t.Errorf("Sheet error = %v, want ErrBadTag naming label 4", err)
	}
	if err := Sheet(&buf, make([]Label, MaxSheetLabels+1), p); err == nil {
		t.Error("Sheet with too many labels succeeded")
	}
	if buf.Len() != 0 {
		t.Errorf("failed Sheet calls wrote %d bytes", buf.Len())
	}
}

// TestSheetScansBack prints a sheet, rasterises page 1 at 300 dpi with
// poppler's pdftoppm (as a printer driver would), crops single labels out of
// it and scans them with ZXing. Skipped where pdftoppm is not installed
// (Debian: apt-get install poppler-utils), failed if
// STOCKTRAIL_REQUIRE_POPPLER=1.
func TestSheetScansBack(t *testing.T) {
	pdftoppm := popplertest.Tool(t, "pdftoppm")
	for _, name := range []string{"avery-l7160", "avery-5160"} {
		t.Run(name, func(t *testing.T) {
			paper, _ := PaperByName(name)
			labels := manyLabels(paper.PerPage() + 1)
			// Worst cases on the page: the longest payload, and one in
			// the bottom-right corner next to the page edge.
			labels[1] = Label{WorkspaceID: 9223372036854775807, Tag: strings.Repeat("Ab-9", 16), Name: "Longest payload"}
			labels[4].Name = "Größe/Размер ✓"

			dir := t.TempDir()
			pdfPath := filepath.Join(dir, "sheet.pdf")
			var buf bytes.Buffer
			if err := Sheet(&buf, labels, paper); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pdfPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			const dpi = 300
			out, err := exec.Command(pdftoppm, "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-gray", "-png", pdfPath, filepath.Join(dir, "page")).CombinedOutput()
			if err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
			if len(pngs) != 1 {
				t.Fatalf("pdftoppm wrote %v, want one page", pngs)
			}
			f, err := os.Open(pngs[0])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			page, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			mmToPx := func(mm float64) int { return int(math.Round(mm / 25.4 * dpi)) }
			if got, want := page.Bounds().Dx(), mmToPx(paper.PageW); abs(got-want) > 2 {
				t.Errorf("page is %d px wide at %d dpi, want %d", got, dpi, want)
			}
			sub, ok := page.(interface {
				SubImage(image.Rectangle) image.Image
			})
			if !ok {
				t.Fatalf("page image %T cannot be cropped", page)
			}
			for _, i := range []int{0, 1, paper.PerPage() - 1} {
				col, row := i%paper.Cols, i/paper.Cols
				x := paper.MarginLeft + float64(col)*(paper.LabelW+paper.GapX)
				y := paper.MarginTop + float64(row)*(paper.LabelH+paper.GapY)
				crop := image.Rect(mmToPx(x), mmToPx(y), mmToPx(x+paper.LabelW), mmToPx(y+paper.LabelH))
				got := decodeQR(t, sub.SubImage(crop))
				assertScansBack(t, got, labels[i])
			}
		})
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
