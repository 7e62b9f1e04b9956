package api

import (
	"context"
	"net/http"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Most endpoints have one of a few shapes; these adapters are those shapes,
// so a handler is one line naming the area function it calls. The area
// function checks permissions itself; adapters that read a body or a record
// check perm first as well, so a caller without it is refused before its
// input is validated and learns nothing from the errors.

// byID answers with what call returns for the record named by the {id} path
// value.
func byID[Out any](db *store.DB, status int, call func(context.Context, *store.DB, int64) (Out, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		out, err := call(r.Context(), db, id)
		if err != nil {
			return err
		}
		return WriteJSON(w, status, out)
	}
}

// fromBody checks perm, decodes the JSON body strictly and answers with
// what call returns for it.
func fromBody[In, Out any](db *store.DB, perm actor.Permission, status int, call func(context.Context, *store.DB, In) (Out, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), perm); err != nil {
			return err
		}
		var in In
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		out, err := call(r.Context(), db, in)
		if err != nil {
			return err
		}
		return WriteJSON(w, status, out)
	}
}

// byIDFromBody combines the two: the record named by {id}, changed as the
// JSON body says.
func byIDFromBody[In, Out any](db *store.DB, perm actor.Permission, status int, call func(context.Context, *store.DB, int64, In) (Out, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), perm); err != nil {
			return err
		}
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var in In
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		out, err := call(r.Context(), db, id, in)
		if err != nil {
			return err
		}
		return WriteJSON(w, status, out)
	}
}

// readByID answers with the record named by {id}, read by get from the
// caller's workspace on a read connection once one of perms is granted.
func readByID[Out any](db *store.DB, get func(context.Context, store.Reader, int64) (Out, error), perms ...actor.Permission) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, err := actor.RequireAny(r.Context(), perms...)
		if err != nil {
			return err
		}
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		out, err := get(r.Context(), db, id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, out)
	}
}
