package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// app is a running server over a fresh database with an admin API key.
type app struct {
	*storetest.Fixture
	srv      *httptest.Server
	adminKey string
}

func newApp(t *testing.T, db *store.DB) *app {
	t.Helper()
	return newAppWithProxies(t, db, "")
}

func newAppWithProxies(t *testing.T, db *store.DB, trusted string) *app {
	t.Helper()
	f := storetest.NewFixture(t, db)
	var proxies []netip.Prefix
	if trusted != "" {
		proxies = append(proxies, netip.MustParsePrefix(trusted))
	}
	h := server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: proxies})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	k, err := f.Auth.CreateAPIKey(f.Ctx, "test admin", actor.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return &app{Fixture: f, srv: srv, adminKey: k.Secret}
}

// key creates an API key with the given role.
func (a *app) key(t *testing.T, role actor.Role) string {
	t.Helper()
	k, err := a.Auth.CreateAPIKey(a.Ctx, "key "+string(role), role)
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// call sends a request with an optional bearer key and JSON body.
func (a *app) call(t *testing.T, method, path, key string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (a *app) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: a.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) reply {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	return b.postWithHeaders(path, form)
}

func (b *browser) postWithHeaders(path string, form url.Values, header ...string) reply {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the CSRF token from a page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	m := csrfPattern.FindSubmatch(b.get(path).body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", path)
	}
	return string(m[1])
}

func (b *browser) login(email, password string) reply {
	return b.post("/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {b.csrf("/login")}})
}

type httpCookie = http.Cookie

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

func sessionCookie(t *testing.T, b *browser) string {
	t.Helper()
	for _, c := range b.client.Jar.Cookies(mustURL(b.base)) {
		if c.Name == "stocktrail_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
