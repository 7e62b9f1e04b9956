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
	"github.com/chromedp/chromedp/kb"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestStationOrderModeInBrowser: on a phone-sized handheld, a station
// picks a sales order and receives a purchase order the way a scanner
// types: the Order tile, the order's number and Enter, then each SKU and
// Enter. Every answer is one line, the SKU field keeps the focus, and
// nothing scrolls sideways. Both engines.
func TestStationOrderModeInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, at := seedStation(t, f)
		so, po := seedStationOrders(t, f, at)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		ctx := browsertest.New(t)
		fail := browsertest.Failer(t, ctx)
		dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(srv.URL+"/station"),
			chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=token]`), st.Token+kb.Enter),
			chromedp.WaitVisible(chromedp.ID("scan-form")),
		); err != nil {
			fail("sign in", err)
		}
		// shown waits for text in the element of selector (the page after
		// a scan replaces the one before).
		shown := func(step, selector, want string) {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			var got string
			for time.Now().Before(deadline) {
				got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, selector)))
				if strings.Contains(got, want) {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			fail(step, fmt.Errorf("%q not in %s: %q", want, selector, got))
		}
		scan := func(step, typed string) {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("scan-sku"), typed+kb.Enter)); err != nil {
				fail(step, err)
			}
		}
		look := func(name string) {
			t.Helper()
			for _, size := range []struct {
				name string
				w, h int64
			}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
					fail("resize", err)
				}
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				if err != nil || wide {
					t.Errorf("%s at %s scrolls sideways (%v)", name, size.name, err)
				}
				if dir != "" {
					browsertest.Screenshot(t, ctx, filepath.Join(dir, "station-"+name+"-"+size.name+"-"+string(db.Engine())+".png"))
				}
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
				fail("resize", err)
			}
		}
		focused := func(step string) {
			t.Helper()
			id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
			if err != nil || id != "scan-sku" {
				fail("focus "+step+": "+id, err)
			}
		}

		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`label.mode input[value=order] + span`))); err != nil {
			fail("order tile", err)
		}
		focused("on the order tile")
		scan("open "+so.Number, so.Number)
		shown("order opened", "p.flash", "SO-000001 · Acme Ltd: 2 lines to pick")
		shown("lines", "#order", "Elsewhere")
		focused("after opening")
		look("order-pick")
		scan("pick OIL-5", "OIL-5")
		shown("picked OIL-5", "p.flash", "Picked OIL-5: line 1 of SO-000001, 2.50 l")
		shown("line 1 picked", `#order tr[data-line="1"]`, "Picked")
		focused("after a pick")
		scan("pick BOLT-M6", "BOLT-M6")
		shown("picked BOLT-M6", "p.flash", "Picked BOLT-M6: line 2 of SO-000001, 5 pcs")
		scan("BOLT-M6 elsewhere", "BOLT-M6")
		shown("elsewhere", "p.error", "Line 3 (BOLT-M6) of SO-000001 is picked at WH1/A2; this station works at WH1/A1")
		look("order-pick-refused")

		scan("open "+po.Number, po.Number)
		shown("purchase order opened", "p.flash", "PO-000001 · Bolts & Co: 2 lines to receive")
		for i := 1; i <= 3; i++ { // one unit a scan
			scan("receive BOLT-M6", "BOLT-M6")
			shown("received BOLT-M6", "p.flash", fmt.Sprintf("+1 pcs, %d of 10 received", i))
		}
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("scan-quantity"), "5")); err != nil {
			fail("quantity", err)
		}
		scan("receive OIL-5", "OIL-5")
		shown("received OIL-5", "p.flash", "Received OIL-5 for PO-000001 line 2: +5.00 l, 5.00 of 5.00 received")
		shown("line 2 received", `#order tr[data-line="2"]`, "Received")
		focused("after a receipt")
		look("order-receive")

		got, err := orders.Get(f.Ctx, db, po.ID)
		if err != nil || got.Status != orders.PartiallyReceived || got.Lines[0].ReceivedText() != "3" {
			t.Fatalf("purchase order after the scans: %v %+v", err, got)
		}
		if got, err = orders.Get(f.Ctx, db, so.ID); err != nil || !got.Lines[0].Picked || !got.Lines[1].Picked || got.Lines[2].Picked {
			t.Fatalf("sales order after the scans: %v %+v", err, got)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
