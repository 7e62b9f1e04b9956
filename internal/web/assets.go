package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (wb *Web) registerAssets(mux *http.ServeMux) {
	mux.HandleFunc("GET /assets", wb.page(wb.assetList))
	mux.HandleFunc("POST /assets", wb.page(wb.createAsset))
	mux.HandleFunc("POST /assets/import", wb.page(wb.importAssets))
	mux.HandleFunc("GET /assets/{id}", wb.page(wb.assetDetail))
	mux.HandleFunc("POST /assets/{id}", wb.page(wb.updateAsset))
	mux.HandleFunc("POST /assets/{id}/photos", wb.page(wb.addAssetPhoto))
	mux.HandleFunc("POST /assets/{id}/retire", wb.page(wb.assetLifecycle))
	mux.HandleFunc("POST /assets/{id}/reinstate", wb.page(wb.assetLifecycle))
	mux.HandleFunc("POST /assets/{id}/restore", wb.page(wb.assetLifecycle))
	mux.HandleFunc("GET /assets/{id}/dispose", wb.page(wb.disposeForm))
	mux.HandleFunc("POST /assets/{id}/dispose", wb.page(wb.dispose))
	mux.HandleFunc("GET /assets/{id}/delete", wb.page(wb.deleteCheck))
	mux.HandleFunc("POST /assets/{id}/delete", wb.page(wb.deleteAsset))
	mux.HandleFunc("GET /inventory-checks", wb.page(wb.sessionList))
	mux.HandleFunc("POST /inventory-checks", wb.page(wb.createSession))
	mux.HandleFunc("GET /inventory-checks/schedules", wb.page(wb.scheduleList))
	mux.HandleFunc("POST /inventory-checks/schedules", wb.page(wb.createSchedule))
	mux.HandleFunc("POST /inventory-checks/schedules/{id}/active", wb.page(wb.setScheduleActive))
	mux.HandleFunc("GET /inventory-checks/schedules/{id}/edit", wb.page(wb.scheduleEdit))
	mux.HandleFunc("POST /inventory-checks/schedules/{id}/edit", wb.page(wb.updateSchedule))
	mux.HandleFunc("GET /inventory-checks/schedules/{id}/delete", wb.page(wb.scheduleDeleteCheck))
	mux.HandleFunc("POST /inventory-checks/schedules/{id}/delete", wb.page(wb.deleteSchedule))
	mux.HandleFunc("GET /inventory-checks/{id}", wb.page(wb.sessionDetail))
	mux.HandleFunc("POST /inventory-checks/{id}/start", wb.page(wb.sessionAction))
	mux.HandleFunc("POST /inventory-checks/{id}/finish", wb.page(wb.sessionAction))
	mux.HandleFunc("POST /inventory-checks/{id}/cancel", wb.page(wb.sessionAction))
	mux.HandleFunc("POST /inventory-checks/{id}/scan", wb.page(wb.scan))
	mux.HandleFunc("POST /inventory-checks/{id}/include", wb.page(wb.include))
	mux.HandleFunc("POST /inventory-checks/{id}/items/{asset}/exclude", wb.page(wb.exclude))
	mux.HandleFunc("POST /inventory-checks/{id}/items/{asset}/stage", wb.page(wb.stage))
	mux.HandleFunc("GET /inventory-checks/{id}/report.csv", wb.page(wb.reportCSV))
}

// assetsPerPage is how many assets the list page shows at once.
const assetsPerPage = 200

type assetListPage struct {
	Assets     []assets.Asset
	Total      int
	Filter     assets.AssetFilter
	Locations  []inventory.Location
	Categories []string
	Statuses   []assets.Status
	Conditions []assets.Condition
	Papers     []string
	// From is the number of the first asset shown (1-based).
	From int
	// Prev and Next page through long lists ("" when there is none).
	Prev, Next string
}

func (wb *Web) assetList(w http.ResponseWriter, r *http.Request) error {
	return wb.showAssetList(w, r, nil)
}

