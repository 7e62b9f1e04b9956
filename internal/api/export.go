package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ServeLogExport streams the change-log export as a download. A refusal
// before the first byte is an ordinary error answer; after it, the download
// can only be cut short (the client gets a truncated file, never a wrong
// one), so the error is logged.
func ServeLogExport(w http.ResponseWriter, r *http.Request, db *store.DB, logger *slog.Logger, f inventory.LogFilter, format inventory.ExportFormat) error {
	name := fmt.Sprintf("inventory-log-%s.%s", time.Now().UTC().Format("20060102-150405"), format)
	h := w.Header()
	h.Set("Content-Type", format.ContentType())
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	out := &countingWriter{w: w}
	_, err := inventory.ExportLog(r.Context(), db, f, format, out)
	if err != nil && out.n == 0 {
		h.Del("Content-Disposition")
		return err
	}
	if err != nil {
		logger.ErrorContext(r.Context(), "inventory export cut short", "err", err, "bytes", out.n)
	}
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
