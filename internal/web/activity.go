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
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// The activity log (Monitoring → Activity Log): a filtered, searchable list
// of events, newest first, with CSV and PDF exports of exactly what is
// filtered. Admins and auditors only; each view and export is recorded by
// the activity package itself.
func (wb *Web) registerActivity(mux *http.ServeMux) {
	mux.HandleFunc("GET /activity", wb.page(wb.activityLog))
	mux.HandleFunc("GET /activity/export.csv", wb.page(wb.exportActivity(activity.CSV)))
	mux.HandleFunc("GET /activity/export.pdf", wb.page(wb.exportActivity(activity.PDF)))
}

// activityRow is an event with its time shown in the workspace time zone
// and its place in the ledger, once sealed.
type activityRow struct {
	activity.Readable
	When     string
	Sealed   bool
	Sequence int64
	// Table is the entity type in the seed's words ("products" for items).
	Table string
	// Coalesced says a LOGIN_FAILED event that counts several refused
	// attempts in words, its times in the workspace zone.
	Coalesced string
}

type activityPage struct {
	Rows       []activityRow
	Query      url.Values
	People     []activity.Person
	Actions    []activity.Action
	Categories []activity.Category
	// EntityTypes are the entity type filter's choices; EntityTypeListed
	// says the chosen one is among them (a link may name any).
	EntityTypes      []activity.EntityTypeChoice
	EntityTypeListed bool
	// SearchFields are what the search can be narrowed to.
	SearchFields []string
	TimeZone     string
	// Older is the link to the next (older) page; empty on the last.
	Older string
	// Filtered says whether any filter is applied (for the empty message).
	Filtered bool
	// ExportQuery is the filter part of the query, for the export links:
	// typed as a URL so the template keeps its = and & instead of escaping
	// them into one meaningless parameter (which exported the whole log).
	ExportQuery template.URL
	// Volume is the events per day of the last 30 days (chart.go).
	Volume volumeChartView
}

// activityFilter reads the page's filter, with dates in the workspace's
// time zone.
func (wb *Web) activityFilter(r *http.Request) (activity.Filter, *time.Location, error) {
	_, err := actor.Require(r.Context(), actor.ViewActivity)
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
		SearchFields: activity.SearchFields(), TimeZone: loc.String(), Filtered: len(selection) > 0, ExportQuery: template.URL(selection.Encode())}
	if page.EntityTypes, err = activity.EntityTypes(r.Context(), wb.cfg.DB); err != nil {
		return err
	}
	page.EntityTypeListed = r.URL.Query().Get("table_name") == ""
	for _, c := range page.EntityTypes {
		page.EntityTypeListed = page.EntityTypeListed || c.Value == r.URL.Query().Get("table_name")
	}
	// The volume of the last 30 days, drawn above the log.
	days, err := activity.DailyVolume(r.Context(), wb.cfg.DB, 30, time.Now())
	if err != nil {
		return err
	}
	page.Volume = volumeChart(days)
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
	ids := make([]int64, len(res.Events))
	for i, ev := range res.Events {
		ids[i] = ev.ID
	}
	seqs, err := ledger.Sequences(r.Context(), wb.cfg.DB, ledger.ActivityEvents, ids)
	if err != nil {
		return err
	}
	for _, ev := range res.Events {
		seq, sealed := seqs[ev.ID]
		row := activityRow{Readable: res.Names.Readable(ev), When: ev.OccurredAt.In(loc).Format("2006-01-02 15:04:05"), Sealed: sealed, Sequence: seq,
			Table: activity.TableLabel(ev.EntityType)}
		if run, ok := ev.FailedLoginRun(); ok {
			row.Coalesced = run.Text(loc)
		}
		page.Rows = append(page.Rows, row)
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

// exportActivity answers the export of what the page filters, in format.
// Columns, rows and the EXPORT event are the activity package's; this only
// reads the filter and makes the answer a download.
func (wb *Web) exportActivity(format activity.ExportFormat) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, loc, err := wb.activityFilter(r)
		if err != nil {
			return err
		}
		file := download.File{Name: download.Stamped("activity", string(format), time.Now()), ContentType: format.ContentType()}
		return download.Stream(w, r, wb.cfg.Logger, file, func(out io.Writer) error {
			_, err := activity.WriteExport(r.Context(), wb.cfg.DB, f, format, loc, out)
			return err
		})
	}
}
