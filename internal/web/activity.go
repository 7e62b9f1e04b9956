package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// The activity log (Monitoring → Activity Log): a filtered, searchable list
// of events, newest first, with CSV and PDF exports of exactly what is
// filtered. Admins and auditors only; each view and export is recorded by
// the activity package itself.
func (wb *Web) registerActivity(mux *http.ServeMux) {
	mux.HandleFunc("GET /activity", wb.page(wb.activityLog))
	mux.HandleFunc("GET /activity/export.csv", wb.page(wb.exportActivityCSV))
	mux.HandleFunc("GET /activity/export.pdf", wb.page(wb.exportActivityPDF))
}

// activityRow is an event with its time shown in the workspace time zone.
type activityRow struct {
	activity.Event
	When string
}

type activityPage struct {
	Rows       []activityRow
	Query      url.Values
	People     []activity.Person
	Actions    []activity.Action
	Categories []activity.Category
	// SearchFields are what the search can be narrowed to.
	SearchFields []string
	TimeZone     string
	// Older is the link to the next (older) page; empty on the last.
	Older string
	// Filtered says whether any filter is applied (for the empty message).
	Filtered bool
	// ExportQuery is the filter part of the query, for the export links.
	ExportQuery string
}

// activityFilter reads the page's filter, with dates in the workspace's
// time zone.
func (wb *Web) activityFilter(r *http.Request) (activity.Filter, *time.Location, error) {
	_, err := need(r, actor.ViewActivity)
	if err != nil {
		return activity.Filter{}, nil, err
	}
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return activity.Filter{}, nil, err
	}
	loc := ws.Settings.Location()
	f, err := activity.ParseFilter(r.URL.Query(), loc)
	return f, loc, err
}

// filterQuery keeps the filter parameters of q, dropping paging and empty
// fields, so links carry exactly the selection.
func filterQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"start_date", "end_date", "user_id", "actor_kind", "actor_id", "action", "category", "table_name", "entity_id", "q", "search_in"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

func (wb *Web) activityLog(w http.ResponseWriter, r *http.Request) error {
	f, loc, filterErr := wb.activityFilter(r)
	if loc == nil {
		return filterErr // not allowed, or no workspace
	}
	people, err := activity.People(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	selection := filterQuery(r.URL.Query())
	page := activityPage{Query: r.URL.Query(), People: people, Actions: activity.Actions(), Categories: activity.Categories(),
		SearchFields: activity.SearchFields(), TimeZone: loc.String(), Filtered: len(selection) > 0, ExportQuery: selection.Encode()}
	if filterErr != nil {
		return wb.show(w, r, "activity.html", "Activity log", page, filterErr)
	}
	if f.Limit == activity.DefaultLimit && r.URL.Query().Get("limit") == "" {
		f.Limit = 50 // a screenful; the API's default is larger
	}
	res, err := activity.List(r.Context(), wb.cfg.DB, f)
	if err != nil {
		return err
	}
	for _, ev := range res.Events {
		page.Rows = append(page.Rows, activityRow{Event: ev, When: ev.OccurredAt.In(loc).Format("2006-01-02 15:04:05")})
	}
	if res.Next != nil {
		next := filterQuery(r.URL.Query())
		next.Set("cursor", res.Next.String())
		if l := r.URL.Query().Get("limit"); l != "" {
			next.Set("limit", l)
		}
		page.Older = "/activity?" + next.Encode()
	}
	return wb.show(w, r, "activity.html", "Activity log", page, nil)
}

// csvColumns are the columns of the CSV export: every recorded field.
var csvColumns = []export.Column{
	{Title: "ID", Kind: export.Integer}, {Title: "Timestamp", Kind: export.Time}, {Title: "Actor kind", Kind: export.Text},
	{Title: "Actor ID", Kind: export.Integer}, {Title: "Actor", Kind: export.Text}, {Title: "Action", Kind: export.Text},
	{Title: "Category", Kind: export.Text}, {Title: "Entity type", Kind: export.Text}, {Title: "Entity ID", Kind: export.Text},
	{Title: "Description", Kind: export.Text}, {Title: "Old values", Kind: export.Text}, {Title: "New values", Kind: export.Text},
	{Title: "IP address", Kind: export.Text}, {Title: "User agent", Kind: export.Text}, {Title: "Request ID", Kind: export.Text},
	{Title: "Reported by", Kind: export.Text},
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%s", v)
}

func (wb *Web) exportActivityCSV(w http.ResponseWriter, r *http.Request) error {
	f, loc, err := wb.activityFilter(r)
	if err != nil {
		return err
	}
	var table export.TableWriter
	_, err = activity.ExportEvents(r.Context(), wb.cfg.DB, f, "csv", 0, func(ev activity.Event) error {
		if table == nil {
			// Headers go out with the first row, so a failure before it
			// can still be shown as a page.
			setDownload(w, "text/csv; charset=utf-8", "activity", "csv")
			if table, err = export.NewCSV(w, csvColumns, loc); err != nil {
				return err
			}
		}
		var actorID any
		if ev.ActorID != 0 {
			actorID = ev.ActorID
		}
		reported := ""
		if ev.ReportedByKind != "" {
			reported = ev.ReportedByKind + " " + strconv.FormatInt(ev.ReportedByID, 10) + " " + ev.ReportedByName
		}
		return table.WriteRow([]any{ev.ID, ev.OccurredAt, ev.ActorKind, actorID, ev.ActorName, string(ev.Action), string(ev.Category),
			ev.EntityType, ev.EntityID, ev.Description, jsonText(ev.Old), jsonText(ev.New), ev.IP, ev.UserAgent, ev.RequestID, reported})
	})
	if table == nil && err == nil {
		// Nothing matched: still a valid CSV with its header row.
		setDownload(w, "text/csv; charset=utf-8", "activity", "csv")
		if table, err = export.NewCSV(w, csvColumns, loc); err != nil {
			return err
		}
	}
	if table != nil {
		if closeErr := table.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			// The download has started; all that is left is to log it.
			wb.cfg.Logger.ErrorContext(r.Context(), "activity CSV export failed midway", "err", err)
		}
		return nil
	}
	return err
}

