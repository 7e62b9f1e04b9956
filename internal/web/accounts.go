package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

func (wb *Web) registerAccounts(mux *http.ServeMux) {
	mux.HandleFunc("GET /users", wb.page(wb.users))
	mux.HandleFunc("POST /users", wb.page(wb.createUser))
	mux.HandleFunc("GET /users/{id}", wb.page(wb.user))
	mux.HandleFunc("POST /users/{id}", wb.page(wb.updateUser))
	mux.HandleFunc("POST /users/{id}/delete", wb.page(wb.deleteUser))
	mux.HandleFunc("GET /api-keys", wb.page(wb.apiKeys))
	mux.HandleFunc("POST /api-keys", wb.page(wb.createAPIKey))
	mux.HandleFunc("POST /api-keys/{id}/revoke", wb.page(wb.revokeAPIKey))
	mux.HandleFunc("GET /stations", wb.page(wb.stations))
	mux.HandleFunc("POST /stations", wb.page(wb.createStation))
	mux.HandleFunc("POST /stations/{id}/revoke", wb.page(wb.revokeStation))
}

func (wb *Web) users(w http.ResponseWriter, r *http.Request) error {
	return wb.showUsers(w, r, nil)
}

func (wb *Web) showUsers(w http.ResponseWriter, r *http.Request, formErr error) error {
	users, err := wb.cfg.Auth.ListUsers(r.Context())
	if err != nil {
		return err
	}
	return wb.show(w, r, "users.html", "Users", users, formErr)
}

func (wb *Web) createUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageUsers); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	u, err := wb.cfg.Auth.CreateUser(r.Context(), auth.NewUser{
		Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Role: actor.Role(r.PostFormValue("role")), Password: r.PostFormValue("password"),
	})
	if err != nil {
		return wb.showUsers(w, r, err)
	}
	return redirect(w, r, "/users", "User "+u.Email+" created")
}

type userPage struct {
	User    auth.User
	History []activity.Readable
}

func (wb *Web) user(w http.ResponseWriter, r *http.Request) error {
	return wb.showUser(w, r, nil)
}

func (wb *Web) showUser(w http.ResponseWriter, r *http.Request, formErr error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := wb.cfg.Auth.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	page := userPage{User: u}
	if a, _ := actor.From(r.Context()); a.Can(actor.ViewActivity) {
		if page.History, err = activity.History(r.Context(), wb.cfg.DB, "users", fmt.Sprint(u.ID), 100); err != nil {
			return err
		}
	}
	return wb.show(w, r, "user.html", u.Name, page, formErr)
}

func (wb *Web) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageUsers)
	if err != nil {
		return err
	}
	name := r.PostFormValue("name")
	role := actor.Role(r.PostFormValue("role"))
	disabled := r.PostFormValue("disabled") == "on"
	c := auth.UserChange{Name: &name, Role: &role, Disabled: &disabled}
	if pw := r.PostFormValue("password"); strings.TrimSpace(pw) != "" {
		c.Password = &pw
	}
	if _, err := wb.cfg.Auth.UpdateUser(r.Context(), id, c); err != nil {
		return wb.showUser(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/users/%d", id), "Saved")
}

func (wb *Web) deleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := wb.cfg.Auth.DeleteUser(r.Context(), id); err != nil {
		return wb.showUser(w, r, err)
	}
	return redirect(w, r, "/users", "User deleted")
}

type credentialsPage[T any] struct {
	Items []T
	// NewSecret is shown once, right after creation.
	NewSecret string
	NewName   string
	// Locations are what a station can be bound to.
	Locations []inventory.Location
}

func (wb *Web) apiKeys(w http.ResponseWriter, r *http.Request) error {
	return wb.showAPIKeys(w, r, credentialsPage[auth.APIKey]{}, nil)
}

func (wb *Web) showAPIKeys(w http.ResponseWriter, r *http.Request, page credentialsPage[auth.APIKey], formErr error) error {
	keys, err := wb.cfg.Auth.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	page.Items = keys
	return wb.show(w, r, "apikeys.html", "API keys", page, formErr)
}

func (wb *Web) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAPIKeys); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	k, err := wb.cfg.Auth.CreateAPIKey(r.Context(), r.PostFormValue("name"), actor.Role(r.PostFormValue("role")))
	if err != nil {
		return wb.showAPIKeys(w, r, credentialsPage[auth.APIKey]{}, err)
	}
	// Rendered directly, not redirected: the secret must never sit in a URL.
	return wb.showAPIKeys(w, r, credentialsPage[auth.APIKey]{NewSecret: k.Secret, NewName: k.Name}, nil)
}

func (wb *Web) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := wb.cfg.Auth.RevokeAPIKey(r.Context(), id); err != nil {
		return wb.showAPIKeys(w, r, credentialsPage[auth.APIKey]{}, err)
	}
	return redirect(w, r, "/api-keys", "API key revoked")
}

func (wb *Web) stations(w http.ResponseWriter, r *http.Request) error {
	return wb.showStations(w, r, credentialsPage[auth.Station]{}, nil)
}

func (wb *Web) showStations(w http.ResponseWriter, r *http.Request, page credentialsPage[auth.Station], formErr error) error {
	st, err := wb.cfg.Auth.ListStations(r.Context())
	if err != nil {
		return err
	}
	page.Items = st
	if page.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
		return err
	}
	return wb.show(w, r, "stations.html", "Scanning stations", page, formErr)
}

func (wb *Web) createStation(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageStations); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	loc, err := formInt(r, "location_id")
	if err != nil {
		return wb.showStations(w, r, credentialsPage[auth.Station]{}, err)
	}
	st, err := wb.cfg.Auth.CreateStation(r.Context(), r.PostFormValue("name"), loc)
	if err != nil {
		return wb.showStations(w, r, credentialsPage[auth.Station]{}, err)
	}
	return wb.showStations(w, r, credentialsPage[auth.Station]{NewSecret: st.Token, NewName: st.Name}, nil)
}

func (wb *Web) revokeStation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := wb.cfg.Auth.RevokeStation(r.Context(), id); err != nil {
		return wb.showStations(w, r, credentialsPage[auth.Station]{}, err)
	}
	return redirect(w, r, "/stations", "Station revoked")
}
