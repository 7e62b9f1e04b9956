// Package web owns the server-rendered pages: the login, the layout and
// navigation, and the pages of each area, with templates and static assets
// embedded in the binary so that nothing is fetched from another network.
// Handlers are thin: they read a form, call an area, and render or redirect;
// errors become a readable message on the page.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

const (
	// SessionCookie names the session cookie.
	SessionCookie = "stocktrail_session"
	// CSRFField names the hidden form field with the CSRF token.
	CSRFField = "csrf_token"
	// MaxFormBytes caps a form body, file uploads included.
	MaxFormBytes = 110 << 20
)

// Config holds what the pages need.
type Config struct {
	DB     *store.DB
	Auth   *auth.Service
	Logger *slog.Logger
	// Ledger is this node's sealer, when it seals; nil otherwise (the
	// ledger page then says so and offers no key rotation).
	Ledger *ledger.Sealer
	// LedgerMonitor is this node's check of the ledger, if it runs one.
	LedgerMonitor *ledger.Monitor
	// Webhooks is the webhook service (nil when not configured).
	Webhooks *notify.Webhooks
	// Mail is the install's e-mail configuration (zero when e-mail is off).
	Mail mail.Config
}

// Web is the set of pages.
type Web struct {
	cfg   Config
	pages map[string]*template.Template
}

// New parses every template once.
func New(cfg Config) *Web {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Web{cfg: cfg, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "templates/")
		if base == "layout.html" {
			continue
		}
		// A bad template is a bug caught by every test run, not a runtime state.
		w.pages[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name))
	}
	return w
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return fmt.Sprint(t)
	},
	"roles": actor.Roles,
	"count": count,
	// under reports whether path is prefix or a page below it.
	"under": func(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") },
	"contains": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"sentence": sentence,
	// fieldid is the id of the control that sends a field (fieldID).
	"fieldid": fieldID,
	// filterid is the id of a filter form's control (filterID).
	"filterid": filterID,
	"title":    title,
	"can":      func(a actor.Actor, p string) bool { return a.Can(actor.Permission(p)) },
	// orderHref links a reference or holder that is an order number.
	"orderHref": orderHref,
	// searchFieldLabel names what the activity search can be narrowed to.
	"searchFieldLabel": activity.SearchFieldLabel,
}

// Register adds every page to mux.
func (wb *Web) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", wb.page(wb.loginPage))
	mux.HandleFunc("POST /login", wb.page(wb.login))
	mux.HandleFunc("POST /logout", wb.page(wb.logout))
	mux.HandleFunc("GET /{$}", wb.page(wb.home))
	wb.registerAccounts(mux)
	wb.registerSettings(mux)
	wb.registerLedger(mux)
	wb.registerWebhooks(mux)
	wb.registerInventory(mux)
	wb.registerLocations(mux)
	wb.registerActivity(mux)
	wb.registerReports(mux)
	wb.registerAssets(mux)
	wb.registerStation(mux)
	wb.registerAlerts(mux)
	wb.registerEmail(mux)
	wb.registerOrders(mux)
	wb.registerSearch(mux)
	wb.registerItemEdit(mux)
	mux.HandleFunc("/", wb.page(func(w http.ResponseWriter, r *http.Request) error {
		return fault.New(fault.NotFound, "there is no page at %s", r.URL.Path)
	}))
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// handler is a page: it renders or redirects, or returns an error that the
// adapter shows as a readable page.
type handler func(w http.ResponseWriter, r *http.Request) error

func (wb *Web) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			wb.fail(w, r, err)
		}
	}
}

func (wb *Web) fail(w http.ResponseWriter, r *http.Request, err error) {
	if fault.KindOf(err) == fault.Unauthorized {
		if _, ok := actor.From(r.Context()); !ok {
			target := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
			if msg := sessionProblem(r.Context()); msg != "" {
				target += "&msg=" + url.QueryEscape(msg)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
	}
	err = store.ClassifyOutage(err)
	setRetryAfter(w, err)
	status := fault.HTTPStatus(fault.KindOf(err))
	if status >= 500 {
		wb.cfg.Logger.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err,
			"request_id", actor.RequestFrom(r.Context()).RequestID)
	}
	// The page says what happened as its heading, then why: the message
	// is the page's content, not a banner above it.
	heading := errorHeading(status)
	wb.render(w, r, status, "error.html", heading, map[string]any{"Status": status, "Heading": heading,
		"Message": sentence(fault.PublicMessage(err))}, nil)
}

// errorHeading is what an error page of status says happened, in words.
func errorHeading(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "You may not open this page"
	case http.StatusConflict:
		return "This cannot be done now"
	case http.StatusTooManyRequests:
		return "Too many requests"
	case http.StatusServiceUnavailable:
		return "stocktrail is unavailable for a moment"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "This request cannot be answered"
}

// WriteError shows err as a minimal page, for failures before a page runs.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	err = store.ClassifyOutage(err)
	setRetryAfter(w, err)
	status := fault.HTTPStatus(fault.KindOf(err))
	if status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%d %s</title><link rel=stylesheet href=/static/app.css><main class=narrow><h1>%s</h1><p class=error>%s</p><p><a href=/>Back to stocktrail</a></p></main>",
		status, http.StatusText(status), http.StatusText(status), template.HTMLEscapeString(sentence(fault.PublicMessage(err))))
}

