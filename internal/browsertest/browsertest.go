// Package browsertest gives tests a real headless browser: Debian's Chromium,
// driven through chromedp.
//
// It owns how a test browser is found, launched, bounded in time and torn
// down. Each [New] starts a fresh browser process with an empty profile, so
// tests share no cookies, storage or cache, and can run in parallel.
//
// Environment:
//
//   - STOCKTRAIL_CHROMIUM: the browser binary (default /usr/bin/chromium, from
//     the Debian package chromium).
//   - STOCKTRAIL_REQUIRE_BROWSER=1: a missing browser fails the test instead of
//     skipping it. CI sets it, so that a broken install cannot turn the
//     browser tests into silent skips.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables read by this package. See the package documentation.
const (
	EnvChromium = "STOCKTRAIL_CHROMIUM"
	EnvRequire  = "STOCKTRAIL_REQUIRE_BROWSER"
)

// DefaultChromium is where Debian's chromium package installs its launcher.
const DefaultChromium = "/usr/bin/chromium"

// Timeout bounds the whole life of a browser from New: a test stuck waiting
// for an element that never shows fails with context.DeadlineExceeded after
// this long, instead of hanging until go test's global -timeout kills the
// whole binary without saying which step hung.
const Timeout = 60 * time.Second

// outputTail is how much of the browser's own output is logged for a failed
// test.
const outputTail = 4 << 10

// New starts a fresh headless Chromium with a new, empty user-data-dir and
// returns a chromedp context for its first tab. The browser is closed, and
// its profile folder removed, at t.Cleanup; it is killed after [Timeout].
//
// Run actions with chromedp.Run / chromedp.Do on the returned context. For a
// second tab of the same browser, derive one with chromedp.NewContext(ctx).
//
// When the browser binary is missing the test is skipped, or fails if
// STOCKTRAIL_REQUIRE_BROWSER=1.
func New(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = DefaultChromium
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		msg := fmt.Sprintf("browsertest: no Chromium at %s (install the Debian package chromium, or set %s): %v", path, EnvChromium, err)
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (set " + EnvRequire + "=1 to fail instead)")
	}

	out := &syncBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Chromium's sandbox cannot start as root (CI and dev machines
		// here run as root).
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// Nothing may reach outside the machine, and nothing should slow
		// the page down or change it between runs: no QUIC, no background
		// fetches, updates or sync.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		// Timers of a page that believes it is hidden are throttled, which
		// makes tests slow and flaky.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		// /dev/shm is tiny in containers and Chromium crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(1280, 800),
		// No UserDataDir option on purpose: without one, the allocator makes
		// a new temp --user-data-dir for each browser, and after the browser
		// exits it kills Chromium's leftover helper processes and removes
		// the folder with retries. Passing our own folder would lose that.
		chromedp.CombinedOutput(out),
	}

	// The deadline sits on the allocator's parent, so it ends the browser
	// itself: every later action fails fast rather than waiting forever.
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser() // closes the browser gracefully
		cancelAlloc()   // waits for the process and removes the profile
		cancelTimeout()
		if t.Failed() {
			if b := out.tail(outputTail); len(b) > 0 {
				t.Logf("browsertest: end of Chromium's output:\n%s", b)
			}
		}
	})

	// Launch now, not on the test's first action, so that a browser that
	// cannot start is reported here, with its output.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v\n%s", path, err, out.tail(outputTail))
	}
	return ctx
}

// Screenshot saves a PNG of the whole page (not just the viewport) of the
// browser tab ctx to path, creating its folder. It is a debugging aid: call
// it where a picture would help, e.g. when an assertion fails. A failure to
// take or write the picture is reported with t.Errorf.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	// Quality 100 makes chromedp ask for PNG rather than JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil && len(png) == 0 {
		err = errors.New("empty image")
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		t.Errorf("browsertest: screenshot %s: %v", path, err)
		return
	}
	t.Logf("browsertest: screenshot saved to %s", path)
}

// syncBuffer collects the browser's output, which chromedp writes from its
// own goroutine while the test may read it. Only the end is ever shown, so it
// keeps at most about 2*keep bytes however chatty the browser is.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const keep = 64 << 10

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > 2*keep {
		rest := bytes.Clone(b.buf.Bytes()[max(0, b.buf.Len()-keep):])
		b.buf.Reset()
		b.buf.Write(rest)
	}
	return b.buf.Write(p)
}

// tail returns the last n bytes written, less the lines of D-Bus errors:
// Chromium prints a dozen of them on any machine without a D-Bus daemon
// (containers, CI), and they would bury the line that explains a failure.
func (b *syncBuffer) tail(n int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []byte
	for line := range bytes.Lines(b.buf.Bytes()) {
		if !bytes.Contains(line, []byte(":ERROR:dbus/")) {
			out = append(out, line...)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// LogIn logs in through the login page at baseURL as a person would and
// waits for the signed-in page.
func LogIn(baseURL, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(baseURL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top`)),
	)
}

// Failer returns the fail of a browser test: it saves a screenshot of the
// page as it is, then stops the test naming the step.
func Failer(t testing.TB, ctx context.Context) func(step string, err error) {
	return func(step string, err error) {
		t.Helper()
		Screenshot(t, ctx, filepath.Join(t.TempDir(), "failure.png"))
		t.Fatalf("%s: %v", step, err)
	}
}
