package web_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestActivityLogInBrowser logs in as the admin in real Chromium, filters
// the Activity Log by action, searches it, and opens a user's History.
func TestActivityLogInBrowser(t *testing.T) {
	e := newWebEnv(t, storetest.Open(t, store.SQLite))
	ctx := browsertest.New(t)
	fail := func(err error) {
		t.Helper()
		browsertest.Screenshot(t, ctx, filepath.Join(t.TempDir(), "failure.png"))
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/login?next=/activity"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "admin@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.ID("activity-table")),
		// Filter by action through the form, as a user would.
		chromedp.SetValue(chromedp.CSS(`select[name="action"]`), "ROLE_CHANGE"),
		chromedp.Click(chromedp.ID("apply-filters")),
		// The attribute is only in the HTML of the new page, so this waits
		// for the answer rather than matching the page being left.
		chromedp.WaitReady(chromedp.CSS(`select[name="action"] option[value="ROLE_CHANGE"][selected]`)),
		chromedp.WaitVisible(chromedp.CSS(`#activity-table tbody tr`)),
	); err != nil {
		fail(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#activity-table tbody tr")).map(r => r.innerText)`))
	if err != nil {
		fail(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0], "ROLE_CHANGE") || !strings.Contains(rows[0], "operator → manager") {
		t.Errorf("filtered rows: %q", rows)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(url, "action=ROLE_CHANGE") {
		t.Errorf("filter is not in the URL (%s): %v", url, err)
	}
	// The export links carry the filter: following each gives only the
	// filtered events (they once escaped it into one meaningless parameter
	// and exported the whole log).
	for _, link := range []string{"export-csv", "export-pdf"} {
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("`+link+`").href`))
		if err != nil || !strings.Contains(href, "action=ROLE_CHANGE") {
			t.Errorf("%s link %q does not carry the filter (%v)", link, href, err)
		}
	}
	csvText, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.getElementById("export-csv").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		fail(err)
	}
	if lines := strings.Split(strings.TrimSpace(csvText), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "ROLE_CHANGE") {
		t.Errorf("the CSV link exported %d lines:\n%s", len(lines), csvText)
	}

	// Full-text search.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name="action"]`), ""),
		chromedp.SendKeys(chromedp.CSS(`#activity-filters input[name="q"]`), "Petrova"),
		chromedp.Click(chromedp.ID("apply-filters")),
		chromedp.WaitReady(chromedp.CSS(`#activity-filters input[name="q"][value="Petrova"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#activity-table tbody tr`)),
	); err != nil {
		fail(err)
	}
	table, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("activity-table")))
	if err != nil {
		fail(err)
	}
	if !strings.Contains(table, "olga@example.com → Olga Petrova") || strings.Contains(table, "ROLE_CHANGE") {
		t.Errorf("search results:\n%s", table)
	}

	// The History tab of the user's page.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/users/"+strconv.FormatInt(e.operator.ID, 10)+"#history"),
		chromedp.WaitVisible(chromedp.ID("history")),
	); err != nil {
		fail(err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("history")))
	if err != nil {
		fail(err)
	}
	for _, want := range []string{"ROLE_CHANGE", "Role: operator → manager", "Name: olga@example.com → Olga Petrova", "CREATE", "Administrator"} {
		if !strings.Contains(history, want) {
			t.Errorf("history lacks %q:\n%s", want, history)
		}
	}
}
