package web_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestTokenCopyButtonInBrowser registers a station in Chromium at a desk's
// size and a phone's: the token shows once, with a Copy button that the
// script reveals, and the page fits and passes axe-core.
func TestTokenCopyButtonInBrowser(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
		for _, size := range []struct {
			name string
			w, h int64
		}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
			b := browsertest.New(t)
			fail := browsertest.Failer(t, b)
			if err := chromedp.Do(b, chromedp.EmulateViewport(size.w, size.h), browsertest.LogIn(srv.URL, "admin@example.com", f.AdminPassword),
				chromedp.Navigate(srv.URL+"/stations"), chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
				chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Dock "+size.name),
				chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=name]').form.submit()`)); err != nil {
				fail("register a station", err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				visible, err := chromedp.Run(b, chromedp.Evaluate[bool](`(function(){var b=document.getElementById("copy-secret");return !!b && !b.hidden && b.offsetWidth > 0})()`))
				if err == nil && visible {
					break
				}
				if time.Now().After(deadline) {
					text, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.body.innerText`))
					t.Fatalf("no visible copy button at %s:\n%s", size.name, text)
				}
				time.Sleep(100 * time.Millisecond)
			}
			token, err := chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById("new-secret").textContent`))
			if err != nil || len(token) < 20 {
				t.Fatalf("token %q %v", token, err)
			}
			if dir != "" {
				browsertest.Screenshot(t, b, filepath.Join(dir, string(db.Engine()), "station-token-"+size.name+".png"))
			}
			wide, err := browsertest.Sideways(b)
			if err != nil {
				fail("width", err)
			}
			for _, w := range wide {
				t.Errorf("stations with a new token at %s: %s", size.name, w)
			}
			bad, err := browsertest.Accessibility(b)
			if err != nil {
				fail("axe-core", err)
			}
			for _, v := range bad {
				t.Errorf("stations with a new token at %s: axe-core: %s", size.name, v)
			}
		}
	})
}
