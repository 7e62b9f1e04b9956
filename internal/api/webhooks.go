package api

import (
	"net/http"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/notify"
)

// Webhook endpoints, their subscriptions, deliveries and attempts
// (Configuration → Notifications → Webhooks; docs/webhooks.md).
func (a *API) registerWebhooks(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/webhooks", a.listWebhooks)
	a.handle(mux, "POST /api/v1/webhooks", a.createWebhook)
	a.handle(mux, "GET /api/v1/webhooks/{id}", a.onWebhook(actor.ViewAlerts, a.getWebhook))
	a.handle(mux, "PATCH /api/v1/webhooks/{id}", a.onWebhook(actor.ManageAlerts, a.updateWebhook))
	a.handle(mux, "POST /api/v1/webhooks/{id}/rotate-secret", a.onWebhook(actor.ManageAlerts, a.rotateWebhookSecret))
	a.handle(mux, "POST /api/v1/webhooks/{id}/subscriptions", a.onWebhook(actor.ManageAlerts, a.addWebhookSubscription))
	a.handle(mux, "DELETE /api/v1/webhooks/{id}/subscriptions/{subscription_id}", a.onWebhook(actor.ManageAlerts, a.removeWebhookSubscription))
	a.handle(mux, "GET /api/v1/webhooks/{id}/deliveries", a.onWebhook(actor.ViewAlerts, a.listWebhookDeliveries))
	a.handle(mux, "GET /api/v1/webhooks/{id}/deliveries/{delivery_id}", a.onWebhook(actor.ViewAlerts, a.getWebhookDelivery))
	a.handle(mux, "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", a.onWebhook(actor.ManageAlerts, a.redeliverWebhook))
}

func (a *API) webhooks(r *http.Request, perm actor.Permission) (*notify.Webhooks, error) {
	if _, err := actor.Require(r.Context(), perm); err != nil {
		return nil, err
	}
	if a.cfg.Webhooks == nil {
		return nil, fault.New(fault.NotFound, "webhooks are not available on this server")
	}
	return a.cfg.Webhooks, nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.webhooks(r, actor.ViewAlerts)
	if err != nil {
		return err
	}
	out, err := svc.ListEndpoints(r.Context())
	if err != nil {
		return err
	}
	return list(w, out)
}

type newWebhook struct {
	notify.EndpointInput
	Subscriptions []notify.SubscriptionInput `json:"subscriptions"`
}

// webhookWithSecret is the answer that carries a secret: the only one.
type webhookWithSecret struct {
	notify.Endpoint
	Secret string `json:"secret"`
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.webhooks(r, actor.ManageAlerts)
	if err != nil {
		return err
	}
	var in newWebhook
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	e, secret, err := svc.CreateEndpoint(r.Context(), in.EndpointInput, in.Subscriptions)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, webhookWithSecret{Endpoint: e, Secret: secret})
}

// onWebhook is an operation on the endpoint named by {id}: perm checked,
// the service and the id read, the rest is call's.
func (a *API) onWebhook(perm actor.Permission, call func(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, err := a.webhooks(r, perm)
		if err != nil {
			return err
		}
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		return call(w, r, svc, id)
	}
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	e, err := svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, e)
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	var c notify.EndpointChange
	if err := DecodeJSON(w, r, &c); err != nil {
		return err
	}
	e, err := svc.UpdateEndpoint(r.Context(), id, c)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, e)
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	secret, err := svc.RotateSecret(r.Context(), id)
	if err != nil {
		return err
	}
	e, err := svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, webhookWithSecret{Endpoint: e, Secret: secret})
}

func (a *API) addWebhookSubscription(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	var in notify.SubscriptionInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := svc.AddSubscription(r.Context(), id, in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, s)
}

func (a *API) removeWebhookSubscription(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	sub, err := PathID(r, "subscription_id")
	if err != nil {
		return err
	}
	if err := svc.RemoveSubscription(r.Context(), id, sub); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	f := notify.DeliveryFilter{Status: notify.DeliveryStatus(r.URL.Query().Get("status"))}
	var err error
	if f.Before, err = queryInt(r, "before"); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if limit > 500 {
		return fault.Field("limit", "at most 500")
	}
	f.Limit = int(limit)
	if _, err := svc.GetEndpoint(r.Context(), id); err != nil {
		return err
	}
	out, err := svc.ListDeliveries(r.Context(), id, f)
	if err != nil {
		return err
	}
	return list(w, out)
}

type deliveryWithAttempts struct {
	notify.Delivery
	AttemptList []notify.Attempt `json:"attempt_list"`
}

func (a *API) getWebhookDelivery(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	did, err := PathID(r, "delivery_id")
	if err != nil {
		return err
	}
	d, attempts, err := svc.GetDelivery(r.Context(), id, did)
	if err != nil {
		return err
	}
	if attempts == nil {
		attempts = []notify.Attempt{}
	}
	return WriteJSON(w, http.StatusOK, deliveryWithAttempts{Delivery: d, AttemptList: attempts})
}

func (a *API) redeliverWebhook(w http.ResponseWriter, r *http.Request, svc *notify.Webhooks, id int64) error {
	did, err := PathID(r, "delivery_id")
	if err != nil {
		return err
	}
	if err := svc.Redeliver(r.Context(), id, did); err != nil {
		return err
	}
	d, _, err := svc.GetDelivery(r.Context(), id, did)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, d)
}
