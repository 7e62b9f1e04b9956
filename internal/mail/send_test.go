package mail_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func testConfig(t *testing.T, addr string) mail.Config {
	t.Helper()
	cfg, err := mail.ParseConfig(mail.Settings{URL: "smtp://" + mailtest.Username + ":" + mailtest.Password + "@" + addr, From: "stocktrail <alerts@example.com>",
		StartTLS: "none", Timeout: "5s", BaseURL: "https://stock.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// clock is a test's time, moved by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func messageTo(t *testing.T, ctx context.Context, db *store.DB, to string) mail.Message {
	t.Helper()
	list, err := mail.Messages(ctx, db, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Recipient == to {
			return m
		}
	}
	t.Fatalf("no message to %s in %+v", to, list)
	return mail.Message{}
}

func TestTestEmailIsDelivered(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := mailtest.Start(t)
		cfg := testConfig(t, srv.Addr)
		if _, err := mail.QueueTest(f.Ctx, db, cfg, "ops@example.com"); err != nil {
			t.Fatal(err)
		}
		s := &mail.Sender{DB: db, Config: cfg}
		n, err := s.SendDue(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
		got := srv.Received()
		if len(got) != 1 || got[0].To != "ops@example.com" || got[0].From != "alerts@example.com" {
			t.Fatalf("received %+v", got)
		}
		if !strings.Contains(got[0].Data, "Subject: stocktrail test e-mail\n") ||
			!strings.Contains(got[0].Data, "If you can read this, stocktrail can send you alert e-mails.") ||
			!strings.Contains(got[0].Data, "https://stock.example.com/notifications/email") {
			t.Fatalf("message:\n%s", got[0].Data)
		}
		m := messageTo(t, f.Ctx, db, "ops@example.com")
		if m.Status != mail.Sent || len(m.Attempts) != 1 || !m.Attempts[0].OK || m.SentAt.IsZero() {
			t.Fatalf("message %+v", m)
		}
		// Nothing left to send.
		if n, err := s.SendDue(context.Background()); err != nil || n != 0 || len(srv.Received()) != 1 {
			t.Fatalf("second run sent %d, %v", n, err)
		}
	})
}

func TestRefusedEmailIsRetriedWithBackoffThenDelivered(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := mailtest.Start(t)
		cfg := testConfig(t, srv.Addr)
		if _, err := mail.QueueTest(f.Ctx, db, cfg, "ops@example.com"); err != nil {
			t.Fatal(err)
		}
		clk := &clock{now: time.Now().UTC()}
		s := &mail.Sender{DB: db, Config: cfg, Now: clk.Now, FirstRetry: time.Minute, MaxRetry: time.Hour}
		srv.Refuse(451, smtp.EnhancedCode{4, 3, 0}, "Mailbox temporarily unavailable")
		if n, err := s.SendDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("sent %d, %v", n, err)
		}
		m := messageTo(t, f.Ctx, db, "ops@example.com")
		if m.Status != mail.Pending || m.AttemptCount != 1 || len(m.Attempts) != 1 || m.Attempts[0].OK ||
			m.Attempts[0].SMTPCode != 451 || m.Attempts[0].Error != "the server refused the recipient: 451 4.3.0 Mailbox temporarily unavailable" ||
			!strings.Contains(m.LastError, "451") {
			t.Fatalf("after a 451: %+v", m)
		}
		if want := clk.now.Add(time.Minute); !m.NextAttemptAt.Equal(want.Truncate(time.Microsecond)) {
			t.Fatalf("next attempt at %v, want %v", m.NextAttemptAt, want)
		}
		if m.StatusText() != "Will retry (attempt 1 failed)" {
			t.Fatalf("status text %q", m.StatusText())
		}
		// Not due yet: no attempt.
		clk.now = clk.now.Add(59 * time.Second)
		if n, err := s.SendDue(context.Background()); err != nil || n != 0 || len(messageTo(t, f.Ctx, db, "ops@example.com").Attempts) != 1 {
			t.Fatalf("attempted before its time: %d %v", n, err)
		}
		// A permanent refusal is retried too (a mailbox can be created), the wait doubled.
		srv.Refuse(550, smtp.EnhancedCode{5, 1, 1}, "No such user here")
		clk.now = clk.now.Add(time.Second)
		if _, err := s.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		m = messageTo(t, f.Ctx, db, "ops@example.com")
		if m.AttemptCount != 2 || m.Attempts[1].SMTPCode != 550 || !strings.Contains(m.LastError, "No such user here") ||
			!m.NextAttemptAt.Equal(clk.now.Add(2*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("after a 550: %+v", m)
		}
		srv.Accept()
		clk.now = clk.now.Add(2 * time.Minute)
		if n, err := s.SendDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
		m = messageTo(t, f.Ctx, db, "ops@example.com")
		if m.Status != mail.Sent || len(m.Attempts) != 3 || !m.Attempts[2].OK || m.LastError != "" {
			t.Fatalf("after acceptance: %+v", m)
		}
		if got := srv.Received(); len(got) != 1 || got[0].To != "ops@example.com" {
			t.Fatalf("received %+v", got)
		}
	})
}

