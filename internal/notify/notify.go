// Package notify sends the workspace's events out: webhooks that follow
// the Standard Webhooks convention (signature.go), subscribed to streams of
// activity events by category, change-log entries by action type and
// alerts, as our JSON envelope or, for activity events, as OCSF (payload.go,
// docs/webhooks.md).
//
// Nothing between a commit and its delivery is lost: every change-log entry
// and activity event is sealed into the ledger's sequence, and the fan-out
// (Fanout, a ledger.Follow consumer on the elected jobs node) writes one
// delivery per matching endpoint and format into the outbox
// (webhook_deliveries) in the transaction that advances its cursor,
// together with the River job that sends it. The job POSTs with a bounded
// timeout, records every attempt, and is retried with capped exponential
// backoff until it succeeds or runs out of attempts (deliver.go). Every
// change to an endpoint is an audited configuration event; the secret is
// never logged.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/stocktrail/stocktrail/internal/store"
)

// Options tune a Webhooks service; zero values take the defaults.
type Options struct {
	Policy AddressPolicy
	// Timeout bounds one delivery attempt, connection to last byte of the
	// answer read (default 10 s): a hanging receiver costs at most this.
	Timeout time.Duration
	// MaxAttempts is how many times a delivery is tried before it is
	// marked failed (default 10).
	MaxAttempts int
	// RetryBase is the wait after the first failure, doubled after each
	// further one up to RetryCap (defaults 30 s and 6 h: ten attempts span
	// about four hours).
	RetryBase, RetryCap time.Duration
	// PollInterval is how often idle workers look for due deliveries
	// (default 1 s).
	PollInterval time.Duration
	// Workers is how many deliveries one node sends at once (default 16).
	// An endpoint that is slow to answer (an attempt under way for over a
	// second) gets at most a quarter of them, so a hanging receiver with a
	// backlog cannot hold up the others; fast endpoints are not capped.
	Workers int
	Logger  *slog.Logger
}

// Webhooks is the webhook service of one node: its pages and API change
// endpoints through it, and Start makes the node send deliveries.
type Webhooks struct {
	db     *store.DB
	opts   Options
	client *http.Client
	queue  *river.Client[*sql.Tx]
	// inFlight holds the start times of this node's attempts under way,
	// per endpoint.
	mu       sync.Mutex
	inFlight map[int64][]time.Time
}

// queueName is River's queue for webhook deliveries.
const queueName = "webhooks"

// New returns the service; it sends nothing until Start.
func New(db *store.DB, opts Options) (*Webhooks, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 30 * time.Second
	}
	if opts.RetryCap <= 0 {
		opts.RetryCap = 6 * time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Webhooks{db: db, opts: opts, client: newHTTPClient(opts.Policy, opts.Timeout), inFlight: map[int64][]time.Time{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliveryWorker{w: w}); err != nil {
		return nil, err
	}
	cooldown := min(100*time.Millisecond, opts.PollInterval)
	q, err := river.NewClient(db.QueueDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{queueName: {MaxWorkers: opts.Workers}},
		Workers:           workers,
		FetchPollInterval: opts.PollInterval,
		FetchCooldown:     cooldown,
		// The attempt itself is bounded by Timeout; River's own limit only
		// catches a worker that is stuck in the database.
		JobTimeout:  opts.Timeout + time.Minute,
		MaxAttempts: opts.MaxAttempts,
		RetryPolicy: backoff{base: opts.RetryBase, limit: opts.RetryCap},
		// River reports every retry and periodic counts at INFO; our own
		// tables and pages show the attempts, so only its warnings are logged.
		Logger: slog.New(warningsOnly{opts.Logger.Handler()}).With("component", "webhooks-queue"),
		// Deliveries and their attempts are kept in our own tables; River's
		// finished job rows are only bookkeeping.
		CompletedJobRetentionPeriod: time.Hour,
		DiscardedJobRetentionPeriod: 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook queue: %w", err)
	}
	w.queue = q
	return w, nil
}

// DB is the database the service works on.
func (w *Webhooks) DB() *store.DB { return w.db }

// Start makes this node send deliveries until ctx ends or Stop.
func (w *Webhooks) Start(ctx context.Context) error { return w.queue.Start(ctx) }

// Stop lets the attempts under way finish (each is bounded by Timeout)
// and stops sending.
func (w *Webhooks) Stop(ctx context.Context) error {
	err := w.queue.Stop(ctx)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// backoff is the retry policy: RetryBase after the first failure, doubled
// after each further one, at most RetryCap.
type backoff struct{ base, limit time.Duration }

func (b backoff) wait(attempt int) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.limit; i++ {
		d *= 2
	}
	return min(d, b.limit)
}

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.wait(job.Attempt))
}

// warningsOnly passes on records of level WARN and above.
type warningsOnly struct{ slog.Handler }

func (h warningsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warningsOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warningsOnly{h.Handler.WithAttrs(attrs)}
}

func (h warningsOnly) WithGroup(name string) slog.Handler {
	return warningsOnly{h.Handler.WithGroup(name)}
}

// slowAfter is how long an attempt may run before its endpoint counts as
// slow, and is capped to slowShare of the workers.
const slowAfter = time.Second

// take reserves an attempt for the endpoint, unless it is slow and has its
// share of attempts under way; it returns the reservation to release.
func (w *Webhooks) take(endpointID int64) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	running := w.inFlight[endpointID]
	if len(running) >= max(1, w.opts.Workers/4) {
		for _, began := range running {
			if now.Sub(began) > slowAfter {
				return time.Time{}, false
			}
		}
	}
	w.inFlight[endpointID] = append(running, now)
	return now, true
}

func (w *Webhooks) release(endpointID int64, began time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	running := w.inFlight[endpointID]
	for i, t := range running {
		if t.Equal(began) {
			running = append(running[:i], running[i+1:]...)
			break
		}
	}
	if len(running) == 0 {
		delete(w.inFlight, endpointID)
	} else {
		w.inFlight[endpointID] = running
	}
}
