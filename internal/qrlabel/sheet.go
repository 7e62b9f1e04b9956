package qrlabel

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxSheetLabels bounds one Sheet call (about 475 pages of L7160): enough
// for printing a whole register in one go, small enough that a request
// cannot make the server build an unbounded PDF in memory.
const MaxSheetLabels = 10000

const ptToMM = 25.4 / 72

// Sheet writes a PDF of labels laid out on paper, filling each page left to
// right, top to bottom, and starting a new page when one is full (22 labels
// on avery-l7160 make 2 pages). Every label is checked before anything is
// written, so a bad tag never yields a half-written PDF.
//
// Pages are written as they fill (see pdfStream): memory stays at about one
// page whatever the number of labels, so a whole register prints in one
// file. Codes are drawn as vector paths, not embedded bitmaps, so they stay
// sharp at any printer resolution; text uses the embedded Go fonts, so
// names in Latin, Greek or Cyrillic print without system fonts. Print at
// "actual size" (no fit-to-page), or the grid will not line up with the
// labels.
func Sheet(w io.Writer, labels []Label, paper Paper) error {
	if err := paper.Validate(); err != nil {
		return err
	}
	switch {
	case len(labels) == 0:
		return errors.New("qrlabel: no labels to print")
	case len(labels) > MaxSheetLabels:
		return fmt.Errorf("qrlabel: %d labels in one sheet, at most %d", len(labels), MaxSheetLabels)
	}
	for i, l := range labels {
		if err := checkLabel(l); err != nil {
			return fmt.Errorf("label %d: %w", i+1, err)
		}
	}
	pdf, err := newPDFStream(w, paper.PageW, paper.PageH)
	if err != nil {
		return err
	}
	per := paper.PerPage()
	for i, l := range labels {
		code, err := encode(l)
		if err != nil {
			return fmt.Errorf("label %d: %w", i+1, err)
		}
		k := i % per
		if k == 0 {
			pdf.AddPage()
		}
		col, row := k%paper.Cols, k/paper.Cols
		x := paper.MarginLeft + float64(col)*(paper.LabelW+paper.GapX)
		y := paper.MarginTop + float64(row)*(paper.LabelH+paper.GapY)
		drawLabel(pdf, x, y, paper.LabelW, paper.LabelH, l, code)
		if pdf.err != nil {
			return fmt.Errorf("qrlabel: writing PDF: %w", pdf.err)
		}
	}
	if err := pdf.Close(); err != nil {
		return fmt.Errorf("qrlabel: writing PDF: %w", err)
	}
	return nil
}

// canvas is what drawing a label needs of a PDF writer.
type canvas interface {
	MoveTo(x, y float64)
	LineTo(x, y float64)
	ClosePath()
	DrawPath(style string)
	SetFont(family, style string, size float64)
	GetStringWidth(s string) float64
	Text(x, y float64, text string)
}

// drawLabel draws one label in the cell at (x, y) of size lw×lh mm.
//
// Wide cells (all common address-label stock) put the code on the left at
// full cell height and the text beside it, which maximises module size;
// squarish or tall cells stack the text under the code. The quiet zone is
// always inside the code's square, because neighbouring labels may touch
// (L7160 and 5160 have no vertical gap) and their codes must not run into
// ours.
func drawLabel(pdf canvas, x, y, lw, lh float64, l Label, m modules) {
	pad := math.Min(math.Max(math.Min(lw, lh)*0.05, 1), 2.5)

	var qx, qy, side, tx, ty, tw, th float64
	align := "L"
	if lw >= lh*1.4 {
		side = math.Min(lh-2*pad, lw*0.5)
		qx, qy = x+pad, y+(lh-side)/2
		tx, tw = qx+side, lw-side-2*pad
		ty, th = y+pad, lh-2*pad
	} else {
		side = math.Min(lw-2*pad, (lh-2*pad)*0.7)
		qx, qy = x+(lw-side)/2, y+pad
		tx, tw = x+pad, lw-2*pad
		ty, th = qy+side, lh-2*pad-side
		align = "C"
	}

	mod := side / float64(m.n+2*quietZone)
	ox, oy := qx+quietZone*mod, qy+quietZone*mod
	// One filled path for the whole symbol: rasterisers compute coverage
	// for the union, so adjacent runs show no hairline seams (separate
	// rectangles can, which hurts decoding of low-resolution prints).
	m.runs(func(cx, cy, n int) {
		x0, y0 := ox+float64(cx)*mod, oy+float64(cy)*mod
		pdf.MoveTo(x0, y0)
		pdf.LineTo(x0+float64(n)*mod, y0)
		pdf.LineTo(x0+float64(n)*mod, y0+mod)
		pdf.LineTo(x0, y0+mod)
		pdf.ClosePath()
	})
	pdf.DrawPath("F")

	type line struct {
		text  string
		style string
		pt    float64
	}
	var lines []line
	add := func(text, style string, sizes []float64, maxLines int) {
		text = printable(text)
		if text == "" {
			return
		}
		for i, pt := range sizes {
			pdf.SetFont("go", style, pt)
			fits := func(s string) bool { return pdf.GetStringWidth(s) <= tw }
			wrapped, cut := wrap(text, maxLines, fits)
			if !cut || i == len(sizes)-1 {
				for _, s := range wrapped {
					lines = append(lines, line{s, style, pt})
				}
				return
			}
		}
	}
	add(l.Tag, "B", []float64{11, 10, 9, 8, 7, 6}, 4)
	add(l.Name, "", []float64{8, 7}, 2)
	add(l.Location, "", []float64{7, 6}, 1)

	// Keep the lines that fit the text box, in order of importance (tag,
	// name, location); the first tag line is always drawn.
	lineH := func(ln line) float64 { return ln.pt * ptToMM * 1.2 }
	used, n := 0.0, 0
	for n < len(lines) && (n == 0 || used+lineH(lines[n]) <= th) {
		used += lineH(lines[n])
		n++
	}
	lines = lines[:n]
	top := ty
	if align == "L" {
		top = ty + (th-used)/2 // centre the block beside the code
	}
	for _, ln := range lines {
		pdf.SetFont("go", ln.style, ln.pt)
		h := lineH(ln)
		lx := tx
		if align == "C" {
			lx = tx + (tw-pdf.GetStringWidth(ln.text))/2
		}
		// Baseline: half the 0.2 em leading plus Go's 0.93 em ascent,
		// in a 1.2 em line box, is ~0.86 of the box.
		pdf.Text(lx, top+h*0.86, ln.text)
		top += h
	}
}