// setRetryAfter passes on err's hint of when to try again (an outage, too
// many attempts).
func setRetryAfter(w http.ResponseWriter, err error) {
	if e, ok := fault.As(err); ok && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}

// View is what every template receives.
type View struct {
	Title    string
	Actor    actor.Actor
	LoggedIn bool
	CSRF     string
	Flash    string
	Error    string
	Fields   map[string]string
	// Problems is the error summary of a refusal about fields, in the
	// order of their names; the layout shows it instead of a banner.
	Problems []fieldProblem
	Form     url.Values
	Path     string
	Data     any
	// LedgerProblem is why the ledger does not verify, shown to those who
	// may read the log (they can act on it and see the details).
	LedgerProblem string
}

func (wb *Web) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, err error) {
	v := View{Title: title, Data: data, Path: r.URL.Path, Flash: r.URL.Query().Get("ok"), Form: r.PostForm}
	v.Actor, v.LoggedIn = actor.From(r.Context())
	v.CSRF = csrfToken(r.Context())
	if wb.cfg.LedgerMonitor != nil && v.LoggedIn && v.Actor.Can(ledgerViewPermission) {
		if err := wb.cfg.LedgerMonitor.Err(); err != nil {
			v.LedgerProblem = err.Error()
		}
	}
	if err != nil {
		v.Error = fault.PublicMessage(err)
		if e, ok := fault.As(err); ok {
			v.Fields = e.Fields
			v.Error = fieldBanner(e)
			v.Problems = fieldProblems(e)
			// A page read with GET refuses its query string: its
			// problems are about the filter form's controls.
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				for i := range v.Problems {
					v.Problems[i].InQuery = true
				}
			}
		}
	}
	// Areas' messages are Go errors, lower-case; a person reads sentences.
	// (A flash is the page's own words, which may start with an address.)
	v.Error, v.LedgerProblem = sentence(v.Error), sentence(v.LedgerProblem)
	t, ok := wb.pages[page]
	if !ok {
		panic("no template " + page)
	}
	// Rendered whole before anything is sent: a template that fails half
	// way must not leave the browser a half page with a 200.
	var body bytes.Buffer
	if err := t.Execute(&body, v); err != nil {
		wb.cfg.Logger.ErrorContext(r.Context(), "render", "page", page, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("Something went wrong on our side while showing this page; it has been logged. Please try again.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body.Bytes())
}

// show renders a page with 200, or with the status of err (a form that did
// not validate is shown again with its message and fields).
func (wb *Web) show(w http.ResponseWriter, r *http.Request, page, title string, data any, err error) error {
	status := http.StatusOK
	if err != nil {
		if fault.KindOf(err) == fault.Internal || fault.KindOf(err) == fault.Unauthorized {
			return err
		}
		status = fault.HTTPStatus(fault.KindOf(err))
	}
	wb.render(w, r, status, page, title, data, err)
	return nil
}

// redirect sends the browser to path with a success message.
func redirect(w http.ResponseWriter, r *http.Request, path, message string) error {
	if message != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "ok=" + url.QueryEscape(message)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

func formInt(r *http.Request, name string) (int64, error) {
	raw := strings.TrimSpace(r.PostFormValue(name))
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, fault.Field(name, "must be a whole number")
	}
	return n, nil
}

// postedTo opens a handler that changes one record: the permission, the
// record's id from the path, then the posted form.
func postedTo(w http.ResponseWriter, r *http.Request, p actor.Permission) (int64, error) {
	if _, err := actor.Require(r.Context(), p); err != nil {
		return 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	return id, parseForm(w, r)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "no such record")
	}
	return id, nil
}

// parseForm reads a urlencoded or multipart form within MaxFormBytes.
// fieldProblem is one line of a form's error summary (GOV.UK style: each
// a link to its field); Label is how the form names the field, if set.
// InQuery says the field is a query parameter, sent by a filter form.
type fieldProblem struct {
	Field, Label, Message string
	InQuery               bool
}

// Text is the line a person reads: "Label: message", or the message alone
// as a sentence when it names the field itself or there is no label.
func (p fieldProblem) Text() string {
	if p.Label == "" {
		return sentence(p.Message)
	}
	return problemText(p.Label, p.Message)
}

// Href is the link to the problem's field on the page (fieldID, or
// filterID for a query parameter), or "" when the problem names no field.
func (p fieldProblem) Href() string {
	switch {
	case p.Field == "":
		return ""
	case p.InQuery:
		return "#" + filterID(p.Field)
	}
	return "#" + fieldID(p.Field)
}

// fieldID is the id of the form control that posts field (or of the
// fieldset around a group of checkboxes or radio buttons): templates give
// it to the control with fieldid and the generic error summary links to
// it, so the two cannot drift apart.
func fieldID(field string) string { return "field-" + field }

// filterID is fieldID for a control of a filter form (method get), which
// sends a query parameter: a page may have a filter and a form posting a
// field of the same name (an asset register's Location filter and its new
// asset's location), each with its own id.
func filterID(param string) string { return "filter-" + param }

// errorSummary lists the problems of fields in the form's order, then any
// others, for the summary at the top of a form that did not validate.
func errorSummary(fields map[string]string, order []string, labels map[string]string) []fieldProblem {
	var out []fieldProblem
	for _, f := range order {
		if msg, ok := fields[f]; ok {
			out = append(out, fieldProblem{Field: f, Label: labels[f], Message: msg})
		}
	}
	var rest []string
	for f := range fields {
		if !slices.Contains(order, f) {
			rest = append(rest, f)
		}
	}
	sort.Strings(rest)
	for _, f := range rest {
		out = append(out, fieldProblem{Field: f, Label: labels[f], Message: fields[f]})
	}
	return out
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fault.New(fault.TooLarge, "the upload is too large (at most %d MB)", MaxFormBytes>>20)
	}
	if err != nil {
		return fault.New(fault.Malformed, "the form could not be read")
	}
	// Control characters typed or pasted into any field are refused here,
	// once for every form, before they can reach an export or a terminal.
	for name, values := range r.Form {
		for _, v := range values {
			if err := plaintext.Check(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	secureKey
	sessionProblemKey
)

type sessionInfo struct{ token, csrf string }

// WithSession records the session's cookie value and CSRF token in ctx.
func WithSession(ctx context.Context, token, csrf string) context.Context {
	return context.WithValue(ctx, sessionKey, sessionInfo{token, csrf})
}

// WithSecure records whether the client reached us over TLS (for cookies).
func WithSecure(ctx context.Context, secure bool) context.Context {
	return context.WithValue(ctx, secureKey, secure)
}

// WithSessionProblem records why a presented session was refused.
func WithSessionProblem(ctx context.Context, msg string) context.Context {
	return context.WithValue(ctx, sessionProblemKey, msg)
}

func csrfToken(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey).(sessionInfo)
	return s.csrf
}

func sessionToken(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey).(sessionInfo)
	return s.token
}

func isSecure(ctx context.Context) bool {
	b, _ := ctx.Value(secureKey).(bool)
	return b
}

func sessionProblem(ctx context.Context) string {
	s, _ := ctx.Value(sessionProblemKey).(string)
	return s
}

func setSessionCookie(w http.ResponseWriter, value string, secure bool, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, Expires: expires})
}

