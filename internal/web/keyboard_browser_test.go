package web_test

import (
	"context"
	"fmt"
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

// TestKeyboardOnly walks the pages with the keyboard alone (real key
// events: Tab, Shift+Tab, Enter, Escape, arrows and typed text), on both
// engines: at a desk's size the header search (type, arrow down to a
// match, Enter opens it), the item page (Tab to Receive, Enter opens its
// dialog with focus in the first field, the form is filled and Enter sends
// it, the new level shows; Escape closes a dialog and focus goes back to
// the action that opened it) and the filters of the change log and the
// activity log; at a phone's size the folded menu, the folded filters and
// the item page with its "More actions". Every element focus lands on must
// show it: its outline or shadow differs from the unfocused one.
func TestKeyboardOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		dayOfWork(t, f)
		oil, err := inventory.ItemBySKU(f.Ctx, db, "OIL-5")
		if err != nil {
			t.Fatal(err)
		}
		bolt, err := inventory.ItemBySKU(f.Ctx, db, "BOLT-M6")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		itemPage := fmt.Sprintf("%s/inventory/items/%d", srv.URL, oil.ID)
		dir := os.Getenv("STOCKTRAIL_SCREENSHOTS")
		if dir != "" {
			dir = filepath.Join(dir, string(db.Engine()))
		}

		t.Run("desktop", func(t *testing.T) {
			k := newKeyboard(t, 1280, 900, dir)
			k.logIn(srv.URL, f.AdminPassword)

			// The header search: the box is the second stop after the brand.
			k.tabTo(`#site-search`, 5)
			k.typeText("BOLT-M")
			k.waitVisible(fmt.Sprintf(`#search-suggestions a[href="/inventory/items/%d"]`, bolt.ID))
			k.press(kb.ArrowDown)
			k.expectFocus(`#search-suggestions a`, "the first match")
			k.shot("keyboard-search")
			k.press(kb.Enter)
			k.waitText(`main h1`, "BOLT-M6")

			k.walkItemPage(itemPage, "7.5", "7.50 l")
			k.filter(srv.URL+"/inventory/log", `main form[action="/inventory/log"] input[name=sku]`, "OIL-5", "sku=OIL-5")
			// The activity log's filters come before the volume chart's
			// thirty day links, which stay reachable after them.
			k.navigate(srv.URL + "/activity")
			k.reachFirst(`#activity-filters input, #activity-filters select`, `#activity-volume a`, 40)
			k.tabTo(`#activity-volume svg a`, 20)
			k.filter(srv.URL+"/activity", `#activity-filters input[name=q]`, "Ann", "q=Ann")
		})

		t.Run("phone", func(t *testing.T) {
			k := newKeyboard(t, 390, 844, dir)
			k.logIn(srv.URL, f.AdminPassword)

			// The menu is folded into a button: Enter opens it, Tab reaches
			// its links, Enter follows one.
			k.tabTo(`details.menu > summary`, 5)
			k.press(kb.Enter)
			k.expectTrue(`document.querySelector("details.menu").open`, "Enter opened the menu")
			k.press(kb.Tab)
			k.expectFocus(`details.menu nav a`, "the menu's first link")
			k.shot("keyboard-menu")
			k.tabTo(`details.menu nav a[href="/activity"]`, 10)
			k.press(kb.Enter)
			k.waitText(`main h1`, "Activity")

			// The folded filters open by keyboard; their fold comes before
			// the chart's day links.
			k.reachFirst(`details.filters-fold > summary`, `#activity-volume a`, 40)
			k.navigate(srv.URL + "/activity")
			k.openFold(`details.filters-fold > summary`)
			k.tabTo(`#activity-filters input[name=q]`, 30)
			k.typeText("Ann")
			k.enterToPage("q=Ann")
			k.navigate(srv.URL + "/inventory/log")
			k.openFold(`details.filters-fold > summary`)
			k.tabTo(`main form[action="/inventory/log"] input[name=sku]`, 10)
			k.typeText("BOLT-M6")
			k.enterToPage("sku=BOLT-M6")

			k.walkItemPage(itemPage, "4", "11.50 l")
			// "More actions" folds the rarer ones: Enter opens it, Tab
			// reaches Split, Enter opens its dialog, Escape closes it and
			// gives focus back to Split.
			k.tabTo(`details.more-actions > summary`, 15)
			k.press(kb.Enter)
			k.expectTrue(`document.querySelector("details.more-actions").open`, "Enter opened More actions")
			k.press(kb.Tab)
			k.expectFocus(`#action-split`, "Split, the first of More actions")
			k.press(kb.Enter)
			k.waitVisible(`dialog#dlg-split[open]`)
			k.expectFocus(`dialog#dlg-split select, dialog#dlg-split input:not([type=hidden])`, "the split dialog's first field")
			k.press(kb.Escape)
			k.expectTrue(`!document.querySelector("dialog#dlg-split").open`, "Escape closed the split dialog")
			k.expectFocus(`#action-split`, "Split again, after Escape")
		})
	})
}

