package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ServeLogExport streams the change-log export as a download. The body is
// written as rows arrive, so an error after the first bytes can only cut
// the download short (the client sees a truncated file, never a wrong one).
// The web pages use it too.
func ServeLogExport(w http.ResponseWriter, r *http.Request, db *store.DB, f inventory.LogFilter, format inventory.ExportFormat) error {
	name := fmt.Sprintf("inventory-log-%s.%s", time.Now().UTC().Format("20060102-150405"), format)
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := inventory.ExportLog(r.Context(), db, f, format, w)
	return err
}