// pdfColumns are fewer than the CSV's, to stay readable on a page.
var pdfColumns = []export.Column{
	{Title: "Time", Kind: export.Time, Width: 17}, {Title: "Actor", Kind: export.Text, Width: 16},
	{Title: "Action", Kind: export.Text, Width: 12}, {Title: "Entity", Kind: export.Text, Width: 16},
	{Title: "Description", Kind: export.Text, Width: 30}, {Title: "Changes", Kind: export.Text, Width: 40},
	{Title: "IP address", Kind: export.Text, Width: 14},
}

// changesText is an event's changes as "field: before → after" lines.
func changesText(ev activity.Event) string {
	var lines []string
	for _, c := range ev.FieldChanges() {
		switch {
		case c.Field == "" && c.Before == "" && c.After == "":
		case c.Field == "":
			lines = append(lines, c.Before+" → "+c.After)
		case !c.HadBefore:
			lines = append(lines, c.Field+": "+c.After)
		case !c.HasAfter:
			lines = append(lines, c.Field+": "+c.Before+" → (removed)")
		default:
			lines = append(lines, c.Field+": "+c.Before+" → "+c.After)
		}
	}
	return strings.Join(lines, "\n")
}

func (wb *Web) exportActivityPDF(w http.ResponseWriter, r *http.Request) error {
	f, loc, err := wb.activityFilter(r)
	if err != nil {
		return err
	}
	filters := f.Describe()
	if len(filters) == 0 {
		filters = []string{"All events"}
	}
	filters = append(filters, "Time zone: "+loc.String())
	// The PDF is built in memory and written at Close, so an overflow can
	// still be answered with a page instead of a truncated document.
	var buf bytes.Buffer
	table, err := export.NewPDF(&buf, pdfColumns, loc, export.PDFMeta{Title: "Activity log", Filters: filters, Generated: time.Now()})
	if err != nil {
		return err
	}
	_, err = activity.ExportEvents(r.Context(), wb.cfg.DB, f, "pdf", export.MaxPDFRows+1, func(ev activity.Event) error {
		entity := strings.TrimSpace(ev.EntityType + " " + ev.EntityID)
		return table.WriteRow([]any{ev.OccurredAt, ev.ActorName + " (" + ev.ActorKind + ")", string(ev.Action), entity, ev.Description,
			changesText(ev), ev.IP})
	})
	if errors.Is(err, export.ErrTooManyRows) {
		return fault.New(fault.Invalid, "more than %d events match; narrow the filters or export CSV", export.MaxPDFRows)
	}
	if err != nil {
		return err
	}
	if err := table.Close(); err != nil {
		return err
	}
	setDownload(w, "application/pdf", "activity", "pdf")
	_, err = w.Write(buf.Bytes())
	return err
}

// setDownload marks the answer as a file to save, named after what and when.
func setDownload(w http.ResponseWriter, contentType, what, ext string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, what, time.Now().UTC().Format("20060102-150405"), ext))
	w.Header().Set("Cache-Control", "no-store")
}