func TestGivenUpEmailCanBeRetried(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := mailtest.Start(t)
		cfg := testConfig(t, srv.Addr)
		id, err := mail.QueueTest(f.Ctx, db, cfg, "ops@example.com")
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{now: time.Now().UTC()}
		s := &mail.Sender{DB: db, Config: cfg, Now: clk.Now, MaxAttempts: 2, FirstRetry: time.Second}
		if err := mail.RetryMessage(f.Ctx, db, id); fault.KindOf(err) != fault.Conflict {
			t.Fatalf("retry of a pending message: %v", err)
		}
		srv.Refuse(554, smtp.EnhancedCode{5, 7, 1}, "Relay access denied")
		for range 2 {
			if _, err := s.SendDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			clk.now = clk.now.Add(time.Hour)
		}
		m := messageTo(t, f.Ctx, db, "ops@example.com")
		if m.Status != mail.Failed || m.AttemptCount != 2 || m.StatusText() != "Gave up after 2 attempts" {
			t.Fatalf("after two refusals: %+v", m)
		}
		if n, _ := s.SendDue(context.Background()); n != 0 || len(messageTo(t, f.Ctx, db, "ops@example.com").Attempts) != 2 {
			t.Fatal("a given-up message was attempted again")
		}
		auditor := f.User(t, "auditor@example.com", actor.Auditor)
		if err := mail.RetryMessage(f.As(auditor), db, id); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("auditor retry: %v", err)
		}
		if err := mail.RetryMessage(f.Ctx, db, id); err != nil {
			t.Fatal(err)
		}
		srv.Accept()
		if n, err := s.SendDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
		if m := messageTo(t, f.Ctx, db, "ops@example.com"); m.Status != mail.Sent || len(m.Attempts) != 3 {
			t.Fatalf("after retry: %+v", m)
		}
	})
}

func TestStalledServerIsBoundedByTheTimeout(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		// Accepts connections and never says a word.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var conns []net.Conn
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		cfg := testConfig(t, l.Addr().String())
		cfg.Timeout = time.Second
		for _, to := range []string{"ops@example.com", "second@example.com", "third@example.com"} {
			if _, err := mail.QueueTest(f.Ctx, db, cfg, to); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		s := &mail.Sender{DB: db, Config: cfg}
		if n, err := s.SendDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("sent %d, %v", n, err)
		}
		// One time limit for the whole call: the others are handed back untried.
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Fatalf("a stalled server held the sender for %v", d)
		}
		for _, to := range []string{"second@example.com", "third@example.com"} {
			if m := messageTo(t, f.Ctx, db, to); m.AttemptCount != 0 || m.NextAttemptAt.After(time.Now()) {
				t.Fatalf("untried message not handed back: %+v", m)
			}
		}
		m := messageTo(t, f.Ctx, db, "ops@example.com")
		if m.Status != mail.Pending || len(m.Attempts) != 1 || m.Attempts[0].Error == "" {
			t.Fatalf("after a stall: %+v", m)
		}
		if m.Attempts[0].Error != "the SMTP server did not answer within 1s" {
			t.Fatalf("stalled attempt: %q", m.Attempts[0].Error)
		}
	})
}

func TestRecipientsAndTestEmailRules(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		rc, err := mail.AddRecipient(f.Ctx, db, "Ops@Example.com")
		if err != nil || rc.Address != "ops@example.com" {
			t.Fatalf("%+v %v", rc, err)
		}
		for _, bad := range []string{"", "nobody", "ops@example.com"} {
			_, err := mail.AddRecipient(f.Ctx, db, bad)
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields["address"] == "" {
				t.Errorf("add %q: %v", bad, err)
			}
		}
		auditor := f.User(t, "auditor@example.com", actor.Auditor)
		if _, err := mail.AddRecipient(f.As(auditor), db, "x@example.com"); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("auditor add: %v", err)
		}
		if list, err := mail.Recipients(f.As(auditor), db); err != nil || len(list) != 1 {
			t.Fatalf("auditor list: %v %v", list, err)
		}
		operator := f.User(t, "operator@example.com", actor.Operator)
		if _, err := mail.Recipients(f.As(operator), db); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("operator list: %v", err)
		}
		if err := mail.RemoveRecipient(f.As(auditor), db, rc.ID); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("auditor remove: %v", err)
		}
		if err := mail.RemoveRecipient(f.Ctx, db, rc.ID); err != nil {
			t.Fatal(err)
		}
		if err := mail.RemoveRecipient(f.Ctx, db, rc.ID); fault.KindOf(err) != fault.NotFound {
			t.Fatalf("second remove: %v", err)
		}
		history, err := activity.ForEntity(f.Ctx, db, "email_recipients", itoa(rc.ID), 10)
		if err != nil || len(history) != 2 || history[0].Category != activity.Configuration ||
			history[0].Action != activity.Delete || history[1].Action != activity.Create {
			t.Fatalf("history %+v %v", history, err)
		}

		// Test e-mails: only when configured, to a valid address, by a manager of alerts.
		if _, err := mail.QueueTest(f.Ctx, db, mail.Config{}, "ops@example.com"); fault.KindOf(err) != fault.Conflict ||
			!strings.Contains(err.Error(), "--smtp-url") {
			t.Fatalf("unconfigured: %v", err)
		}
		cfg := testConfig(t, "127.0.0.1:1")
		if _, err := mail.QueueTest(f.Ctx, db, cfg, "nope"); err == nil {
			t.Fatal("bad address accepted")
		} else if e, _ := fault.As(err); e == nil || e.Fields["to"] == "" {
			t.Fatalf("bad address: %v", err)
		}
		if _, err := mail.QueueTest(f.As(auditor), db, cfg, "ops@example.com"); fault.KindOf(err) != fault.Forbidden {
			t.Fatalf("auditor test: %v", err)
		}
		if list, err := mail.Messages(f.Ctx, db, 10); err != nil || len(list) != 0 {
			t.Fatalf("refused tests left messages: %+v %v", list, err)
		}
	})
}
