package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestWebhooksAPI: endpoints are added, refused with a problem naming the
// field, changed, listed with their deliveries and attempts, and a failed
// delivery is redelivered; auditors read but do not change.
func TestWebhooksAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newAuditEnv(t, db) // API keys per role
		sealer := ledgertest.NewSealer(t, db)
		answer := http.StatusInternalServerError
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(answer)
		}))
		defer receiver.Close()
		wh, err := notify.New(db, notify.Options{Policy: notify.AddressPolicy{AllowPrivate: true}, MaxAttempts: 1, PollInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := wh.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer wh.Stop(context.Background())
		e.srv.Close()
		e.srv = httptest.NewServer(server.New(server.Config{DB: db, Auth: e.f.Auth, Webhooks: wh}))
		pump := func() {
			ledgertest.SealAll(t, sealer)
			if _, err := wh.Fanout(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		pump()

		status, body := e.call(actor.Admin, "POST", "/api/v1/webhooks", `{"name":"Metadata","url":"http://169.254.169.254/latest/"}`)
		if status != 422 || !strings.Contains(fmt.Sprint(body), "url") || !strings.Contains(fmt.Sprint(body), "cloud metadata") {
			t.Fatalf("metadata URL: %d %v", status, body)
		}
		status, body = e.call(actor.Admin, "POST", "/api/v1/webhooks", `{"name":"FTP","url":"ftp://x.example.com/"}`)
		if status != 422 {
			t.Fatalf("ftp URL: %d %v", status, body)
		}
		status, body = e.call(actor.Auditor, "POST", "/api/v1/webhooks", `{"name":"SIEM","url":"`+receiver.URL+`"}`)
		if status != 403 {
			t.Fatalf("auditor created: %d %v", status, body)
		}
		status, body = e.call(actor.Admin, "POST", "/api/v1/webhooks",
			`{"name":"SIEM","url":"`+receiver.URL+`/in","subscriptions":[{"stream":"activity","filter":"products","format":"ocsf"},{"stream":"changes","format":"ocsf"}]}`)
		if status != 422 || !strings.Contains(fmt.Sprint(body), "subscriptions[1].format") {
			t.Fatalf("OCSF change log: %d %v", status, body)
		}
		status, body = e.call(actor.Admin, "POST", "/api/v1/webhooks",
			`{"name":"SIEM","url":"`+receiver.URL+`/in","subscriptions":[{"stream":"activity","filter":"products","format":"ocsf"}]}`)
		if status != 201 || !strings.HasPrefix(fmt.Sprint(body["secret"]), "whsec_") {
			t.Fatalf("create: %d %v", status, body)
		}
		id := int64(body["id"].(float64))
		path := fmt.Sprintf("/api/v1/webhooks/%d", id)
		status, body = e.call(actor.Auditor, "GET", path, "")
		if status != 200 || body["secret"] != nil || !strings.HasPrefix(fmt.Sprint(body["secret_hint"]), "whsec_") {
			t.Fatalf("get: %d %v", status, body)
		}
		status, body = e.call(actor.Admin, "PATCH", path, `{"url":"http://[fe80::1]/"}`)
		if status != 422 {
			t.Fatalf("link-local update: %d %v", status, body)
		}
		if err := activity.RecordNow(e.f.Ctx, db, activity.Event{Action: activity.Update, Category: activity.Products, EntityType: "items", EntityID: "4", Description: "price changed"}); err != nil {
			t.Fatal(err)
		}
		pump()
		var deliveries []any
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, body = e.call(actor.Auditor, "GET", path+"/deliveries?status=failed", "")
			deliveries, _ = body["data"].([]any)
			if len(deliveries) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failed delivery: %v", body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		did := int64(deliveries[0].(map[string]any)["id"].(float64))
		dpath := fmt.Sprintf("%s/deliveries/%d", path, did)
		status, body = e.call(actor.Auditor, "GET", dpath, "")
		attempts, _ := body["attempt_list"].([]any)
		if status != 200 || len(attempts) != 1 || attempts[0].(map[string]any)["status_code"] != float64(500) || !strings.Contains(fmt.Sprint(body["payload"]), `"class_uid":6003`) {
			t.Fatalf("delivery: %d %v", status, body)
		}
		if status, _ = e.call(actor.Auditor, "POST", dpath+"/redeliver", ""); status != 403 {
			t.Fatalf("auditor redelivered: %d", status)
		}
		answer = http.StatusNoContent
		if status, body = e.call(actor.Admin, "POST", dpath+"/redeliver", ""); status != 202 || body["status"] != "pending" {
			t.Fatalf("redeliver: %d %v", status, body)
		}
		for {
			_, body = e.call(actor.Auditor, "GET", dpath, "")
			if body["status"] == "delivered" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not redelivered: %v", body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if status, body = e.call(actor.Admin, "PATCH", path, `{"enabled":false}`); status != 200 || body["enabled"] != false {
			t.Fatalf("disable: %d %v", status, body)
		}
		if status, body = e.call(actor.Admin, "POST", path+"/rotate-secret", ""); status != 200 || !strings.HasPrefix(fmt.Sprint(body["secret"]), "whsec_") {
			t.Fatalf("rotate: %d %v", status, body)
		}
		if status, body = e.call(actor.Admin, "GET", "/api/v1/webhooks/999999", ""); status != 404 {
			t.Fatalf("missing endpoint: %d %v", status, body)
		}
	})
}