// ClearSessionCookie tells the browser to forget its session.
func ClearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// count says how many of a thing there are, in the singular for one:
// "1 log entry", "3 log entries".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fieldBanner is the banner of a refusal about fields in people's words:
// "Code: 1–40 letters, digits …" rather than the API's "invalid code: …";
// each message also stands beside its field.
func fieldBanner(e *fault.Error) string {
	if len(e.Fields) == 0 || !strings.HasPrefix(e.Message, "invalid ") {
		return e.Message
	}
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = fieldWords(f) + ": " + e.Fields[f]
	}
	return strings.Join(parts, "; ")
}

// sentence is an area's message as a person reads it on a page: its first
// letter upper-case ("your role (operator) may not …" is "Your role …").
// Only a lower-case first letter changes; the rest is left as written.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	first, size := utf8.DecodeRuneInString(s)
	if !unicode.IsLower(first) {
		return s
	}
	return string(unicode.ToUpper(first)) + s[size:]
}

// fieldProblems is the error summary of a refusal about fields (none for
// one that is not): an area's own sentence about its one field ("recipient
// address: … is not an e-mail address"), else each field's message under
// the field's name in words, as fieldBanner says them.
func fieldProblems(e *fault.Error) []fieldProblem {
	if len(e.Fields) == 1 && e.Message != "" && !strings.HasPrefix(e.Message, "invalid ") {
		for f := range e.Fields {
			return []fieldProblem{{Field: f, Message: e.Message}}
		}
	}
	labels := map[string]string{}
	for f := range e.Fields {
		labels[f] = fieldWords(f)
	}
	return errorSummary(e.Fields, nil, labels)
}

// fieldWords names a form field as a person would: "parent_id" is
// "Parent", "sku" "SKU", "email" "E-mail", "effective_at" "Effective at".
func fieldWords(field string) string {
	switch field {
	case "sku":
		return "SKU"
	case "email":
		return "E-mail"
	}
	field = strings.TrimSuffix(field, "_id")
	return sentence(strings.ReplaceAll(field, "_", " "))
}
