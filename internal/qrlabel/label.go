package qrlabel

import (
	"fmt"
	"strings"

	qr "github.com/piglig/go-qr"
)

// Label is one asset's label as printed: the code plus human-readable text,
// so a label that no longer scans can still be typed in by hand.
type Label struct {
	WorkspaceID int64
	Tag         string
	Name        string // asset name, printed under (or beside) the code
	Location    string // optional, printed after the name
}

// quietZone is the blank margin around the symbol, in modules. ISO/IEC 18004
// asks for 4; phone readers cope with less, but cheap handheld scanners and
// labels sitting edge to edge on a sheet (L7160 has no vertical gap) do not.
const quietZone = 4

// recovery is the error-correction level. Q (~25%) rather than the usual M
// because asset labels live on tools and laptops and get scuffed; payloads
// are short, so it costs at most a version or two.
const recovery = qr.Quartile

// modules is a QR symbol without its quiet zone: n×n, dark[y*n+x].
type modules struct {
	n    int
	dark []bool
}

func (m modules) at(x, y int) bool { return m.dark[y*m.n+x] }

// runs calls fn for each horizontal run of dark modules, so renderers emit
// one rectangle per run instead of one per module (SVG/PDF stay small).
func (m modules) runs(fn func(x, y, length int)) {
	for y := 0; y < m.n; y++ {
		for x := 0; x < m.n; {
			if !m.at(x, y) {
				x++
				continue
			}
			start := x
			for x < m.n && m.at(x, y) {
				x++
			}
			fn(start, y, x-start)
		}
	}
}

// encode builds the QR symbol for a label after checking the label, so no
// renderer can print a code that Parse would reject.
func encode(l Label) (modules, error) {
	if err := checkLabel(l); err != nil {
		return modules{}, err
	}
	payload := Payload(l.WorkspaceID, l.Tag)
	// Optimal segments put "ST1:", the workspace digits and an upper-case
	// tag in the denser numeric and alphanumeric modes even when the tag
	// has lower-case letters, which keeps codes a version smaller.
	segs, err := qr.MakeSegmentsOptimally(payload, recovery, qr.MinVersion, qr.MaxVersion)
	if err != nil {
		return modules{}, fmt.Errorf("qrlabel: encoding %q: %w", l.Tag, err)
	}
	// Mask -1 lets the encoder choose; no ECC boost, so every label has the
	// same level whatever its length.
	q, err := qr.EncodeSegments(segs, recovery, qr.MinVersion, qr.MaxVersion, -1, false)
	if err != nil {
		return modules{}, fmt.Errorf("qrlabel: encoding %q: %w", l.Tag, err)
	}
	// The symbol has no quiet zone; each renderer draws its own.
	m := modules{n: q.Size(), dark: make([]bool, q.Size()*q.Size())}
	for y := 0; y < m.n; y++ {
		for x := 0; x < m.n; x++ {
			m.dark[y*m.n+x] = q.Module(x, y)
		}
	}
	return m, nil
}

func checkLabel(l Label) error {
	if l.WorkspaceID < 0 {
		return fmt.Errorf("qrlabel: label %q: negative workspace id %d", l.Tag, l.WorkspaceID)
	}
	if err := ValidTag(l.Tag); err != nil {
		return fmt.Errorf("label %q: %w", clip(l.Tag), err)
	}
	return nil
}

// printable drops control characters from free text (names, locations) and
// collapses runs of whitespace: they come from user input and would
// otherwise render as boxes or break the layout.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

const ellipsis = "…"

// wrap breaks text into at most maxLines lines for which fits reports true.
// It prefers to break at spaces, or after the separators tags use
// ('-', '_', '.', '/'), and ends the last line with an ellipsis if text is
// left over. truncated reports whether anything was dropped. Lines are never
// empty; a single character that does not fit is still placed so that
// progress is guaranteed.
func wrap(text string, maxLines int, fits func(string) bool) (lines []string, truncated bool) {
	rest := []rune(text)
	for len(rest) > 0 && len(lines) < maxLines {
		if fits(string(rest)) {
			return append(lines, string(rest)), false
		}
		if len(lines) == maxLines-1 {
			// Last line: keep as much as fits with an ellipsis.
			n := len(rest)
			for n > 0 && !fits(string(rest[:n])+ellipsis) {
				n--
			}
			line := strings.TrimRight(string(rest[:n]), " ") + ellipsis
			return append(lines, line), true
		}
		n := 1
		for n < len(rest) && fits(string(rest[:n+1])) {
			n++
		}
		cut := n
		for i := n; i > n/2 && i > 0; i-- {
			if rest[i] == ' ' || strings.ContainsRune("-_./", rest[i-1]) {
				cut = i
				break
			}
		}
		line := strings.TrimRight(string(rest[:cut]), " ")
		if line == "" {
			line = string(rest[:n])
			cut = n
		}
		lines = append(lines, line)
		rest = []rune(strings.TrimLeft(string(rest[cut:]), " "))
	}
	return lines, len(rest) > 0
}
