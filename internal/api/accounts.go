package api

import (
	"net/http"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
)

func (a *API) registerAccounts(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/users", a.listUsers)
	a.handle(mux, "POST /api/v1/users", a.createUser)
	a.handle(mux, "GET /api/v1/users/{id}", a.getUser)
	a.handle(mux, "PATCH /api/v1/users/{id}", a.updateUser)
	a.handle(mux, "DELETE /api/v1/users/{id}", a.deleteUser)
	a.handle(mux, "GET /api/v1/api-keys", a.listAPIKeys)
	a.handle(mux, "POST /api/v1/api-keys", a.createAPIKey)
	a.handle(mux, "DELETE /api/v1/api-keys/{id}", a.revokeAPIKey)
	a.handle(mux, "GET /api/v1/stations", a.listStations)
	a.handle(mux, "POST /api/v1/stations", a.createStation)
	a.handle(mux, "DELETE /api/v1/stations/{id}", a.revokeStation)
}

type listAnswer[T any] struct {
	Count int `json:"count"`
	Data  []T `json:"data"`
}

func list[T any](w http.ResponseWriter, items []T) error {
	if items == nil {
		items = []T{}
	}
	return WriteJSON(w, http.StatusOK, listAnswer[T]{Count: len(items), Data: items})
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := a.cfg.Auth.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return list(w, users)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageUsers); err != nil {
		return err // before reading the body: a forbidden caller learns nothing about validation
	}
	var in auth.NewUser
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.cfg.Auth.CreateUser(r.Context(), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, u)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := a.cfg.Auth.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, u)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageUsers); err != nil {
		return err
	}
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in auth.UserChange
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.cfg.Auth.UpdateUser(r.Context(), id, in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, u)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.cfg.Auth.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := a.cfg.Auth.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	return list(w, keys)
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAPIKeys); err != nil {
		return err
	}
	var in struct {
		Name string     `json:"name"`
		Role actor.Role `json:"role"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	k, err := a.cfg.Auth.CreateAPIKey(r.Context(), in.Name, in.Role)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, k)
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.cfg.Auth.RevokeAPIKey(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listStations(w http.ResponseWriter, r *http.Request) error {
	st, err := a.cfg.Auth.ListStations(r.Context())
	if err != nil {
		return err
	}
	return list(w, st)
}

func (a *API) createStation(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageStations); err != nil {
		return err
	}
	var in struct {
		Name       string `json:"name"`
		LocationID int64  `json:"location_id"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := a.cfg.Auth.CreateStation(r.Context(), in.Name, in.LocationID)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, st)
}

func (a *API) revokeStation(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.cfg.Auth.RevokeStation(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
