package api

import (
	"net/http"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (a *API) registerWorkspace(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/workspace", a.getWorkspace)
	a.handle(mux, "PATCH /api/v1/workspace", a.updateWorkspace)
}

func (a *API) getWorkspace(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.Require(r.Context(), actor.ViewSettings)
	if err != nil {
		return err
	}
	ws, err := workspace.Get(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ws)
}

func (a *API) updateWorkspace(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSettings); err != nil {
		return err
	}
	var in workspace.Change
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ws, err := workspace.Update(r.Context(), a.cfg.DB, in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ws)
}
