package qrlabel

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads a QR code from img with ZXing's reader, i.e. the way an
// ordinary scanner app would, not with anything from this package.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binary bitmap: %v", err)
	}
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("decoding QR: %v", err)
	}
	return res.GetText()
}

// assertScansBack checks the decoded text is exactly the payload and that
// Parse maps it back to the label's workspace and tag.
func assertScansBack(t *testing.T, got string, l Label) {
	t.Helper()
	if want := Payload(l.WorkspaceID, l.Tag); got != want {
		t.Fatalf("decoded %q, want %q", got, want)
	}
	ws, tag, err := Parse(got)
	if err != nil || ws != l.WorkspaceID || tag != l.Tag {
		t.Fatalf("Parse(%q) = (%d, %q, %v), want (%d, %q)", got, ws, tag, err, l.WorkspaceID, l.Tag)
	}
}

var sampleLabels = []Label{
	{WorkspaceID: 7, Tag: "LAP-00042", Name: "ThinkPad T14 (Anna)", Location: "Office 2.14"},
	{WorkspaceID: 123456, Tag: "drill_07/b.x", Name: "Akku-Bohrschrauber Größe M — Ersatzgerät für Werkstatt Süd", Location: "Lager / Regal 3"},
	{WorkspaceID: 9223372036854775807, Tag: strings.Repeat("Ab-9", 16), Name: "Осциллограф Rigol DS1054Z"},
	{WorkspaceID: 0, Tag: "BARE-1"},
	{WorkspaceID: 42, Tag: "X", Name: "ctrl\x00chars\tand\nnewlines", Location: "<&>\"'"},
}

func TestPNGScansBack(t *testing.T) {
	for _, l := range sampleLabels {
		for _, size := range []int{150, 300, 600} {
			t.Run(fmt.Sprintf("%s/%d", l.Tag, size), func(t *testing.T) {
				var buf bytes.Buffer
				if err := PNG(&buf, l, size); err != nil {
					t.Fatalf("PNG: %v", err)
				}
				img, err := png.Decode(&buf)
				if err != nil {
					t.Fatalf("png.Decode: %v", err)
				}
				b := img.Bounds()
				if b.Dx() != size {
					t.Errorf("width %d, want %d", b.Dx(), size)
				}
				if b.Dy() <= size {
					t.Errorf("height %d leaves no room for the tag under a %d px code", b.Dy(), size)
				}
				assertScansBack(t, decodeQR(t, img), l)
				// Something (the tag text) is drawn below the code.
				if !hasDarkPixel(img, image.Rect(0, size, b.Dx(), b.Dy())) {
					t.Errorf("no text drawn below the code")
				}
			})
		}
	}
}

