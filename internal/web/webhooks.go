package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/notify"
)

// Configuration → Notifications → Webhooks: endpoints, their streams,
// deliveries and attempts.
func (wb *Web) registerWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("GET /notifications/webhooks", wb.page(wb.webhooks))
	mux.HandleFunc("GET /notifications/webhooks/new", wb.page(wb.newWebhook))
	mux.HandleFunc("POST /notifications/webhooks", wb.page(wb.createWebhook))
	mux.HandleFunc("GET /notifications/webhooks/{id}", wb.page(wb.webhook))
	mux.HandleFunc("POST /notifications/webhooks/{id}", wb.page(wb.updateWebhook))
	mux.HandleFunc("POST /notifications/webhooks/{id}/enable", wb.page(wb.switchWebhook(true)))
	mux.HandleFunc("POST /notifications/webhooks/{id}/disable", wb.page(wb.switchWebhook(false)))
	mux.HandleFunc("POST /notifications/webhooks/{id}/rotate", wb.page(wb.rotateWebhookSecret))
	mux.HandleFunc("POST /notifications/webhooks/{id}/subscriptions", wb.page(wb.addWebhookSubscription))
	mux.HandleFunc("POST /notifications/webhooks/{id}/subscriptions/{sub}/delete", wb.page(wb.removeWebhookSubscription))
	mux.HandleFunc("GET /notifications/webhooks/{id}/deliveries/{delivery}", wb.page(wb.webhookDelivery))
	mux.HandleFunc("POST /notifications/webhooks/{id}/deliveries/{delivery}/redeliver", wb.page(wb.redeliverWebhook))
}

func (wb *Web) webhookService() (*notify.Webhooks, error) {
	if wb.cfg.Webhooks == nil {
		return nil, fault.New(fault.NotFound, "webhooks are not available on this server")
	}
	return wb.cfg.Webhooks, nil
}

// webhookChoices are the streams a form offers.
type webhookChoices struct {
	Categories []notify.Choice
	Actions    []notify.Choice
}

func choices() webhookChoices {
	return webhookChoices{Categories: notify.CategoryChoices(), Actions: notify.ActionChoices()}
}

type webhooksPage struct {
	Endpoints []notify.Endpoint
}

func (wb *Web) webhooks(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewAlerts); err != nil {
		return err
	}
	svc, err := wb.webhookService()
	if err != nil {
		return err
	}
	list, err := svc.ListEndpoints(r.Context())
	if err != nil {
		return err
	}
	return wb.show(w, r, "webhooks.html", "Webhooks", webhooksPage{Endpoints: list}, nil)
}

type newWebhookPage struct {
	webhookChoices
}

func (wb *Web) newWebhook(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	return wb.show(w, r, "webhooknew.html", "New webhook endpoint", newWebhookPage{choices()}, nil)
}

// subscriptionsFromForm reads the new-endpoint form's stream choices:
// checkboxes "activity" (categories, or "all"), "changes" (action types,
// or "all"), "alerts", and the activity format.
func subscriptionsFromForm(r *http.Request) []notify.SubscriptionInput {
	var subs []notify.SubscriptionInput
	format := notify.Format(r.PostFormValue("activity_format"))
	for _, c := range r.PostForm["activity"] {
		if c == "all" {
			c = ""
		}
		subs = append(subs, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: c, Format: format})
	}
	for _, a := range r.PostForm["changes"] {
		if a == "all" {
			a = ""
		}
		subs = append(subs, notify.SubscriptionInput{Stream: notify.ChangesStream, Filter: a, Format: notify.JSON})
	}
	if r.PostFormValue("alerts") != "" {
		subs = append(subs, notify.SubscriptionInput{Stream: notify.AlertsStream, Format: notify.JSON})
	}
	return subs
}

func (wb *Web) createWebhook(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	svc, err := wb.webhookService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	subs := subscriptionsFromForm(r)
	if len(subs) == 0 {
		return wb.show(w, r, "webhooknew.html", "New webhook endpoint", newWebhookPage{choices()},
			formProblem(fault.Field("streams", "choose at least one stream for the endpoint to receive"), newFormField))
	}
	e, secret, err := svc.CreateEndpoint(r.Context(), notify.EndpointInput{Name: r.PostFormValue("name"), URL: r.PostFormValue("url")}, subs)
	if err != nil {
		return wb.show(w, r, "webhooknew.html", "New webhook endpoint", newWebhookPage{choices()}, formProblem(err, newFormField))
	}
	// The secret is shown on this answer only, never in a URL.
	return wb.showWebhook(w, r, e.ID, secret, "Endpoint “"+e.Name+"” created", nil)
}

// formProblem puts each field's message beside the control that caused
// it ("subscriptions[2].format" is the streams fieldset of the new-endpoint
// form) and leaves the page-wide message empty: the page's own error
// summary lists the messages, linked to their fields, instead.
func formProblem(err error, rename func(field string) string) error {
	e, ok := fault.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	fields := map[string]string{}
	for k, v := range e.Fields {
		if _, taken := fields[rename(k)]; !taken {
			fields[rename(k)] = v
		}
	}
	return &fault.Error{Kind: e.Kind, Fields: fields}
}

// newFormField maps the service's fields to the new-endpoint form's.
func newFormField(field string) string {
	if field == "name" || field == "url" {
		return field
	}
	return "streams"
}

// detailFormField maps them to the endpoint page's forms.
func detailFormField(field string) string {
	if field == "filter" {
		return "stream"
	}
	return field
}

