package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestPagesAtDesktopAndPhone opens the main pages in a real Chromium at a
// desk's size and a phone's, as a signed-in admin and as a station: each
// must render its layout with the content it is about and, where the address
// carries a bad number, say so in an alert instead of showing something
// else. With STOCKTRAIL_SCREENSHOTS set it saves every view there, for a
// person to look at.
func TestPagesAtDesktopAndPhone(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	st, _ := seedStation(t, f) // with the inventory of seedInventory
	if _, err := inventory.Receive(f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Quantity: "12.5"}); err != nil {
		t.Fatal(err)
	}
	// Part of it allocated to two orders, so the stock, item, as-of and log
	// pages show on hand, allocated and available.
	oil, err := inventory.ItemBySKU(f.Ctx, db, "OIL-5")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ qty, holder string }{{"5", "SO-000012"}, {"2.5", "SO-000015"}} {
		if _, err := inventory.Apply(f.Ctx, db, &inventory.Allocate{Record: inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
			LocationRef: inventory.LocationRef{Location: "WH1/A1"}}, Quantity: inventory.DecimalText(a.qty), Holder: a.holder}); err != nil {
			t.Fatal(err)
		}
	}
	zone := f.Workspace.Settings.Location()
	asOfCompare := fmt.Sprintf("/inventory/as-of?at=%s&compare=%s", url.QueryEscape(time.Now().Add(-2*time.Minute).In(zone).Format("2006-01-02T15:04")),
		url.QueryEscape(time.Now().Add(time.Minute).In(zone).Format("2006-01-02T15:04")))
	tag, name := "LAP-0001", "Laptop"
	if _, err := assets.CreateAsset(f.Ctx, db, assets.AssetInput{Tag: &tag, Name: &name}); err != nil {
		t.Fatal(err)
	}
	sess, err := assets.CreateSession(f.Ctx, db, assets.SessionInput{Name: "December count"})
	if err != nil {
		t.Fatal(err)
	}
	// A sealing node, so the logs show sequence numbers and the ledger page
	// a checkpoint.
	sealer := ledgertest.NewSealer(t, db)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
	); err != nil {
		fail("log in", err)
	}
	ledgertest.SealAll(t, sealer)
	// A legal hold, so Settings shows one.
	if _, err := workspace.SetLegalHold(actor.With(context.Background(), workspace.Operator("operator")), db, f.Workspace.ID, true,
		"Case 2026-114: records requested by counsel"); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name, path string
		want       string // text the page must show
		alert      string // the alert it must show, if any
	}{
		{"stock", "/inventory", "OIL-5", ""},
		{"item-allocated", fmt.Sprintf("/inventory/items/%d", oil.ID), "SO-000012 (5.00), SO-000015 (2.50)", ""},
		{"as-of-difference", asOfCompare, "7.50", ""},
		{"stock-bad-location", "/inventory?location_id=abc", "No stock.", "Location must be a non-negative whole number"},
		{"change-log", "/inventory/log", "sealed", ""},
		{"change-log-of-order", "/inventory/log?reference=SO-000012", "SO-000012", ""},
		{"activity", "/activity", "sealed", ""},
		{"ledger", "/settings/ledger", "Verifier key", ""},
		{"settings", "/settings", "Over-receipt tolerance (%)", ""},
		{"assets", "/assets", "LAP-0001", ""},
		{"assets-bad-offset", "/assets?offset=-5", "", "Offset must be a non-negative whole number"},
		{"sessions", "/inventory-checks", "December count", ""},
		{"session", fmt.Sprintf("/inventory-checks/%d", sess.ID), "December count", ""},
	}
	sizes := []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}}
	for _, size := range sizes {
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
			if !strings.Contains(text, p.want) {
				t.Errorf("%s at %s: %q not on the page:\n%s", p.path, size.name, p.want, text)
			}
			alert, err := chromedp.Run(ctx, chromedp.Evaluate[string](
				`Array.from(document.querySelectorAll('[role=alert]')).map(e => e.innerText).join(' | ')`))
			if err != nil {
				fail(p.name+" alert", err)
			}
			if p.alert == "" && strings.TrimSpace(alert) != "" || !strings.Contains(alert, p.alert) {
				t.Errorf("%s at %s: alert %q, want %q", p.path, size.name, alert, p.alert)
			}
			if dir != "" {
				browsertest.Screenshot(t, ctx, filepath.Join(dir, p.name+"-"+size.name+".png"))
			}
		}
	}
	// The station screen in batch mode, with a counted line, at both sizes.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/station"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), st.Token+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("scan-form")),
	); err != nil {
		fail("station sign-in", err)
	}
	for _, size := range sizes {
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(size.w, size.h),
			chromedp.Navigate(srv.URL+"/station?mode=batch"),
			chromedp.WaitVisible(chromedp.ID("scan-form")),
		); err != nil {
			fail("station at "+size.name, err)
		}
		if dir != "" {
			browsertest.Screenshot(t, ctx, filepath.Join(dir, "station-"+size.name+".png"))
		}
	}
}