func TestPNGSmallestSize(t *testing.T) {
	// The longest payload needs the most modules; at exactly 2 px per
	// module it must still decode.
	l := Label{WorkspaceID: 9223372036854775807, Tag: strings.Repeat("ab_", 21) + "z"}
	m, err := encode(l)
	if err != nil {
		t.Fatal(err)
	}
	size := (m.n + 2*quietZone) * minModulePx
	var buf bytes.Buffer
	if err := PNG(&buf, l, size); err != nil {
		t.Fatalf("PNG at %d px: %v", size, err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	assertScansBack(t, decodeQR(t, img), l)
	if err := PNG(io.Discard, l, size-1); err == nil {
		t.Errorf("PNG at %d px (below 2 px/module) succeeded", size-1)
	}
}

func TestPNGErrors(t *testing.T) {
	good := Label{WorkspaceID: 1, Tag: "A"}
	tests := []struct {
		name string
		l    Label
		size int
		is   error
	}{
		{"bad tag", Label{WorkspaceID: 1, Tag: "A B"}, 300, ErrBadTag},
		{"empty tag", Label{WorkspaceID: 1}, 300, ErrBadTag},
		{"negative workspace", Label{WorkspaceID: -1, Tag: "A"}, 300, nil},
		{"zero size", good, 0, nil},
		{"negative size", good, -5, nil},
		{"too small", good, 20, nil},
		{"too big", good, MaxPNGSize + 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := PNG(&buf, tt.l, tt.size)
			if err == nil {
				t.Fatal("PNG succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestSVGWellFormedAndScansBack(t *testing.T) {
	for _, l := range sampleLabels {
		t.Run(l.Tag, func(t *testing.T) {
			var buf bytes.Buffer
			if err := SVG(&buf, l); err != nil {
				t.Fatalf("SVG: %v", err)
			}
			doc := buf.String()

			// Well-formed XML, and collect what we need on the way.
			var (
				root  xml.StartElement
				pathD string
				texts []string
				inTxt bool
			)
			dec := xml.NewDecoder(strings.NewReader(doc))
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
				}
				switch tok := tok.(type) {
				case xml.StartElement:
					if root.Name.Local == "" {
						root = tok.Copy()
					}
					if tok.Name.Local == "path" {
						pathD = attr(tok, "d")
					}
					if tok.Name.Local == "text" {
						inTxt = true
						texts = append(texts, "")
					}
				case xml.EndElement:
					if tok.Name.Local == "text" {
						inTxt = false
					}
				case xml.CharData:
					if inTxt {
						texts[len(texts)-1] += string(tok)
					}
				}
			}
			if root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root element %v, want svg in the SVG namespace", root.Name)
			}
			var vbW, vbH float64
			if _, err := fmt.Sscanf(attr(root, "viewBox"), "0 0 %g %g", &vbW, &vbH); err != nil {
				t.Fatalf("viewBox %q: %v", attr(root, "viewBox"), err)
			}

			// The tag is printed in full (wrapped, not truncated).
			if joined := strings.Join(texts, ""); !strings.Contains(joined, l.Tag) {
				t.Errorf("text %q does not contain tag %q", joined, l.Tag)
			}
			for _, s := range texts {
				if strings.ContainsAny(s, "\x00\t\n") {
					t.Errorf("control character in text %q", s)
				}
			}
			if l.Location == "<&>\"'" && !strings.Contains(strings.Join(texts, "|"), l.Location) {
				t.Errorf("special characters not preserved: %q", texts)
			}

			// Rasterise the vector modules and scan them.
			img := rasterisePath(t, pathD, int(vbW), 8)
			assertScansBack(t, decodeQR(t, img), l)
		})
	}
}

func TestSVGRejectsBadLabel(t *testing.T) {
	var buf bytes.Buffer
	if err := SVG(&buf, Label{WorkspaceID: 1, Tag: "bad tag"}); !errors.Is(err, ErrBadTag) {
		t.Fatalf("SVG error = %v, want ErrBadTag", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes before failing", buf.Len())
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// rasterisePath draws the "M x y h n v1 h-n z" runs SVG emits onto a white
// image of width×width modules at scale px per module.
func rasterisePath(t *testing.T, d string, width, scale int) image.Image {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, width*scale, width*scale))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	runs := strings.Split(strings.TrimSuffix(d, "z"), "z")
	if len(runs) == 0 || d == "" {
		t.Fatal("empty path")
	}
	for _, r := range runs {
		var x, y, n, n2 int
		if _, err := fmt.Sscanf(r, "M%d %dh%dv1h-%d", &x, &y, &n, &n2); err != nil || n != n2 {
			t.Fatalf("unexpected path segment %q: %v", r, err)
		}
		draw.Draw(img, image.Rect(x*scale, y*scale, (x+n)*scale, (y+1)*scale), image.Black, image.Point{}, draw.Src)
	}
	return img
}

func hasDarkPixel(img image.Image, r image.Rectangle) bool {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 128 {
				return true
			}
		}
	}
	return false
}

func TestWrap(t *testing.T) {
	maxRunes := func(n int) func(string) bool {
		return func(s string) bool { return len([]rune(s)) <= n }
	}
	tests := []struct {
		text         string
		width, lines int
		want         []string
		cut          bool
	}{
		{"short", 10, 2, []string{"short"}, false},
		{"hello big world", 10, 2, []string{"hello big", "world"}, false},
		{"LAP-00042-SPARE", 10, 2, []string{"LAP-00042-", "SPARE"}, false}, // break after '-'
		{"abcdefghijklmnop", 5, 2, []string{"abcde", "fghi…"}, true},
		{"", 5, 2, nil, false},
		// Nothing fits: one character per line is still placed so the
		// loop progresses, and the last line is just the ellipsis.
		{"abc", 0, 2, []string{"a", "…"}, true},
	}
	for _, tt := range tests {
		got, cut := wrap(tt.text, tt.lines, maxRunes(tt.width))
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || cut != tt.cut {
			t.Errorf("wrap(%q, %d lines, width %d) = %q, %v; want %q, %v", tt.text, tt.lines, tt.width, got, cut, tt.want, tt.cut)
		}
	}
}

// TestTypicalCodeIsSmall guards the payload design: an upper-case payload
// stays in QR alphanumeric mode and fits version 1 (21×21) at level Q, so
// modules stay large on small labels; the longest possible payload must
// still fit a version small enough for a 25 mm label.
func TestTypicalCodeIsSmall(t *testing.T) {
	m, err := encode(Label{WorkspaceID: 7, Tag: "LAP-00042"})
	if err != nil {
		t.Fatal(err)
	}
	if m.n != 21 {
		t.Errorf("ST1:7:LAP-00042 encodes to %d×%d modules, want 21×21 (version 1)", m.n, m.n)
	}
	m, err = encode(Label{WorkspaceID: 9223372036854775807, Tag: strings.Repeat("ab_", 21) + "z"})
	if err != nil {
		t.Fatal(err)
	}
	if m.n > 49 { // version 8
		t.Errorf("longest payload encodes to %d×%d modules, want at most 49×49", m.n, m.n)
	}
	t.Logf("longest payload: %d×%d modules", m.n, m.n)
}

// TestCodesUseLevelQ reads the error-correction level back with ZXing: every
// label, short or long, is printed at Q (see recovery), never silently lower
// or boosted.
func TestCodesUseLevelQ(t *testing.T) {
	for _, l := range sampleLabels {
		var buf bytes.Buffer
		if err := PNG(&buf, l, 600); err != nil {
			t.Fatalf("%s: %v", l.Tag, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
		if err != nil {
			t.Fatalf("%s: decoding QR: %v", l.Tag, err)
		}
		if level := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; fmt.Sprint(level) != "Q" {
			t.Errorf("%s: error-correction level %v, want Q", l.Tag, level)
		}
	}
}
