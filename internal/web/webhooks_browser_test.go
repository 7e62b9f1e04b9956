package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestWebhookPagesInABrowser: an admin adds an endpoint through the form
// (a refused address first: the error names the field and nothing is
// saved), sees the secret once, and follows deliveries and their attempts,
// a failed one redelivered, on the list, detail and delivery pages at a
// desk's size and a phone's. With STOCKTRAIL_SCREENSHOTS set every view is
// saved there.
func TestWebhookPagesInABrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	sealer := ledgertest.NewSealer(t, db)
	failing := true
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if failing && strings.Contains(r.Header.Get("webhook-id"), "json") {
			http.Error(w, `{"error":"index unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"accepted":true}`)
	}))
	defer receiver.Close()
	wh, err := notify.New(db, notify.Options{Policy: notify.AddressPolicy{AllowPrivate: true}, MaxAttempts: 2,
		RetryBase: 100 * time.Millisecond, RetryCap: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	qctx, stopQueue := context.WithCancel(context.Background())
	defer stopQueue()
	if err := wh.Start(qctx); err != nil {
		t.Fatal(err)
	}
	defer wh.Stop(context.Background())
	pump := func() {
		ledgertest.SealAll(t, sealer)
		if _, err := wh.Fanout(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	pump() // the fan-out starts at the end of the sequence
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer, Webhooks: wh}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
	shot := func(name string) {
		if dir != "" {
			browsertest.Screenshot(t, ctx, filepath.Join(dir, name+".png"))
		}
	}
	fail := browsertest.Failer(t, ctx)
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('`+sel+`')).map(e => e.innerText).join(' | ')`))
		if err != nil {
			fail("read "+sel, err)
		}
		return s
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
		chromedp.Navigate(srv.URL+"/notifications/webhooks"),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
	); err != nil {
		fail("log in", err)
	}
	if got := text("main"); !strings.Contains(got, "No webhook endpoints yet") || !strings.Contains(got, "Configuration → Notifications → Webhooks") {
		t.Fatalf("empty list: %s", got)
	}
	shot("webhooks-empty-desktop")

	// A cloud metadata address: refused, naming the field; nothing saved.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/notifications/webhooks/new"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Splunk"),
		chromedp.SendKeys(chromedp.CSS(`input[name=url]`), "http://169.254.169.254/latest/meta-data/"),
		chromedp.Click(chromedp.CSS(`input[name=activity][value=authentication]`)),
		chromedp.Click(chromedp.CSS(`input[name=activity][value=users]`)),
		chromedp.SetValue(chromedp.CSS(`select[name=activity_format]`), "ocsf"),
		chromedp.Click(chromedp.CSS(`input[name=changes][value=all]`)),
		chromedp.Click(chromedp.CSS(`input[name=alerts]`)),
		chromedp.Submit(chromedp.CSS(`input[name=url]`)),
		chromedp.WaitVisible(chromedp.CSS(`.error-summary`)),
	); err != nil {
		fail("refused address", err)
	}
	if got := text(".error-summary"); !strings.Contains(got, "There is a problem") || !strings.Contains(got, "cloud metadata") {
		t.Fatalf("error summary: %s", got)
	}
	if got := text("label[for=field-url] .field-error"); !strings.Contains(got, "cloud metadata") {
		t.Fatalf("no message beside the address: %q", got)
	}
	shot("webhook-new-error-desktop")
	if list, _ := wh.ListEndpoints(f.Ctx); len(list) != 0 {
		t.Fatalf("refused endpoint saved: %+v", list)
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			fail("viewport", err)
		}
		shot("webhook-new-error-" + size.name)
	}
	// Corrected: the endpoint is created and its secret shown once.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.SetValue(chromedp.CSS(`input[name=url]`), receiver.URL+"/hooks/stocktrail"),
		chromedp.Submit(chromedp.CSS(`input[name=url]`)),
		chromedp.WaitVisible(chromedp.ID(`new-secret`)),
	); err != nil {
		fail("create", err)
	}
	secret := text("#new-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	shot("webhook-created-desktop")
	list, err := wh.ListEndpoints(f.Ctx)
	if err != nil || len(list) != 1 || len(list[0].Subscriptions) != 4 {
		t.Fatalf("endpoints %+v, %v", list, err)
	}
	e := list[0]

	// Events: a login (OCSF, accepted), a user change (OCSF), an alert
	// (JSON, refused with 503 until redelivered).
	for _, ev := range []activity.Event{
		{Action: activity.Login, Category: activity.Authentication, EntityType: "users", EntityID: "1", Description: "admin@example.com logged in"},
		{Action: activity.RoleChange, Category: activity.Users, EntityType: "users", EntityID: "1", Description: "role changed", New: map[string]any{"role": "admin"}},
		{Action: "ALERT_RAISED", Category: activity.Audit, EntityType: "alerts", EntityID: "1", Description: "5 failed logins for eve@example.com within 10 minutes"},
	} {
		if err := activity.RecordNow(f.Ctx, db, ev); err != nil {
			t.Fatal(err)
		}
	}
	pump()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, _ := wh.ListDeliveries(f.Ctx, e.ID, notify.DeliveryFilter{})
		// The three events, and the admin's own login in the browser.
		settled := len(ds) == 4
		for _, d := range ds {
			settled = settled && d.Status != notify.Pending
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	failed, _ := wh.ListDeliveries(f.Ctx, e.ID, notify.DeliveryFilter{Status: notify.Failed})
	if len(failed) != 1 || failed[0].EventType != "alert.raised" {
		t.Fatalf("failed deliveries: %+v", failed)
	}
	detail := srv.URL + "/notifications/webhooks/" + itoa(e.ID)
	delivery := detail + "/deliveries/" + itoa(failed[0].ID)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		for _, p := range []struct{ name, url, want string }{
			{"webhooks", srv.URL + "/notifications/webhooks", "Alerts, JSON"},
			{"webhook", detail, "alert.raised"},
			{"webhook-delivery", delivery, "HTTP 503"},
			{"webhook-new", srv.URL + "/notifications/webhooks/new", "What should it receive?"},
		} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
				fail(p.name, err)
			}
			if got := text("main"); !strings.Contains(got, p.want) {
				t.Errorf("%s at %s: %q not on the page:\n%s", p.name, size.name, p.want, got)
			}
			if got := text("main"); strings.Contains(got, secret) {
				t.Errorf("%s shows the secret again", p.name)
			}
			shot(p.name + "-" + size.name)
		}
	}
	// Redeliver from the delivery page once the receiver is fixed.
	failing = false
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(delivery),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
		chromedp.Click(chromedp.CSS(`main form button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	); err != nil {
		fail("redeliver", err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		d, attempts, err := wh.GetDelivery(f.Ctx, failed[0].EndpointID, failed[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == notify.Delivered && len(attempts) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redelivery: %+v %+v", d, attempts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(delivery), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		fail("delivery after redelivery", err)
	}
	if got := text("main"); !strings.Contains(got, "Delivered") || !strings.Contains(got, "HTTP 202") {
		t.Errorf("after redelivery: %s", got)
	}
	shot("webhook-delivery-redelivered-desktop")
	hist, _ := activity.ForEntity(f.Ctx, db, notify.EntityType, itoa(e.ID), 10)
	if len(hist) < 2 || !strings.Contains(hist[0].Description, "Redelivery") {
		t.Errorf("redelivery not audited: %+v", hist)
	}
}
