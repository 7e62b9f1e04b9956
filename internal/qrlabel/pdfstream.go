package qrlabel

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// pdfStream writes a label sheet as a PDF one page at a time: each page's
// content is compressed and written as soon as the page is full, so memory
// stays at one page however many labels the sheet has. (fpdf, which the
// table exports use, keeps every page until the end: 5,000 labels peaked
// at over 100 MB of heap.) A PDF allows this: objects may come in any
// order, and the page tree, the fonts' width tables and the cross-reference
// table, which need the whole document, are written last.
//
// It draws what labels need and nothing more: filled paths and text in the
// two Go fonts, embedded whole as TrueType (CIDFontType2, Identity-H), with
// a ToUnicode map so the text can be searched and copied.
type pdfStream struct {
	w       *bufio.Writer
	written int64
	err     error
	// offsets[n] is where object n starts; 0 for objects not written yet.
	offsets  []int64
	pageObjs []int
	page     bytes.Buffer
	pageW    float64
	pageH    float64
	fonts    []*pdfFont
	cur      *pdfFont
	size     float64
	// zw compresses every page, reset for each: one compressor's tables
	// instead of one per page.
	zw *zlib.Writer
	z  bytes.Buffer
}

// Object numbers fixed before the first page.
const (
	objCatalog = 1
	objPages   = 2
	objInfo    = 3
	objFonts   = 4 // five objects per font from here
)

// pdfFont is one embedded TrueType font and the glyphs the sheet used.
type pdfFont struct {
	name  string // resource name, F1, F2
	base  string // PostScript name
	style string // fpdf style letter: "" or "B"
	ttf   []byte
	f     *sfnt.Font
	buf   sfnt.Buffer
	upem  float64
	obj   int // Type0 font; obj+1 CIDFont, +2 descriptor, +3 font file, +4 ToUnicode
	// used maps each glyph drawn to its width (1/1000 em) and a rune it
	// stands for.
	used map[sfnt.GlyphIndex]glyphUse
	// glyphs caches rune lookups.
	glyphs map[rune]glyphUse
}

type glyphUse struct {
	gid   sfnt.GlyphIndex
	width float64 // in 1/1000 em
	r     rune
}

func newPDFStream(w io.Writer, pageW, pageH float64) (*pdfStream, error) {
	s := &pdfStream{w: bufio.NewWriterSize(w, 64<<10), pageW: pageW, pageH: pageH}
	for i, src := range []struct {
		base, style string
		ttf         []byte
	}{{"GoRegular", "", goregular.TTF}, {"GoBold", "B", gobold.TTF}} {
		f, err := sfnt.Parse(src.ttf)
		if err != nil {
			return nil, fmt.Errorf("qrlabel: font %s: %w", src.base, err)
		}
		s.fonts = append(s.fonts, &pdfFont{name: "F" + strconv.Itoa(i+1), base: src.base, style: src.style, ttf: src.ttf, f: f,
			upem: float64(f.UnitsPerEm()), obj: objFonts + 5*i, used: map[sfnt.GlyphIndex]glyphUse{}, glyphs: map[rune]glyphUse{}})
	}
	s.offsets = make([]int64, objFonts+5*len(s.fonts))
	s.raw("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// The font programs do not depend on what is drawn: out of the way first.
	for _, f := range s.fonts {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(f.ttf)
		zw.Close()
		s.stream(f.obj+3, fmt.Sprintf("/Length1 %d /Filter /FlateDecode", len(f.ttf)), z.Bytes())
	}
	return s, s.err
}

func (s *pdfStream) raw(text string) {
	if s.err != nil {
		return
	}
	n, err := s.w.WriteString(text)
	s.written += int64(n)
	s.err = err
}

func (s *pdfStream) rawBytes(b []byte) {
	if s.err != nil {
		return
	}
	n, err := s.w.Write(b)
	s.written += int64(n)
	s.err = err
}

// newObject reserves the next object number.
func (s *pdfStream) newObject() int {
	s.offsets = append(s.offsets, 0)
	return len(s.offsets) - 1
}

func (s *pdfStream) object(n int, body string) {
	s.offsets[n] = s.written
	s.raw(strconv.Itoa(n) + " 0 obj\n" + body + "\nendobj\n")
}

func (s *pdfStream) stream(n int, dict string, data []byte) {
	s.offsets[n] = s.written
	s.raw(fmt.Sprintf("%d 0 obj\n<< /Length %d %s >>\nstream\n", n, len(data), dict))
	s.rawBytes(data)
	s.raw("\nendstream\nendobj\n")
}

// AddPage ends the page being drawn, if any, and starts a new one.
func (s *pdfStream) AddPage() {
	s.endPage()
	s.page.Reset()
	s.page.WriteString("0 g\n")
	s.pageObjs = append(s.pageObjs, 0) // numbered when written
}

// endPage compresses the current page's content and writes it and its page
// object.
func (s *pdfStream) endPage() {
	if len(s.pageObjs) == 0 || s.pageObjs[len(s.pageObjs)-1] != 0 {
		return
	}
	s.z.Reset()
	if s.zw == nil {
		// Pages of paths and numbers compress well at the fastest level;
		// the best level took twice the time for 10% less.
		s.zw, _ = zlib.NewWriterLevel(&s.z, zlib.BestSpeed)
	} else {
		s.zw.Reset(&s.z)
	}
	s.zw.Write(s.page.Bytes())
	s.zw.Close()
	content := s.newObject()
	s.stream(content, "/Filter /FlateDecode", s.z.Bytes())
	pageObj := s.newObject()
	var fonts bytes.Buffer
	for _, f := range s.fonts {
		fmt.Fprintf(&fonts, " /%s %d 0 R", f.name, f.obj)
	}
	s.object(pageObj, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Contents %d 0 R /Resources << /Font <<%s >> >> >>",
		objPages, num(s.pageW*ptPerMM), num(s.pageH*ptPerMM), content, fonts.String()))
	s.pageObjs[len(s.pageObjs)-1] = pageObj
}

