package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// raiseAlert records an ALERT_RAISED event as the alerts area does (the
// contract in FOLLOW.md).
func raiseAlert(t *testing.T, db *store.DB, ws int64, alertID int64, emailTo []string) {
	t.Helper()
	ctx := actor.With(context.Background(), actor.SystemActor(ws, "alerts"))
	err := activity.RecordNow(ctx, db, activity.Event{Action: mail.AlertRaised, Category: activity.Audit, EntityType: "alerts",
		EntityID: itoa(alertID), Description: "Alert raised: repeated failed logins",
		New: map[string]any{"alert_id": alertID, "rule_id": 3, "rule_name": "Failed logins", "kind": "failed_logins",
			"summary": "6 failed logins for ann@example.com from 203.0.113.9 within 5 minutes", "evidence_count": 6,
			"first_at": "2026-12-07T08:00:00Z", "last_at": "2026-12-07T08:04:00Z", "email_to": emailTo,
			"link": "/notifications/alerts/" + itoa(alertID)}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRaisedAlertIsMailedOncePerRecipient(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		tz := "Europe/Berlin"
		if _, err := workspace.Update(f.Ctx, db, workspace.Change{TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		srv := mailtest.Start(t)
		cfg := testConfig(t, srv.Addr)
		sealer := ledgertest.NewSealer(t, db)
		ctx := context.Background()
		consume := mail.Consume(cfg, time.Now)
		// The consumer's first run starts at the end of the sequence.
		ledgertest.SealAll(t, sealer)
		if _, err := ledger.Follow(ctx, db, mail.ConsumerName, 100, consume); err != nil {
			t.Fatal(err)
		}
		if _, err := mail.AddRecipient(f.Ctx, db, "ops@example.com"); err != nil {
			t.Fatal(err)
		}
		raiseAlert(t, db, f.Workspace.ID, 7, []string{"Security@example.com", "OPS@example.com"})
		ledgertest.SealAll(t, sealer)
		if _, err := ledger.Follow(ctx, db, mail.ConsumerName, 100, consume); err != nil {
			t.Fatal(err)
		}
		// Handed again (a second follow finds nothing new): no second row.
		if n, err := ledger.Follow(ctx, db, mail.ConsumerName, 100, consume); err != nil || n != 0 {
			t.Fatalf("second follow handed %d, %v", n, err)
		}
		list, err := mail.Messages(f.Ctx, db, 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("outbox %+v %v", list, err)
		}
		s := &mail.Sender{DB: db, Config: cfg}
		if n, err := s.SendDue(ctx); err != nil || n != 2 {
			t.Fatalf("sent %d, %v", n, err)
		}
		got := srv.Received()
		to := map[string]string{}
		for _, r := range got {
			to[r.To] = r.Data
		}
		if len(got) != 2 || to["security@example.com"] == "" || to["ops@example.com"] == "" {
			t.Fatalf("received %+v", got)
		}
		body := to["security@example.com"]
		for _, want := range []string{
			"Subject: stocktrail alert: Failed logins (My workspace)\n",
			"Rule: Failed logins (repeated failed logins)",
			"What happened: 6 failed logins for ann@example.com from 203.0.113.9 within 5 minutes",
			"Evidence: 6 events from 2026-12-07 09:00 CET to 2026-12-07 09:04 CET",
			"Open it: https://stock.example.com/notifications/alerts/7",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("message lacks %q:\n%s", want, body)
			}
		}
	})
}

func TestAlertWithoutBaseURLSaysThePathAlone(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := mailtest.Start(t)
		cfg := testConfig(t, srv.Addr)
		cfg.BaseURL = ""
		sealer := ledgertest.NewSealer(t, db)
		ctx := context.Background()
		consume := mail.Consume(cfg, time.Now)
		if _, err := ledger.Follow(ctx, db, mail.ConsumerName, 100, consume); err != nil {
			t.Fatal(err)
		}
		raiseAlert(t, db, f.Workspace.ID, 9, []string{"security@example.com"})
		// Events that are not alerts are passed over.
		if err := activity.RecordNow(f.Ctx, db, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: "workspaces", EntityID: "1", Description: "something else"}); err != nil {
			t.Fatal(err)
		}
		ledgertest.SealAll(t, sealer)
		if _, err := ledger.Follow(ctx, db, mail.ConsumerName, 100, consume); err != nil {
			t.Fatal(err)
		}
		if _, err := (&mail.Sender{DB: db, Config: cfg}).SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := srv.Received()
		if len(got) != 1 || !strings.Contains(got[0].Data, "In stocktrail, go to /notifications/alerts/9 (this install has no public address set") {
			t.Fatalf("received %+v", got)
		}
	})
}