func (wb *Web) showAssetList(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	loc, err := queryInt(r, "location_id")
	if err != nil {
		return err
	}
	off, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	f := assets.AssetFilter{Search: q.Get("q"), Status: assets.Status(q.Get("status")), Condition: assets.Condition(q.Get("condition")),
		Category: q.Get("category"), LocationID: loc, Show: q.Get("show"), Limit: assetsPerPage, Offset: int(off)}
	p := assetListPage{Filter: f, Statuses: assets.Statuses(), Conditions: assets.Conditions(), Papers: qrlabel.PaperNames()}
	if p.Assets, p.Total, err = assets.ListAssets(r.Context(), wb.cfg.DB, f); err != nil {
		return wb.show(w, r, "assets.html", "Assets", p, err)
	}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	if p.Categories, err = assets.ListCategories(r.Context(), wb.cfg.DB); err != nil {
		return err
	}
	page := func(offset int) string {
		pq := r.URL.Query()
		pq.Del("ok")
		pq.Set("offset", strconv.Itoa(offset))
		return "/assets?" + pq.Encode()
	}
	p.From = f.Offset + 1
	if f.Offset > 0 {
		p.Prev = page(max(0, f.Offset-assetsPerPage))
	}
	if f.Offset+len(p.Assets) < p.Total {
		p.Next = page(f.Offset + assetsPerPage)
	}
	return wb.show(w, r, "assets.html", "Assets", p, formErr)
}

// assetInput reads the asset form; empty optional fields are kept empty.
func assetInput(r *http.Request) (assets.AssetInput, error) {
	loc, err := formInt(r, "location_id")
	if err != nil {
		return assets.AssetInput{}, err
	}
	text := func(name string) *string { v := r.PostFormValue(name); return &v }
	status, cond := assets.Status(r.PostFormValue("status")), assets.Condition(r.PostFormValue("condition"))
	return assets.AssetInput{Tag: text("tag"), Name: text("name"), Category: text("category"), Status: &status, Condition: &cond,
		Assignee: text("assignee"), LocationID: &loc, Notes: text("notes")}, nil
}

func (wb *Web) createAsset(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in, err := assetInput(r)
	if err == nil {
		var a assets.Asset
		if a, err = assets.CreateAsset(r.Context(), wb.cfg.DB, in); err == nil {
			return redirect(w, r, fmt.Sprintf("/assets/%d", a.ID), "Asset "+a.Tag+" created")
		}
	}
	return wb.showAssetList(w, r, err)
}

func (wb *Web) importAssets(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	data, err := formFile(r, "file", 10<<20)
	if err != nil {
		return wb.showAssetList(w, r, err)
	}
	n, err := assets.ImportAssets(r.Context(), wb.cfg.DB, bytes.NewReader(data))
	if err != nil {
		return wb.showAssetList(w, r, err)
	}
	return redirect(w, r, "/assets", fmt.Sprintf("%d assets imported", n))
}

// formFile reads one uploaded file of at most limit bytes.
func formFile(r *http.Request, name string, limit int64) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, fault.Field(name, "choose a file")
	}
	if err != nil {
		return nil, fault.New(fault.Malformed, "the upload could not be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fault.New(fault.Malformed, "the upload could not be read")
	}
	if int64(len(data)) > limit {
		return nil, &fault.Error{Kind: fault.TooLarge, Message: fmt.Sprintf("the file is larger than %d MB", limit>>20), Fields: map[string]string{name: "too large"}}
	}
	return data, nil
}

type assetPage struct {
	Asset      assets.Asset
	History    assets.History
	Photos     []assets.Photo
	Locations  []inventory.Location
	Statuses   []assets.Status
	Conditions []assets.Condition
}

func (wb *Web) assetDetail(w http.ResponseWriter, r *http.Request) error {
	return wb.showAsset(w, r, nil)
}

