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
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// The compliance reports (Reports → Audit on the web): the same reports as
// JSON, CSV or PDF. Admins and auditors; reading one is recorded by the
// activity package (READ for JSON, EXPORT for a file).
func (a *API) registerReports(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/reports/audit/{report}", a.auditReport)
}

// reportParams are the query parameters a report takes; any other is
// refused, so a misspelt one does not silently report something else.
var reportParams = map[string]bool{"from": true, "to": true, "format": true, "cursor": true, "limit": true}

func (a *API) auditReport(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), activity.ViewPermission); err != nil {
		return err
	}
	q := r.URL.Query()
	var unknown []string
	for k := range q {
		if !reportParams[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fault.New(fault.Malformed, "unknown query parameter %s", strings.Join(unknown, ", "))
	}
	ws, err := workspace.Get(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	in, err := activity.ParseReportInput(r.PathValue("report"), q, ws.Settings.Location(), time.Now())
	if err != nil {
		if e, ok := fault.As(err); ok && e.Fields["report"] != "" {
			return fault.New(fault.NotFound, "no report %q: %s", r.PathValue("report"), e.Fields["report"])
		}
		return err
	}
	switch format := strings.ToLower(strings.TrimSpace(q.Get("format"))); format {
	case "", "json":
		rep, err := activity.BuildReport(r.Context(), a.cfg.DB, in, ws.Settings)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, rep)
	case "csv", "pdf":
		f := activity.ExportFormat(format)
		file := download.File{Name: download.Stamped("audit-"+string(in.Kind), format, time.Now()), ContentType: f.ContentType()}
		return download.Stream(w, r, a.cfg.Logger, file, func(out io.Writer) error {
			_, err := activity.WriteReport(r.Context(), a.cfg.DB, in, ws.Settings, f, out)
			return err
		})
	default:
		return fault.Field("format", "must be json, csv or pdf")
	}
}
