package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/mail/mailtest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestEmailPageInABrowser adds a recipient and sends a test e-mail through
// the page in Chromium, against an SMTP server that refuses it and then
// accepts it, and looks at the page at a desk's size and a phone's (saved
// to STOCKTRAIL_SCREENSHOTS when set).
func TestEmailPageInABrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	smtpd := mailtest.Start(t)
	cfg := mailConfig(t, smtpd.Addr)
	cfg.BaseURL = "https://stock.example.com"
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Mail: cfg}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
		chromedp.Navigate(srv.URL+"/notifications/email"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=address]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=address]`), "security@example.com"),
		chromedp.Submit(chromedp.CSS(`input[name=address]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=to]`), "not an address"),
		chromedp.Submit(chromedp.CSS(`input[name=to]`)),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)),
	); err != nil {
		fail("add a recipient, a bad test address", err)
	}
	sizes := []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}}
	shoot := func(name string) {
		for _, size := range sizes {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
				fail(name, err)
			}
			if dir != "" {
				browsertest.Screenshot(t, ctx, filepath.Join(dir, name+"-"+size.name+".png"))
			}
		}
	}
	shoot("email-bad-address")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/notifications/email"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=to]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=to]`), "ops@example.com"),
		chromedp.Submit(chromedp.CSS(`input[name=to]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	); err != nil {
		fail("send a test e-mail", err)
	}
	// The server refuses it twice, then a second message is delivered.
	smtpd.Refuse(451, smtp.EnhancedCode{4, 2, 2}, "Mailbox full, try again later")
	clock := time.Now()
	sender := &mail.Sender{DB: db, Config: cfg, Now: func() time.Time { return clock }}
	for i := range 2 {
		clock = clock.Add(time.Duration(i) * 10 * time.Minute)
		if _, err := sender.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	smtpd.Accept()
	if _, err := mail.QueueTest(f.Ctx, db, cfg, "security@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := sender.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/notifications/email"),
		chromedp.WaitVisible(chromedp.CSS(`ol.email-messages`)),
	); err != nil {
		fail("reload", err)
	}
	// Open every message's list of attempts, as a person reading it would.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('details').forEach(d => d.open = true); 0`)); err != nil {
		fail("open the attempts", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if err != nil {
		fail("page text", err)
	}
	for _, want := range []string{"Will retry (attempt 2 failed)", "Mailbox full, try again later", "refused (451)", "Sent", "security@example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q not on the page:\n%s", want, text)
		}
	}
	shoot("email")
}
