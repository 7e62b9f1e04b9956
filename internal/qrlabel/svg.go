package qrlabel

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// svgWidthMM is the physical width SVG declares. SVG coordinates are in
// modules (viewBox), so the drawing scales cleanly to any size; the declared
// width only sets a sensible default (about the width of common address
// labels) for viewers and print dialogs, and callers embedding the SVG can
// override it with CSS.
const svgWidthMM = 40.0

// SVG writes one label as a standalone SVG document: the QR code as vector
// modules (one path, crisp at any scale) with its quiet zone, and the tag,
// name and location as text centred underneath. Text uses the Go font if the
// viewer has it, else a generic sans-serif; since text width can then only
// be estimated, line breaks are computed with a conservative average glyph
// width.
func SVG(w io.Writer, l Label) error {
	m, err := encode(l)
	if err != nil {
		return err
	}
	width := float64(m.n + 2*quietZone) // in modules
	pad := width / 24
	avail := width - 2*pad

	type svgLine struct {
		text   string
		size   float64
		weight string
	}
	var lines []svgLine
	// The viewer picks the font, so widths are estimates: the average
	// advance of Go/DejaVu/Helvetica-like fonts is ~0.55 em for mixed text
	// (0.6 leaves slack for wide scripts), and bold capitals and digits
	// (typical tags) run to ~0.65 em.
	add := func(text string, sizes []float64, maxLines int, em float64, weight string) {
		text = printable(text)
		if text == "" {
			return
		}
		for i, fs := range sizes {
			fits := func(s string) bool { return float64(utf8.RuneCountInString(s))*em*fs <= avail }
			wrapped, cut := wrap(text, maxLines, fits)
			if !cut || i == len(sizes)-1 {
				for _, s := range wrapped {
					lines = append(lines, svgLine{s, fs, weight})
				}
				return
			}
		}
	}
	add(l.Tag, sizesBetween(width*0.09, width*0.045), 3, 0.65, "bold")
	add(l.Name, []float64{width * 0.065}, 2, 0.6, "normal")
	add(l.Location, []float64{width * 0.055}, 1, 0.6, "normal")

	y := width // text starts below the full quiet zone
	type placed struct {
		svgLine
		baseline float64
	}
	var out []placed
	for _, ln := range lines {
		y += ln.size * 0.95 // ascent
		out = append(out, placed{ln, y})
		y += ln.size * 0.3 // descent + leading
	}
	height := width
	if len(out) > 0 {
		height = y + pad
	}

	bw := bufio.NewWriter(w)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%smm" height="%smm" viewBox="0 0 %s %s">`+"\n",
		f(svgWidthMM), f(round3(svgWidthMM*height/width)), f(width), f(round3(height)))
	bw.WriteString("<title>")
	xml.EscapeText(bw, []byte(l.Tag))
	bw.WriteString("</title>\n")
	fmt.Fprintf(bw, `<rect width="%s" height="%s" fill="#fff"/>`+"\n", f(width), f(round3(height)))

	var d strings.Builder
	m.runs(func(x, y, n int) {
		fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, n, n)
	})
	fmt.Fprintf(bw, `<path d="%s" fill="#000" shape-rendering="crispEdges"/>`+"\n", d.String())

	if len(out) > 0 {
		fmt.Fprintf(bw, `<g font-family="Go, 'DejaVu Sans', Helvetica, Arial, sans-serif" text-anchor="middle" fill="#000">`+"\n")
		for _, ln := range out {
			fmt.Fprintf(bw, `<text x="%s" y="%s" font-size="%s" font-weight="%s">`, f(width/2), f(round3(ln.baseline)), f(round3(ln.size)), ln.weight)
			// EscapeText also replaces characters XML 1.0 forbids.
			xml.EscapeText(bw, []byte(ln.text))
			bw.WriteString("</text>\n")
		}
		bw.WriteString("</g>\n")
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// sizesBetween lists candidate font sizes from hi down to lo in ~10% steps.
func sizesBetween(hi, lo float64) []float64 {
	var out []float64
	for fs := hi; fs > lo; fs *= 0.9 {
		out = append(out, fs)
	}
	return append(out, lo)
}

func round3(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}
