package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
)

// The checks find what they are for: a box wider than a phone, a box that
// scrolls sideways and a field without a label; and find nothing on a page
// that has none of them.
func TestChecksFindWhatTheyLookFor(t *testing.T) {
	pages := map[string]string{
		"/wide":   `<main><p>fits</p><div id="too-wide" style="width:600px">wide</div></main>`,
		"/scroll": `<main><div id="scroller" style="overflow-x:auto"><div style="width:900px">long</div></div></main>`,
		"/fine":   `<main><label>Name <input name="n"></label></main>`,
		"/label":  `<main><input name="nameless"></main>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>t</title></head><body>` + pages[r.URL.Path] + `</body></html>`))
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path)); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{"/wide": "div#too-wide", "/scroll": "scrolls sideways (900px in", "/fine": ""} {
		open(path)
		got, err := browsertest.Sideways(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && len(got) != 0 || want != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), want)) {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
		bad, err := browsertest.Accessibility(ctx)
		if err != nil || len(bad) != 0 {
			t.Errorf("%s: axe-core %v %v", path, bad, err)
		}
	}
	open("/label")
	bad, err := browsertest.Accessibility(ctx)
	if err != nil || len(bad) != 1 || bad[0].ID != "label" || bad[0].Impact != "critical" {
		t.Errorf("unlabelled field: %v %v", bad, err)
	}
}
