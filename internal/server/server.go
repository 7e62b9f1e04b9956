// Package server assembles the HTTP side of stocktrail: it mounts the JSON
// API and the web pages on one mux and wraps them in what every request
// needs (request id, client address, the responsible party, CSRF checks,
// security headers, logging, panic recovery), plus health and readiness.
package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/idempotency"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/metrics"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/web"
)

// Config holds what the server needs.
type Config struct {
	DB     *store.DB
	Auth   *auth.Service
	Logger *slog.Logger
	// TrustedProxies are the addresses whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// Ledger is this node's sealer, when it seals; nil otherwise. The
	// settings page rotates its key.
	Ledger *ledger.Sealer
	// LedgerMonitor is this node's check of the ledger, if it runs one: a
	// failure turns /readyz red and shows admins a banner.
	LedgerMonitor *ledger.Monitor
	// Webhooks changes webhook endpoints and redelivers (nil: the pages and
	// API say webhooks are not available on this node).
	Webhooks *notify.Webhooks
	// Mail is the install's e-mail configuration (the zero Config when
	// e-mail is off): the e-mail page shows it and queues test messages.
	Mail mail.Config
	// Shutdown is closed when the server stops, ending live feeds.
	Shutdown <-chan struct{}
	// StreamPoll, StreamHeartbeat and StreamLifetime pace live feeds
	// (api.Config); zero takes the defaults.
	StreamPoll, StreamHeartbeat, StreamLifetime time.Duration
	// Metrics counts requests when set. MetricsToken, when set too, serves
	// them at GET /metrics to a caller sending it as a bearer token (serve
	// can instead serve them on a listen address of their own).
	Metrics      *metrics.Metrics
	MetricsToken string
}

// Server is stocktrail's HTTP handler.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	API     *api.API
	idem    *idempotency.Keeper
	handler http.Handler
}

// New builds the handler with every route.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Webhooks == nil {
		// A node that does not send deliveries still changes endpoints and
		// queues redeliveries; whichever node runs Start sends them.
		wh, err := notify.New(cfg.DB, notify.Options{Logger: cfg.Logger})
		if err != nil {
			cfg.Logger.Error("webhooks unavailable", "err", err)
		}
		cfg.Webhooks = wh
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.API = api.New(api.Config{DB: cfg.DB, Auth: cfg.Auth, Logger: cfg.Logger, Shutdown: cfg.Shutdown,
		StreamPoll: cfg.StreamPoll, StreamHeartbeat: cfg.StreamHeartbeat, StreamLifetime: cfg.StreamLifetime, Webhooks: cfg.Webhooks})
	s.API.Register(s.mux)
	web.New(web.Config{DB: cfg.DB, Auth: cfg.Auth, Logger: cfg.Logger, Ledger: cfg.Ledger, LedgerMonitor: cfg.LedgerMonitor, Mail: cfg.Mail, Webhooks: cfg.Webhooks}).Register(s.mux)

	// Browsers send Sec-Fetch-Site/Origin; cross-site unsafe requests are
	// refused before anything else runs (login CSRF included). The per-session
	// token below covers browsers too old to send those headers.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, fault.New(fault.Forbidden, "cross-origin request refused"))
	}))
	s.idem = idempotency.New(idempotency.Config{DB: cfg.DB, Logger: cfg.Logger, Fail: s.fail})
	// recordAPICalls sits outside idempotent: its event is written in a
	// transaction of its own, and must not carry (and so mark) the request's
	// idempotency claim, which belongs to the request's change.
	s.handler = s.recoverPanics(s.requestFacts(s.serveMetrics(cop.Handler(s.authenticate(s.recordAPICalls(s.idempotent(s.routed(s.mux))))))))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	// Anyone may ask, so the answer names the part that is not ready and
	// the log keeps the detail (a database error can name hosts and roles).
	if err := s.cfg.DB.Ready(ctx); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "not ready: database", "err", err)
		http.Error(w, "not ready: the database does not answer", http.StatusServiceUnavailable)
		return
	}
	if s.cfg.LedgerMonitor != nil {
		if err := s.cfg.LedgerMonitor.Err(); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "not ready: ledger", "err", err)
			http.Error(w, "not ready: the ledger does not verify (see the server log or stocktrail verify)", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

// idempotent makes API writes carrying an Idempotency-Key safe to retry. It
// runs after authenticate because keys belong to the responsible party; web
// forms are left alone (they have their own post/redirect flow).
func (s *Server) idempotent(next http.Handler) http.Handler {
	keyed := s.idem.Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r) {
			keyed.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers an error in the form the client expects.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		api.WriteProblem(w, r, s.cfg.Logger, err)
		return
	}
	web.WriteError(w, r, s.cfg.Logger, err)
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				s.fail(w, r, fault.New(fault.Internal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestFacts records who is calling from where, sets security headers and
// logs the request when it is done.
func (s *Server) requestFacts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		ip := s.clientIP(r)
		ctx := actor.WithRequest(r.Context(), actor.Request{IP: ip, UserAgent: r.UserAgent(), RequestID: id,
			Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		route := new(string)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, routeKey{}, route)))
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.ObserveRequest(*route, r.Method, rec.status, time.Since(start), rec.Header().Get(idempotency.ReplayedHeader) == "true")
		}
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Float64("took_ms", float64(time.Since(start).Microseconds())/1000), slog.String("ip", ip), slog.String("request_id", id))
	})
}

// routeKey carries, from requestFacts down to the mux, where the mux
// writes the pattern that served the request (metrics label it by pattern,
// never by raw path).
type routeKey struct{}

func (s *Server) routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if route, ok := r.Context().Value(routeKey{}).(*string); ok {
			*route = r.Pattern
		}
	})
}

// serveMetrics answers GET /metrics for a caller holding the metrics token;
// without a token configured, /metrics is an ordinary unknown page.
func (s *Server) serveMetrics(next http.Handler) http.Handler {
	if s.cfg.Metrics == nil || s.cfg.MetricsToken == "" {
		return next
	}
	h := s.cfg.Metrics.Handler()
	want := "Bearer " + s.cfg.MetricsToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the metrics token (Authorization: Bearer …)", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush for streamed exports.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clientIP is the peer address, or the last untrusted address in
// X-Forwarded-For when the peer is a trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(addr) {
			return addr.String()
		}
	}
	return host
}

func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// secure reports whether the client reached us over TLS.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	peer, err := netip.ParseAddr(host)
	return err == nil && s.trusted(peer) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// Patterns lists the JSON API's routes (for the OpenAPI coverage test).
func (s *Server) Patterns() []string { return s.API.Patterns() }
