package web_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestAssetDisposalAndScheduleEditInBrowser disposes of an asset through
// its form, a refused answer and the check-your-answers step; finds it
// again through the register's filter with its history; deletes and
// restores another; and edits a schedule, all in headless Chromium.
func TestAssetDisposalAndScheduleEditInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		scope, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("SCOPE-7"), Name: ptr("Oscilloscope"), Assignee: ptr("Ann Lee")})
		if err != nil {
			t.Fatal(err)
		}
		dup, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("SCOPE-8"), Name: ptr("Oscilloscope, entered twice")})
		if err != nil {
			t.Fatal(err)
		}
		sched, err := assets.CreateSchedule(ctx, db, assets.ScheduleInput{Name: "Lab count", Recurrence: assets.Daily, Time: "06:00"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)

		b := browsertest.New(t)
		step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(b, actions...); err != nil {
				browsertest.Screenshot(t, b, filepath.Join(t.TempDir(), "failure.png"))
				t.Fatalf("%s: %v", name, err)
			}
		}
		waitFor := func(what, cond string) {
			t.Helper()
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if ok, err := chromedp.Run(b, chromedp.Evaluate[bool](`(function(){try{return !!(`+cond+`)}catch(e){return false}})()`)); err == nil && ok {
					return
				}
			}
			text, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("waiting for %s (%s); page:\n%s", what, cond, text)
		}
		click := func(what, selector string) {
			t.Helper()
			waitFor(what, fmt.Sprintf(`document.querySelector(%q)`, selector))
			step(what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, selector)))
		}
		text := func(selector string) string {
			t.Helper()
			s, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).innerText`, selector)))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		step("log in", browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword))

		// Dispose: a missing reason is refused next to its field, then the
		// answers are checked before anything changes.
		step("asset", chromedp.Navigate(fmt.Sprintf("%s/assets/%d", srv.URL, scope.ID)))
		click("dispose", "#dispose")
		waitFor("form", `document.getElementById("field-date")`)
		click("sold", `input[name=method][value=sold]`)
		click("continue without reason", "#continue")
		waitFor("refused", `document.querySelector(".error-summary") && document.querySelector(".error-summary a[href='#field-reason']")`)
		step("reason", chromedp.SendKeys(chromedp.ID("field-reason"), "Sold to the university lab, invoice 4711"))
		click("continue", "#continue")
		waitFor("check page", `document.getElementById("check-answers") && document.getElementById("check-answers").innerText.includes("invoice 4711")`)
		if a, _ := assets.GetAsset(ctx, db, scope.ID); a.Disposal != nil {
			t.Fatal("the check step disposed of the asset")
		}
		click("change answers", "#change-answers")
		waitFor("form again with answers", `document.getElementById("field-reason").value.includes("invoice 4711") && document.querySelector("input[value=sold]").checked`)
		click("continue again", "#continue")
		click("confirm", "#confirm-dispose")
		waitFor("disposed", `document.querySelector(".flash") && document.getElementById("asset-removed").innerText.includes("Sold")`)
		if h := text("#history"); !strings.Contains(h, "invoice 4711") {
			t.Fatalf("history on the page: %s", h)
		}
		if a, _ := assets.GetAsset(ctx, db, scope.ID); a.Disposal == nil || a.Disposal.Method != assets.Sold {
			t.Fatalf("not disposed: %+v", a)
		}

		// The register hides it; the filter finds it.
		step("register", chromedp.Navigate(srv.URL+"/assets"))
		waitFor("register", `document.getElementById("assets")`)
		if strings.Contains(text("#assets"), "SCOPE-7") {
			t.Fatal("a disposed asset is in the register")
		}
		step("filter", chromedp.SetValue(chromedp.ID("filter-show"), "removed"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("filter-show").form.submit()`))
		waitFor("removed listed", `document.getElementById("assets").innerText.includes("SCOPE-7") && document.getElementById("assets").innerText.includes("Disposed: Sold")`)

		// Delete is confirmed first, then restored from the asset's page.
		step("delete page", chromedp.Navigate(fmt.Sprintf("%s/assets/%d", srv.URL, dup.ID)))
		click("delete", "#delete")
		waitFor("confirm page", `document.getElementById("confirm-delete")`)
		step("why", chromedp.SendKeys(chromedp.ID("field-reason"), "duplicate of SCOPE-7"))
		click("confirm delete", "#confirm-delete")
		waitFor("deleted", `document.getElementById("asset-removed") && document.getElementById("restore")`)
		click("restore", "#restore")
		waitFor("restored", `document.querySelector(".flash") && document.querySelector(".flash").innerText.includes("restored") && !document.getElementById("asset-removed")`)

		// Edit a schedule: a bad time is refused, then saved and audited.
		step("schedules", chromedp.Navigate(srv.URL+"/inventory-checks/schedules"))
		click("edit", fmt.Sprintf(`a[href="/inventory-checks/schedules/%d/edit"]`, sched.ID))
		waitFor("edit form", `document.getElementById("schedule-form")`)
		step("bad time", chromedp.SetValue(chromedp.CSS(`#schedule-form input[name=time]`), "6 am"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("schedule-form").submit()`))
		waitFor("refused time", `document.querySelector(".field-error") && document.querySelector("#schedule-form input[name=time]").value === "6 am"`)
		step("good", chromedp.SetValue(chromedp.CSS(`#schedule-form input[name=time]`), "05:45"),
			chromedp.SetValue(chromedp.CSS(`#schedule-form input[name=name]`), "Lab count, early"))
		click("save", "#save-schedule")
		waitFor("saved", `document.querySelector(".flash") && document.getElementById("schedules").innerText.includes("Every day at 05:45")`)
		events, err := activity.ForEntity(ctx, db, "inventory_schedules", fmt.Sprint(sched.ID), 5)
		if err != nil || len(events) != 2 || !strings.Contains(events[0].Description, "edited") {
			t.Fatalf("schedule events %+v %v", events, err)
		}
		click("delete schedule", fmt.Sprintf(`a[href="/inventory-checks/schedules/%d/delete"]`, sched.ID))
		click("confirm delete schedule", "#confirm-delete")
		waitFor("schedule deleted", `document.querySelector(".flash") && !document.getElementById("schedules").innerText.includes("Lab count")`)
		step("sessions", chromedp.Navigate(srv.URL+"/inventory-checks"))
		waitFor("its session stays", `document.getElementById("sessions").innerText.includes("Lab count, early")`)

		// A long session pages its list and filters it, at a phone's size.
		var csv strings.Builder
		csv.WriteString("tag,name\n")
		for i := 0; i < 150; i++ {
			fmt.Fprintf(&csv, "DESK-%03d,Desk %d\n", i, i)
		}
		if _, err := assets.ImportAssets(ctx, db, strings.NewReader(csv.String())); err != nil {
			t.Fatal(err)
		}
		long, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Desks"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := assets.StartSession(ctx, db, long.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := assets.ScanAsset(ctx, db, long.ID, assets.ScanInput{Code: "DESK-120"}); err != nil {
			t.Fatal(err)
		}
		step("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(fmt.Sprintf("%s/inventory-checks/%d", srv.URL, long.ID)))
		waitFor("first page", `document.querySelectorAll("#items tbody tr").length === 100 && document.getElementById("items-next")`)
		click("next page", "#items-next")
		waitFor("second page", `document.querySelectorAll("#items tbody tr").length === 51 && !document.getElementById("items-next") && document.getElementById("items-first")`)
		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, b, filepath.Join(dir, string(db.Engine()), "session-long-phone.png"))
		}
		step("filter scanned", chromedp.Navigate(fmt.Sprintf("%s/inventory-checks/%d", srv.URL, long.ID)),
			chromedp.SetValue(chromedp.ID("items-state"), "scanned"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("items-filter").submit()`))
		waitFor("scanned only", `document.querySelectorAll("#items tbody tr").length === 1 && document.getElementById("items").innerText.includes("DESK-120")`)
		step("search", chromedp.Navigate(fmt.Sprintf("%s/inventory-checks/%d?q=desk+14", srv.URL, long.ID)))
		waitFor("searched", `document.querySelectorAll("#items tbody tr").length === 11`) // 14, 140–149
	})
}
