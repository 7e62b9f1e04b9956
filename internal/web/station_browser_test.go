package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestStationScreenInBrowser signs a real Chromium in as a station and scans
// as a barcode scanner does: the SKU typed into the focused field, then
// Enter. The confirmation and the new level show, and the field is focused
// again for the next scan.
func TestStationScreenInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	st, _ := seedStation(t, f)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844), // a phone-sized handheld
		chromedp.Navigate(srv.URL+"/station"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), st.Token+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("scan-form")),
	); err != nil {
		fail("sign in", err)
	}
	head, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.station-head`)))
	if err != nil || !strings.Contains(head, "Bench 1") || !strings.Contains(head, "WH1/A1") {
		fail("station header "+head, err)
	}
	// The scanner types into whatever has focus: the SKU field must have it.
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "scan-sku" {
		fail("focus before the scan: "+focused, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("scan-quantity"), "3"),
		chromedp.SendKeys(chromedp.ID("scan-sku"), "OIL-5"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#recent tr[data-movement=receipt]`)),
	); err != nil {
		fail("scan", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.flash`)))
	if err != nil || !strings.Contains(flash, "Received OIL-5: +3.00 l, new level 3.00 l at WH1/A1") {
		fail("confirmation "+flash, err)
	}
	focused, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "scan-sku" {
		fail("focus after the scan: "+focused, err)
	}
	// A second scan in Issue mode, picked by touch.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`label.mode input[value=issue] + span`)),
		chromedp.SendKeys(chromedp.ID("scan-sku"), "OIL-5"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#recent tr[data-movement=issue]`)),
	); err != nil {
		fail("issue", err)
	}
	flash, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.flash`)))
	if err != nil || !strings.Contains(flash, "Issued OIL-5: -1.00 l, new level 2.00 l") {
		fail("issue confirmation "+flash, err)
	}
	recent, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("recent")))
	if err != nil || !strings.Contains(recent, "Issue") || !strings.Contains(recent, "Receipt") {
		fail("recent scans "+recent, err)
	}
	if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(t, ctx, filepath.Join(dir, "station.png"))
	}
	e := newestEntry(t, f, "OIL-5")
	if e.Action != inventory.Scan || e.ActorID != st.ID || e.ChangeText() != "-1.00" {
		t.Fatalf("entry %+v", e)
	}
	if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
		t.Fatal(err)
	}
}
