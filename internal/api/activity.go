package api

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
)

// The activity log's export: the file the web's Activity Log exports, with
// the filters of the audit-log list (paging aside). Admins and auditors, as
// on the web; the export is recorded as an EXPORT event by activity itself.
// Errors are problem+json: this route is not one of the seed's.
func (a *API) registerActivity(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/activity/export", a.exportActivity)
}

// exportParams are the query parameters the export accepts: format and the
// list's filters without paging. Any other is refused, so a misspelt filter
// does not silently export everything.
func exportParams(name string) bool {
	return name == "format" || auditLogParams[name] && name != "skip" && name != "limit" && name != "cursor"
}

func (a *API) exportActivity(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), activity.ViewPermission); err != nil {
		return err
	}
	q := r.URL.Query()
	var unknown []string
	for k := range q {
		if !exportParams(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fault.New(fault.Malformed, "unknown query parameter %s", strings.Join(unknown, ", "))
	}
	format, err := activity.ParseExportFormat(q.Get("format"))
	if err != nil {
		return err
	}
	loc, err := a.workspaceZone(r)
	if err != nil {
		return err
	}
	f, err := activity.ParseFilter(q, loc)
	if err != nil {
		return err
	}
	file := download.File{Name: download.Stamped("activity", string(format), time.Now()), ContentType: format.ContentType()}
	return download.Stream(w, r, a.cfg.Logger, file, func(out io.Writer) error {
		_, err := activity.WriteExport(r.Context(), a.cfg.DB, f, format, loc, out)
		return err
	})
}
