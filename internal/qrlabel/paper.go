package qrlabel

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Paper describes a sheet of adhesive labels. All lengths are millimetres.
// GapX/GapY are the blank space between neighbouring labels (pitch minus
// label size), MarginTop/MarginLeft the distance from the page edge to the
// first label.
type Paper struct {
	Name                  string
	PageW, PageH          float64
	MarginTop, MarginLeft float64
	LabelW, LabelH        float64
	GapX, GapY            float64
	Cols, Rows            int
}

// PerPage is the number of labels on one sheet.
func (p Paper) PerPage() int { return p.Cols * p.Rows }

// papers holds the built-in layouts. It is unexported and only read, so
// callers cannot change a layout under another request's feet; they get
// copies from PaperByName. Dimensions are the manufacturers' published
// templates (label size, pitch, top and side margins).
var papers = map[string]Paper{
	// Avery L7160 / J8160: A4, 21 per sheet, 63.5×38.1 mm, pitch 66.0×38.1.
	"avery-l7160": {Name: "avery-l7160", PageW: 210, PageH: 297, MarginTop: 15.15, MarginLeft: 7.25,
		LabelW: 63.5, LabelH: 38.1, GapX: 2.5, GapY: 0, Cols: 3, Rows: 7},
	// Avery L7159 / J8159: A4, 24 per sheet, 63.5×33.9 mm, pitch 66.0×33.9.
	"avery-l7159": {Name: "avery-l7159", PageW: 210, PageH: 297, MarginTop: 12.9, MarginLeft: 7.25,
		LabelW: 63.5, LabelH: 33.9, GapX: 2.5, GapY: 0, Cols: 3, Rows: 8},
	// Avery 5160: US Letter, 30 per sheet, 2.625×1 in, pitch 2.75×1 in,
	// 0.5 in top margin, 0.1875 in side margin.
	"avery-5160": {Name: "avery-5160", PageW: 215.9, PageH: 279.4, MarginTop: 12.7, MarginLeft: 4.7625,
		LabelW: 66.675, LabelH: 25.4, GapX: 3.175, GapY: 0, Cols: 3, Rows: 10},
	// Generic A4 3×8 edge-to-edge sheets (70×37 mm, e.g. Avery 3474 and
	// most store brands), centred vertically: 8×37 = 296 mm.
	"a4-3x8": {Name: "a4-3x8", PageW: 210, PageH: 297, MarginTop: 0.5, MarginLeft: 0,
		LabelW: 70, LabelH: 37, GapX: 0, GapY: 0, Cols: 3, Rows: 8},
}

// PaperByName returns a built-in label paper by name (case-insensitive).
func PaperByName(name string) (Paper, bool) {
	p, ok := papers[strings.ToLower(strings.TrimSpace(name))]
	return p, ok
}

// PaperNames lists the built-in papers, sorted, e.g. for a select box.
func PaperNames() []string {
	names := make([]string, 0, len(papers))
	for n := range papers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Limits on custom papers: generous for real stock, but they stop a
// user-supplied layout from asking for absurd pages or label counts.
const (
	maxPageMM      = 1200 // a bit over A0's long side
	maxPerPage     = 1000
	fitToleranceMM = 0.05 // mm of rounding slack in published templates
)

// Validate reports whether p is a usable layout: positive sizes, at least one
// label, and the grid fits on the page. Sheet calls it; callers accepting a
// custom paper from a form can call it first for a friendlier error.
func (p Paper) Validate() error {
	for _, v := range []struct {
		name string
		val  float64
		pos  bool // must be > 0 (else >= 0)
	}{
		{"page width", p.PageW, true}, {"page height", p.PageH, true},
		{"label width", p.LabelW, true}, {"label height", p.LabelH, true},
		{"top margin", p.MarginTop, false}, {"left margin", p.MarginLeft, false},
		{"horizontal gap", p.GapX, false}, {"vertical gap", p.GapY, false},
	} {
		switch {
		case math.IsNaN(v.val) || math.IsInf(v.val, 0) || v.val > maxPageMM:
			return fmt.Errorf("qrlabel: paper %q: %s %v mm out of range", p.Name, v.name, v.val)
		case v.pos && v.val <= 0:
			return fmt.Errorf("qrlabel: paper %q: %s must be positive", p.Name, v.name)
		case v.val < 0:
			return fmt.Errorf("qrlabel: paper %q: %s must not be negative", p.Name, v.name)
		}
	}
	if p.Cols < 1 || p.Rows < 1 || p.Cols > maxPerPage || p.Rows > maxPerPage || p.Cols*p.Rows > maxPerPage {
		return fmt.Errorf("qrlabel: paper %q: %d×%d labels per page out of range (1 to %d)", p.Name, p.Cols, p.Rows, maxPerPage)
	}
	if right := p.MarginLeft + float64(p.Cols)*p.LabelW + float64(p.Cols-1)*p.GapX; right > p.PageW+fitToleranceMM {
		return fmt.Errorf("qrlabel: paper %q: %d columns need %.2f mm but the page is %.2f mm wide", p.Name, p.Cols, right, p.PageW)
	}
	if bottom := p.MarginTop + float64(p.Rows)*p.LabelH + float64(p.Rows-1)*p.GapY; bottom > p.PageH+fitToleranceMM {
		return fmt.Errorf("qrlabel: paper %q: %d rows need %.2f mm but the page is %.2f mm tall", p.Name, p.Rows, bottom, p.PageH)
	}
	return nil
}
