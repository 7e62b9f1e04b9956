// Package download sends files to be saved, for the JSON API and the pages
// alike: a safe file name in Content-Disposition, the content type, no
// caching, and the rule of a streamed file. A failure before its first byte
// is an ordinary error answer (a problem or a page); after it, the file can
// only be cut short, so the failure is logged.
package download

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// File is what a download is offered as.
type File struct {
	// Name is the file name offered; see SafeName.
	Name        string
	ContentType string
}

// Stamped names a file after what it holds and when it was made (UTC), as
// in inventory-log-20240131-154500.csv.
func Stamped(what, ext string, at time.Time) string {
	return fmt.Sprintf("%s-%s.%s", what, at.UTC().Format("20060102-150405"), ext)
}

// SafeName is name as a header may carry it and a file system will accept
// it: ASCII letters, digits, '.', '-' and '_' only (anything else becomes
// '-'), not starting with a dot, and "download" when nothing is left.
func SafeName(name string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
	clean = strings.TrimLeft(clean, ".")
	if clean == "" {
		return "download"
	}
	return clean
}

func setHeaders(h http.Header, f File) {
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", `attachment; filename="`+SafeName(f.Name)+`"`)
	h.Set("Cache-Control", "no-store")
}

// Send sends a file held whole in memory.
func Send(w http.ResponseWriter, f File, body []byte) error {
	setHeaders(w.Header(), f)
	_, err := w.Write(body)
	return err
}

// Stream sends the file write produces as it is written. An error write
// returns before writing anything is returned, with the download's headers
// taken back, for the caller to answer as usual; one after the first byte
// is logged and the file ends there.
func Stream(w http.ResponseWriter, r *http.Request, logger *slog.Logger, f File, write func(io.Writer) error) error {
	h := w.Header()
	setHeaders(h, f)
	out := &countingWriter{w: w}
	err := write(out)
	if err == nil {
		return nil
	}
	if out.n == 0 {
		h.Del("Content-Type")
		h.Del("Content-Disposition")
		return err
	}
	logger.ErrorContext(r.Context(), "download cut short", "file", f.Name, "err", err, "bytes", out.n)
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