func (wb *Web) showAsset(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p := assetPage{Statuses: assets.Statuses(), Conditions: assets.Conditions()}
	if p.Asset, err = assets.GetAsset(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	if p.History, err = assets.GetAssetHistory(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	if p.Photos, err = assets.ListAssetPhotos(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	return wb.show(w, r, "asset.html", p.Asset.Tag+" "+p.Asset.Name, p, formErr)
}

func (wb *Web) updateAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAssets)
	if err != nil {
		return err
	}
	in, err := assetInput(r)
	if err == nil {
		if _, err = assets.UpdateAsset(r.Context(), wb.cfg.DB, id, in); err == nil {
			return redirect(w, r, fmt.Sprintf("/assets/%d", id), "Asset saved")
		}
	}
	return wb.showAsset(w, r, err)
}

func (wb *Web) addAssetPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAssets)
	if err != nil {
		return err
	}
	data, err := formFile(r, "photo", assets.MaxPhotoBytes)
	if err == nil {
		if _, err = assets.AddAssetPhoto(r.Context(), wb.cfg.DB, id, data); err == nil {
			return redirect(w, r, fmt.Sprintf("/assets/%d", id), "Photo added")
		}
	}
	return wb.showAsset(w, r, err)
}

type sessionListPage struct {
	Sessions  []assets.Session
	Filter    assets.SessionFilter
	Locations []inventory.Location
	Statuses  []assets.SessionStatus
	// OpenCreate reopens the Create New Session dialog after a bad submit.
	OpenCreate bool
}

func (wb *Web) sessionList(w http.ResponseWriter, r *http.Request) error {
	return wb.showSessionList(w, r, nil)
}

func (wb *Web) showSessionList(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	loc, err := queryInt(r, "location_id")
	if err != nil {
		return err
	}
	p := sessionListPage{Filter: assets.SessionFilter{Search: q.Get("q"), Status: assets.SessionStatus(q.Get("status")), LocationID: loc},
		Statuses: []assets.SessionStatus{assets.Scheduled, assets.InProgress, assets.Completed, assets.Cancelled}, OpenCreate: formErr != nil}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	if p.Sessions, err = assets.ListSessions(r.Context(), wb.cfg.DB, p.Filter); err != nil && formErr == nil {
		formErr = err
	}
	return wb.show(w, r, "sessions.html", "Inventory sessions", p, formErr)
}

func (wb *Web) createSession(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	loc, err := formInt(r, "location_id")
	if err == nil {
		var s assets.Session
		s, err = assets.CreateSession(r.Context(), wb.cfg.DB, assets.SessionInput{Name: r.PostFormValue("name"), LocationID: loc,
			ExcludeRetired: r.PostFormValue("statuses") == "exclude_retired"})
		if err == nil {
			return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", s.ID), "Session created")
		}
	}
	return wb.showSessionList(w, r, err)
}

type sessionPage struct {
	Session    assets.Session
	Items      []assets.Item
	Unexpected []assets.UnexpectedScan
	Locations  []inventory.Location
	Conditions []assets.Condition
	Found      int
	Missing    int
	// Query is the list's filter and position; Next and First link to the
	// following page and back to the start ("" when there is none).
	Query       assets.ItemQuery
	Next, First string
	States      []itemState
	// View is the row whose scan modal is open (?view=asset id), if any:
	// one modal rendered on demand rather than one per row, so long lists
	// stay light and it works without JavaScript.
	View *assets.Item
}

type itemState struct{ Value, Label string }

// sessionItemsPerPage is how many rows of a session's list a page shows.
const sessionItemsPerPage = 100

func (wb *Web) sessionDetail(w http.ResponseWriter, r *http.Request) error {
	return wb.showSession(w, r, nil)
}

