package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/web"
)

// seedStation gives the fixture's workspace the usual item and bins, a
// second item counted in whole pieces, and a station bound to WH1/A1.
func seedStation(t *testing.T, f *storetest.Fixture) (auth.Station, map[string]inventory.Location) {
	t.Helper()
	seedInventory(t, f)
	zero := 0
	if _, err := inventory.CreateItem(f.Ctx, f.DB, inventory.ItemInput{SKU: "BOLT-M6", Name: "Bolt M6", Kind: inventory.Part, Unit: "pcs", Scale: &zero}); err != nil {
		t.Fatal(err)
	}
	locs, err := inventory.ListLocations(f.Ctx, f.DB, false)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]inventory.Location{}
	for _, l := range locs {
		byPath[l.Path] = l
	}
	st, err := f.Auth.CreateStation(f.Ctx, "Bench 1", byPath["WH1/A1"].ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, byPath
}

// stationClient is a browser on the station screen: it keeps cookies and
// follows redirects, so a POST answers with the page it lands on.
type stationClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newStationClient(t *testing.T, base string) *stationClient {
	jar, _ := cookiejar.New(nil)
	return &stationClient{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (s *stationClient) do(req *http.Request) (int, string, *url.URL) {
	s.t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// Compare text as shown: html/template writes + and " as entities.
	return resp.StatusCode, html.UnescapeString(string(body)), resp.Request.URL
}

func (s *stationClient) get(path string) (int, string, *url.URL) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	return s.do(req)
}

// post sends a form, with the page's CSRF token unless the form has one
// (or csrf_token is set to "-" to leave it out).
func (s *stationClient) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	switch form.Get("csrf_token") {
	case "":
		_, page, _ := s.get("/station")
		if m := csrfPattern.FindStringSubmatch(page); m != nil {
			form.Set("csrf_token", m[1])
		}
	case "-":
		form.Del("csrf_token")
	}
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, _ := s.do(req)
	return status, body
}

