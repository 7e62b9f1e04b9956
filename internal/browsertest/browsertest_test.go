package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stocktrail/stocktrail/internal/browsertest"
)

// page is a form whose submit handler writes a greeting with JavaScript, and
// then marks the output as done so the test can wait for it.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>greeter</title></head>
<body>
<form id="form">
  <label>Name <input id="name" name="name" autocomplete="off"></label>
  <button id="go" type="submit">Greet</button>
</form>
<p id="out">nobody yet</p>
<script>
document.getElementById("form").addEventListener("submit", function (e) {
  e.preventDefault();
  var out = document.getElementById("out");
  out.textContent = "Hello, " + document.getElementById("name").value + "!";
  out.className = "done";
});
</script>
</body></html>`

func TestFormRoundTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.ID("name")),
	); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("out")))
	if err != nil {
		t.Fatal(err)
	}
	if before != "nobody yet" {
		t.Fatalf("text before click = %q", before)
	}

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("name"), "Ada Lovelace"),
		chromedp.Click(chromedp.ID("go")),
		// The click's handler runs in the page; wait for its mark rather
		// than assume it ran before the next query.
		chromedp.WaitVisible(chromedp.CSS("#out.done")),
	); err != nil {
		browsertest.Screenshot(t, ctx, filepath.Join(t.TempDir(), "failure.png"))
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("out")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hello, Ada Lovelace!"; got != want {
		t.Errorf("text after click = %q, want %q", got, want)
	}
}

// Screenshot writes a PNG of the page.
func TestScreenshot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sub", "page.png")
	browsertest.Screenshot(t, ctx, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG (starts %q)", path, b[:min(len(b), 8)])
	}
}

// Two browsers from New share nothing: a cookie set in one is not in the
// other.
func TestFreshProfiles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "seen", Value: "yes", Path: "/", MaxAge: 3600})
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("cookie=" + r.Header.Get("Cookie")))
	}))
	t.Cleanup(srv.Close)

	// Read the page with JavaScript rather than a DOM query: right after a
	// navigation, chromedp's node ids can still refer to the old document.
	bodyText := chromedp.Evaluate[string](`document.body.innerText`)

	a := browsertest.New(t)
	if err := chromedp.Do(a, chromedp.Navigate(srv.URL+"/set"), chromedp.Navigate(srv.URL+"/check")); err != nil {
		t.Fatal(err)
	}
	gotA, err := chromedp.Run(a, bodyText)
	if err != nil {
		t.Fatal(err)
	}
	if gotA != "cookie=seen=yes" {
		t.Fatalf("first browser: %q, want the cookie", gotA)
	}

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/check")); err != nil {
		t.Fatal(err)
	}
	gotB, err := chromedp.Run(b, bodyText)
	if err != nil {
		t.Fatal(err)
	}
	if gotB != "cookie=" {
		t.Fatalf("second browser: %q, want no cookie", gotB)
	}
}
