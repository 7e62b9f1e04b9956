package qrlabel

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// MaxPNGSize caps PNG's size argument: it comes from request parameters and
// must not let a caller allocate an arbitrarily large image.
const MaxPNGSize = 4096

// minModulePx is the smallest module PNG will draw. One pixel per module
// decodes from the file itself, but not after a viewer or printer driver
// rescales it, which is how such files are usually printed.
const minModulePx = 2

type goFonts struct{ regular, bold *opentype.Font }

// loadFonts parses the embedded Go fonts once; they are part of the binary,
// so labels render identically on any machine without system fonts.
var loadFonts = sync.OnceValues(func() (goFonts, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return goFonts{}, fmt.Errorf("qrlabel: parsing Go Regular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return goFonts{}, fmt.Errorf("qrlabel: parsing Go Bold: %w", err)
	}
	return goFonts{regular: reg, bold: bold}, nil
})

// PNG writes one label as a grayscale PNG image: the QR code with its quiet
// zone in a size×size square at the top, then the tag (bold), the name and
// the location centred underneath. size is the image width in pixels; the
// height is size plus whatever the text needs.
//
// The code is drawn with a whole number of pixels per module (the square's
// spare pixels widen the quiet zone), since fractional modules blur into
// gray edges that cheap scanners misread. size must leave at least
// 2 pixels per module, which for the longest payloads means about 110 px.
func PNG(w io.Writer, l Label, size int) error {
	m, err := encode(l)
	if err != nil {
		return err
	}
	if size > MaxPNGSize {
		return fmt.Errorf("qrlabel: PNG size %d px exceeds the maximum %d", size, MaxPNGSize)
	}
	total := m.n + 2*quietZone
	px := size / total
	if px < minModulePx {
		return fmt.Errorf("qrlabel: PNG size %d px too small for %q: this code needs at least %d px", size, l.Tag, total*minModulePx)
	}
	fonts, err := loadFonts()
	if err != nil {
		return err
	}

	off := (size - px*m.n) / 2 // left/top edge of the symbol
	textTop := off + px*(m.n+quietZone)
	pad := max(2, size/24)
	avail := float64(size - 2*pad)

	var (
		lines []pngLine
		faces []font.Face // closed on return; lines share them
	)
	defer func() {
		for _, f := range faces {
			f.Close()
		}
	}()
	add := func(f *opentype.Font, text string, sizes []float64, maxLines int) error {
		text = printable(text)
		if text == "" {
			return nil
		}
		var wrapped []string
		// Try each font size, largest first, until the text fits without
		// being cut; the tag in particular should not be truncated, as it
		// is the fallback when the code will not scan.
		for i, fs := range sizes {
			face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: fs, DPI: 72, Hinting: font.HintingFull})
			if err != nil {
				return fmt.Errorf("qrlabel: font face: %w", err)
			}
			faces = append(faces, face)
			fits := func(s string) bool { return float64(font.MeasureString(face, s).Ceil()) <= avail }
			var cut bool
			wrapped, cut = wrap(text, maxLines, fits)
			if !cut || i == len(sizes)-1 {
				for _, s := range wrapped {
					lines = append(lines, pngLine{text: s, face: face})
				}
				return nil
			}
		}
		return nil
	}
	s := float64(size)
	if err := add(fonts.bold, l.Tag, fontSizes(s*0.09, s*0.045), 3); err != nil {
		return err
	}
	if err := add(fonts.regular, l.Name, fontSizes(s*0.065, s*0.065), 2); err != nil {
		return err
	}
	if err := add(fonts.regular, l.Location, fontSizes(s*0.055, s*0.055), 1); err != nil {
		return err
	}

	height := size
	y := textTop
	for i := range lines {
		met := lines[i].face.Metrics()
		lines[i].baseline = y + met.Ascent.Ceil()
		y += (met.Ascent + met.Descent).Ceil() + int(math.Ceil(s*0.01))
	}
	if len(lines) > 0 {
		height = max(size, y+pad)
	}

	img := image.NewGray(image.Rect(0, 0, size, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	m.runs(func(x, y, n int) {
		r := image.Rect(off+x*px, off+y*px, off+(x+n)*px, off+(y+1)*px)
		draw.Draw(img, r, image.Black, image.Point{}, draw.Src)
	})
	for _, ln := range lines {
		wd := font.MeasureString(ln.face, ln.text).Ceil()
		d := font.Drawer{Dst: img, Src: image.Black, Face: ln.face, Dot: fixed.P((size-wd)/2, ln.baseline)}
		d.DrawString(ln.text)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, img)
}

type pngLine struct {
	text     string
	face     font.Face
	baseline int
}

// fontSizes lists candidate sizes from hi down to lo, never below 6 px,
// where Go Regular stops being legible.
func fontSizes(hi, lo float64) []float64 {
	const floor = 6
	return sizesBetween(math.Max(hi, floor), math.Max(lo, floor))
}
