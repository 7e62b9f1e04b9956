package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// The seed-002 audit-log API. Its answers carry "status" ("success" or
// "error") as the seed prescribes, so these routes answer errors in that
// shape instead of problem+json (keeping problem-like fields beside it).
// Every route is for admins only, checked before anything is read.
func (a *API) registerAuditLogs(mux *http.ServeMux) {
	a.handleSeed(mux, "GET /api/v1/audit-logs", a.listAuditLogs)
	a.handleSeed(mux, "POST /api/v1/audit-logs", a.createAuditLog)
	// More specific than {id}, so the mux never hands "summary" to getAuditLog.
	a.handleSeed(mux, "GET /api/v1/audit-logs/summary", a.auditLogSummary)
	a.handleSeed(mux, "GET /api/v1/audit-logs/{id}", a.getAuditLog)
}

// handleSeed registers h with seed-shaped error answers.
func (a *API) handleSeed(mux *http.ServeMux, pattern string, h handler) {
	a.patterns = append(a.patterns, pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := a.query.check(pattern, r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			WriteSeedError(w, r, a, err)
		}
	})
}

// SeedError is the error answer of the seed-002 endpoints.
type SeedError struct {
	Status    string            `json:"status"` // always "error"
	Code      int               `json:"code"`
	Message   string            `json:"message"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// WriteSeedError answers err as {"status":"error","message":...} with the
// status code of its kind.
func WriteSeedError(w http.ResponseWriter, r *http.Request, a *API, err error) {
	p := ProblemFor(r, a.cfg.Logger, err) // logs internal errors, picks status and safe message
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(SeedError{Status: "error", Code: p.Status, Message: p.Detail, Errors: p.Errors, RequestID: p.RequestID})
}

// auditLogEntry is an event as the seed names its fields, plus what
// stocktrail records beyond them.
type auditLogEntry struct {
	ID        int64     `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	// UserID is set when a user acted; stations and API keys are named by
	// ActorKind and ActorID.
	UserID      *int64          `json:"user_id"`
	Username    string          `json:"username"`
	ActorKind   string          `json:"actor_kind"`
	ActorID     *int64          `json:"actor_id"`
	Action      string          `json:"action"`
	Category    string          `json:"category"`
	TableName   string          `json:"table_name"`
	RecordID    string          `json:"record_id"`
	OldValues   json.RawMessage `json:"old_values"`
	NewValues   json.RawMessage `json:"new_values"`
	Description string          `json:"description"`
	IPAddress   string          `json:"ip_address"`
	UserAgent   string          `json:"user_agent"`
	RequestID   string          `json:"request_id"`
	ReportedBy  *reporter       `json:"reported_by,omitempty"`
}

type reporter struct {
	Kind string `json:"actor_kind"`
	ID   int64  `json:"actor_id"`
	Name string `json:"name"`
}

func entryOf(ev activity.Event) auditLogEntry {
	e := auditLogEntry{ID: ev.ID, Timestamp: ev.OccurredAt, Username: ev.ActorName, ActorKind: ev.ActorKind,
		Action: string(ev.Action), Category: string(ev.Category), TableName: ev.EntityType, RecordID: ev.EntityID,
		Description: ev.Description, IPAddress: ev.IP, UserAgent: ev.UserAgent, RequestID: ev.RequestID}
	if ev.ActorID != 0 {
		id := ev.ActorID
		e.ActorID = &id
		if ev.ActorKind == string(actor.User) {
			e.UserID = &id
		}
	}
	e.OldValues, _ = ev.Old.(json.RawMessage)
	e.NewValues, _ = ev.New.(json.RawMessage)
	if ev.ReportedByKind != "" {
		e.ReportedBy = &reporter{Kind: ev.ReportedByKind, ID: ev.ReportedByID, Name: ev.ReportedByName}
	}
	return e
}

