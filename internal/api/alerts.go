package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/param"
	"github.com/stocktrail/stocktrail/internal/store"
)

func (a *API) registerAlerts(mux *http.ServeMux) {
	db := a.cfg.DB
	a.handle(mux, "GET /api/v1/alert-rules", a.listAlertRules)
	a.handle(mux, "POST /api/v1/alert-rules", fromBody(db, actor.ManageAlerts, http.StatusCreated, alerts.CreateRule))
	a.handle(mux, "GET /api/v1/alert-rules/{id}", readByID(db, alerts.GetRule, actor.ViewAlerts))
	a.handle(mux, "PUT /api/v1/alert-rules/{id}", byIDFromBody(db, actor.ManageAlerts, http.StatusOK, alerts.UpdateRule))
	a.handle(mux, "GET /api/v1/alerts", a.listAlerts)
	a.handle(mux, "GET /api/v1/alerts/{id}", readByID(db, alertWithEvidence, actor.ViewAlerts))
	a.handle(mux, "POST /api/v1/alerts/{id}/acknowledge", byIDFromBody(db, actor.ManageAlerts, http.StatusOK, acknowledgeAlert))
}

func (a *API) listAlertRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := alerts.ListRules(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []alerts.Rule{}
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"data": rules})
}

func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewAlerts); err != nil {
		return err
	}
	q := r.URL.Query()
	f := alerts.AlertFilter{Status: q.Get("status")}
	var err error
	if f.RuleID, err = param.Int(q, "rule_id"); err != nil {
		return err
	}
	if f.Before, err = param.Int(q, "cursor"); err != nil {
		return err
	}
	limit, err := param.Int(q, "limit")
	if err != nil {
		return err
	}
	f.Limit = int(min(max(limit, 0), alerts.MaxAlertPage))
	if f.Limit == 0 {
		f.Limit = 50
	}
	list, err := alerts.ListAlerts(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	out := map[string]any{"data": list}
	if list == nil {
		out["data"] = []alerts.Alert{}
	}
	if len(list) == f.Limit {
		out["next_cursor"] = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return WriteJSON(w, http.StatusOK, out)
}

// alertDetail is an alert with its evidence, each entry with its place in
// its log.
type alertDetail struct {
	alerts.Alert
	Evidence []evidenceEntry `json:"evidence"`
}

type evidenceEntry struct {
	alerts.Evidence
	Link string `json:"link"`
}

func alertWithEvidence(ctx context.Context, r store.Reader, id int64) (alertDetail, error) {
	al, ev, err := alerts.GetAlert(ctx, r, id)
	if err != nil {
		return alertDetail{}, err
	}
	out := alertDetail{Alert: al, Evidence: make([]evidenceEntry, 0, len(ev))}
	for _, e := range ev {
		out.Evidence = append(out.Evidence, evidenceEntry{Evidence: e, Link: e.Link()})
	}
	return out, nil
}

// acknowledgement is the body of an acknowledgement.
type acknowledgement struct {
	Note string `json:"note"`
}

func acknowledgeAlert(ctx context.Context, db *store.DB, id int64, in acknowledgement) (alerts.Alert, error) {
	return alerts.Acknowledge(ctx, db, id, in.Note)
}