// keyboard is a browser driven by key events alone (navigating to a page's
// address aside), checking each focus stop for a visible indicator.
type keyboard struct {
	t    *testing.T
	ctx  context.Context
	fail func(string, error)
	dir  string
	size string
	// seen is what focus has already been checked on, by description.
	seen map[string]bool
}

func newKeyboard(t *testing.T, w, h int64, dir string) *keyboard {
	ctx := browsertest.New(t)
	k := &keyboard{t: t, ctx: ctx, fail: browsertest.Failer(t, ctx), dir: dir, size: map[bool]string{true: "phone", false: "desktop"}[w < 600],
		seen: map[string]bool{}}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		k.fail("viewport", err)
	}
	return k
}

func (k *keyboard) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	k.t.Helper()
	if err := chromedp.Do(k.ctx, actions...); err != nil {
		k.fail(step, err)
	}
}

func (k *keyboard) press(key string, opts ...chromedp.KeyOption) {
	k.t.Helper()
	k.do("press "+fmt.Sprintf("%q", key), chromedp.KeyEvent(key, opts...))
}

// typeText types s into what has focus, one key at a time.
func (k *keyboard) typeText(s string) {
	k.t.Helper()
	k.do("type "+s, chromedp.KeyEvent(s))
}

func (k *keyboard) navigate(url string) {
	k.t.Helper()
	k.do("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`main`)))
}

func (k *keyboard) waitVisible(sel string) {
	k.t.Helper()
	k.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (k *keyboard) waitText(sel, want string) {
	k.t.Helper()
	k.waitVisible(sel)
	got, err := chromedp.Run(k.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil || !strings.Contains(got, want) {
		k.fail(fmt.Sprintf("%s shows %q, want %q", sel, got, want), err)
	}
}

// enterToPage presses Enter, which must open a new page whose address
// has want in its query.
func (k *keyboard) enterToPage(want string) {
	k.t.Helper()
	k.do("mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.left = "no"`))
	k.press(kb.Enter)
	k.waitVisible(`body:not([data-left]) main`)
	k.expectTrue(fmt.Sprintf(`location.search.includes(%q)`, want), "Enter sent the filter "+want)
}

func (k *keyboard) expectTrue(js, what string) {
	k.t.Helper()
	ok, err := chromedp.Run(k.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		k.fail(what, fmt.Errorf("%s is not true (%v)", js, err))
	}
}

// expectFocus fails unless the focused element matches sel.
func (k *keyboard) expectFocus(sel, what string) {
	k.t.Helper()
	ok, err := chromedp.Run(k.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel)))
	if err != nil || !ok {
		k.fail(what+": focus is on "+k.focused(), err)
	}
	k.checkIndicator()
}

func (k *keyboard) focused() string {
	s, _ := chromedp.Run(k.ctx, chromedp.Evaluate[string](describeFocus+`(document.activeElement)`))
	return s
}

// tabTo presses Tab until the element matching sel has focus, at most max
// times, checking the focus indicator at every stop. It then goes one
// stop back and forth with Shift+Tab and Tab, which must land on it again.
func (k *keyboard) tabTo(sel string, max int) {
	k.t.Helper()
	match := fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel)
	for i := 0; i < max; i++ {
		k.press(kb.Tab)
		k.checkIndicator()
		ok, err := chromedp.Run(k.ctx, chromedp.Evaluate[bool](match))
		if err != nil {
			k.fail("focus", err)
		}
		if ok {
			k.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
			k.checkIndicator()
			k.press(kb.Tab)
			if ok, _ := chromedp.Run(k.ctx, chromedp.Evaluate[bool](match)); !ok {
				k.fail("Shift+Tab then Tab", fmt.Errorf("focus is on %s, not back on %s", k.focused(), sel))
			}
			return
		}
	}
	k.fail("tab to "+sel, fmt.Errorf("not reached in %d presses of Tab; focus is on %s", max, k.focused()))
}

// openFold opens a folded section (a <details>) by keyboard.
func (k *keyboard) openFold(summary string) {
	k.t.Helper()
	k.tabTo(summary, 40)
	k.press(kb.Enter)
	k.expectTrue(fmt.Sprintf(`document.querySelector(%q).parentElement.open`, summary), "Enter opened "+summary)
}

// reachFirst presses Tab from where focus is until it lands on an element
// matching want, at most max times, and fails if focus lands on one
// matching notBefore first.
func (k *keyboard) reachFirst(want, notBefore string, max int) {
	k.t.Helper()
	const at = `(sel => !!document.activeElement && document.activeElement.matches(sel))`
	for i := 0; i < max; i++ {
		k.press(kb.Tab)
		if ok, err := chromedp.Run(k.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`%s(%q)`, at, want))); err != nil || ok {
			if err != nil {
				k.fail("focus", err)
			}
			return
		}
		if early, err := chromedp.Run(k.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`%s(%q)`, at, notBefore))); err != nil || early {
			k.fail("tab to "+want, fmt.Errorf("focus reached %s (%s) first, after %d presses of Tab", notBefore, k.focused(), i+1))
		}
	}
	k.fail("tab to "+want, fmt.Errorf("not reached in %d presses of Tab; focus is on %s", max, k.focused()))
}

