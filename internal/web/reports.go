package web

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Reports → Audit: the compliance reports (user activity summary, data
// access, configuration changes) for a range of days, with CSV and PDF
// downloads of the same report. Admins and auditors; the activity package
// records each view and download.
func (wb *Web) registerReports(mux *http.ServeMux) {
	mux.HandleFunc("GET /reports/audit", wb.page(wb.auditReports))
	mux.HandleFunc("GET /reports/audit/export.csv", wb.page(wb.exportAuditReport(activity.CSV)))
	mux.HandleFunc("GET /reports/audit/export.pdf", wb.page(wb.exportAuditReport(activity.PDF)))
}

// reportChoice is one report the form offers.
type reportChoice struct {
	Kind     activity.ReportKind
	Title    string
	Summary  string
	Selected bool
}

type reportsPage struct {
	Choices  []reportChoice
	Query    url.Values
	From, To string
	TimeZone string
	// Report is the report shown (nil before one is asked for or when the
	// form has errors); Generated is its generation time in the zone.
	Report    *activity.ComplianceReport
	Generated string
	// Users, Access and Changes are the report's rows with times shown
	// in the workspace time zone.
	Users   []reportUserRow
	Access  []reportAccessRow
	Changes []reportChangeRow
	// The downloads and the next page (built from url.Values, so already
	// encoded; html/template would escape a bare query string's = and &).
	CSV, PDF template.URL
	Next     template.URL
	// Errors lists the form's problems in field order, for the summary.
	Errors []fieldProblem
}

type reportUserRow struct {
	activity.UserActivity
	LastActiveText string
}

type reportAccessRow struct {
	activity.AccessEntry
	When string
}

type reportChangeRow struct {
	activity.ConfigChange
	When string
}

// reportsFieldLabels name the form's fields as the error summary says them.
var (
	reportsFieldOrder  = []string{"report", "from", "to", "cursor", "limit"}
	reportsFieldLabels = map[string]string{"report": "Report", "from": "From", "to": "To", "cursor": "Page", "limit": "Rows per page"}
)

func (wb *Web) auditReports(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewActivity); err != nil {
		return err
	}
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	loc := ws.Settings.Location()
	q := r.URL.Query()
	page := reportsPage{Query: q, TimeZone: loc.String(), From: q.Get("from"), To: q.Get("to")}
	kind := q.Get("report")
	for _, k := range activity.ReportKinds() {
		page.Choices = append(page.Choices, reportChoice{Kind: k, Title: k.Title(), Summary: k.Summary(), Selected: string(k) == kind})
	}
	if kind == "" {
		// The form alone, with the default range filled in.
		in, err := activity.ParseReportInput(string(activity.UserActivityReport), url.Values{}, loc, time.Now())
		if err != nil {
			return err
		}
		page.From, page.To = in.From, in.To
		page.Choices[0].Selected = true
		return wb.show(w, r, "reports.html", "Audit reports", page, nil)
	}
	in, err := activity.ParseReportInput(kind, q, loc, time.Now())
	if err != nil {
		page.Errors = problems(err)
		return wb.show(w, r, "reports.html", "Audit reports", page, err)
	}
	page.From, page.To = in.From, in.To
	if q.Get("limit") == "" {
		in.Limit = 50 // a screenful; the API's default is larger
	}
	rep, err := activity.BuildReport(r.Context(), wb.cfg.DB, in, ws.Settings)
	if err != nil {
		page.Errors = problems(err)
		return wb.show(w, r, "reports.html", "Audit reports", page, err)
	}
	page.Report = &rep
	page.Generated = rep.GeneratedAt.In(loc).Format("2006-01-02 15:04:05 MST")
	const layout = "2006-01-02 15:04:05"
	for _, u := range rep.Users {
		row := reportUserRow{UserActivity: u, LastActiveText: "—"}
		if u.LastActive != nil {
			row.LastActiveText = u.LastActive.In(loc).Format(layout)
		}
		page.Users = append(page.Users, row)
	}
	for _, e := range rep.Access {
		page.Access = append(page.Access, reportAccessRow{AccessEntry: e, When: e.At.In(loc).Format(layout)})
	}
	for _, c := range rep.Changes {
		page.Changes = append(page.Changes, reportChangeRow{ConfigChange: c, When: c.At.In(loc).Format(layout)})
	}
	sel := url.Values{"report": {string(in.Kind)}, "from": {in.From}, "to": {in.To}}
	page.CSV = template.URL("/reports/audit/export.csv?" + sel.Encode())
	page.PDF = template.URL("/reports/audit/export.pdf?" + sel.Encode())
	if rep.Next != nil {
		sel.Set("cursor", rep.Next.String())
		page.Next = template.URL("/reports/audit?" + sel.Encode())
	}
	return wb.show(w, r, "reports.html", "Audit reports", page, nil)
}

// problems lists err's field messages in the form's order.
func problems(err error) []fieldProblem {
	e, ok := fault.As(err)
	if !ok {
		return nil
	}
	return errorSummary(e.Fields, reportsFieldOrder, reportsFieldLabels)
}

// exportAuditReport answers a report's download in format; rows, columns
// and the EXPORT event are the activity package's.
func (wb *Web) exportAuditReport(format activity.ExportFormat) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), actor.ViewActivity); err != nil {
			return err
		}
		ws, err := workspace.Get(r.Context(), wb.cfg.DB)
		if err != nil {
			return err
		}
		in, err := activity.ParseReportInput(r.URL.Query().Get("report"), r.URL.Query(), ws.Settings.Location(), time.Now())
		if err != nil {
			return err
		}
		name := download.Stamped("audit-"+strings.ToLower(string(in.Kind)), string(format), time.Now())
		file := download.File{Name: name, ContentType: format.ContentType()}
		return download.Stream(w, r, wb.cfg.Logger, file, func(out io.Writer) error {
			_, err := activity.WriteReport(r.Context(), wb.cfg.DB, in, ws.Settings, format, out)
			return err
		})
	}
}
