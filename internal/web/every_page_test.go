package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/web"
)

// Who a page is looked at by.
const (
	asAdmin    = ""         // the workspace's admin (most pages)
	asVisitor  = "visitor"  // nobody logged in
	asOperator = "operator" // Ann Lee, an operator: pages refused to her role
	asStation  = "station"  // a scanning station signed in with its token
)

// operatorPassword is Ann Lee's (dayOfWork makes her an operator).
const operatorPassword = "correct horse battery"

// sentForm is a form filled in and sent from the page, so that the page
// looked at is the one that comes back: the form again with its errors.
type sentForm struct {
	form   string            // CSS selector of the form
	values map[string]string // its fields by name
}

// everyPage is dayOfWork and what the rest of the pages need to show real
// content (a sealed ledger, an alert rule that raised an alert, a webhook
// endpoint with a delivery, e-mail configured, a picked order, a purchase
// order, a station), with every page a person can open: each form page,
// each of the item's action pages, check-your-answers pages, forms sent
// back with their errors, the error pages (404, a page refused to a lower
// role) and the station screen.
func everyPage(t *testing.T, f *storetest.Fixture) pageTour {
	t.Helper()
	ctx, db := f.Ctx, f.DB
	pages := dayOfWork(t, f)
	sealer := ledgertest.NewSealer(t, db)
	wh, err := notify.New(db, notify.Options{Policy: notify.AddressPolicy{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	// Both followers start at the end of the sequence: what comes next is
	// what they see.
	ledgertest.SealAll(t, sealer)
	if _, err := alerts.Follow(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.Fanout(context.Background()); err != nil {
		t.Fatal(err)
	}
	rule, err := alerts.CreateRule(ctx, db, alerts.RuleInput{Kind: alerts.LargeCorrection, Name: "Large corrections",
		EmailTo:    []string{"stores@example.com"},
		Thresholds: alerts.Thresholds{QuantityAbove: "10", WindowMinutes: 60}})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _, err := wh.CreateEndpoint(ctx, notify.EndpointInput{Name: "ERP", URL: "http://127.0.0.1:9/stocktrail"},
		[]notify.SubscriptionInput{{Stream: notify.ChangesStream, Format: notify.JSON}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Correct(ctx, db, inventory.Correction{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M6"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}}, Change: "-20", Options: inventory.Options{Reason: "damaged in handling"}}); err != nil {
		t.Fatal(err)
	}
	ledgertest.SealAll(t, sealer)
	if _, err := alerts.Follow(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.Fanout(context.Background()); err != nil {
		t.Fatal(err)
	}
	raised, err := alerts.ListAlerts(ctx, db, alerts.AlertFilter{})
	if err != nil || len(raised) == 0 {
		t.Fatalf("no alert raised: %v", err)
	}
	deliveries, err := wh.ListDeliveries(ctx, endpoint.ID, notify.DeliveryFilter{})
	if err != nil || len(deliveries) == 0 {
		t.Fatalf("no webhook delivery: %v", err)
	}

	locs, err := inventory.ListLocations(ctx, db, false)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int64{}
	for _, l := range locs {
		at[l.Path] = l.ID
	}
	st, err := f.Auth.CreateStation(ctx, "Packing bench", at["WH1/A2"])
	if err != nil {
		t.Fatal(err)
	}
	// A sales order picked (its Ship check page) and a purchase order
	// half received.
	picked, err := orders.Create(ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Bolt Buyers GmbH",
		Lines: []orders.LineInput{{SKU: "BOLT-M6", Quantity: "5", LocationID: at["WH1/A2"]}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(context.Context, *store.DB, int64) (orders.Order, error){
		func(ctx context.Context, db *store.DB, id int64) (orders.Order, error) {
			return orders.Confirm(ctx, db, id)
		},
		func(ctx context.Context, db *store.DB, id int64) (orders.Order, error) {
			return orders.Allocate(ctx, db, id, orders.AllocateInput{})
		},
		func(ctx context.Context, db *store.DB, id int64) (orders.Order, error) {
			return orders.Pick(ctx, db, id, orders.LinesInput{})
		},
	} {
		if picked, err = step(ctx, db, picked.ID); err != nil {
			t.Fatal(err)
		}
	}
	if picked.Status != orders.Picked {
		t.Fatalf("order %s", picked.Status)
	}
	po, err := orders.Create(ctx, db, orders.OrderInput{Kind: orders.Inbound, Party: "Oil & Co", PartyReference: "INV-2291",
		Lines: []orders.LineInput{{SKU: "OIL-5", Quantity: "20", LocationID: at["WH1/A1"]}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orders.Confirm(ctx, db, po.ID); err != nil {
		t.Fatal(err)
	}
	oil, err := inventory.ItemBySKU(ctx, db, "OIL-5")
	if err != nil {
		t.Fatal(err)
	}
	lap, err := assets.GetAssetByTag(ctx, db, "LAP-0002")
	if err != nil {
		t.Fatal(err)
	}
	schedules, err := assets.ListSchedules(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := assets.ListSessions(ctx, db, assets.SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var running int64
	for _, s := range sessions {
		if s.Status == assets.InProgress {
			running = s.ID
		}
	}
	if running == 0 {
		t.Fatal("no session in progress")
	}
	users, err := f.Auth.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ann int64
	for _, u := range users {
		if u.Email == "ann@example.com" {
			ann = u.ID
		}
	}

	item := func(rest string) string { return fmt.Sprintf("/inventory/items/%d%s", oil.ID, rest) }
	for _, slug := range web.ItemActionSlugs() {
		if slug != "issue" { // dayOfWork's
			pages = append(pages, mainPage{name: "item-" + slug, path: item("/" + slug)})
		}
	}
	pages = append(pages, []mainPage{
		{name: "login", path: "/login", as: asVisitor},
		{name: "login-refused", path: "/login", as: asVisitor, send: &sentForm{form: `form[method=post][action="/login"]`,
			values: map[string]string{"email": "admin@example.com", "password": "not the password"}}},
		{name: "not-found-visitor", path: "/no-such-page", as: asVisitor},
		{name: "station-sign-in", path: "/station", as: asVisitor},
		{name: "station-refused", path: "/station", as: asVisitor, send: &sentForm{form: `form[method=post][action="/station/sign-in"]`,
			values: map[string]string{"token": "not-a-token"}}},

		{name: "not-found", path: "/no-such-page"},
		{name: "item-not-found", path: "/inventory/items/999999"},
		{name: "bad-filter", path: "/inventory/log?from=yesterday"},
		{name: "activity-bad-filter", path: "/activity?start_date=yesterday"},
		{name: "stock-filtered", path: "/inventory?q=BOLT"},
		{name: "change-log-filtered", path: "/inventory/log?sku=BOLT-M6&action=user_correction"},
		{name: "activity-filtered", path: "/activity?q=Ann"},
		{name: "item-receive-refused", path: item("/receive"), send: &sentForm{form: `main form[action$="/receive"]`,
			values: map[string]string{"quantity": "-1"}}},
		{name: "item-edit-refused", path: item("/edit"), send: &sentForm{form: `main form[action$="/edit"]`,
			values: map[string]string{"min_level": "lots"}}},
		{name: "new-item-refused", path: "/inventory", send: &sentForm{form: `#item-form`,
			values: map[string]string{"sku": "", "name": ""}}},
		{name: "new-location-refused", path: "/inventory/locations", send: &sentForm{form: `#location-form`,
			values: map[string]string{"code": ""}}},
		{name: "new-asset-refused", path: "/assets", send: &sentForm{form: `form[method=post][action="/assets"]`,
			values: map[string]string{"tag": "LAP-0001", "name": ""}}},
		{name: "asset-dispose-refused", path: fmt.Sprintf("/assets/%d/dispose", lap.ID), send: &sentForm{form: `form.card[action$="/dispose"]`,
			values: map[string]string{"reason": ""}}},
		{name: "new-session-refused", path: "/inventory-checks", send: &sentForm{form: `form[method=post][action="/inventory-checks"]`,
			values: map[string]string{"name": ""}}},
		{name: "session-running", path: fmt.Sprintf("/inventory-checks/%d", running)},
		{name: "new-schedule-refused", path: "/inventory-checks/schedules", send: &sentForm{form: `form[method=post][action="/inventory-checks/schedules"]`,
			values: map[string]string{"name": "", "time": "25:99"}}},
		{name: "schedule-edit-refused", path: fmt.Sprintf("/inventory-checks/schedules/%d/edit", schedules[0].ID), send: &sentForm{form: `#schedule-form`,
			values: map[string]string{"time": "25:99"}}},
		{name: "new-purchase-order", path: "/orders/new?kind=inbound"},
		{name: "new-order-refused", path: "/orders/new?kind=outbound", send: &sentForm{form: `#new-order`,
			values: map[string]string{"party": ""}}},
		{name: "purchase-order", path: fmt.Sprintf("/orders/%d", po.ID)},
		{name: "order-picked", path: fmt.Sprintf("/orders/%d", picked.ID)},
		{name: "order-ship", path: fmt.Sprintf("/orders/%d/ship", picked.ID)},
		{name: "order-cancel", path: fmt.Sprintf("/orders/%d/cancel", picked.ID)},
		{name: "reports-refused", path: "/reports/audit?report=access&from=yesterday"},
		{name: "new-user-refused", path: "/users", send: &sentForm{form: `form[method=post][action="/users"]`,
			values: map[string]string{"name": "Bo", "email": "not an address", "password": "short"}}},
		{name: "user-refused", path: fmt.Sprintf("/users/%d", ann), send: &sentForm{form: fmt.Sprintf(`form[method=post][action="/users/%d"]`, ann),
			values: map[string]string{"name": ""}}},
		{name: "new-api-key-refused", path: "/api-keys", send: &sentForm{form: `form[method=post][action="/api-keys"]`,
			values: map[string]string{"name": ""}}},
		{name: "new-station-refused", path: "/stations", send: &sentForm{form: `form[method=post][action="/stations"]`,
			values: map[string]string{"name": ""}}},
		{name: "settings-refused", path: "/settings", send: &sentForm{form: `form[method=post][action="/settings"]`,
			values: map[string]string{"name": ""}}},
		{name: "ledger-rotate", path: "/settings/ledger/rotate"},
		{name: "alert-rule-kinds", path: "/notifications/rules/new"},
		{name: "alert-rule-new", path: "/notifications/rules/new?kind=" + url.QueryEscape(string(alerts.AfterHoursAccess))},
		{name: "alert-rule-refused", path: "/notifications/rules/new?kind=" + url.QueryEscape(string(alerts.FailedLogins)),
			send: &sentForm{form: `form[method=post][action="/notifications/rules"]`, values: map[string]string{"attempts": "1", "window_minutes": "ten"}}},
		{name: "alert-rule", path: fmt.Sprintf("/notifications/rules/%d", rule.ID)},
		{name: "alert", path: fmt.Sprintf("/notifications/alerts/%d", raised[0].ID)},
		{name: "webhook-new", path: "/notifications/webhooks/new"},
		{name: "webhook-new-refused", path: "/notifications/webhooks/new", send: &sentForm{form: `form[method=post][action="/notifications/webhooks"]`,
			values: map[string]string{"name": "Cloud", "url": "http://169.254.169.254/latest/meta-data/"}}},
		{name: "webhook", path: fmt.Sprintf("/notifications/webhooks/%d", endpoint.ID)},
		{name: "webhook-delivery", path: fmt.Sprintf("/notifications/webhooks/%d/deliveries/%d", endpoint.ID, deliveries[0].ID)},
		{name: "email-refused", path: "/notifications/email", send: &sentForm{form: `form[method=post][action="/notifications/email/recipients"]`,
			values: map[string]string{"address": "not an address"}}},

		{name: "home-operator", path: "/", as: asOperator},
		{name: "forbidden", path: "/users", as: asOperator},
		{name: "forbidden-settings", path: "/settings/ledger/rotate", as: asOperator},

		{name: "station", path: "/station", as: asStation},
		{name: "station-count", path: "/station?mode=count", as: asStation},
		{name: "station-batch", path: "/station?mode=batch", as: asStation},
		{name: "station-order", path: "/station?mode=order&order=" + url.QueryEscape(picked.Number), as: asStation},
		{name: "station-unknown-sku", path: "/station", as: asStation, send: &sentForm{form: `#scan-form`,
			values: map[string]string{"sku": "NOPE-1"}}},
	}...)
	smtpd := mailtest.Start(t)
	return pageTour{pages: pages, stationToken: st.Token,
		cfg: server.Config{DB: db, Auth: f.Auth, Ledger: sealer, Webhooks: wh, Mail: mailConfig(t, smtpd.Addr)}}
}

// pageTour is every page with the server that shows them and the token a
// station signs in with.
type pageTour struct {
	pages        []mainPage
	cfg          server.Config
	stationToken string
}

// send fills in the named fields of the form matching sel and sends it
// without the browser's own checks (as a browser without them would), then
// waits for the page that comes back: the one looked at.
func send(sel string, values map[string]string) chromedp.Action[chromedp.Void] {
	v, _ := json.Marshal(values)
	s, _ := json.Marshal(sel)
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
  const f = document.querySelector(%s);
  if (!f) throw new Error("no form " + %s);
  for (const [k, v] of Object.entries(%s)) {
    const el = f.elements[k];
    if (!el) throw new Error("no field " + k);
    el.value = v;
  }
  document.body.dataset.sent = "yes";
  setTimeout(() => f.submit());
})()`, s, s, v)),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-sent]) main`)),
	)
}
