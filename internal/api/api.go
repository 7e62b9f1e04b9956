// Package api owns the JSON API under /api/v1: decoding and validating
// requests at the edge, calling the areas, and answering JSON, with errors as
// RFC 9457 problem+json (except where a seed prescribes another shape). It
// also serves the OpenAPI document that describes every endpoint.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/param"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// MaxBodyBytes caps a JSON request body; file uploads have their own limits.
const MaxBodyBytes = 1 << 20

// Config holds what the API needs.
type Config struct {
	DB     *store.DB
	Auth   *auth.Service
	Logger *slog.Logger
	// Webhooks is the webhook service (nil when not configured).
	Webhooks *notify.Webhooks
	// Shutdown is closed when the server stops: live feeds end then
	// (http.Server.Shutdown waits for them otherwise). Nil never closes.
	Shutdown <-chan struct{}
	// StreamPoll and StreamHeartbeat pace the live feed (tests shorten
	// them): how often it looks for newly sealed entries, and after how
	// long a quiet feed sends a keep-alive comment.
	StreamPoll, StreamHeartbeat time.Duration
	// StreamLifetime is how long one live feed connection lasts before the
	// client is asked to reconnect (and so to authenticate again).
	StreamLifetime time.Duration
}

// API is the JSON API.
type API struct {
	cfg Config
	// patterns lists every route registered, so a test can check that the
	// OpenAPI document describes all of them.
	patterns []string
	// query holds the documented query parameters of every operation.
	query queryParams
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &API{cfg: cfg}
}

// handler is an API endpoint: it writes a success answer or returns an error
// that the adapter turns into problem+json.
type handler func(w http.ResponseWriter, r *http.Request) error

// Register adds every API route to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) error { a.serveOpenAPI(w, r); return nil })
	a.handle(mux, "GET /api/v1/me", a.me)
	a.registerAccounts(mux)
	a.registerWorkspace(mux)
	a.registerInventory(mux)
	a.registerAuditLogs(mux)
	a.registerActivity(mux)
	a.registerReports(mux)
	a.registerAssets(mux)
	a.registerOrders(mux)
	a.registerLedger(mux)
	a.registerWebhooks(mux)
	a.registerAlerts(mux)
	a.registerEvents(mux)
	// Anything else under the prefix is a JSON 404, not the web's HTML page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, a.cfg.Logger, fault.New(fault.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

// Patterns returns the registered route patterns.
func (a *API) Patterns() []string { return append([]string(nil), a.patterns...) }

func (a *API) handle(mux *http.ServeMux, pattern string, h handler) {
	a.patterns = append(a.patterns, pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		err := a.query.check(pattern, r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			WriteProblem(w, r, a.cfg.Logger, err)
		}
	})
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// ProblemFor builds the problem detail for err, logging internal errors and
// outages (the database away, the disk full: 503).
func ProblemFor(r *http.Request, logger *slog.Logger, err error) Problem {
	err = store.ClassifyOutage(err)
	kind := fault.KindOf(err)
	status := fault.HTTPStatus(kind)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: fault.PublicMessage(err),
		Instance: r.URL.Path, RequestID: actor.RequestFrom(r.Context()).RequestID}
	if e, ok := fault.As(err); ok {
		p.Errors = e.Fields
	}
	if kind == fault.Internal || kind == fault.Unavailable {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", p.RequestID)
	}
	return p
}

// WriteProblem answers err as application/problem+json.
func WriteProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	err = store.ClassifyOutage(err)
	p := ProblemFor(r, logger, err)
	if e, ok := fault.As(err); ok && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads a JSON body into v strictly: the right content type, at
// most MaxBodyBytes, no unknown fields, one value only.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return fault.New(fault.UnsupportedMedia, "send the body as JSON with Content-Type: application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fault.New(fault.UnsupportedMedia, "unsupported content type %q: send application/json", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fault.New(fault.TooLarge, "the request body is larger than %d bytes", MaxBodyBytes)
	}
	if err != nil {
		return fault.New(fault.Malformed, "could not read the request body")
	}
	if err := checkTokens(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformedJSON(err)
	}
	// Only JSON whitespace may follow the value: dec.More alone lets a
	// stray "}" or "]" through ({"a":1}}), which is no JSON at all.
	if rest := bytes.Trim(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return fault.New(fault.Malformed, "the body must hold exactly one JSON value")
	}
	return nil
}

// checkTokens refuses, before decoding, what encoding/json would let
// through: an object naming a member twice ({"quantity":"1","quantity":"999"}:
// encoding/json keeps the last, a proxy or log reader may keep the first,
// and the two would see different requests; RFC 7493 I-JSON forbids it;
// jsontext checks names by default), and strings holding control
// characters, which reach exports and terminals.
func checkTokens(body []byte) error {
	// encoding/json turns invalid UTF-8 into U+FFFD where jsontext stops
	// at it, so the strings after it would go unchecked: refuse it here.
	if !utf8.Valid(body) {
		return fault.New(fault.Malformed, "the body is not valid UTF-8 text")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			name := strings.TrimPrefix(string(syn.JSONPointer), "/")
			return &fault.Error{Kind: fault.Malformed, Message: fmt.Sprintf("the member %q appears twice in one object; send it once", name),
				Fields: map[string]string{name: "appears twice"}}
		}
		if err != nil {
			return nil // other syntax errors are reported by the decoder below
		}
		if tok.Kind() == '"' {
			field := strings.TrimPrefix(string(dec.StackPointer()), "/")
			if err := plaintext.Check(field, tok.String()); err != nil {
				return err
			}
		}
	}
}

func malformedJSON(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fault.New(fault.Malformed, "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typeErr):
		return &fault.Error{Kind: fault.Malformed, Message: fmt.Sprintf("field %q must be %s", typeErr.Field, typeErr.Type),
			Fields: map[string]string{typeErr.Field: "must be " + typeErr.Type.String()}}
	case errors.Is(err, io.EOF):
		return fault.New(fault.Malformed, "the body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &fault.Error{Kind: fault.Malformed, Message: fmt.Sprintf("unknown field %q", field), Fields: map[string]string{field: "unknown field"}}
	default:
		return fault.New(fault.Malformed, "malformed JSON: %v", err)
	}
}

// PathID reads a positive integer path value.
func PathID(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "no %s with id %q", name, raw)
	}
	return id, nil
}

// queryInt reads an optional non-negative integer query parameter; a bad
// one is a 400 naming it.
func queryInt(r *http.Request, name string) (int64, error) {
	return param.Int(r.URL.Query(), name)
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	who, ok := actor.From(r.Context())
	if !ok {
		return fault.New(fault.Unauthorized, "authentication required")
	}
	return WriteJSON(w, http.StatusOK, map[string]any{
		"workspace_id": who.WorkspaceID, "kind": who.Kind, "id": who.ID, "name": who.Name, "role": who.Role,
	})
}
