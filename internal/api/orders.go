package api

import (
	"context"
	"net/http"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/store"
)

func (a *API) registerOrders(mux *http.ServeMux) {
	db := a.cfg.DB
	a.handle(mux, "GET /api/v1/orders", a.listOrders)
	a.handle(mux, "POST /api/v1/orders", fromBody(db, actor.ManageOrders, http.StatusCreated, orders.Create))
	a.handle(mux, "GET /api/v1/orders/{id}", readByID(db, orders.Get, actor.ViewOrders, actor.UseStation))
	a.handle(mux, "GET /api/v1/orders/{id}/history", byID(db, http.StatusOK, func(ctx context.Context, db *store.DB, id int64) ([]activity.Event, error) {
		return orders.History(ctx, db, id, 0)
	}))
	a.handle(mux, "PATCH /api/v1/orders/{id}", byIDFromBody(db, actor.ManageOrders, http.StatusOK, orders.Update))
	a.handle(mux, "POST /api/v1/orders/{id}/lines", byIDFromBody(db, actor.ManageOrders, http.StatusCreated, orders.AddLine))
	a.handle(mux, "PATCH /api/v1/orders/{id}/lines/{line}", orderLine(db, orders.UpdateLine))
	a.handle(mux, "DELETE /api/v1/orders/{id}/lines/{line}", orderLine(db, func(ctx context.Context, db *store.DB, id, line int64, _ struct{}) (orders.Order, error) {
		return orders.RemoveLine(ctx, db, id, line)
	}))
	a.handle(mux, "POST /api/v1/orders/{id}/confirm", byID(db, http.StatusOK, orders.Confirm))
	a.handle(mux, "POST /api/v1/orders/{id}/allocate", orderAction(db, actor.FulfilOrders, orders.Allocate))
	a.handle(mux, "POST /api/v1/orders/{id}/release", orderAction(db, actor.FulfilOrders, orders.Release))
	a.handle(mux, "POST /api/v1/orders/{id}/pick", orderAction(db, actor.FulfilOrders, orders.Pick))
	a.handle(mux, "POST /api/v1/orders/{id}/ship", orderAction(db, actor.FulfilOrders, orders.Ship))
	a.handle(mux, "POST /api/v1/orders/{id}/receive", byIDFromBody(db, actor.FulfilOrders, http.StatusOK, orders.Receive))
	a.handle(mux, "POST /api/v1/orders/{id}/close", byID(db, http.StatusOK, orders.Close))
	a.handle(mux, "POST /api/v1/orders/{id}/cancel", orderAction(db, actor.ManageOrders, orders.Cancel))
}

// orderAction is byIDFromBody for actions whose every field is optional:
// a request without a body acts on the whole order (allocate everything,
// pick every allocated line, ship all, cancel without a reason).
func orderAction[In any](db *store.DB, perm actor.Permission, call func(context.Context, *store.DB, int64, In) (orders.Order, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), perm); err != nil {
			return err
		}
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var in In
		if r.ContentLength != 0 {
			if err := DecodeJSON(w, r, &in); err != nil {
				return err
			}
		}
		out, err := call(r.Context(), db, id, in)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, out)
	}
}

// orderLine answers a change of the line named by {line} of the order
// named by {id}; a DELETE has no body.
func orderLine[In any](db *store.DB, call func(context.Context, *store.DB, int64, int64, In) (orders.Order, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), actor.ManageOrders); err != nil {
			return err
		}
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		line, err := PathID(r, "line")
		if err != nil {
			return err
		}
		var in In
		if r.Method != http.MethodDelete {
			if err := DecodeJSON(w, r, &in); err != nil {
				return err
			}
		}
		out, err := call(r.Context(), db, id, line, in)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, out)
	}
}

func (a *API) listOrders(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewOrders); err != nil {
		return err
	}
	q := r.URL.Query()
	f := orders.Filter{Kind: orders.Kind(q.Get("kind")), Status: orders.Status(q.Get("status")), Search: q.Get("q"), Party: q.Get("party")}
	var err error
	if f.ItemID, err = queryInt(r, "item_id"); err != nil {
		return err
	}
	if f.Before, err = queryInt(r, "before"); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	f.Limit = int(min(limit, orders.MaxPage+1))
	zone := inventory.WorkspaceZone(r.Context(), a.cfg.DB)
	if f.From, err = inventory.ParseMoment("from", q.Get("from"), zone, false); err != nil {
		return err
	}
	if f.To, err = inventory.ParseMoment("to", q.Get("to"), zone, true); err != nil {
		return err
	}
	page, err := orders.List(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, page)
}