func (s *stationClient) cookie() string {
	for _, c := range s.c.Jar.Cookies(mustParse(s.base + "/station")) {
		if c.Name == web.StationCookie {
			return c.Value
		}
	}
	return ""
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// count runs a COUNT(*) query.
func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newestEntry is the latest change-log entry of a SKU.
func newestEntry(t *testing.T, f *storetest.Fixture, sku string) inventory.Entry {
	t.Helper()
	page, err := inventory.ListLog(f.Ctx, f.DB, inventory.LogFilter{SKU: sku, Limit: 1})
	if err != nil || len(page.Entries) == 0 {
		t.Fatalf("log of %s: %v %v", sku, page.Entries, err)
	}
	return page.Entries[0]
}

func TestStationSignIn(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)

		status, body, _ := s.get("/station")
		if status != 200 || !strings.Contains(body, "Station token") || strings.Contains(body, "scan-form") {
			t.Fatalf("anonymous /station: %d %s", status, body)
		}
		// Bad tokens: a readable error, no cookie, no session, nothing recorded.
		events := count(t, db, `SELECT COUNT(*) FROM activity_events`)
		for token, want := range map[string]string{
			"":                         "paste or scan the station",
			"sts_nothere_" + st.Prefix: "unknown or revoked station token",
			"stk_an_api_key":           "unknown or revoked station token",
		} {
			status, body := s.post("/station/sign-in", url.Values{"token": {token}})
			if status != 422 || !strings.Contains(body, want) || strings.Contains(body, "scan-form") {
				t.Errorf("token %q: %d, want %q in page", token, status, want)
			}
			if token != "" && strings.Contains(body, token) {
				t.Errorf("the page repeats the token %q", token)
			}
		}
		if s.cookie() != "" || count(t, db, `SELECT COUNT(*) FROM station_sessions`) != 0 ||
			count(t, db, `SELECT COUNT(*) FROM activity_events`) != events {
			t.Fatal("a bad token changed something")
		}

		// A good token opens the screen, with a cookie scoped to /station.
		status, body = s.post("/station/sign-in", url.Values{"token": {" " + st.Token + " "}})
		if status != 200 || !strings.Contains(body, "Signed in as Bench 1") || !strings.Contains(body, `id="scan-form"`) ||
			!strings.Contains(body, "at WH1/A1") {
			t.Fatalf("sign in: %d %s", status, body)
		}
		if strings.Contains(body, `href="/inventory"`) || strings.Contains(body, `action="/logout"`) {
			t.Error("the station screen shows the users' navigation")
		}
		if s.cookie() == "" {
			t.Fatal("no station cookie")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM activity_events WHERE action = 'LOGIN' AND actor_kind = 'station' AND actor_id = $1
			AND entity_type = 'stations' AND entity_id = $2`, st.ID, itoa(st.ID)); n != 1 {
			t.Fatalf("LOGIN events of the station: %d", n)
		}

		// The station's cookie opens nothing else: not the pages, not the API.
		cookie := &http.Cookie{Name: web.StationCookie, Value: s.cookie()}
		asUserCookie := &http.Cookie{Name: web.SessionCookie, Value: s.cookie()}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, path := range []string{"/", "/inventory", "/inventory/log", "/users", "/stations", "/settings", "/activity", "/api/v1/items"} {
			for _, c := range []*http.Cookie{cookie, asUserCookie} {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.AddCookie(c)
				resp, err := noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				loc := resp.Header.Get("Location")
				if !(resp.StatusCode == 303 && strings.HasPrefix(loc, "/login")) && resp.StatusCode != 401 {
					t.Errorf("station cookie %s on %s: %d %s", c.Name, path, resp.StatusCode, loc)
				}
			}
		}
		// Nor a movement outside the screen, even with its CSRF token.
		_, page, _ := s.get("/station")
		csrf := csrfPattern.FindStringSubmatch(page)[1]
		req, _ := http.NewRequest("POST", srv.URL+"/inventory/movements", strings.NewReader(url.Values{"csrf_token": {csrf},
			"kind": {"receipt"}, "sku": {"OIL-5"}, "location": {"WH1/A1"}, "quantity": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 || resp.StatusCode == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("station cookie posted a movement: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != 0 {
			t.Fatalf("log entries: %d", n)
		}

		// A user never sees the screen: /station ignores the user's session.
		admin := login(t, srv.URL, f)
		if _, body := admin.get("/station"); !strings.Contains(body, "Station token") || strings.Contains(body, "scan-form") {
			t.Error("a user sees the station screen")
		}
		if _, body := admin.get("/stations"); !strings.Contains(body, "Open station screen") || !strings.Contains(body, `href="/station"`) {
			t.Error("no link to the station screen on the Stations page")
		}

		// Sign out ends the session on the server.
		old := s.cookie()
		status, body = s.post("/station/sign-out", url.Values{})
		if status != 200 || !strings.Contains(body, "Signed out") || !strings.Contains(body, "Station token") {
			t.Fatalf("sign out: %d %s", status, body)
		}
		if count(t, db, `SELECT COUNT(*) FROM station_sessions`) != 0 {
			t.Fatal("session left after sign-out")
		}
		if _, _, err := f.Auth.ResolveStationSession(context.Background(), old); err == nil {
			t.Fatal("old cookie still works")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM activity_events WHERE action = 'LOGOUT' AND actor_kind = 'station'`); n != 1 {
			t.Fatalf("LOGOUT events: %d", n)
		}
	})
}