type webhookPage struct {
	Endpoint   notify.Endpoint
	Deliveries []notify.Delivery
	History    []activity.Readable
	// NewSecret is shown once, after creation or rotation.
	NewSecret string
	// Message confirms what was just done (with NewSecret, no redirect).
	Message string
	webhookChoices
}

func (wb *Web) webhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return wb.showWebhook(w, r, id, "", "", nil)
}

func (wb *Web) showWebhook(w http.ResponseWriter, r *http.Request, id int64, secret, message string, formErr error) error {
	if _, err := actor.Require(r.Context(), actor.ViewAlerts); err != nil {
		return err
	}
	svc, err := wb.webhookService()
	if err != nil {
		return err
	}
	e, err := svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	page := webhookPage{Endpoint: e, NewSecret: secret, Message: message, webhookChoices: choices()}
	status := notify.DeliveryStatus(r.URL.Query().Get("status"))
	if page.Deliveries, err = svc.ListDeliveries(r.Context(), id, notify.DeliveryFilter{Status: status, Limit: 50}); err != nil {
		return err
	}
	if a, _ := actor.From(r.Context()); a.Can(actor.ViewActivity) {
		if page.History, err = activity.History(r.Context(), wb.cfg.DB, notify.EntityType, fmt.Sprint(id), 50); err != nil {
			return err
		}
	}
	return wb.show(w, r, "webhook.html", e.Name, page, formProblem(formErr, detailFormField))
}

func (wb *Web) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, svc, err := wb.webhookChange(w, r)
	if err != nil {
		return err
	}
	name, url := r.PostFormValue("name"), r.PostFormValue("url")
	if _, err := svc.UpdateEndpoint(r.Context(), id, notify.EndpointChange{Name: &name, URL: &url}); err != nil {
		return wb.showWebhook(w, r, id, "", "", err)
	}
	return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d", id), "Saved")
}

// webhookChange checks the permission, reads the form and the endpoint id.
func (wb *Web) webhookChange(w http.ResponseWriter, r *http.Request) (int64, *notify.Webhooks, error) {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return 0, nil, err
	}
	svc, err := wb.webhookService()
	if err != nil {
		return 0, nil, err
	}
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	if err := parseForm(w, r); err != nil {
		return 0, nil, err
	}
	return id, svc, nil
}

func (wb *Web) switchWebhook(enabled bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, svc, err := wb.webhookChange(w, r)
		if err != nil {
			return err
		}
		if _, err := svc.UpdateEndpoint(r.Context(), id, notify.EndpointChange{Enabled: &enabled}); err != nil {
			return wb.showWebhook(w, r, id, "", "", err)
		}
		msg := "Endpoint disabled: it receives nothing until enabled again"
		if enabled {
			msg = "Endpoint enabled"
		}
		return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d", id), msg)
	}
}

func (wb *Web) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	id, svc, err := wb.webhookChange(w, r)
	if err != nil {
		return err
	}
	secret, err := svc.RotateSecret(r.Context(), id)
	if err != nil {
		return wb.showWebhook(w, r, id, "", "", err)
	}
	return wb.showWebhook(w, r, id, secret, "Signing secret rotated", nil)
}

func (wb *Web) addWebhookSubscription(w http.ResponseWriter, r *http.Request) error {
	id, svc, err := wb.webhookChange(w, r)
	if err != nil {
		return err
	}
	// One select names stream and filter: "activity:users", "changes:", "alerts:".
	stream, filter, _ := strings.Cut(r.PostFormValue("stream"), ":")
	in := notify.SubscriptionInput{Stream: notify.Stream(stream), Filter: filter, Format: notify.Format(r.PostFormValue("format"))}
	if _, err := svc.AddSubscription(r.Context(), id, in); err != nil {
		return wb.showWebhook(w, r, id, "", "", err)
	}
	return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d", id), "Subscription added")
}

func (wb *Web) removeWebhookSubscription(w http.ResponseWriter, r *http.Request) error {
	id, svc, err := wb.webhookChange(w, r)
	if err != nil {
		return err
	}
	sub, err := strconv.ParseInt(r.PathValue("sub"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "subscription not found")
	}
	if err := svc.RemoveSubscription(r.Context(), id, sub); err != nil {
		return wb.showWebhook(w, r, id, "", "", err)
	}
	return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d", id), "Subscription removed")
}

type deliveryPage struct {
	Endpoint notify.Endpoint
	Delivery notify.Delivery
	Attempts []notify.Attempt
}

func (wb *Web) webhookDelivery(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewAlerts); err != nil {
		return err
	}
	svc, err := wb.webhookService()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "webhook delivery not found")
	}
	e, err := svc.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	d, attempts, err := svc.GetDelivery(r.Context(), e.ID, did)
	if err != nil {
		return err
	}
	return wb.show(w, r, "webhookdelivery.html", "Delivery "+d.MessageID, deliveryPage{Endpoint: e, Delivery: d, Attempts: attempts}, nil)
}

func (wb *Web) redeliverWebhook(w http.ResponseWriter, r *http.Request) error {
	id, svc, err := wb.webhookChange(w, r)
	if err != nil {
		return err
	}
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "webhook delivery not found")
	}
	if err := svc.Redeliver(r.Context(), id, did); err != nil {
		return wb.showWebhook(w, r, id, "", "", err)
	}
	back := r.PostFormValue("back")
	if back != "delivery" {
		return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d", id), "Redelivery queued")
	}
	return redirect(w, r, fmt.Sprintf("/notifications/webhooks/%d/deliveries/%d", id, did), "Redelivery queued")
}