// filter fills one field of a page's filter form by keyboard and sends it
// with Enter. The field is reached by Tab from the top of the page.
func (k *keyboard) filter(page, field, text, want string) {
	k.t.Helper()
	k.navigate(page)
	k.tabTo(field, 80)
	k.typeText(text)
	k.enterToPage(want)
}

// walkItemPage receives quantity into the first location through the
// Receive dialog, by keyboard, and expects the new level on the page; then
// opens Move and closes it with Escape.
func (k *keyboard) walkItemPage(page, quantity, level string) {
	k.t.Helper()
	k.navigate(page)
	k.tabTo(`#action-receive`, 40)
	k.press(kb.Enter)
	k.waitVisible(`dialog#dlg-receive[open]`)
	k.expectFocus(`dialog#dlg-receive select[name=location]`, "the receive dialog's first field")
	k.shot("keyboard-receive-dialog")
	k.tabTo(`dialog#dlg-receive input[name=quantity]`, 5)
	k.typeText(quantity)
	k.press(kb.Enter)
	k.waitVisible(`p.flash`)
	k.waitText(`#records`, level)

	k.tabTo(`#action-move`, 40)
	k.press(kb.Enter)
	k.waitVisible(`dialog#dlg-move[open]`)
	k.press(kb.Escape)
	k.expectTrue(`!document.querySelector("dialog#dlg-move").open`, "Escape closed the move dialog")
	k.expectFocus(`#action-move`, "Move again, after Escape")
}

func (k *keyboard) logIn(base, password string) {
	k.t.Helper()
	k.navigate(base + "/login")
	// The e-mail field has focus on arrival (checked once typed into: the
	// headless page itself has no focus before its first key event).
	k.typeText("admin@example.com")
	k.expectFocus(`input[name=email]`, "the e-mail field")
	k.press(kb.Tab)
	k.expectFocus(`input[name=password]`, "the password field")
	k.typeText(password)
	k.press(kb.Enter)
	k.waitVisible(`header.top`)
}

func (k *keyboard) shot(name string) {
	if k.dir != "" {
		browsertest.Screenshot(k.t, k.ctx, filepath.Join(k.dir, name+"-"+k.size+".png"))
	}
}

// describeFocus names an element for a message.
const describeFocus = `(el => {
  if (!el || el === document.body) return "nothing";
  let s = el.tagName.toLowerCase();
  if (el.id) s += "#" + el.id;
  if (el.name) s += "[name=" + el.name + "]";
  const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ").slice(0, 30);
  return text ? s + " (\"" + text + "\")" : s;
})`

// focusIndicator compares the focused element's outline and shadow with
// its own when not focused (blurred a moment, then focused again as the
// keyboard left it). It returns "" when they differ visibly, else why not.
const focusIndicator = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const look = () => {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 ? s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor : "none";
    return {outline, shadow: s.boxShadow};
  };
  const on = look();
  el.blur();
  const off = look();
  el.focus({focusVisible: true});
  if (document.activeElement !== el) return "focus could not be put back";
  if (on.outline !== off.outline && on.outline !== "none") return "";
  if (on.shadow !== off.shadow && on.shadow !== "none") return "";
  return "outline " + on.outline + " and shadow " + on.shadow + " are the same as unfocused";
})()`

// checkIndicator checks the focused element shows that it has focus.
func (k *keyboard) checkIndicator() {
	k.t.Helper()
	who := k.focused()
	if k.seen[who] {
		return
	}
	k.seen[who] = true
	why, err := chromedp.Run(k.ctx, chromedp.Evaluate[string](focusIndicator))
	if err != nil {
		k.fail("focus indicator", err)
	}
	if why != "" {
		k.t.Errorf("at %s, %s shows no focus: %s", k.size, who, why)
	}
}
