package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMailRunnerMailsRaisedAlerts drives the mail runner tick by tick: an
// alert raised (and sealed) after its first tick is queued and sent on the
// next, to the rule's recipient.
func TestMailRunnerMailsRaisedAlerts(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		smtpd := mailtest.Start(t)
		cfg, err := mail.ParseConfig(mail.Settings{URL: "smtp://" + mailtest.Username + ":" + mailtest.Password + "@" + smtpd.Addr,
			From: "alerts@example.com", StartTLS: "none", BaseURL: "https://stock.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		sealer := ledgertest.NewSealer(t, db)
		ticks := make(chan time.Time)
		r := jobs.Mail(db, nil, &mail.Sender{DB: db, Config: cfg}, time.Hour)
		r.Ticks = ticks
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx) }()
		defer func() { stop(); <-done }()
		ticks <- time.Now() // the consumer starts at the end of the sequence
		ticks <- time.Now() // (a tick is taken only once the previous one is done)

		sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "alerts"))
		if err := activity.RecordNow(sys, db, activity.Event{Action: mail.AlertRaised, Category: activity.Audit, EntityType: "alerts",
			EntityID: "4", Description: "Alert raised",
			New: map[string]any{"alert_id": 4, "rule_name": "Bulk export", "kind": "bulk_export", "summary": "12,000 rows exported in one export",
				"evidence_count": 1, "first_at": "2026-12-07T08:00:00Z", "last_at": "2026-12-07T08:00:00Z",
				"email_to": []string{"dpo@example.com"}, "link": "/notifications/alerts/4"}}); err != nil {
			t.Fatal(err)
		}
		ledgertest.SealAll(t, sealer)
		ticks <- time.Now()
		ticks <- time.Now()
		got := smtpd.Received()
		if len(got) != 1 || got[0].To != "dpo@example.com" || !strings.Contains(got[0].Data, "Subject: stocktrail alert: Bulk export") ||
			!strings.Contains(got[0].Data, "What happened: 12,000 rows exported in one export") ||
			!strings.Contains(got[0].Data, "https://stock.example.com/notifications/alerts/4") {
			t.Fatalf("received %+v", got)
		}
	})
}
