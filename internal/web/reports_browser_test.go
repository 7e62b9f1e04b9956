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

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestAuditReportsInBrowser opens each audit report, a bad range and the
// activity log's coalesced failed login in a real Chromium at a desk's size
// and a phone's: each shows what it is about, the bad range says which
// field is wrong, and nothing scrolls sideways on the phone. With
// STOCKTRAIL_SCREENSHOTS set it saves every view there.
func TestAuditReportsInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	// What the reports show: a user who logs in and reads, a key and a
	// station created, a settings change, a role change, and a flood of
	// wrong passwords for one account from one address.
	nina := f.User(t, "nina@example.com", actor.Operator)
	if _, err := f.Auth.CreateAPIKey(f.Ctx, "ERP nightly", actor.Manager); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Auth.CreateStation(f.Ctx, "Dock scanner", 0); err != nil {
		t.Fatal(err)
	}
	tz, end := "Europe/Berlin", "18:00"
	if _, err := workspace.Update(f.Ctx, db, workspace.Change{TimeZone: &tz, BusinessHoursEnd: &end}); err != nil {
		t.Fatal(err)
	}
	role := actor.Auditor
	if _, err := f.Auth.UpdateUser(f.Ctx, nina.ID, auth.UserChange{Role: &role}); err != nil {
		t.Fatal(err)
	}
	from := actor.WithRequest(context.Background(), actor.Request{IP: "203.0.113.50", UserAgent: "curl/8"})
	for range 12 {
		f.Auth.Login(from, "nina@example.com", "guess guess guess")
	}
	if _, err := auth.FlushLoginFailures(context.Background(), db, time.Now().Add(2*auth.LoginFailureWindow)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
	); err != nil {
		fail("log in", err)
	}
	today := time.Now().In(mustZone(t, tz)).Format("2006-01-02")
	pages := []struct {
		name, path string
		want       []string
		alert      string
	}{
		{"reports-form", "/reports/audit", []string{"Audit reports", "User activity summary", "Data access report"}, ""},
		{"reports-user-activity", "/reports/audit?report=user-activity&from=" + today + "&to=" + today,
			[]string{"Generated", "Admin", "nina@example.com", "12"}, ""},
		{"reports-data-access", "/reports/audit?report=data-access&from=" + today + "&to=" + today,
			[]string{"Viewed", "viewed the user activity summary"}, ""},
		{"reports-configuration-changes", "/reports/audit?report=configuration-changes&from=" + today + "&to=" + today,
			[]string{"API key ERP nightly created", "Dock scanner", "Europe/Berlin", "operator", "auditor"}, ""},
		{"reports-bad-range", "/reports/audit?report=user-activity&from=2026-03-10&to=2026-03-01",
			[]string{"There is a problem", "the end date must be on or after the start date"}, "There is a problem"},
		{"activity-coalesced-failed-login", "/activity?action=LOGIN_FAILED",
			[]string{"11 failed logins for nina@example.com from 203.0.113.50 between"}, ""},
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		for _, p := range pages {
			if err := chromedp.Do(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				chromedp.Navigate(srv.URL+p.path),
				chromedp.WaitVisible(chromedp.CSS(`main`)),
			); err != nil {
				fail(p.name+" at "+size.name, err)
			}
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
			if err != nil {
				fail(p.name+" text", err)
			}
			for _, want := range p.want {
				if !strings.Contains(text, want) {
					t.Errorf("%s at %s: %q not on the page:\n%s", p.path, size.name, want, text)
				}
			}
			alert, err := chromedp.Run(ctx, chromedp.Evaluate[string](
				`Array.from(document.querySelectorAll('[role=alert]')).map(e => e.innerText).join(' | ')`))
			if err != nil {
				fail(p.name+" alert", err)
			}
			if p.alert == "" && strings.TrimSpace(alert) != "" || !strings.Contains(alert, p.alert) {
				t.Errorf("%s at %s: alert %q, want %q", p.path, size.name, alert, p.alert)
			}
			if strings.HasPrefix(p.name, "reports") {
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				if err != nil {
					fail(p.name+" width", err)
				}
				if wide {
					t.Errorf("%s at %s scrolls sideways", p.path, size.name)
				}
			}
			if dir != "" {
				browsertest.Screenshot(t, ctx, filepath.Join(dir, p.name+"-"+size.name+".png"))
			}
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
