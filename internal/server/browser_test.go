package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestBrowserLoginAndCreateUser drives the real pages in headless Chromium:
// log in, add a user (first with a mistake the page must explain), see it
// listed, and open its history.
func TestBrowserLoginAndCreateUser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	a := newApp(t, db)
	ctx := browsertest.New(t)
	shot := func(name string) {
		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, ctx, filepath.Join(dir, name+".png"))
		}
	}
	fail := func(step string, err error) {
		t.Helper()
		browsertest.Screenshot(t, ctx, filepath.Join(t.TempDir(), "failure.png"))
		t.Fatalf("%s: %v", step, err)
	}
	pageText := chromedp.Evaluate[string](`document.body.innerText`)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(a.srv.URL+"/users"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
	); err != nil {
		fail("open login", err)
	}
	shot("login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "admin@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), a.AdminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/users"] input[name=name]`)),
	); err != nil {
		fail("log in and land on /users", err)
	}

	// A password that is too short: the browser's own minlength check would
	// stop the form, so remove it to see the server's message.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.querySelector('form[action="/users"] input[name=password]').removeAttribute('minlength'), true`)); err != nil {
		fail("drop minlength", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form[action="/users"] input[name=name]`), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/users"] input[name=email]`), "grace@example.com"),
		chromedp.SetValue(chromedp.CSS(`form[action="/users"] select[name=role]`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/users"] input[name=password]`), "short"),
		chromedp.Submit(chromedp.CSS(`form[action="/users"] input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)),
	); err != nil {
		fail("submit a bad form", err)
	}
	text, err := chromedp.Run(ctx, pageText)
	if err != nil || !strings.Contains(text, "must be at least 10 characters") {
		fail("read the error", err)
	}
	shot("users-error")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form[action="/users"] input[name=password]`), "a much longer password"),
		chromedp.Submit(chromedp.CSS(`form[action="/users"] input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	); err != nil {
		fail("create the user", err)
	}
	text, err = chromedp.Run(ctx, pageText)
	if err != nil || !strings.Contains(text, "User grace@example.com created") || !strings.Contains(text, "Grace Hopper") {
		fail("see the new user", err)
	}
	shot("users")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[text()="Grace Hopper"]`)),
		chromedp.WaitVisible(chromedp.ID("history")),
	); err != nil {
		fail("open the user", err)
	}
	text, err = chromedp.Run(ctx, pageText)
	if err != nil || !strings.Contains(text, "CREATE") || !strings.Contains(text, "grace@example.com") {
		fail("history shows the creation", err)
	}
	shot("user")
}
