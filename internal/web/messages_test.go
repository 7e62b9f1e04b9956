package web_test

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMessagesPeopleRead: the areas' messages are Go errors, lower-case;
// where a page shows one to a person (an error page, a banner, a form's
// summary, beside a field) it starts with a capital letter. A form sent
// back with field errors shows them in an error summary, once: no banner
// above it saying the same again, whether the page lists them itself (the
// item's edit form) or the layout does (the users page).
func TestMessagesPeopleRead(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		it := seedInventory(t, f)
		f.User(t, "op@example.com", actor.Operator)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		edit := fmt.Sprintf("/inventory/items/%d/edit", it.ID)

		// Refused to her role: the error page says why, as a sentence.
		op := loginAs(t, srv.URL, "op@example.com", "correct horse battery")
		status, body := op.get(edit)
		if status != 403 || !strings.Contains(body, "Your role (operator) may not manage items and locations") ||
			strings.Contains(body, "your role (operator)") {
			t.Errorf("refused page: %d %s", status, mainText(body))
		}

		// Refused before a page runs (a form without its token).
		status, body = op.post("/inventory/locations", url.Values{"code": {"A9"}, "csrf_token": {"forged"}})
		if status != 403 || !strings.Contains(body, "Missing or wrong CSRF token") {
			t.Errorf("forged form: %d %s", status, mainText(body))
		}

		// The banner of a refusal that is not about a field.
		jar, _ := cookiejar.New(nil)
		visitor := browser{t: t, base: srv.URL, c: &http.Client{Jar: jar}}
		status, body = visitor.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"not the password"}})
		if status != 401 || !strings.Contains(body, `<p class="error" role="alert">Wrong e-mail or password</p>`) {
			t.Errorf("wrong password: %d %s", status, mainText(body))
		}
		b := loginAs(t, srv.URL, "admin@example.com", f.AdminPassword)

		// A page with its own summary: no banner above it.
		status, body = b.post(edit, url.Values{"sku": {"OIL-5"}, "name": {"Engine oil"}, "kind": {"material"}, "min_level": {"lots"}})
		if status != 422 || strings.Count(body, `class="error-summary"`) != 1 || strings.Contains(body, `<p class="error"`) ||
			!strings.Contains(body, ">Minimum level must be a decimal number") {
			t.Errorf("item edit sent back: %d, %d summaries, banner %v %s", status, strings.Count(body, `class="error-summary"`),
				strings.Contains(body, `<p class="error"`), mainText(body))
		}

		// A page without one: the layout's summary, not a banner.
		status, body = b.post("/users", url.Values{"name": {""}, "email": {"not an address"}, "role": {"operator"}, "password": {"short"}})
		if status != 422 || strings.Count(body, `class="error-summary"`) != 1 || strings.Contains(body, `<p class="error"`) ||
			strings.Contains(body, "some values are not valid") || !strings.Contains(body, "There is a problem") ||
			!strings.Contains(body, `<span class="field-error">Required</span>`) {
			t.Errorf("new user sent back: %d %s", status, mainText(body))
		}
	})
}

// mainText is a page's <main>, for a failure's message.
func mainText(body string) string {
	if i := strings.Index(body, "<main>"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 2000 {
		body = body[:2000]
	}
	return body
}
