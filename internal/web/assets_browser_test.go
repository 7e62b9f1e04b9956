package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestInventorySessionInBrowser runs a whole session in headless Chromium:
// create it in the modal, start it, scan typed codes (a handheld scanner
// types and presses Enter), check one asset by hand, stage a change with a
// photo, try to exclude a scanned asset, finish with Lost enforcement on,
// download the CSV and check the asset histories.
func TestInventorySessionInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		wh1, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"})
		if err != nil {
			t.Fatal(err)
		}
		zone, _ := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Zone, Code: "A", ParentID: wh1.ID})
		wh2, _ := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH2"})
		ids := map[string]int64{}
		for tag, loc := range map[string]int64{"LAP-1": wh1.ID, "LAP-2": zone.ID, "LAP-3": wh1.ID, "SCOPE-X": zone.ID, "DRL-9": wh2.ID, "LIVE-1": wh1.ID} {
			a, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: &tag, Name: ptr("Asset " + tag), LocationID: &loc})
			if err != nil {
				t.Fatal(err)
			}
			ids[tag] = a.ID
		}
		on := true
		if _, err := workspace.Update(ctx, db, workspace.Change{MarkUnscannedLost: &on}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		photo := filepath.Join(t.TempDir(), "crack.png")
		var pngBuf bytes.Buffer
		png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 8, 8)))
		os.WriteFile(photo, pngBuf.Bytes(), 0o600)

		b := browsertest.New(t)
		step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(b, actions...); err != nil {
				browsertest.Screenshot(t, b, filepath.Join(t.TempDir(), "failure.png"))
				t.Fatalf("%s: %v", name, err)
			}
		}
		// waitFor polls a JavaScript condition: robust across the page loads
		// that every form submission causes.
		waitFor := func(what, cond string) {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) {
				ok, err := chromedp.Run(b, chromedp.Evaluate[bool](`(function(){try{return !!(`+cond+`)}catch(e){return false}})()`))
				if err == nil && ok {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			text, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("waiting for %s (%s); page:\n%s", what, cond, text)
		}
		click := func(what, selector string) {
			t.Helper()
			waitFor(what, fmt.Sprintf(`document.querySelector(%q)`, selector))
			step(what, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, selector)))
		}
		flash := func(what, contains string) {
			t.Helper()
			waitFor(what, fmt.Sprintf(`document.querySelector(".flash") && document.querySelector(".flash").innerText.includes(%q)`, contains))
		}

		step("login", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=email]`), f.Admin.Email),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), f.AdminPassword+"\n"))
		waitFor("logged in", `document.querySelector("header.top")`)

		step("sessions list", chromedp.Navigate(srv.URL+"/inventory-checks"))
		click("open modal", "#open-new-session")
		waitFor("modal open", `document.getElementById("new-session").open`)
		step("fill modal", chromedp.SendKeys(chromedp.ID("field-name"), "Audit WH1"),
			chromedp.SetValue(chromedp.ID("field-location_id"), fmt.Sprint(wh1.ID)))
		click("create", "#new-session-create")
		flash("created", "Session created")
		click("start", "#start")
		flash("started", "Session started")
		waitFor("expected list", `document.getElementById("progress-total").innerText === "5"`)
		sessionPath, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.pathname`))
		var sessionID int64
		fmt.Sscanf(sessionPath, "/inventory-checks/%d", &sessionID)

		// Someone else scans on another device: the open page's progress
		// follows without a reload.
		step("mark page", chromedp.Evaluate[chromedp.Void](`window.stillHere = true`))
		if _, err := assets.ScanAsset(ctx, db, sessionID, assets.ScanInput{Code: "LIVE-1", ClientScanID: "other-phone-1"}); err != nil {
			t.Fatal(err)
		}
		waitFor("live progress", `window.stillHere === true && document.getElementById("progress-scanned").innerText === "1"`)

		scan := func(code, want string) {
			t.Helper()
			waitFor("scan box", `document.activeElement && document.activeElement.id === "scan-code"`)
			step("scan "+code, chromedp.SendKeys(chromedp.ID("scan-code"), code+"\n"))
			flash("scan "+code, want)
		}
		scan(qrlabel.Payload(f.Workspace.ID, "LAP-1"), "LAP-1 Asset LAP-1: found")
		scan("LAP-2", "LAP-2 Asset LAP-2: found")
		scan("LAP-2", "already scanned, counted once")
		scan("DRL-9", "unexpected")
		// A bad code: a clear message, nothing changed.
		step("bad code", chromedp.SendKeys(chromedp.ID("scan-code"), "NOPE-404\n"))
		waitFor("bad code message", `document.querySelector(".error-summary") && document.querySelector(".error-summary").innerText.includes("No asset with tag NOPE-404")`)
		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, b, filepath.Join(dir, "session-bad-code-"+string(db.Engine())+".png"))
		}
		step("back", chromedp.Navigate(srv.URL+sessionPath))

		// Camera-less manual check.
		click("manual check", fmt.Sprintf("#item-%d button.check", ids["SCOPE-X"]))
		flash("checked", "SCOPE-X")
		waitFor("progress 4 of 5", `document.getElementById("progress-scanned").innerText === "4"`)

		// Stage a change with a photo in the scan modal.
		click("view", fmt.Sprintf("#item-%d .view", ids["LAP-2"]))
		dlg := fmt.Sprintf("#stage-%d", ids["LAP-2"])
		waitFor("scan modal", fmt.Sprintf(`document.querySelector(%q).open`, dlg))
		step("stage", chromedp.SetValue(chromedp.CSS(dlg+" select[name=condition]"), "broken"),
			chromedp.SendKeys(chromedp.CSS(dlg+" input[name=assignee]"), "Grace"),
			chromedp.SendKeys(chromedp.CSS(dlg+" textarea[name=comment]"), "screen cracked"),
			chromedp.SetUploadFiles(chromedp.CSS(dlg+" input[name=photo]"), []string{photo}))
		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, b, filepath.Join(dir, "modal-"+string(db.Engine())+".png"))
		}
		click("stage save", dlg+" .stage-save")
		flash("staged", "Changes staged")

		// Excluding a scanned asset is refused with a clear message.
		click("exclude scanned", fmt.Sprintf("#item-%d button.exclude", ids["LAP-1"]))
		waitFor("refusal", `document.querySelector(".error") && document.querySelector(".error").innerText.includes("already been scanned")`)
		step("back", chromedp.Navigate(srv.URL+sessionPath))
		// Include the unexpected asset from its row.
		click("include unexpected", "#unexpected button")
		flash("included", "included")
		waitFor("progress 5 of 6", `document.getElementById("progress-scanned").innerText === "5" && document.getElementById("progress-total").innerText === "6"`)

		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, b, filepath.Join(dir, "session-"+string(db.Engine())+".png"))
		}
		click("finish", "#finish")
		flash("finished", "1 marked Lost")
		waitFor("completed", `document.getElementById("session-status").innerText === "Completed" && !document.getElementById("scan-code")`)

		report, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.text())`, "/inventory-checks/"+fmt.Sprint(sessionID)+"/report.csv"), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(report)).ReadAll()
		if err != nil {
			t.Fatalf("report: %v\n%s", err, report)
		}
		results := map[string][]string{}
		for _, r := range rows[1:] {
			results[r[0]] = r
		}
		for tag, want := range map[string]string{"LAP-1": "found", "LAP-2": "found", "SCOPE-X": "found", "DRL-9": "found", "LIVE-1": "found", "LAP-3": "missing"} {
			if got := results[tag]; got == nil || got[2] != want {
				t.Errorf("report row %s = %v, want %s\n%s", tag, got, want, report)
			}
		}
		if r := results["SCOPE-X"]; r != nil && r[6] != "manual" {
			t.Errorf("SCOPE-X method %q", r[6])
		}
		if r := results["LAP-2"]; r != nil && !strings.Contains(r[7], "Grace") {
			t.Errorf("LAP-2 changes %q", r[7])
		}
		if r := results["LAP-3"]; r != nil && !strings.Contains(r[7], "lost") {
			t.Errorf("LAP-3 changes %q", r[7])
		}

		// Asset histories.
		step("lap-2 page", chromedp.Navigate(fmt.Sprintf("%s/assets/%d", srv.URL, ids["LAP-2"])))
		waitFor("lap-2 applied", `document.getElementById("asset-condition").innerText === "broken" && document.getElementById("asset-assignee").innerText === "Grace"`)
		waitFor("lap-2 session", `document.getElementById("sessions").innerText.includes("Audit WH1") && document.getElementById("history").innerText.includes("updated by inventory session Audit WH1")`)
		waitFor("lap-2 photo", `document.querySelectorAll(".photos img").length === 1`)
		if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
			browsertest.Screenshot(t, b, filepath.Join(dir, "asset-"+string(db.Engine())+".png"))
			step("report page", chromedp.Navigate(srv.URL+sessionPath))
			waitFor("report", `document.getElementById("report")`)
			browsertest.Screenshot(t, b, filepath.Join(dir, "report-"+string(db.Engine())+".png"))
		}
		step("lap-3 page", chromedp.Navigate(fmt.Sprintf("%s/assets/%d", srv.URL, ids["LAP-3"])))
		waitFor("lap-3 lost", `document.getElementById("asset-status").innerText === "Lost" && document.getElementById("history").innerText.includes("marked Lost")`)
	})
}

func ptr[T any](v T) *T { return &v }

// TestAssetImportAndSchedulesInBrowser imports assets from a CSV file, then
// refuses an impossible schedule and creates a weekly one whose next session
// appears in the sessions list as Scheduled.
func TestAssetImportAndSchedulesInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	if _, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "assets.csv")
	os.WriteFile(file, []byte("tag,name,status,location\nIMP-1,Imported drill,in use,WH1\nIMP-2,Imported saw,,\n"), 0o600)

	b := browsertest.New(t)
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
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
		t.Fatalf("waiting for %s; page:\n%s", what, text)
	}
	run("login", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), f.Admin.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), f.AdminPassword+"\n"))
	waitFor("logged in", `document.querySelector("header.top")`)

	run("assets", chromedp.Navigate(srv.URL+"/assets"), chromedp.WaitVisible(chromedp.CSS(`input[name=file]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{file}),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/assets/import"]').submit()`))
	waitFor("imported", `document.querySelector(".flash") && document.querySelector(".flash").innerText.includes("2 assets imported")`)
	waitFor("listed", `document.getElementById("assets").innerText.includes("IMP-1") && document.getElementById("assets").innerText.includes("In use")`)

	fill := func(cron string) {
		run("schedules", chromedp.Navigate(srv.URL+"/inventory-checks/schedules"), chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)))
		run("fill", chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Quarterly"),
			chromedp.SetValue(chromedp.CSS(`select[name=recurrence]`), "cron"),
			chromedp.SendKeys(chromedp.CSS(`input[name=cron]`), cron),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/inventory-checks/schedules"]').submit()`))
	}
	fill("0 0 31 2 *")
	waitFor("refused", `document.querySelector(".error-summary") && document.querySelector(".error-summary").innerText.includes("never happens")`)
	fill("0 6 1 1,4,7,10 *")
	waitFor("created", `document.querySelector(".flash") && document.getElementById("schedules").innerText.includes("Quarterly")`)
	run("sessions", chromedp.Navigate(srv.URL+"/inventory-checks?status=scheduled"))
	waitFor("scheduled session", `document.getElementById("sessions").innerText.includes("Quarterly") && document.getElementById("sessions").innerText.includes("Scheduled")`)
}
