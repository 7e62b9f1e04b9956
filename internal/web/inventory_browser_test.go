package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestReceiptAndExportInBrowser logs in with a real Chromium, records a
// receipt through the stock page's form, then downloads the change log as
// XLSX and CSV through the page's export links (with the browser's own
// session cookie).
func TestReceiptAndExportInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	seedInventory(t, f)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
		chromedp.Navigate(srv.URL+"/inventory"),
		chromedp.WaitVisible(chromedp.ID("receipt-form")),
		chromedp.SendKeys(chromedp.CSS(`#receipt-form input[name=sku]`), "OIL-5"),
		chromedp.SetValue(chromedp.CSS(`#receipt-form select[name=location]`), "WH1/A2"),
		chromedp.SendKeys(chromedp.CSS(`#receipt-form input[name=quantity]`), "4.5"),
		chromedp.SendKeys(chromedp.CSS(`#receipt-form input[name=reference]`), "PO-77"),
		chromedp.Click(chromedp.CSS(`#receipt-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	); err != nil {
		fail("receipt", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.flash`)))
	if err != nil || !strings.Contains(flash, "Receipt recorded") {
		fail("flash "+flash, err)
	}
	stock, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("stock")))
	if err != nil || !strings.Contains(stock, "WH1/A2") || !strings.Contains(stock, "4.50") {
		fail("stock table "+stock, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/inventory/log?sku=OIL-5"),
		chromedp.WaitVisible(chromedp.ID("export-xlsx")),
	); err != nil {
		fail("log page", err)
	}
	logText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.log`)))
	if err != nil || !strings.Contains(logText, "PO-77") || !strings.Contains(logText, "user_action") {
		fail("log table "+logText, err)
	}
	// Download through the links the page offers, as the browser would.
	download := `(async (id) => {
		const href = document.getElementById(id).getAttribute("href");
		const r = await fetch(href);
		const bytes = new Uint8Array(await r.arrayBuffer());
		return [String(r.status), r.headers.get("Content-Type"), r.headers.get("Content-Disposition"),
			String.fromCharCode(bytes[0], bytes[1]), String(bytes.length), new TextDecoder().decode(bytes.slice(0, 60)),
			new TextDecoder().decode(bytes).split("\r\n")[0]];
	})`
	xlsx, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](download+`("export-xlsx")`, chromedp.EvalAwaitPromise))
	if err != nil {
		fail("xlsx download", err)
	}
	if xlsx[0] != "200" || !strings.Contains(xlsx[1], "spreadsheetml") || !strings.Contains(xlsx[2], ".xlsx") || xlsx[3] != "PK" {
		fail("xlsx download", nil)
		t.Fatalf("xlsx download %q", xlsx[:5])
	}
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](download+`("export-csv")`, chromedp.EvalAwaitPromise))
	if err != nil {
		fail("csv download", err)
	}
	if csv[0] != "200" || !strings.HasPrefix(csv[5], "SKU,Quantity,Unit,Action type,User,Station,Timestamp") || !strings.HasSuffix(csv[6], ",Entry,Allocated change,Allocated after,Ledger sequence") {
		t.Fatalf("csv download %q", csv)
	}
	// A file import is one event in the Activity Log; its link opens the
	// import's movements in the change log.
	importCtx := actor.WithRequest(f.Ctx, actor.Request{RequestID: "import-77"})
	if _, err := inventory.BulkUpdate(importCtx, db, []inventory.BulkRow{
		{Row: 2, SKU: "OIL-5", Location: "WH1/A2", Quantity: "4"},
		{Row: 3, SKU: "OIL-5", Location: "WH1/A1", Quantity: "7"},
	}, inventory.Options{Reason: "shelf count", Reference: "count.csv"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/activity?table_name=inventory_batch"),
		chromedp.WaitVisible(chromedp.CSS(`a.batch-movements`)),
		chromedp.Click(chromedp.CSS(`a.batch-movements`)),
		chromedp.WaitVisible(chromedp.CSS(`table.log`)),
	); err != nil {
		fail("from the import's event to its movements", err)
	}
	if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(t, ctx, filepath.Join(dir, "change-log-of-one-import.png"))
	}
	batchText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.log`)))
	// Two counts; the record one of them created is folded into it.
	if err != nil || strings.Count(batchText, "shelf count") != 2 || !strings.Contains(batchText, "Record created first") || strings.Contains(batchText, "PO-77") {
		fail("the import's movements "+batchText, err)
	}
	batchField, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name=batch_id]`)))
	if err != nil || batchField != "import-77" {
		fail("batch filter field "+batchField, err)
	}
	if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
		t.Fatal(err)
	}
}
