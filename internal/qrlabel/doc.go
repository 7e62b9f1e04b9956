// Package qrlabel owns everything about an asset's QR label: the text the
// code carries (Payload), turning what a scanner or camera read back into a
// workspace and tag (Parse, ValidTag), and rendering labels for printing —
// a single label as PNG or SVG, and whole sheets of labels as a PDF laid out
// for common adhesive label papers (Sheet, PaperByName).
//
// # Payload format
//
// A label carries
//
//	ST1:<workspaceID>:<tag>      e.g. ST1:7:LAP-00042
//
// rather than a URL such as https://<base>/a/<workspaceID>/<tag>, because:
//
//   - Most scans come from handheld scanners that type the text into a
//     field. A short payload is quicker and less error-prone to "type", and
//     it has no "//" or host that a scanner's keyboard-layout mapping can
//     mangle.
//   - Payload has no base URL to work with, and labels outlive hostnames:
//     a printed URL would be wrong after a move or on a self-hosted install,
//     while ST1 codes stay valid anywhere the register is.
//   - Tags may contain '/' and '.', which a URL path would have to escape
//     (and browsers normalise "." and ".." segments), so the tag would no
//     longer be readable as-is on a phone screen. In ST1 the tag is verbatim,
//     so any phone's QR reader shows something a person recognises.
//   - Upper-case letters, digits, ':', '-', '.' and '/' are all in the QR
//     "alphanumeric" mode (5.5 bits per character), so a payload such as
//     ST1:7:LAP-00042 fits a version-1 (21×21) code even at the robust Q
//     error-correction level, and the longest possible one (88 characters)
//     fits version 7 (45×45). Fewer modules mean larger modules on small
//     labels, which is what makes worn or low-resolution prints scan.
//   - The "1" is a format version: a future format can be told apart from
//     this one without guessing.
//
// ':' is not allowed in tags, so a scan containing ':' is a payload and one
// without is a bare tag typed by hand; the two can never be confused.
//
// # Dependencies
//
//   - github.com/piglig/go-qr: a maintained port of Nayuki's QR Code
//     generator, pure Go with no dependencies. It exposes the module matrix
//     (Size, Module), which SVG and PDF need to draw the code as vector
//     modules rather than a scaled raster, and splits a payload into
//     optimal numeric/alphanumeric/byte segments (MakeSegmentsOptimally), so
//     a tag with lower-case letters still gets the small code its
//     upper-case prefix allows.
//   - codeberg.org/go-pdf/fpdf: the continuation of gofpdf, the most used
//     pure-Go PDF writer (no cgo, no external tools). It lets us set exact
//     page sizes in millimetres, draw filled vector paths and embed a UTF-8
//     TrueType font (subset), so asset names outside Latin-1 print.
//   - golang.org/x/image (font, opentype, gofont): the Go project's own font
//     rasteriser and the Go fonts, used to draw text on the PNG and embedded
//     into the PDF, so labels look the same in both and need no system fonts.
//   - github.com/makiuchi-d/gozxing (tests only): a port of ZXing, an
//     independent QR decoder, so tests prove the labels scan back with an
//     ordinary reader rather than trusting our own encoder.
package qrlabel