const ptPerMM = 72 / 25.4

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// point converts millimetres from the top-left corner to PDF points from
// the bottom-left one.
func (s *pdfStream) point(x, y float64) string {
	return num(x*ptPerMM) + " " + num((s.pageH-y)*ptPerMM)
}

func (s *pdfStream) MoveTo(x, y float64) { s.page.WriteString(s.point(x, y) + " m\n") }
func (s *pdfStream) LineTo(x, y float64) { s.page.WriteString(s.point(x, y) + " l\n") }
func (s *pdfStream) ClosePath()          { s.page.WriteString("h\n") }

// DrawPath fills the path drawn since the last one ("F": nonzero rule).
func (s *pdfStream) DrawPath(style string) { s.page.WriteString("f\n") }

func (s *pdfStream) SetFont(family, style string, size float64) {
	for _, f := range s.fonts {
		if f.style == style {
			s.cur = f
		}
	}
	s.size = size
}

func (f *pdfFont) glyph(r rune) glyphUse {
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	g := glyphUse{r: r}
	g.gid, _ = f.f.GlyphIndex(&f.buf, r) // 0, the missing glyph, when absent
	adv, err := f.f.GlyphAdvance(&f.buf, g.gid, fixed.I(int(f.upem)), font.HintingNone)
	if err == nil {
		g.width = float64(adv) / 64 * 1000 / f.upem
	}
	f.glyphs[r] = g
	return g
}

// GetStringWidth is the width of text in the current font, in millimetres.
func (s *pdfStream) GetStringWidth(text string) float64 {
	w := 0.0
	for _, r := range text {
		w += s.cur.glyph(r).width
	}
	return w / 1000 * s.size / ptPerMM
}

// Text draws text with its baseline starting at (x, y).
func (s *pdfStream) Text(x, y float64, text string) {
	var hex bytes.Buffer
	for _, r := range text {
		g := s.cur.glyph(r)
		if _, ok := s.cur.used[g.gid]; !ok {
			s.cur.used[g.gid] = g
		}
		fmt.Fprintf(&hex, "%04X", uint16(g.gid))
	}
	fmt.Fprintf(&s.page, "BT /%s %s Tf 1 0 0 1 %s Tm <%s> Tj ET\n", s.cur.name, num(s.size), s.point(x, y), hex.String())
}

// Close writes the last page, the fonts' tables, the page tree and the
// cross-reference table.
func (s *pdfStream) Close() error {
	s.endPage()
	for _, f := range s.fonts {
		s.writeFont(f)
	}
	var kids bytes.Buffer
	for _, n := range s.pageObjs {
		fmt.Fprintf(&kids, "%d 0 R ", n)
	}
	s.object(objPages, fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", len(s.pageObjs), kids.String()))
	s.object(objCatalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", objPages))
	s.object(objInfo, "<< /Creator (stocktrail) /Producer (stocktrail qrlabel) /Title (Asset labels) >>")
	xref := s.written
	var x bytes.Buffer
	fmt.Fprintf(&x, "xref\n0 %d\n0000000000 65535 f \n", len(s.offsets))
	for _, off := range s.offsets[1:] {
		fmt.Fprintf(&x, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&x, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(s.offsets), objCatalog, objInfo, xref)
	s.rawBytes(x.Bytes())
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

func (s *pdfStream) writeFont(f *pdfFont) {
	gids := make([]sfnt.GlyphIndex, 0, len(f.used))
	for g := range f.used {
		gids = append(gids, g)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	var widths, cmap bytes.Buffer
	for _, g := range gids {
		fmt.Fprintf(&widths, "%d [%s] ", g, num(f.used[g].width))
	}
	s.object(f.obj, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		f.base, f.obj+1, f.obj+4))
	s.object(f.obj+1, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "+
		"/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 600 /W [%s] >>", f.base, f.obj+2, widths.String()))
	m, _ := f.f.Metrics(&f.buf, fixed.I(int(f.upem)), font.HintingNone)
	b, _ := f.f.Bounds(&f.buf, fixed.I(int(f.upem)), font.HintingNone)
	unit := func(v fixed.Int26_6) string { return num(float64(v) / 64 * 1000 / f.upem) }
	s.object(f.obj+2, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [%s %s %s %s] /ItalicAngle 0 /Ascent %s /Descent -%s "+
		"/CapHeight %s /StemV 80 /FontFile2 %d 0 R >>", f.base, unit(b.Min.X), unit(-b.Max.Y), unit(b.Max.X), unit(-b.Min.Y),
		unit(m.Ascent), unit(m.Descent), unit(m.CapHeight), f.obj+3))
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&cmap, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			fmt.Fprintf(&cmap, "<%04X> <", uint16(g))
			for _, u := range utf16.Encode([]rune{f.used[g].r}) {
				fmt.Fprintf(&cmap, "%04X", u)
			}
			cmap.WriteString(">\n")
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	s.stream(f.obj+4, "", cmap.Bytes())
}
