package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestAlertsInBrowser: an admin in real Chromium creates a failed-logins
// rule (after the form refuses a bad threshold, naming it), someone fails to
// log in five times, the sealing and alert runners raise one alert, and the
// admin finds it under Notifications with its evidence and acknowledges it
// with a note. With STOCKTRAIL_SCREENSHOTS set it saves every page of
// Configuration → Notifications at a desk's size and a phone's.
func TestAlertsInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	sealer := ledgertest.NewSealer(t, db)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer}))
	t.Cleanup(srv.Close)
	// The background work of serve: sealing and alert evaluation.
	runCtx, stop := context.WithCancel(context.Background())
	var done []chan struct{}
	for _, r := range []*jobs.Runner{jobs.Sealing(db, nil, sealer, 100*time.Millisecond), jobs.Alerts(db, nil, 100*time.Millisecond)} {
		ch := make(chan struct{})
		done = append(done, ch)
		go func() { defer close(ch); r.Run(runCtx) }()
	}
	t.Cleanup(func() {
		stop()
		for _, ch := range done {
			<-ch
		}
	})
	ctx := browsertest.New(t)
	dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
	fail := browsertest.Failer(t, ctx)
	shoot := func(name string) {
		t.Helper()
		if dir == "" {
			return
		}
		for _, size := range []struct {
			name string
			w, h int64
		}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				fail("resize", err)
			}
			browsertest.Screenshot(t, ctx, filepath.Join(dir, name+"-"+size.name+".png"))
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("read "+sel, err)
		}
		return s
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
		chromedp.Click(chromedp.CSS(`header nav a[href="/notifications"]`)),
		chromedp.WaitVisible(chromedp.ID("create-recommended")),
	); err != nil {
		fail("open Notifications", err)
	}
	if crumb := text(".breadcrumb"); !strings.Contains(crumb, "Configuration → Notifications") {
		t.Errorf("breadcrumb %q", crumb)
	}
	shoot("notifications-empty")

	// A new rule: choose the kind, then a threshold the form refuses.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("add-rule")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/notifications/rules/new?kind=failed_logins"]`)),
	); err != nil {
		fail("add a rule", err)
	}
	shoot("alert-rule-kinds")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/notifications/rules/new?kind=failed_logins"]`)),
		chromedp.WaitVisible(chromedp.ID("field-attempts")),
		chromedp.SetValue(chromedp.ID("field-name"), "Password guessing"),
		chromedp.SetValue(chromedp.ID("field-attempts"), "1"),
		chromedp.SetValue(chromedp.ID("field-window_minutes"), "ten"),
		chromedp.SetValue(chromedp.ID("field-email_to"), "security@example.com"),
		chromedp.Click(chromedp.ID("save-rule")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
	); err != nil {
		fail("refused threshold", err)
	}
	summary := text("#error-summary")
	if !strings.Contains(summary, "There is a problem") || !strings.Contains(summary, "Enter a number of failed logins from 2 to 10000") ||
		!strings.Contains(summary, "Enter the minutes as a whole number") {
		t.Errorf("error summary %q", summary)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#error-summary a')).map(a => a.getAttribute('href'))`))
	if err != nil || len(links) != 2 || links[0] != "#field-attempts" || links[1] != "#field-window_minutes" {
		t.Errorf("error links %v (%v)", links, err)
	}
	if name, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("field-name"))); name != "Password guessing" {
		t.Errorf("the form lost what was typed: name %q", name)
	}
	shoot("alert-rule-errors")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("field-attempts"), "5"),
		chromedp.SetValue(chromedp.ID("field-window_minutes"), "10"),
		chromedp.Click(chromedp.ID("save-rule")),
		chromedp.WaitVisible(chromedp.ID("alert-rules")),
	); err != nil {
		fail("create the rule", err)
	}
	if rules := text("#alert-rules"); !strings.Contains(rules, "Password guessing") || !strings.Contains(rules, "5 failed logins within 10 minutes for one account") ||
		!strings.Contains(rules, "security@example.com") {
		t.Errorf("rules %q", rules)
	}

	// Someone guesses a password five times.
	guess := actor.WithRequest(context.Background(), actor.Request{IP: "203.0.113.9", UserAgent: "curl"})
	for i := 0; i < 5; i++ {
		if _, err := f.Auth.Login(guess, "admin@example.com", "letmein"); err == nil {
			t.Fatal("a wrong password logged in")
		}
	}
	// The alert appears once the attempts' coalescing window has ended
	// (auth.LoginFailureWindow) and the alerts node has counted them.
	deadline := time.Now().Add(auth.LoginFailureWindow + 20*time.Second)
	for {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/notifications"), chromedp.WaitVisible(chromedp.ID("open-alerts"))); err != nil {
			fail("reload", err)
		}
		if open := text("#open-alerts"); strings.Contains(open, "5 failed logins for admin@example.com") {
			break
		}
		if time.Now().After(deadline) {
			fail("wait for the alert", context.DeadlineExceeded)
		}
		time.Sleep(300 * time.Millisecond)
	}
	shoot("notifications")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#open-alerts a[href^="/notifications/alerts/"]`)),
		chromedp.WaitVisible(chromedp.ID("evidence-table")),
	); err != nil {
		fail("open the alert", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#evidence-table tbody tr')).map(r => r.innerText + ' ' + r.querySelector('a').getAttribute('href'))`))
	// The first attempt is its own event; the other four were counted into
	// one (auth.LoginFailureWindow).
	if err != nil || len(rows) != 2 {
		fail(fmt.Sprintf("evidence rows %q", rows), err)
	}
	if !strings.Contains(rows[0], "Failed login for admin@example.com: wrong password (from 203.0.113.9)") ||
		!strings.Contains(rows[1], "4 failed logins for admin@example.com from 203.0.113.9") {
		t.Errorf("evidence %q", rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "/activity?cursor=") {
			t.Errorf("evidence without its link into the activity log: %q", r)
		}
	}
	shoot("alert-open")
	// The evidence link opens the activity log at that entry.
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#evidence-table a').getAttribute('href')`))
	alertURL, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+href), chromedp.WaitVisible(chromedp.ID("activity-table"))); err != nil {
		fail("evidence link", err)
	}
	if first := text("#activity-table tbody tr"); !strings.Contains(first, "LOGIN_FAILED") {
		t.Errorf("the evidence link opens the log at %q", first)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+alertURL),
		chromedp.WaitVisible(chromedp.ID("acknowledge")),
		chromedp.SetValue(chromedp.ID("field-note"), "My own typos; nothing to worry about"),
		chromedp.Click(chromedp.ID("acknowledge-button")),
		chromedp.WaitVisible(chromedp.ID("acknowledged")),
	); err != nil {
		fail("acknowledge", err)
	}
	if ack := text("#acknowledged"); !strings.Contains(ack, "by "+f.Admin.Name) || !strings.Contains(ack, "My own typos") {
		t.Errorf("acknowledged %q", ack)
	}
	if status := text("#alert-status"); status != "Acknowledged" {
		t.Errorf("status %q", status)
	}
	shoot("alert-acknowledged")
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/notifications/alerts"), chromedp.WaitVisible(chromedp.ID("alert-table"))); err != nil {
		fail("alert list", err)
	}
	shoot("alert-list")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/notifications"),
		chromedp.WaitVisible(chromedp.ID("no-open-alerts")),
		chromedp.Click(chromedp.CSS(`#alert-rules a[href^="/notifications/rules/"]`)),
		chromedp.WaitVisible(chromedp.ID("history")),
	); err != nil {
		fail("rule page", err)
	}
	shoot("alert-rule")
	if recent := text("#rule-alerts"); !strings.Contains(recent, "5 failed logins for admin@example.com") || !strings.Contains(recent, "Acknowledged") {
		t.Errorf("the rule's alerts %q", recent)
	}
	if history := text("#history"); !strings.Contains(history, "Password guessing") {
		t.Errorf("rule history %q", history)
	}
	// The forms of the other kinds.
	for _, kind := range []string{"after_hours_access", "bulk_export", "large_correction"} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/notifications/rules/new?kind="+kind),
			chromedp.WaitVisible(chromedp.ID("field-window_minutes")),
		); err != nil {
			fail("form "+kind, err)
		}
		shoot("alert-rule-new-" + kind)
	}
}
