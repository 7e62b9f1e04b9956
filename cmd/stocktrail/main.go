// Command stocktrail is the whole product in one binary: the web server and
// API (serve), database migrations (migrate), and administration from the
// command line (user, apikey, station).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/idempotency"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/metrics"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
)

const usage = `stocktrail: inventory with an audit trail people can trust.

Usage:
  stocktrail serve   [--addr 127.0.0.1:8080] [--data DIR | --db URL] [--trusted-proxy CIDR,...]
                     [--ledger-key FILE] [--checkpoint-log FILE] [--checkpoint-webhook URL]
                     [--webhook-allow-private]
                     [--base-url https://stock.example.com] [--smtp-url smtp://user:pass@host:587 | smtps://…]
                     [--smtp-from ADDRESS] [--smtp-starttls required|opportunistic|none] [--smtp-timeout 30s]
  stocktrail migrate [--data DIR | --db URL] [--grant-to ROLE,...]
  stocktrail workspace create --name N --plan starter|business|enterprise --admin-email E [--admin-name N] [--data DIR | --db URL]
  stocktrail workspace list [--data DIR | --db URL]
  stocktrail workspace set-plan --workspace ID --plan P [--data DIR | --db URL]
  stocktrail workspace legal-hold --workspace ID --on|--off --reason TEXT [--data DIR | --db URL]
  stocktrail user create --email E --name N --role ROLE [--password P] [--workspace ID] [--data DIR | --db URL]
  stocktrail user list   [--workspace ID] [--data DIR | --db URL]
  stocktrail user set-password --email E [--password P] [--data DIR | --db URL]
  stocktrail apikey create --role ROLE --name NAME [--workspace ID] [--data DIR | --db URL]
  stocktrail station create --name NAME [--location ID] [--workspace ID] [--data DIR | --db URL]
  stocktrail inventory import FILE.csv|FILE.xlsx [--reason R] [--workspace ID] [--data DIR | --db URL]
  stocktrail inventory export --out FILE.xlsx|FILE.csv [--sku S] [--action A] [--from D] [--to D] [--data DIR | --db URL]
  stocktrail ledger public-key | rotate-key [--ledger-key FILE] [--data DIR | --db URL]
  stocktrail verify [--data DIR | --db URL] [--workspace ID] [--checkpoint FILE] [--key VERIFIERKEY ...]
  stocktrail verify --bundle FILE --key VERIFIERKEY
  stocktrail ledger bundle --out FILE [--log inventory_log|activity_events|all] [--workspace ID] [--data DIR | --db URL]
  stocktrail openapi  (prints the OpenAPI 3.1 description of /api/v1, as served at /api/v1/openapi.json)
  stocktrail bench [--entries N] [--items N] [--locations N] [--clients 16] [--seconds 10] [--data DIR | --db URL]

With no --db (or STOCKTRAIL_DB), data lives in embedded SQLite in --data
(default ./stocktrail-data). --db postgres://… uses PostgreSQL.
On PostgreSQL, migrate as the role that owns the tables with --grant-to the
role serve connects as, and again after every upgrade.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stocktrail:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout)
	case "workspace":
		return workspaceCommand(ctx, rest, stdout)
	case "user":
		return userCommand(ctx, rest, stdout)
	case "apikey":
		return apikeyCommand(ctx, rest, stdout)
	case "station":
		return stationCommand(ctx, rest, stdout)
	case "inventory":
		return inventoryCommand(ctx, rest, stdout)
	case "verify":
		return verifyCommand(ctx, rest, stdout)
	case "ledger":
		return ledgerCommand(ctx, rest, stdout)
	case "bench":
		return benchCommand(ctx, rest, stdout)
	case "bench-load": // the benchmark's client process (see benchload.go)
		return benchLoadCommand(ctx, rest, stdout)
	case "openapi":
		// The API description, for linters and client generators.
		doc, err := api.OpenAPIDocument()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", doc)
		return err
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// dbFlags are the flags every command that opens the database shares.
type dbFlags struct {
	data string
	url  string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", envOr("STOCKTRAIL_DATA", "stocktrail-data"), "folder for the embedded SQLite database")
	fs.StringVar(&d.url, "db", os.Getenv("STOCKTRAIL_DB"), "PostgreSQL URL (postgres://…); empty for embedded SQLite")
}

// open opens and migrates the database.
func (d *dbFlags) open(ctx context.Context) (*store.DB, error) { return d.openFor(ctx, false) }

// openToServe opens the database for serve: claimed first (one server per
// SQLite file, store.DB.ClaimServing), so that a second server stops
// before it migrates anything, then migrated.
func (d *dbFlags) openToServe(ctx context.Context) (*store.DB, error) { return d.openFor(ctx, true) }

func (d *dbFlags) openFor(ctx context.Context, serving bool) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{URL: d.url, DataDir: d.data})
	if err != nil {
		return nil, err
	}
	if serving {
		if err := db.ClaimServing(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	var roles roleList
	fs.Var(&roles, "grant-to", "PostgreSQL role(s) serve connects as: grant them what serve needs and nothing more (repeat or separate with commas)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrations applied (%s, %s)\n", db.Engine(), db.Location)
	for _, role := range roles {
		g, err := db.GrantRuntime(ctx, role)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "granted to %s: SELECT, INSERT on %d append-only tables (%s); SELECT, INSERT, UPDATE, DELETE on %d other tables; SELECT only on %s; USAGE on %d sequences; EXECUTE on %s\n",
			g.Role, len(g.AppendOnly), strings.Join(g.AppendOnly, ", "), len(g.ReadWrite), strings.Join(g.ReadOnly, ", "), len(g.Sequences), strings.Join(g.Functions, ", "))
	}
	return nil
}

// roleList is --grant-to: given several times, or once with commas.
type roleList []string

func (l *roleList) String() string { return strings.Join(*l, ",") }

func (l *roleList) Set(v string) error {
	for _, role := range strings.Split(v, ",") {
		role = strings.TrimSpace(role)
		if role == "" {
			return errors.New("empty role name")
		}
		*l = append(*l, role)
	}
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var d dbFlags
	var l ledgerFlags
	d.register(fs)
	l.register(fs)
	addr := fs.String("addr", envOr("STOCKTRAIL_ADDR", "127.0.0.1:8080"), "address to listen on")
	metricsAddr := fs.String("metrics-addr", os.Getenv("STOCKTRAIL_METRICS_ADDR"), "serve Prometheus metrics at /metrics on this address of their own (e.g. 127.0.0.1:9090); empty: not served apart")
	metricsToken := fs.String("metrics-token", os.Getenv("STOCKTRAIL_METRICS_TOKEN"), "serve Prometheus metrics at /metrics on the main address to callers sending this bearer token; empty: not served there")
	proxies := fs.String("trusted-proxy", os.Getenv("STOCKTRAIL_TRUSTED_PROXIES"), "comma-separated CIDRs of reverse proxies whose X-Forwarded-* headers are trusted")
	var ms mail.Settings
	fs.StringVar(&ms.BaseURL, "base-url", os.Getenv("STOCKTRAIL_BASE_URL"), "the install's public address, for links in e-mails (https://stock.example.com)")
	fs.StringVar(&ms.URL, "smtp-url", os.Getenv("STOCKTRAIL_SMTP_URL"), "SMTP server for e-mail notifications: smtp://user:password@host:587 (STARTTLS) or smtps://…:465; empty: no e-mail")
	fs.StringVar(&ms.From, "smtp-from", os.Getenv("STOCKTRAIL_SMTP_FROM"), "sender address of e-mail notifications")
	fs.StringVar(&ms.StartTLS, "smtp-starttls", os.Getenv("STOCKTRAIL_SMTP_STARTTLS"), "for smtp://: required (default), opportunistic or none")
	fs.StringVar(&ms.Timeout, "smtp-timeout", os.Getenv("STOCKTRAIL_SMTP_TIMEOUT"), "time limit of one delivery attempt (default 30s)")
	allowPrivate := fs.Bool("webhook-allow-private", os.Getenv("STOCKTRAIL_WEBHOOK_ALLOW_PRIVATE") == "1",
		"let webhooks reach loopback and private network addresses (link-local and cloud metadata addresses stay refused)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return err
	}
	mailConfig, err := mail.ParseConfig(ms)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := d.openToServe(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	authSvc := auth.New(db)
	created, password, err := authSvc.Bootstrap(ctx, os.Getenv("STOCKTRAIL_ADMIN_EMAIL"), os.Getenv("STOCKTRAIL_ADMIN_PASSWORD"))
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	sealer, err := l.sealer(ctx, &d, db, logger)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	// Every node checks the ledger: all of it at start and hourly, what was
	// sealed since every two minutes.
	monitor := &ledger.Monitor{DB: db, CheckpointLog: sealer.CheckpointLog, FullEvery: time.Hour, Logger: logger}
	go monitor.Run(ctx, 2*time.Minute)
	webhooks, err := notify.New(db, notify.Options{Policy: notify.AddressPolicy{AllowPrivate: *allowPrivate}, Logger: logger})
	if err != nil {
		return err
	}
	// Closed as shutdown begins: live feeds end, so Shutdown need not wait
	// for them (their clients resume with Last-Event-ID).
	streamsDone := make(chan struct{})
	measured := metrics.New(db)
	srv := server.New(server.Config{DB: db, Auth: authSvc, Logger: logger, TrustedProxies: trusted, Ledger: sealer, LedgerMonitor: monitor,
		Mail: mailConfig, Shutdown: streamsDone, Metrics: measured, MetricsToken: *metricsToken, Webhooks: webhooks})
	if *metricsAddr != "" {
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", measured.Handler())
		metricsServer := &http.Server{Addr: *metricsAddr, Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsServer.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics listener", "addr", *metricsAddr, "err", err)
			}
		}()
		defer metricsServer.Close()
	}
	observed := func(r *jobs.Runner) *jobs.Runner { r.Observe = measured.ObserveJob; return r }
	go idempotency.CleanupEvery(ctx, db, time.Hour, logger)
	go activity.IndexSearchEvery(ctx, db, time.Second, logger)
	httpServer := &http.Server{Addr: *addr, Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	httpServer.RegisterOnShutdown(func() { close(streamsDone) })
	errc := make(chan error, 1)
	go func() { errc <- httpServer.ListenAndServe() }()
	// Background jobs run on one elected node; stopped after the HTTP server.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); observed(jobs.New(db, logger)).Run(jobsCtx) }()
	// The ledger is sealed a few times a second, by one elected node.
	sealDone := make(chan struct{})
	go func() {
		defer close(sealDone)
		observed(jobs.Sealing(db, logger, sealer, 250*time.Millisecond)).Run(jobsCtx)
	}()
	// Alert rules read what was sealed, every second, on one elected node.
	alertsDone := make(chan struct{})
	go func() { defer close(alertsDone); observed(jobs.Alerts(db, logger, time.Second)).Run(jobsCtx) }()
	// E-mail is queued from the sealed sequence and sent by one elected node.
	mailDone := make(chan struct{})
	if mailConfig.Configured() {
		sender := &mail.Sender{DB: db, Config: mailConfig, Logger: logger}
		go func() { defer close(mailDone); observed(jobs.Mail(db, logger, sender, 2*time.Second)).Run(jobsCtx) }()
	} else {
		close(mailDone)
	}
	// Webhook deliveries: written by one elected node after each seal, sent
	// by River on every node (each attempt bounded by its timeout).
	fanoutDone := make(chan struct{})
	go func() {
		defer close(fanoutDone)
		observed(jobs.WebhookFanout(logger, webhooks, 500*time.Millisecond)).Run(jobsCtx)
	}()
	// Started on a context of its own: at shutdown Stop lets the attempts
	// under way finish (each bounded by its timeout) instead of cutting them.
	if err := webhooks.Start(context.WithoutCancel(jobsCtx)); err != nil {
		stopJobs()
		return fmt.Errorf("webhook deliveries: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		webhooks.Stop(stopCtx)
		stopJobs()
		<-jobsDone
		<-sealDone
		<-fanoutDone
		<-alertsDone
		<-mailDone
	}()

	fmt.Fprintf(stdout, "stocktrail is running on http://%s (database: %s, %s)\n", *addr, db.Engine(), db.Location)
	if mailConfig.Configured() {
		fmt.Fprintf(stdout, "E-mail notifications go out through %s:%d (%s) from %s.\n", mailConfig.Host, mailConfig.Port, mailConfig.Security(), mailConfig.From)
	}
	if created {
		email := envOr("STOCKTRAIL_ADMIN_EMAIL", "admin@stocktrail.local")
		if os.Getenv("STOCKTRAIL_ADMIN_PASSWORD") != "" {
			fmt.Fprintf(stdout, "First start: created admin %s with the password from STOCKTRAIL_ADMIN_PASSWORD.\n", email)
		} else {
			fmt.Fprintf(stdout, "First start: log in as %s with password %s\n(shown only this once; change it under Settings → Users)\n", email, password)
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	// Finish in-flight requests (and so every acknowledged write) before exit.
	fmt.Fprintln(stdout, "shutting down…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}

func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			if a, err := netip.ParseAddr(s); err == nil {
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy: %q is not an address or CIDR", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// describe turns a domain error into one line for the terminal.
func describe(err error) error {
	if e, ok := fault.As(err); ok && e.Kind != fault.Internal {
		return errors.New(e.Error())
	}
	return err
}
