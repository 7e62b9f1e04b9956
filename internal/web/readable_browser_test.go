package web_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// rawForms are what a page must never show a person: JSON objects and the
// names of id columns ("location_id: 2 → 1").
var rawForms = regexp.MustCompile(`\{"|":\s|\b[a-z]+(_[a-z]+)*_id\b`)

// TestMainPagesOnAPhoneAndADesk opens every main page, after a day's work
// (receipts, a move, an edited asset, a finished session that changed
// assets, a schedule, a user and an API key), at a desk's size and a
// phone's, on both engines. Each page must fit its viewport (nothing wider,
// nothing scrolling sideways), show no raw JSON or id column names in its
// text, and have no serious or critical axe-core violation. With
// STOCKTRAIL_SCREENSHOTS set it saves every view there.
func TestMainPagesOnAPhoneAndADesk(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		pages := dayOfWork(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
		if dir != "" {
			dir = filepath.Join(dir, string(db.Engine()))
		}
		for _, size := range []struct {
			name string
			w, h int64
		}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
			// A browser per size: each has browsertest.Timeout to live.
			ctx := browsertest.New(t)
			fail := browsertest.Failer(t, ctx)
			check := func(name, path string) {
				t.Helper()
				if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
					fail(name+" at "+size.name, err)
				}
				if dir != "" {
					browsertest.Screenshot(t, ctx, filepath.Join(dir, name+"-"+size.name+".png"))
					// The first screen alone, as a person sees it on opening the page.
					if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
						os.WriteFile(filepath.Join(dir, name+"-"+size.name+"-first-screen.png"), png, 0o644)
					}
				}
				wide, err := browsertest.Sideways(ctx)
				if err != nil {
					fail(name+" width", err)
				}
				for _, w := range wide {
					t.Errorf("%s (%s) at %s: %s", name, path, size.name, w)
				}
				text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
				if err != nil {
					fail(name+" text", err)
				}
				for _, line := range strings.Split(text, "\n") {
					if rawForms.MatchString(line) {
						t.Errorf("%s (%s) at %s shows a raw form: %q", name, path, size.name, line)
					}
				}
				bad, err := browsertest.Accessibility(ctx)
				if err != nil {
					fail(name+" axe-core", err)
				}
				for _, v := range bad {
					t.Errorf("%s (%s) at %s: axe-core: %s", name, path, size.name, v)
				}
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				fail("viewport", err)
			}
			check("login", "/login")
			if err := chromedp.Do(ctx, browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword)); err != nil {
				fail("log in", err)
			}
			for _, p := range pages {
				check(p.name, p.path)
			}
		}
	})
}

type mainPage struct{ name, path string }

