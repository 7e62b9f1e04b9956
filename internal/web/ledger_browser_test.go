package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestLedgerInBrowser: an admin in real Chromium finds the Ledger tab in
// Settings, reads the verifier key and the checkpoint, rotates the key
// through the confirmation step, and sees the change log's sealed entries
// with their proof links.
func TestLedgerInBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	seedInventory(t, f)
	receive(t, f, "12.5")
	sealer := ledgertest.NewSealer(t, db)
	firstKey := sealer.Key.Verifier
	ledgertest.SealAll(t, sealer)
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	fail := browsertest.Failer(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login?next=/settings"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "admin@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), f.AdminPassword),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[href="/settings/ledger"]`)),
		chromedp.Click(chromedp.CSS(`nav.tabs a[href="/settings/ledger"]`)),
		chromedp.WaitVisible(chromedp.ID("verifier-key")),
	); err != nil {
		fail("open the ledger tab", err)
	}
	key, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("verifier-key")))
	if err != nil || strings.TrimSpace(key) != firstKey {
		t.Errorf("verifier key shown %q (%v), want %q", key, err, firstKey)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("checkpoint-note")))
	if err != nil || !strings.Contains(note, "/workspace/") || !strings.Contains(note, "— stocktrail-test ") {
		t.Errorf("checkpoint note %q: %v", note, err)
	}

	// Rotation asks first; cancelling changes nothing, confirming rotates.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("rotate")),
		chromedp.WaitVisible(chromedp.ID("confirm-rotation")),
		chromedp.Click(chromedp.CSS(`#confirm-rotation a[href="/settings/ledger"]`)),
		chromedp.WaitVisible(chromedp.ID("rotate")),
	); err != nil {
		fail("cancel the rotation", err)
	}
	if sealer.Key.Verifier != firstKey {
		t.Fatal("cancelling rotated the key")
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("rotate")),
		chromedp.WaitVisible(chromedp.ID("rotate-confirm")),
	); err != nil {
		fail("ask to rotate", err)
	}
	if dir := os.Getenv("STOCKTRAIL_SCREENSHOTS"); dir != "" {
		for _, size := range []struct {
			name string
			w, h int64
		}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				fail("resize", err)
			}
			browsertest.Screenshot(t, ctx, filepath.Join(dir, "ledger-rotate-"+size.name+".png"))
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("rotate-confirm")),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
		chromedp.WaitVisible(chromedp.ID("older-keys")),
	); err != nil {
		fail("rotate", err)
	}
	key, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("verifier-key")))
	if err != nil || strings.TrimSpace(key) == firstKey || strings.TrimSpace(key) != sealer.Key.Verifier {
		t.Errorf("after rotation the page shows %q (%v), sealer has %q", key, err, sealer.Key.Verifier)
	}
	older, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("older-keys")))
	if err != nil || !strings.Contains(older, firstKey) {
		t.Errorf("older keys %q: %v", older, err)
	}

	// The change log: sealed entries carry their number and a proof link.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/inventory/log"),
		chromedp.WaitVisible(chromedp.CSS(`table.log .sealed a`)),
	); err != nil {
		fail("change log", err)
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('table.log .sealed')).map(e => e.innerText + ' ' + e.querySelector('a').getAttribute('href') + ' ' + e.querySelector('a').hasAttribute('download'))`))
	if err != nil || len(links) == 0 {
		fail("proof links", err)
	}
	for _, l := range links {
		if !strings.HasPrefix(l, "#") || !strings.Contains(l, "sealed · Proof /api/v1/ledger/proof?log=inventory_log&id=") || !strings.HasSuffix(l, "&download=1 true") {
			t.Errorf("sealed entry %q", l)
		}
	}
}
