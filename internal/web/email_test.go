package web_test

import (
	"context"
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func mailConfig(t *testing.T, addr string) mail.Config {
	t.Helper()
	cfg, err := mail.ParseConfig(mail.Settings{URL: "smtp://" + mailtest.Username + ":" + mailtest.Password + "@" + addr,
		From: "stocktrail <alerts@example.com>", StartTLS: "none", Timeout: "5s"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEmailPage(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		f.User(t, "audrey@example.com", actor.Auditor)
		f.User(t, "otto@example.com", actor.Operator)
		smtpd := mailtest.Start(t)
		cfg := mailConfig(t, smtpd.Addr)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Mail: cfg}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)

		status, page := admin.get("/notifications/email")
		page = html.UnescapeString(page)
		if status != 200 || !strings.Contains(page, "E-mail is configured") || !strings.Contains(page, "127.0.0.1, port") ||
			!strings.Contains(page, "Configuration</span> → <a href=\"/notifications\">Notifications</a> → <span aria-current=\"page\">E-mail") ||
			!strings.Contains(page, "Paths only") || !strings.Contains(page, "No e-mails yet.") {
			t.Fatalf("page: %d\n%s", status, page)
		}
		// Bad addresses come back naming the field, and nothing is added.
		for _, form := range []url.Values{{"address": {"not-an-address"}}, {"address": {""}}} {
			status, page := admin.post("/notifications/email/recipients", form)
			if status != 422 || !strings.Contains(page, `class="field-error"`) || !strings.Contains(html.UnescapeString(page), "Recipient address: ") {
				t.Errorf("%v: %d\n%s", form, status, page)
			}
		}
		status, page = admin.post("/notifications/email/recipients", url.Values{"address": {"Security@Example.com"}})
		if status != 200 || !strings.Contains(page, "security@example.com will receive every alert e-mail") {
			t.Fatalf("add: %d\n%s", status, page)
		}
		status, page = admin.post("/notifications/email/test", url.Values{"to": {"nobody"}})
		if status != 422 || !strings.Contains(html.UnescapeString(page), "Test e-mail address: ") || !strings.Contains(page, `value="nobody"`) {
			t.Fatalf("bad test address: %d\n%s", status, page)
		}
		smtpd.Refuse(451, smtp.EnhancedCode{4, 2, 2}, "Mailbox full")
		status, page = admin.post("/notifications/email/test", url.Values{"to": {"ops@example.com"}})
		if status != 200 || !strings.Contains(page, "Test e-mail queued") || !strings.Contains(page, "Waiting to be sent") {
			t.Fatalf("test e-mail: %d\n%s", status, page)
		}
		sender := &mail.Sender{DB: db, Config: cfg}
		if _, err := sender.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, page = admin.get("/notifications/email")
		page = html.UnescapeString(page)
		if !strings.Contains(page, "Will retry (attempt 1 failed)") || !strings.Contains(page, "Mailbox full") ||
			!strings.Contains(page, "refused (451)") || !strings.Contains(page, "next try") {
			t.Fatalf("after a refusal:\n%s", page)
		}
		smtpd.Accept()
		sender.Now = func() time.Time { return time.Now().Add(time.Hour) }
		if n, err := sender.SendDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
		_, page = admin.get("/notifications/email")
		if !strings.Contains(page, `<strong class="status-sent">Sent</strong>`) || !strings.Contains(page, "2 attempts</summary>") {
			t.Fatalf("after delivery:\n%s", page)
		}

		// A message given up on is sent again at an admin's word.
		smtpd.Refuse(550, smtp.EnhancedCode{5, 1, 1}, "No such user")
		if _, err := mail.QueueTest(f.Ctx, db, cfg, "gone@example.com"); err != nil {
			t.Fatal(err)
		}
		once := &mail.Sender{DB: db, Config: cfg, MaxAttempts: 1}
		if _, err := once.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, page = admin.get("/notifications/email")
		if !strings.Contains(page, "Gave up after 1 attempt</strong>") || !strings.Contains(page, "Send again") {
			t.Fatalf("after giving up:\n%s", page)
		}
		gone := 0
		if list, err := mail.Messages(f.Ctx, db, 10); err == nil {
			for _, m := range list {
				if m.Recipient == "gone@example.com" {
					gone = int(m.ID)
				}
			}
		}
		status, page = admin.post("/notifications/email/messages/"+itoa(int64(gone))+"/retry", url.Values{})
		if status != 200 || !strings.Contains(page, "The e-mail will be sent again") || !strings.Contains(page, "Will retry (attempt 1 failed)") {
			t.Fatalf("retry: %d\n%s", status, page)
		}
		smtpd.Accept()

		// An auditor sees and changes nothing; an operator does not see it.
		auditor := loginAs(t, srv.URL, "audrey@example.com", testPassword)
		status, page = auditor.get("/notifications/email")
		if status != 200 || !strings.Contains(page, "security@example.com") || strings.Contains(page, "Add recipient") ||
			strings.Contains(page, "Send test e-mail") {
			t.Fatalf("auditor page: %d\n%s", status, page)
		}
		if status, _ := auditor.post("/notifications/email/recipients", url.Values{"address": {"x@example.com"}}); status != 403 {
			t.Fatalf("auditor add: %d", status)
		}
		operator := loginAs(t, srv.URL, "otto@example.com", testPassword)
		if status, _ := operator.get("/notifications/email"); status != 403 {
			t.Fatalf("operator page: %d", status)
		}
		list, err := mail.Recipients(f.Ctx, db)
		if err != nil || len(list) != 1 {
			t.Fatalf("recipients %v %v", list, err)
		}
		status, page = admin.post("/notifications/email/recipients/"+itoa(list[0].ID)+"/delete", url.Values{})
		if status != 200 || !strings.Contains(page, "Recipient removed") || !strings.Contains(page, "No standing recipients.") {
			t.Fatalf("remove: %d\n%s", status, page)
		}
	})
}

func TestEmailPageWithoutSMTP(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		status, page := admin.get("/notifications/email")
		if status != 200 || !strings.Contains(page, "E-mail is not configured on this install") {
			t.Fatalf("page: %d\n%s", status, page)
		}
		status, page = admin.post("/notifications/email/test", url.Values{"to": {"ops@example.com"}})
		if status != 409 || !strings.Contains(page, "--smtp-url") {
			t.Fatalf("test without SMTP: %d\n%s", status, page)
		}
	})
}