func (wb *Web) showSession(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	view, err := queryInt(r, "view")
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after")
	if err != nil {
		return err
	}
	s, err := assets.GetSession(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := sessionPage{Session: s, Conditions: assets.Conditions(), Found: s.Progress.Scanned, Missing: s.Progress.Total - s.Progress.Scanned,
		Query: assets.ItemQuery{State: q.Get("state"), Search: q.Get("q"), After: after, Limit: sessionItemsPerPage},
		States: []itemState{{"", "All"}, {assets.ItemsNotScanned, "Not scanned"}, {assets.ItemsScanned, "Scanned"},
			{assets.ItemsStaged, "With staged changes"}, {assets.ItemsExcluded, "Excluded"}}}
	if s.StartedAt != nil {
		page, err := assets.ListSessionItemsPage(r.Context(), wb.cfg.DB, id, p.Query)
		if err != nil {
			if formErr == nil {
				formErr = err
			}
		} else {
			p.Items = page.Items
			link := func(after int64) string {
				lq := url.Values{}
				for _, k := range []string{"state", "q"} {
					if v := q.Get(k); v != "" {
						lq.Set(k, v)
					}
				}
				if after > 0 {
					lq.Set("after", strconv.FormatInt(after, 10))
				}
				return fmt.Sprintf("/inventory-checks/%d?%s#report", id, lq.Encode())
			}
			if page.Next != 0 {
				p.Next = link(page.Next)
			}
			if after > 0 {
				p.First = link(0)
			}
		}
		if p.Unexpected, err = assets.ListUnexpectedScans(r.Context(), wb.cfg.DB, id); err != nil {
			return err
		}
	}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	if strings.HasSuffix(r.URL.Path, "/stage") {
		// A refused staging shows its modal again, with the message.
		view, _ = strconv.ParseInt(r.PathValue("asset"), 10, 64)
	}
	if view > 0 {
		if it, err := assets.GetSessionItem(r.Context(), wb.cfg.DB, id, view); err == nil && !it.Excluded {
			p.View = &it
		}
	}
	return wb.show(w, r, "session.html", s.Name, p, formErr)
}

func (wb *Web) sessionAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var msg string
	switch {
	case strings.HasSuffix(r.URL.Path, "/start"):
		err, msg = ignore(assets.StartSession(r.Context(), wb.cfg.DB, id)), "Session started: the expected list is ready"
	case strings.HasSuffix(r.URL.Path, "/finish"):
		var res assets.FinishResult
		if res, err = assets.FinishSession(r.Context(), wb.cfg.DB, id); err == nil {
			msg = fmt.Sprintf("Session completed: %s changed, %d marked Lost", count(res.Changed, "asset", "assets"), res.MarkedLost)
		}
	default:
		err, msg = ignore(assets.CancelSession(r.Context(), wb.cfg.DB, id)), "Session cancelled"
	}
	if err != nil {
		return wb.showSession(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", id), msg)
}

// ignore drops a result that a handler does not need, keeping the error.
func ignore[T any](_ T, err error) error { return err }

func (wb *Web) scan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	assetID, err := formInt(r, "asset_id")
	if err != nil {
		return wb.showSession(w, r, err)
	}
	res, err := assets.ScanAsset(r.Context(), wb.cfg.DB, id, assets.ScanInput{Code: r.PostFormValue("code"), AssetID: assetID,
		ClientScanID: r.PostFormValue("client_scan_id")})
	if err != nil {
		return wb.showSession(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", id), res.Message)
}

func (wb *Web) include(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	assetID, err := formInt(r, "asset_id")
	if err == nil && assetID == 0 {
		ws, tag, perr := qrlabel.Parse(r.PostFormValue("tag"))
		who, _ := actor.From(r.Context())
		switch {
		case perr != nil:
			err = fault.Field("tag", "not an asset tag or label")
		case ws != 0 && ws != who.WorkspaceID:
			err = fault.Field("tag", "this label belongs to another workspace")
		default:
			var a assets.Asset
			if a, err = assets.GetAssetByTag(r.Context(), wb.cfg.DB, tag); err == nil {
				assetID = a.ID
			}
		}
	}
	if err == nil {
		err = assets.IncludeAsset(r.Context(), wb.cfg.DB, id, assetID)
	}
	if err != nil {
		return wb.showSession(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", id), "Asset included in the session")
}

func (wb *Web) exclude(w http.ResponseWriter, r *http.Request) error {
	id, assetID, err := sessionAndAsset(r)
	if err != nil {
		return err
	}
	if err := assets.ExcludeAsset(r.Context(), wb.cfg.DB, id, assetID); err != nil {
		return wb.showSession(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", id), "Asset excluded from the session")
}

func (wb *Web) stage(w http.ResponseWriter, r *http.Request) error {
	id, assetID, err := sessionAndAsset(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	var c assets.StagedChange
	if v := r.PostFormValue("condition"); v != "" {
		cond := assets.Condition(v)
		c.Condition = &cond
	}
	if v := strings.TrimSpace(r.PostFormValue("assignee")); v != "" {
		c.Assignee = &v
	}
	if loc, ferr := formInt(r, "location_id"); ferr != nil {
		return wb.showSession(w, r, ferr)
	} else if loc > 0 {
		c.LocationID = &loc
	}
	if v := strings.TrimSpace(r.PostFormValue("comment")); v != "" {
		c.Comment = &v
	}
	if r.MultipartForm != nil && len(r.MultipartForm.File["photo"]) > 0 {
		data, err := formFile(r, "photo", assets.MaxPhotoBytes)
		if err != nil {
			return wb.showSession(w, r, err)
		}
		c.Photo = data
	}
	if c.Condition == nil && c.Assignee == nil && c.LocationID == nil && c.Comment == nil && c.Photo == nil {
		return wb.showSession(w, r, fault.New(fault.Invalid, "nothing to stage: change a value, write a comment or add a photo"))
	}
	if err := assets.StageChanges(r.Context(), wb.cfg.DB, id, assetID, c); err != nil {
		return wb.showSession(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory-checks/%d", id), "Changes staged; they apply when the session is finished")
}

func (wb *Web) reportCSV(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name, err := assets.WriteSessionReportCSV(r.Context(), wb.cfg.DB, id, &buf)
	if err != nil {
		return err
	}
	return download.Send(w, download.File{Name: name, ContentType: "text/csv; charset=utf-8"}, buf.Bytes())
}

type schedulePage struct {
	Schedules []assets.Schedule
	Locations []inventory.Location
	Weekdays  []string
}

func (wb *Web) scheduleList(w http.ResponseWriter, r *http.Request) error {
	return wb.showSchedules(w, r, nil)
}

func (wb *Web) showSchedules(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	p := schedulePage{Weekdays: []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}}
	if p.Schedules, err = assets.ListSchedules(r.Context(), wb.cfg.DB); err != nil {
		return err
	}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	return wb.show(w, r, "schedules.html", "Inventory schedules", p, formErr)
}

func (wb *Web) createSchedule(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	n, err := scheduleInput(r)
	if err == nil {
		if _, err = assets.CreateSchedule(r.Context(), wb.cfg.DB, n); err == nil {
			return redirect(w, r, "/inventory-checks/schedules", "Schedule created; its next session is listed as Scheduled")
		}
	}
	return wb.showSchedules(w, r, err)
}

// scheduleInput reads the schedule form (new and edit).
func scheduleInput(r *http.Request) (assets.ScheduleInput, error) {
	n := assets.ScheduleInput{Name: r.PostFormValue("name"), Recurrence: r.PostFormValue("recurrence"), Time: r.PostFormValue("time"),
		Cron: r.PostFormValue("cron"), ExcludeRetired: r.PostFormValue("statuses") == "exclude_retired"}
	for _, d := range r.PostForm["weekdays"] {
		v, err := strconv.Atoi(d)
		if err != nil {
			return n, fault.Field("weekdays", "unknown day")
		}
		n.Weekdays = append(n.Weekdays, v)
	}
	day, err := formInt(r, "month_day")
	if err != nil {
		return n, err
	}
	n.MonthDay = int(day)
	n.LocationID, err = formInt(r, "location_id")
	return n, err
}

type scheduleEditPage struct {
	Schedule  assets.Schedule
	Input     assets.ScheduleInput
	Locations []inventory.Location
	Weekdays  []string
	// Delete shows the page that confirms a deletion instead of the form.
	Delete bool
	// Sessions counts the sessions the schedule created, which stay.
	Sessions int
}

func (wb *Web) scheduleEdit(w http.ResponseWriter, r *http.Request) error {
	return wb.showScheduleEdit(w, r, nil, false, nil)
}

func (wb *Web) scheduleDeleteCheck(w http.ResponseWriter, r *http.Request) error {
	return wb.showScheduleEdit(w, r, nil, true, nil)
}

func (wb *Web) showScheduleEdit(w http.ResponseWriter, r *http.Request, in *assets.ScheduleInput, del bool, formErr error) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p := scheduleEditPage{Weekdays: []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}, Delete: del}
	if p.Schedule, err = assets.GetSchedule(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	p.Input = p.Schedule.Input()
	if in != nil {
		p.Input = *in
	}
	if p.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	if del {
		if p.Sessions, err = assets.CountScheduleSessions(r.Context(), wb.cfg.DB, id); err != nil {
			return err
		}
		return wb.show(w, r, "schedule.html", "Delete schedule "+p.Schedule.Name+"?", p, formErr)
	}
	return wb.show(w, r, "schedule.html", "Edit schedule "+p.Schedule.Name, p, formErr)
}

func (wb *Web) updateSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageSessions)
	if err != nil {
		return err
	}
	n, err := scheduleInput(r)
	if err == nil {
		if _, err = assets.UpdateSchedule(r.Context(), wb.cfg.DB, id, n); err == nil {
			return redirect(w, r, "/inventory-checks/schedules", "Schedule saved; its upcoming session follows the change")
		}
	}
	return wb.showScheduleEdit(w, r, &n, false, err)
}

func (wb *Web) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageSessions)
	if err != nil {
		return err
	}
	if err := assets.DeleteSchedule(r.Context(), wb.cfg.DB, id); err != nil {
		return wb.showScheduleEdit(w, r, nil, true, err)
	}
	return redirect(w, r, "/inventory-checks/schedules", "Schedule deleted; the sessions it created stay in the list")
}

func (wb *Web) setScheduleActive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	active := r.PostFormValue("active") == "1"
	if err := assets.SetScheduleActive(r.Context(), wb.cfg.DB, id, active); err != nil {
		return wb.showSchedules(w, r, err)
	}
	return redirect(w, r, "/inventory-checks/schedules", "Schedule updated")
}

// sessionAndAsset reads the session {id} and {asset} path values of a row
// action on a session page.
func sessionAndAsset(r *http.Request) (sessionID, assetID int64, err error) {
	if sessionID, err = pathID(r); err != nil {
		return 0, 0, err
	}
	assetID, err = strconv.ParseInt(r.PathValue("asset"), 10, 64)
	if err != nil || assetID <= 0 {
		return 0, 0, fault.New(fault.NotFound, "no such asset")
	}
	return sessionID, assetID, nil
}

// assetLifecycle retires, reinstates or restores an asset (reversible
// steps, so no check page).
func (wb *Web) assetLifecycle(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAssets)
	if err != nil {
		return err
	}
	in := assets.LifecycleInput{Reason: r.PostFormValue("reason")}
	var a assets.Asset
	var msg string
	switch {
	case strings.HasSuffix(r.URL.Path, "/retire"):
		a, err = assets.RetireAsset(r.Context(), wb.cfg.DB, id, in)
		msg = "retired; reinstate it to bring it back into service"
	case strings.HasSuffix(r.URL.Path, "/reinstate"):
		a, err = assets.ReinstateAsset(r.Context(), wb.cfg.DB, id, in)
		msg = "reinstated: active again"
	default:
		a, err = assets.RestoreAsset(r.Context(), wb.cfg.DB, id, in)
		msg = "restored to the register"
	}
	if err != nil {
		return wb.showAsset(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/assets/%d", id), "Asset "+a.Tag+" "+msg)
}

type disposePage struct {
	Asset   assets.Asset
	Input   assets.DisposalInput
	Methods []assets.DisposalMethod
	// Check is true on the check-your-answers step.
	Check bool
	Today string
	// Errors lists the form's problems for the error summary, in form order.
	Errors []fieldProblem
}

// disposalProblems lists a disposal's field messages in the form's order.
func disposalProblems(err error) []fieldProblem {
	e, ok := fault.As(err)
	if !ok {
		return nil
	}
	return errorSummary(e.Fields, []string{"date", "method", "reason"},
		map[string]string{"date": "Date it left", "method": "How it left", "reason": "Why"})
}

func (wb *Web) disposeForm(w http.ResponseWriter, r *http.Request) error {
	return wb.showDispose(w, r, assets.DisposalInput{}, false, nil)
}

func (wb *Web) showDispose(w http.ResponseWriter, r *http.Request, in assets.DisposalInput, check bool, formErr error) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := assets.GetAsset(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	p := disposePage{Asset: a, Input: in, Methods: assets.DisposalMethods(), Check: check && formErr == nil,
		Today: time.Now().In(ws.Settings.Location()).Format(time.DateOnly), Errors: disposalProblems(formErr)}
	if p.Input.Date == "" {
		p.Input.Date = p.Today
	}
	title := "Dispose of " + a.Tag
	if p.Check {
		title = "Check before you dispose of " + a.Tag
	}
	return wb.show(w, r, "assetdispose.html", title, p, formErr)
}

// dispose is the form's two steps: "check" validates and shows the answers
// to confirm, "change" goes back to the form with them, "confirm" disposes.
func (wb *Web) dispose(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAssets)
	if err != nil {
		return err
	}
	in := assets.DisposalInput{Date: r.PostFormValue("date"), Method: assets.DisposalMethod(r.PostFormValue("method")), Reason: r.PostFormValue("reason")}
	switch r.PostFormValue("step") {
	case "change":
		return wb.showDispose(w, r, in, false, nil)
	case "confirm":
		a, err := assets.DisposeAsset(r.Context(), wb.cfg.DB, id, in)
		if err != nil {
			return wb.showDispose(w, r, in, false, err)
		}
		return redirect(w, r, fmt.Sprintf("/assets/%d", id), fmt.Sprintf("Asset %s disposed of (%s); its record and history are kept", a.Tag, a.Disposal.Method.Label()))
	}
	_, checked, err := assets.CheckDisposal(r.Context(), wb.cfg.DB, id, in)
	return wb.showDispose(w, r, checked, true, err)
}

type deletePage struct {
	Asset  assets.Asset
	Reason string
}

func (wb *Web) deleteCheck(w http.ResponseWriter, r *http.Request) error {
	return wb.showDeleteCheck(w, r, "", nil)
}

func (wb *Web) showDeleteCheck(w http.ResponseWriter, r *http.Request, reason string, formErr error) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := assets.CheckDeletion(r.Context(), wb.cfg.DB, id, assets.LifecycleInput{})
	if err != nil && formErr == nil {
		if a.ID == 0 {
			return err
		}
		formErr = err
	}
	return wb.show(w, r, "assetdelete.html", "Delete "+a.Tag+"?", deletePage{Asset: a, Reason: reason}, formErr)
}

func (wb *Web) deleteAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAssets)
	if err != nil {
		return err
	}
	reason := r.PostFormValue("reason")
	a, err := assets.DeleteAsset(r.Context(), wb.cfg.DB, id, assets.LifecycleInput{Reason: reason})
	if err != nil {
		return wb.showDeleteCheck(w, r, reason, err)
	}
	return redirect(w, r, fmt.Sprintf("/assets/%d", id), "Asset "+a.Tag+" deleted: hidden from the register; restore it from this page")
}
