package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// scriptsOff switches JavaScript off in the tab, as a browser with it
// disabled would be.
func scriptsOff() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
}

// TestItemPageInBrowser drives the item page in Chromium at a desk's size
// and a phone's, on both engines. With JavaScript, an action opens its
// dialog; a refused form comes back in the dialog with the error summary
// focused and the message at its field (axe-core clean in that state);
// started from a record's row the record is preselected; the change log
// then reads in words. Without JavaScript, the same actions are pages of
// their own that do the same. Nothing is wider than the viewport.
func TestItemPageInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		it, _, lotB := itemWithTwoRecords(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		item := fmt.Sprintf("%s/inventory/items/%d", srv.URL, it.ID)
		row := fmt.Sprintf("#record-%d", lotB.ID)
		dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
		shot := func(ctx context.Context, name string) {
			if dir != "" {
				browsertest.Screenshot(t, ctx, filepath.Join(dir, string(db.Engine()), name+".png"))
				if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
					os.WriteFile(filepath.Join(dir, string(db.Engine()), name+"-first-screen.png"), png, 0o644)
				}
			}
		}
		sizes := []struct {
			name string
			w, h int64
		}{{"desktop", 1280, 900}, {"phone", 390, 844}}
		fits := func(ctx context.Context, fail func(string, error), what string) {
			t.Helper()
			wide, err := browsertest.Sideways(ctx)
			if err != nil {
				fail(what+" width", err)
			}
			for _, w := range wide {
				t.Errorf("%s: %s", what, w)
			}
		}
		for _, size := range sizes {
			ctx := browsertest.New(t)
			fail := browsertest.Failer(t, ctx)
			text := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
				if err != nil {
					fail("text of "+sel, err)
				}
				return s
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
				chromedp.Navigate(item), chromedp.WaitVisible(chromedp.ID("item-actions"))); err != nil {
				fail("item page", err)
			}
			fits(ctx, fail, "item page at "+size.name)
			shot(ctx, "item-"+size.name)
			// An action opens its dialog, not a page.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("action-issue")), chromedp.WaitVisible(chromedp.ID("dlg-issue"))); err != nil {
				fail("open Issue", err)
			}
			if u, _ := chromedp.Run(ctx, chromedp.Location()); u != item {
				t.Errorf("Issue left the item page for %s", u)
			}
			shot(ctx, "item-dialog-issue-"+size.name)
			// Refused: the dialog is back, open, with the summary focused
			// and the message at the quantity.
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("issue-quantity"), "100"), chromedp.Click(chromedp.ID("issue-submit")),
				chromedp.WaitVisible(chromedp.ID("issue-errors"))); err != nil {
				fail("refused issue", err)
			}
			state, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[String(document.getElementById("dlg-issue").open), document.activeElement.id,
				document.querySelector("#dlg-issue .field.has-error").innerText, document.getElementById("issue-quantity").value]`))
			if err != nil {
				fail("dialog state", err)
			}
			if state[0] != "true" || state[1] != "issue-errors" || !strings.Contains(state[2], "Only 12.50 l of OIL-5 at WH1/A1") || state[3] != "100" {
				t.Errorf("the refused issue's dialog: %q", state)
			}
			if s := text("#issue-errors"); !strings.Contains(s, "There is a problem") || !strings.Contains(s, "Quantity: only 12.50 l") {
				t.Errorf("error summary %q", s)
			}
			bad, err := browsertest.Accessibility(ctx)
			if err != nil {
				fail("axe-core", err)
			}
			for _, v := range bad {
				t.Errorf("the refused issue's dialog at %s: axe-core: %s", size.name, v)
			}
			fits(ctx, fail, "refused issue's dialog at "+size.name)
			shot(ctx, "item-dialog-error-"+size.name)
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("issue-cancel")), chromedp.WaitNotVisible(chromedp.ID("dlg-issue"))); err != nil {
				fail("cancel", err)
			}
			// From lot B's row: Move, with lot B preselected.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" details.row-menu summary")),
				chromedp.WaitVisible(chromedp.CSS(row+` a[data-dialog="dlg-move"]`)), chromedp.Click(chromedp.CSS(row+` a[data-dialog="dlg-move"]`)),
				chromedp.WaitVisible(chromedp.ID("dlg-move"))); err != nil {
				fail("move from the row", err)
			}
			if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("move-record_id"))); err != nil || v != itoa(lotB.ID) {
				t.Errorf("the row's record is not preselected: %q %v", v, err)
			}
			shot(ctx, "item-dialog-move-from-row-"+size.name)
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("move-to_location"), "WH1/A1"), chromedp.SendKeys(chromedp.ID("move-quantity"), "1"),
				chromedp.Click(chromedp.ID("move-submit")), chromedp.WaitVisible(chromedp.CSS("p.flash"))); err != nil {
				fail("move", err)
			}
			if s := text("p.flash"); s != "Move recorded" {
				t.Errorf("flash after the move: %q", s)
			}
			// The change log in words, the action type beneath, the
			// creation of A1's lot B folded into its Move in.
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/inventory/log?sku=OIL-5"), chromedp.WaitVisible(chromedp.CSS("table.log")),
				chromedp.Click(chromedp.CSS("table.log details.folded summary")), chromedp.WaitVisible(chromedp.CSS("table.log details.folded p"))); err != nil {
				fail("change log", err)
			}
			actions, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.log td[data-label=Action] .what")).map(e => e.innerText)`))
			if err != nil {
				fail("change log actions", err)
			}
			if got := strings.Join(actions, " | "); !strings.HasPrefix(got, "Move in | Move out") || !strings.HasSuffix(got, "Receipt | Receipt") {
				t.Errorf("the change log's actions in words: %s", got)
			}
			if s := text("table.log"); !strings.Contains(s, "user_action") || strings.Contains(s, "0.00 l\ncreate_record") {
				t.Errorf("the change log's action types: %s", s)
			}
			if s := text("table.log details.folded p"); !strings.Contains(s, "The record of OIL-5 at WH1/A1 lot B was created first") {
				t.Errorf("the folded creation: %q", s)
			}
			fits(ctx, fail, "change log at "+size.name)
			shot(ctx, "change-log-words-"+size.name)
		}
		// Without JavaScript: each action is a page of its own.
		for _, size := range sizes {
			ctx := browsertest.New(t)
			fail := browsertest.Failer(t, ctx)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h), browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
				scriptsOff(), chromedp.Navigate(item), chromedp.WaitVisible(chromedp.ID("item-actions")),
				chromedp.Click(chromedp.ID("action-receive")), chromedp.WaitVisible(chromedp.CSS(".action-page"))); err != nil {
				fail("Receive without JavaScript", err)
			}
			if u, _ := chromedp.Run(ctx, chromedp.Location()); u != item+"/receive" {
				t.Errorf("Receive without JavaScript went to %s", u)
			}
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("receive-location"), "WH1/A1"), chromedp.SetValue(chromedp.ID("receive-quantity"), "0"),
				chromedp.Click(chromedp.ID("receive-submit")), chromedp.WaitVisible(chromedp.ID("receive-errors"))); err != nil {
				fail("refused receipt", err)
			}
			page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("receive-errors").innerText,
				document.querySelector(".field.has-error").innerText, document.querySelector(".field.has-error input").id, document.getElementById("receive-location").value]`))
			if err != nil {
				fail("refused receipt page", err)
			}
			if !strings.Contains(page[0], "Quantity: must be greater than zero") || !strings.Contains(page[1], "Must be greater than zero") ||
				page[2] != "receive-quantity" || page[3] != "WH1/A1" {
				t.Errorf("the refused receipt's page: %q", page)
			}
			fits(ctx, fail, "refused receipt page at "+size.name)
			shot(ctx, "item-action-page-error-"+size.name)
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("receive-quantity"), "2"), chromedp.Click(chromedp.ID("receive-submit")),
				chromedp.WaitVisible(chromedp.CSS("p.flash"))); err != nil {
				fail("receipt", err)
			}
			if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.flash"))); err != nil || !strings.HasPrefix(s, "Receipt recorded: WH1/A1 now holds") {
				t.Errorf("flash after the receipt: %q %v", s, err)
			}
			// From lot B's row: the Issue page, lot B preselected.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" details.row-menu summary")),
				chromedp.WaitVisible(chromedp.CSS(row+` a[data-dialog="dlg-issue"]`)), chromedp.Click(chromedp.CSS(row+` a[data-dialog="dlg-issue"]`)),
				chromedp.WaitVisible(chromedp.CSS(".action-page"))); err != nil {
				fail("issue from the row without JavaScript", err)
			}
			if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("issue-record_id"))); err != nil || v != itoa(lotB.ID) {
				t.Errorf("the row's record is not preselected on the Issue page: %q %v", v, err)
			}
			shot(ctx, "item-action-page-issue-"+size.name)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStationLotsInBrowser: at a handheld's size, an issue scanned without
// a lot where the bin holds the item in lots offers the lots, and a tap on
// one issues from it.
func TestStationLotsInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	st, _ := seedStation(t, f)
	for _, lot := range []struct{ lot, qty string }{{"L1", "300"}, {"L2", "275"}} {
		if _, err := inventory.Receive(f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M6"},
			LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Lot: lot.lot, Quantity: inventory.DecimalText(lot.qty)}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/station"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)), chromedp.SendKeys(chromedp.CSS(`input[name=token]`), st.Token+"\r"),
		chromedp.WaitVisible(chromedp.ID("scan-form")), chromedp.Click(chromedp.CSS(`label.mode input[value=issue] + span`)),
		chromedp.SendKeys(chromedp.ID("scan-sku"), "BOLT-M6\r"), chromedp.WaitVisible(chromedp.ID("lots"))); err != nil {
		fail("issue without a lot", err)
	}
	alert, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role=alert]`)))
	if err != nil || !strings.Contains(alert, "BOLT-M6 at WH1/A1 is kept in lots: L1 (300 pcs), L2 (275 pcs)") {
		fail("the answer "+alert, err)
	}
	if wide, err := browsertest.Sideways(ctx); err != nil || len(wide) > 0 {
		t.Errorf("the lots offered are wider than the screen: %v %v", wide, err)
	}
	if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
		browsertest.Screenshot(t, ctx, filepath.Join(dir, "station-lots.png"))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#lots button`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`))); err != nil {
		fail("issue from lot L1", err)
	}
	if flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.flash`))); err != nil || flash != "Issued BOLT-M6: -1 pcs, new level 299 pcs at WH1/A1 lot L1" {
		t.Errorf("after the tap on L1: %q %v", flash, err)
	}
}