// dayOfWork fills f's workspace with what a day's work leaves and returns
// the main pages to look at.
func dayOfWork(t *testing.T, f *storetest.Fixture) []mainPage {
	t.Helper()
	ctx, db := f.Ctx, f.DB
	st, locs := seedStation(t, f)
	_ = st
	if _, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Quantity: "12.5"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M6"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Quantity: "575"}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	time.Sleep(5 * time.Millisecond)
	if _, err := inventory.MoveStock(ctx, db, inventory.Move{RecordRef: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "BOLT-M6"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}}, ToLocation: "WH1/A2", Quantity: "75"}); err != nil {
		t.Fatal(err)
	}
	a1, a2 := locs["WH1/A1"].ID, locs["WH1/A2"].ID
	var lap assets.Asset
	for i, tag := range []string{"LAP-0001", "LAP-0002", "DRL-0003"} {
		name, who := "Laptop "+tag, "Ben Ode"
		a, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: &tag, Name: &name, LocationID: &a1, Assignee: &who})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			lap = a
		}
	}
	if _, err := assets.UpdateAsset(ctx, db, lap.ID, assets.AssetInput{LocationID: &a2}); err != nil {
		t.Fatal(err)
	}
	sess, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "December count", LocationID: locs["WH1"].ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := assets.StartSession(ctx, db, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := assets.ScanAsset(ctx, db, sess.ID, assets.ScanInput{Code: "LAP-0001", ClientScanID: "scan-1"}); err != nil {
		t.Fatal(err)
	}
	fair, ann := assets.Condition("fair"), "Ann Lee"
	if err := assets.StageChanges(ctx, db, sess.ID, lap.ID, assets.StagedChange{Condition: &fair, Assignee: &ann, LocationID: &a1}); err != nil {
		t.Fatal(err)
	}
	if _, err := assets.FinishSession(ctx, db, sess.ID); err != nil {
		t.Fatal(err)
	}
	// The session's CSV is read by people too: the applied changes in words.
	var report strings.Builder
	if _, err := assets.WriteSessionReportCSV(ctx, db, sess.ID, &report); err != nil {
		t.Fatal(err)
	}
	if rawForms.MatchString(report.String()) || !strings.Contains(report.String(), "Location: WH1/A1") {
		t.Errorf("session CSV:\n%s", report.String())
	}
	if _, err := assets.CreateSchedule(ctx, db, assets.ScheduleInput{Name: "Weekly laptops", Recurrence: assets.Weekly, Time: "07:30",
		Weekdays: []int{1}, LocationID: a1}); err != nil {
		t.Fatal(err)
	}
	u, err := f.Auth.CreateUser(ctx, auth.NewUser{Email: "ann@example.com", Name: "Ann Lee", Role: actor.Operator, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Auth.CreateAPIKey(ctx, "Shop floor ERP", actor.Operator); err != nil {
		t.Fatal(err)
	}
	oil, err := inventory.ItemBySKU(ctx, db, "OIL-5")
	if err != nil {
		t.Fatal(err)
	}
	// A sales order holding stock and edited once, so its page, its
	// History and the item's "allocated to" have something to show.
	so, err := orders.Create(ctx, db, orders.OrderInput{Kind: orders.Outbound, Party: "Acme Ltd", PartyReference: "ACME-PO-77",
		Lines: []orders.LineInput{{SKU: "BOLT-M6", Quantity: "40"}, {SKU: "OIL-5", Quantity: "2.5", LocationID: a1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orders.Confirm(ctx, db, so.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := orders.Allocate(ctx, db, so.ID, orders.AllocateInput{}); err != nil {
		t.Fatal(err)
	}
	note := "Deliver to dock 2"
	if _, err := orders.Update(ctx, db, so.ID, orders.OrderChange{Note: &note}); err != nil {
		t.Fatal(err)
	}
	// An asset sold and one deleted by mistake: their pages and the
	// register's filter for them.
	var drill, extra assets.Asset
	if drill, err = assets.GetAssetByTag(ctx, db, "DRL-0003"); err != nil {
		t.Fatal(err)
	}
	if _, err := assets.DisposeAsset(ctx, db, drill.ID, assets.DisposalInput{Date: time.Now().Format(time.DateOnly), Method: assets.Sold,
		Reason: "Sold to Acme Ltd for 40 EUR"}); err != nil {
		t.Fatal(err)
	}
	if extra, err = assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("LAP-0009"), Name: ptr("Laptop entered twice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := assets.DeleteAsset(ctx, db, extra.ID, assets.LifecycleInput{Reason: "duplicate of LAP-0002"}); err != nil {
		t.Fatal(err)
	}
	schedules, err := assets.ListSchedules(ctx, db)
	if err != nil || len(schedules) == 0 {
		t.Fatal(schedules, err)
	}
	// A minimum above the stock, so the home page has a stock alert, and a
	// session under way, so it has progress to show.
	bolt, err := inventory.ItemBySKU(ctx, db, "BOLT-M6")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.UpdateItem(ctx, db, bolt.ID, inventory.ItemChange{MinLevel: inventory.OptionalDecimal{Set: true, Text: "1000"}}); err != nil {
		t.Fatal(err)
	}
	spot, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Laptop spot check"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := assets.StartSession(ctx, db, spot.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := assets.ScanAsset(ctx, db, spot.ID, assets.ScanInput{Code: "LAP-0002", ClientScanID: "spot-1"}); err != nil {
		t.Fatal(err)
	}
	at := before.UTC().Format("2006-01-02T15:04")
	return []mainPage{
		{"home", "/"},
		{"stock", "/inventory"},
		{"change-log", "/inventory/log"},
		{"as-of", "/inventory/as-of?at=" + at},
		{"compare", "/inventory/as-of?at=" + at + "&compare=" + time.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04")},
		{"locations", "/inventory/locations"},
		{"location", fmt.Sprintf("/inventory/locations/%d", a1)},
		{"item", fmt.Sprintf("/inventory/items/%d", oil.ID)},
		{"item-issue", fmt.Sprintf("/inventory/items/%d/issue", oil.ID)},
		{"bulk-update", "/inventory/import"},
		{"activity", "/activity"},
		{"assets", "/assets"},
		{"asset", fmt.Sprintf("/assets/%d", lap.ID)},
		{"sessions", "/inventory-checks"},
		{"session", fmt.Sprintf("/inventory-checks/%d", sess.ID)},
		{"schedules", "/inventory-checks/schedules"},
		{"reports", "/reports/audit"},
		{"notifications", "/notifications"},
		{"alerts", "/notifications/alerts"},
		{"webhooks", "/notifications/webhooks"},
		{"email", "/notifications/email"},
		{"settings", "/settings"},
		{"ledger", "/settings/ledger"},
		{"users", "/users"},
		{"user", fmt.Sprintf("/users/%d", u.ID)},
		{"api-keys", "/api-keys"},
		{"stations", "/stations"},
		{"orders", "/orders"},
		{"new-order", "/orders/new?kind=outbound"},
		{"order", fmt.Sprintf("/orders/%d", so.ID)},
		{"order-history", fmt.Sprintf("/orders/%d/history", so.ID)},
		{"asset-disposed", fmt.Sprintf("/assets/%d", drill.ID)},
		{"asset-deleted", fmt.Sprintf("/assets/%d", extra.ID)},
		{"assets-removed", "/assets?show=removed"},
		{"asset-dispose", fmt.Sprintf("/assets/%d/dispose", lap.ID)},
		{"asset-delete", fmt.Sprintf("/assets/%d/delete", lap.ID)},
		{"schedule-edit", fmt.Sprintf("/inventory-checks/schedules/%d/edit", schedules[0].ID)},
		{"schedule-delete", fmt.Sprintf("/inventory-checks/schedules/%d/delete", schedules[0].ID)},
		{"search", "/search?q=a"},
		{"search-nothing", "/search?q=nothing-like-this"},
		{"item-edit", fmt.Sprintf("/inventory/items/%d/edit", bolt.ID)},
		{"item-below-minimum", fmt.Sprintf("/inventory/items/%d", bolt.ID)},
	}
}