func TestStationRevokedEndsSession(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		if status, body := s.post("/station/sign-in", url.Values{"token": {st.Token}}); status != 200 || !strings.Contains(body, "scan-form") {
			t.Fatalf("sign in: %d", status)
		}
		_, page, _ := s.get("/station")
		csrf := csrfPattern.FindStringSubmatch(page)[1]
		if err := f.Auth.RevokeStation(f.Ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM station_sessions`); n != 0 {
			t.Fatalf("revoking left %d sessions", n)
		}
		// The very next request is signed out, and its scan changes nothing.
		status, body := s.post("/station/scan", url.Values{"csrf_token": {csrf}, "mode": {"receive"}, "sku": {"OIL-5"}, "quantity": {"1"}})
		if status != 200 || !strings.Contains(body, "Station token") || strings.Contains(body, "scan-form") {
			t.Fatalf("scan after revoke: %d %s", status, body)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != 0 {
			t.Fatalf("a revoked station wrote %d log entries", n)
		}
		if s.cookie() != "" {
			t.Error("the stale station cookie was not cleared")
		}
		// Its token no longer signs in.
		if status, body := s.post("/station/sign-in", url.Values{"token": {st.Token}}); status != 422 || !strings.Contains(body, "unknown or revoked") {
			t.Fatalf("revoked token: %d", status)
		}
	})
}

// TestStationRevokedCheckedPerRequest revokes the station behind the
// session's back (as another node's revoke would be seen): the session is
// refused on its next request all the same.
func TestStationRevokedCheckedPerRequest(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		sess, err := f.Auth.StationSignIn(context.Background(), st.Token)
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := f.Auth.ResolveStationSession(context.Background(), sess.Token)
		if err != nil || a.Kind != actor.Station || a.ID != st.ID || a.LocationID != st.LocationID || a.Role != actor.StationRole {
			t.Fatalf("resolve: %+v %v", a, err)
		}
		if _, err := db.Exec(context.Background(), `UPDATE stations SET revoked_at = 1 WHERE id = $1`, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Auth.ResolveStationSession(context.Background(), sess.Token); err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("revoked station still resolves: %v", err)
		}
	})
}

func TestStationModes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		s.post("/station/sign-in", url.Values{"token": {st.Token}})

		scan := func(mode, sku, qty, want string) string {
			t.Helper()
			status, body := s.post("/station/scan", url.Values{"mode": {mode}, "sku": {sku}, "quantity": {qty}})
			if status != 200 || !strings.Contains(body, want) {
				t.Fatalf("%s %s %s: %d, want %q in %s", mode, sku, qty, status, want, body)
			}
			return body
		}
		isScan := func(e inventory.Entry, movement, change, level string) {
			t.Helper()
			if e.Action != inventory.Scan || e.ActorKind != "station" || e.ActorID != st.ID || e.ActorName != "Bench 1" ||
				e.Movement != movement || e.ChangeText() != change || e.RecordLevelText() != level || e.LocationPath != "WH1/A1" {
				t.Fatalf("entry %+v, want %s %s -> %s by station %d as scan", e, movement, change, level, st.ID)
			}
		}

		body := scan("receive", "OIL-5", "12.5", "Received OIL-5: +12.50 l, new level 12.50 l at WH1/A1")
		if !strings.Contains(body, `value="receive" checked`) {
			t.Error("the mode is not kept after a scan")
		}
		isScan(newestEntry(t, f, "OIL-5"), "receipt", "12.50", "12.50")
		scan("issue", "OIL-5", "2.5", "Issued OIL-5: -2.50 l, new level 10.00 l at WH1/A1")
		isScan(newestEntry(t, f, "OIL-5"), "issue", "-2.50", "10.00")
		scan("count", "OIL-5", "7", "Counted OIL-5: -3.00 l, new level 7.00 l at WH1/A1")
		isScan(newestEntry(t, f, "OIL-5"), "reconciliation", "-3.00", "7.00")
		scan("count", "OIL-5", "7", "Counted OIL-5: no change, new level 7.00 l")
		entries := count(t, db, `SELECT COUNT(*) FROM inventory_log`)

		// Batch initialize: lines wait with the session until submitted.
		scan("batch", "BOLT-M6", "40", "Batch line 1: BOLT-M6 counted 40 pcs")
		scan("batch", "OIL-5", "5", "Batch line 2: OIL-5 counted 5.00 l")
		body = scan("batch", "BOLT-M6", "2", "Batch line 1: BOLT-M6 counted 40 + 2 = 42 pcs")
		if !strings.Contains(body, "Submit all 2 lines") {
			t.Fatalf("batch panel: %s", body)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != entries {
			t.Fatalf("scanning batch lines wrote %d log entries", n-entries)
		}
		status, body := s.post("/station/batch", url.Values{"action": {"submit"}})
		if status != 200 || !strings.Contains(body, "Batch initialized: 2 lines, 2 changed; new levels: BOLT-M6 42 pcs, OIL-5 5.00 l") {
			t.Fatalf("submit: %d %s", status, body)
		}
		isScan(newestEntry(t, f, "BOLT-M6"), "initialize", "42", "42")
		isScan(newestEntry(t, f, "OIL-5"), "initialize", "-2.00", "5.00")
		if strings.Contains(body, "Submit all") {
			t.Error("the batch was not cleared after submitting")
		}
		// Recent scans of this station are listed, newest first.
		if i, j := strings.Index(body, "initialize"), strings.Index(body, "receipt"); i < 0 || j < i || !strings.Contains(body, "Recent scans") {
			t.Error("recent scans not listed newest first")
		}

		// A batch fails as a whole: one bad line and no line is saved.
		one := 1
		gone, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "GONE-1", Name: "Soon deleted", Kind: inventory.Part, Unit: "pcs", Scale: &one})
		if err != nil {
			t.Fatal(err)
		}
		scan("batch", "BOLT-M6", "50", "Batch line 1")
		scan("batch", "GONE-1", "3", "Batch line 2")
		if err := inventory.DeleteItem(f.Ctx, db, gone.ID); err != nil {
			t.Fatal(err)
		}
		entries = count(t, db, `SELECT COUNT(*) FROM inventory_log`)
		status, body = s.post("/station/batch", url.Values{"action": {"submit"}})
		if status != 422 || !strings.Contains(body, `Line 2 (GONE-1) sku: there is no item with SKU GONE-1`) || !strings.Contains(body, "Submit all 2 lines") {
			t.Fatalf("bad batch: %d %s", status, body)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != entries {
			t.Fatal("a failed batch wrote entries")
		}
		status, body = s.post("/station/batch", url.Values{"action": {"remove"}, "line": {"2"}})
		if status != 200 || !strings.Contains(body, "Removed line 2 (GONE-1)") || !strings.Contains(body, "Submit all 1 lines") {
			t.Fatalf("remove: %d %s", status, body)
		}
		status, body = s.post("/station/batch", url.Values{"action": {"clear"}})
		if status != 200 || !strings.Contains(body, "Batch cleared") || strings.Contains(body, "Submit all") {
			t.Fatalf("clear: %d", status)
		}
		if status, body := s.post("/station/batch", url.Values{"action": {"submit"}}); status != 422 || !strings.Contains(body, "scan at least one line") {
			t.Fatalf("empty batch: %d", status)
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStationBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		s.post("/station/sign-in", url.Values{"token": {st.Token}})
		if status, _ := s.post("/station/scan", url.Values{"mode": {"receive"}, "sku": {"OIL-5"}, "quantity": {"3"}}); status != 200 {
			t.Fatal("receipt failed")
		}
		entries := count(t, db, `SELECT COUNT(*) FROM inventory_log`)
		events := count(t, db, `SELECT COUNT(*) FROM activity_events`)
		for _, tt := range []struct{ mode, sku, qty, want string }{
			{"receive", "NOPE", "1", `There is no item with SKU NOPE`},
			{"issue", "NOPE", "1", `There is no item with SKU NOPE`},
			{"count", "NOPE", "1", `There is no item with SKU NOPE`},
			{"batch", "NOPE", "1", `There is no item with SKU NOPE`},
			{"receive", "", "1", "Scan or type a SKU"},
			{"receive", "OIL-5", "0", "OIL-5 — Quantity: must be greater than zero"},
			{"issue", "OIL-5", "0", "Quantity: must be greater than zero"},
			{"receive", "OIL-5", "-2", "Quantity: must be greater than zero"},
			{"issue", "OIL-5", "-2", "Quantity: must be greater than zero"},
			{"count", "OIL-5", "-2", "Quantity: a counted quantity may not be negative"},
			{"batch", "OIL-5", "-2", "Quantity: a counted quantity may not be negative"},
			{"receive", "OIL-5", "ten", "Quantity: must be a decimal number"},
			{"count", "OIL-5", "ten", "Quantity: must be a decimal number"},
			{"batch", "OIL-5", "ten", "Quantity: must be a decimal number"},
			{"receive", "OIL-5", "", "Quantity: required"},
			{"receive", "OIL-5", "1.001", "Quantity: at most 2 decimals for this unit"},
			{"batch", "BOLT-M6", "1.5", "BOLT-M6 — Quantity: must be a whole number for this unit"},
			{"issue", "OIL-5", "3.01", "Quantity: only 3.00 l of OIL-5 at WH1/A1; the workspace does not allow negative stock"},
			{"issue", "BOLT-M6", "1", "No stock of BOLT-M6 at WH1/A1<"},
			{"teleport", "OIL-5", "1", "Mode: pick Receive, Issue, Count, Batch initialize or Order"},
		} {
			status, body := s.post("/station/scan", url.Values{"mode": {tt.mode}, "sku": {tt.sku}, "quantity": {tt.qty}})
			if status != 422 || !strings.Contains(body, tt.want) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("%s %q %q: %d, want %q in %s", tt.mode, tt.sku, tt.qty, status, tt.want, alert(body))
			}
			if !strings.Contains(body, `id="scan-sku"`) || !strings.Contains(body, "autofocus") {
				t.Errorf("%s %q %q: the scan input is not back in focus", tt.mode, tt.sku, tt.qty)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != entries {
			t.Fatalf("bad input wrote %d log entries", n-entries)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM activity_events`); n != events {
			t.Fatalf("bad input recorded %d events", n-events)
		}
		if _, body, _ := s.get("/station?mode=batch"); strings.Contains(body, "Submit all") {
			t.Fatal("bad batch lines were kept")
		}
		// CSRF: a form without the session's token is refused.
		for _, token := range []string{"-", "forged"} {
			status, body := s.post("/station/scan", url.Values{"csrf_token": {token}, "mode": {"receive"}, "sku": {"OIL-5"}, "quantity": {"1"}})
			if status != 403 || !strings.Contains(body, "CSRF") {
				t.Errorf("csrf %q: %d", token, status)
			}
			status, _ = s.post("/station/batch", url.Values{"csrf_token": {token}, "action": {"clear"}})
			if status != 403 {
				t.Errorf("batch csrf %q: %d", token, status)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM inventory_log`); n != entries {
			t.Fatal("a forged form wrote log entries")
		}
	})
}

// TestStationWithoutLocation: a station bound to no location picks one on
// the screen.
func TestStationWithoutLocation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedStation(t, f)
		st, err := f.Auth.CreateStation(f.Ctx, "Roaming", 0)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		_, body := s.post("/station/sign-in", url.Values{"token": {st.Token}})
		if !strings.Contains(body, `<select name="location"`) || !strings.Contains(body, "no fixed location") {
			t.Fatalf("no location picker: %s", body)
		}
		if status, body := s.post("/station/scan", url.Values{"mode": {"receive"}, "sku": {"OIL-5"}, "quantity": {"1"}}); status != 422 ||
			!strings.Contains(body, "Location: give a location") {
			t.Fatalf("no location: %d", status)
		}
		status, body := s.post("/station/scan", url.Values{"mode": {"receive"}, "location": {"WH1/A2"}, "sku": {"OIL-5"}, "quantity": {"4"}})
		if status != 200 || !strings.Contains(body, "new level 4.00 l at WH1/A2") || !strings.Contains(body, `value="WH1/A2" selected`) {
			t.Fatalf("receipt at a picked location: %d %s", status, body)
		}
		if e := newestEntry(t, f, "OIL-5"); e.Action != inventory.Scan || e.ActorID != st.ID || e.LocationPath != "WH1/A2" {
			t.Fatalf("entry %+v", e)
		}
	})
}

var alertPattern = regexp.MustCompile(`role="alert">([^<]*)<`)

// alert is the error line of a page.
func alert(body string) string {
	if m := alertPattern.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return "(no error shown)"
}
