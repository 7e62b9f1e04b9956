package notify_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestRaisedAlertsReachTheAlertsStream: a real failed-logins rule fires,
// and its ALERT_RAISED event (written by the alerts area in its own
// transaction) reaches an endpoint subscribed to alerts, once, in the
// documented envelope; the failed logins themselves do not.
func TestRaisedAlertsReachTheAlertsStream(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{})
		// The alerts consumer, like ours, starts at the end of the sequence.
		if _, err := alerts.Follow(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		rc := newReceiver(t)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL, rc, notify.SubscriptionInput{Stream: notify.AlertsStream})
		if _, err := alerts.CreateRule(w.f.Ctx, db, alerts.RuleInput{Kind: alerts.FailedLogins, Name: "Failed logins",
			Thresholds: alerts.Thresholds{Attempts: 3, Per: alerts.PerAccount, WindowMinutes: 10}}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := activity.RecordNow(w.f.Ctx, db, activity.Event{WorkspaceID: w.f.Workspace.ID, ActorKind: "anonymous", ActorName: "eve@example.com", Action: activity.LoginFailed,
				Category: activity.Authentication, EntityType: "users", IP: "198.51.100.7", New: map[string]any{"email": "eve@example.com", "reason": "wrong password"},
				Description: "failed login for eve@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		// As serve does: seal, evaluate the rules (which records the alert),
		// seal that, fan out.
		for round := 0; round < 3; round++ {
			ledgertest.SealAll(t, w.sealer)
			if _, err := alerts.Follow(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			if _, err := w.wh.Fanout(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		ds := w.waitDeliveries(t, e.ID, 1, 10*time.Second)
		if ds[0].EventType != "alert.raised" || ds[0].Status != notify.Delivered {
			t.Fatalf("delivery %+v", ds[0])
		}
		var env struct {
			Type string `json:"type"`
			Data struct {
				EntityType string `json:"entity_type"`
				New        struct {
					AlertID  int64  `json:"alert_id"`
					RuleName string `json:"rule_name"`
					Kind     string `json:"kind"`
					Link     string `json:"link"`
				} `json:"new_values"`
			} `json:"data"`
		}
		if err := json.Unmarshal(rc.accepted()[ds[0].MessageID], &env); err != nil {
			t.Fatal(err)
		}
		if env.Type != "alert.raised" || env.Data.EntityType != "alerts" || env.Data.New.AlertID == 0 || env.Data.New.RuleName != "Failed logins" ||
			env.Data.New.Kind != "failed_logins" || env.Data.New.Link == "" {
			t.Fatalf("alert envelope %+v", env)
		}
	})
}