// auditLogParams are the query parameters the list and summary accept; any
// other is refused, so a misspelt filter is not silently ignored.
var auditLogParams = map[string]bool{"user_id": true, "table_name": true, "start_date": true, "end_date": true,
	"skip": true, "limit": true, "action": true, "entity_id": true, "record_id": true, "entity_type": true,
	"actor_kind": true, "actor_id": true, "category": true, "q": true, "search_in": true, "cursor": true}

// auditFilter checks the caller is an admin and reads the filter, with
// dates in the workspace's time zone.
func (a *API) auditFilter(r *http.Request, paging bool) (activity.Filter, error) {
	_, err := actor.Require(r.Context(), actor.ManageAuditLogs)
	if err != nil {
		return activity.Filter{}, err
	}
	q := r.URL.Query()
	var unknown []string
	for k := range q {
		if !auditLogParams[k] || (!paging && (k == "skip" || k == "limit" || k == "cursor")) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return activity.Filter{}, fault.New(fault.Malformed, "unknown query parameter %s", strings.Join(unknown, ", "))
	}
	ws, err := workspace.Get(r.Context(), a.cfg.DB)
	if err != nil {
		return activity.Filter{}, err
	}
	return activity.ParseFilter(q, ws.Settings.Location())
}

type auditLogPage struct {
	Status string          `json:"status"`
	Count  int             `json:"count"`
	Data   []auditLogEntry `json:"data"`
	// NextCursor reads on after this page (pass it as cursor); absent on
	// the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

func (a *API) listAuditLogs(w http.ResponseWriter, r *http.Request) error {
	f, err := a.auditFilter(r, true)
	if err != nil {
		return err
	}
	res, err := activity.List(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	page := auditLogPage{Status: "success", Count: len(res.Events), Data: make([]auditLogEntry, 0, len(res.Events))}
	for _, ev := range res.Events {
		page.Data = append(page.Data, entryOf(ev))
	}
	if res.Next != nil {
		page.NextCursor = res.Next.String()
	}
	return WriteJSON(w, http.StatusOK, page)
}

func (a *API) getAuditLog(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAuditLogs); err != nil {
		return err
	}
	id, err := PathID(r, "id")
	if err != nil {
		return fault.New(fault.NotFound, "no audit log entry with id %q", r.PathValue("id"))
	}
	ev, err := activity.Get(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"status": "success", "data": entryOf(ev)})
}

func (a *API) auditLogSummary(w http.ResponseWriter, r *http.Request) error {
	f, err := a.auditFilter(r, false)
	if err != nil {
		return err
	}
	s, err := activity.Summarize(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"status": "success", "data": s})
}

// newAuditLog is the body of POST /api/v1/audit-logs.
type newAuditLog struct {
	UserID      int64           `json:"user_id"`
	Username    string          `json:"username"`
	Action      string          `json:"action"`
	TableName   string          `json:"table_name"`
	RecordID    json.RawMessage `json:"record_id"`
	OldValues   json.RawMessage `json:"old_values"`
	NewValues   json.RawMessage `json:"new_values"`
	Description string          `json:"description"`
	IPAddress   string          `json:"ip_address"`
}

func (a *API) createAuditLog(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAuditLogs); err != nil {
		return err // before reading the body: a forbidden caller learns nothing about validation
	}
	var in newAuditLog
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	recordID, err := activity.RecordIDText(in.RecordID)
	if err != nil {
		return err
	}
	id, err := activity.Report(r.Context(), a.cfg.DB, activity.ManualEntry{UserID: in.UserID, Username: in.Username,
		Action: activity.Action(in.Action), TableName: in.TableName, RecordID: recordID, Old: in.OldValues, New: in.NewValues,
		Description: in.Description, IP: in.IPAddress})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/audit-logs/"+strconv.FormatInt(id, 10))
	return WriteJSON(w, http.StatusCreated, map[string]any{"status": "success", "id": id})
}
