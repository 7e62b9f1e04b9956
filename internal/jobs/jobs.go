// Package jobs runs background work (inventory schedules, activity rollups,
// activity retention; alerts and sealing can join) on one elected node. On PostgreSQL a node
// becomes the runner by taking a session advisory lock
// (pg_try_advisory_lock); the others keep trying, so when the leader stops
// or loses its connection another takes over within a tick. On SQLite there
// is one process, which always runs them. Jobs must be idempotent anyway
// (a leader can lose its lock mid-run), and the ones here are.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/retention"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// LeaderLockKey is the advisory lock that elects the jobs node.
const LeaderLockKey int64 = 0x5374_4a6f_6273 // "StJobs"

// SealerLockKey elects the node that seals the ledger. It is a lock of its
// own so that sealing, which runs every fraction of a second, never waits
// behind a long job.
const SealerLockKey int64 = 0x5374_5365_616c // "StSeal"

// WebhooksLockKey elects the node that fans newly sealed entries out to
// webhook deliveries; a lock of its own so deliveries follow the seal
// within a second, whatever the other jobs are doing.
const WebhooksLockKey int64 = 0x5374_5768_6b73 // "StWhks"
// MailLockKey elects the node that queues and sends e-mail: a lock of its
// own, so a slow SMTP server never delays the other jobs.
const MailLockKey int64 = 0x5374_4d61_696c // "StMail"

// Job is one piece of background work, run every tick on the leader.
type Job struct {
	Name string
	Run  func(ctx context.Context) error
}

// Runner runs jobs on the elected node until its context ends.
type Runner struct {
	DB     *store.DB
	Logger *slog.Logger
	Jobs   []Job
	// Tick is how often jobs run (and followers retry the election).
	Tick time.Duration
	// LockKey is the election's advisory lock (LeaderLockKey when zero).
	LockKey int64
	// Observe, when set, hears of every job run (metrics).
	Observe func(job string, took time.Duration, err error)
	// Ticks, when set, replaces the clock: the runner works once for each
	// value received, and not at start (tests drive it step by step).
	Ticks <-chan time.Time
}

// New returns a runner of the standard jobs.
func New(db *store.DB, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{DB: db, Logger: logger, Tick: 30 * time.Second, Jobs: []Job{InventorySchedules(db, logger), ActivityRollups(db, logger), ActivityRetention(db, logger)}}
}

// Sealing returns the runner that seals the ledger every interval on the
// node elected for it.
func Sealing(db *store.DB, logger *slog.Logger, sealer *ledger.Sealer, interval time.Duration) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{DB: db, Logger: logger, Tick: interval, LockKey: SealerLockKey, Jobs: []Job{{Name: "ledger-seal", Run: func(ctx context.Context) error {
		_, err := sealer.Seal(ctx)
		return err
	}}}}
}

// WebhookFanout returns the runner that writes the webhook deliveries of
// newly sealed entries every interval, on the node elected for it (the
// deliveries themselves are sent by River on every node).
func WebhookFanout(logger *slog.Logger, webhooks *notify.Webhooks, interval time.Duration) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	var pruned time.Time
	return &Runner{DB: webhooks.DB(), Logger: logger, Tick: interval, LockKey: WebhooksLockKey, Jobs: []Job{
		{Name: "webhook-fanout", Run: func(ctx context.Context) error {
			_, err := webhooks.Fanout(ctx)
			return err
		}},
		// Deliveries finished over 30 days ago go, a batch at a time, hourly
		// until none is left.
		{Name: "webhook-prune", Run: func(ctx context.Context) error {
			if time.Since(pruned) < time.Hour {
				return nil
			}
			n, err := webhooks.PruneDeliveries(ctx, time.Now())
			if err == nil && n == 0 {
				pruned = time.Now()
			}
			if n > 0 {
				logger.InfoContext(ctx, "old webhook deliveries removed", "count", n)
			}
			return err
		}},
	}}
}

// mailFollowBatch is how many sealed entries the mail consumer reads per
// transaction.
const mailFollowBatch = 200

// Mail returns the runner that, every interval on the node elected for it,
// queues an e-mail for each newly sealed ALERT_RAISED event (the "mail"
// consumer of the sealed sequence) and sends the outbox's due messages.
func Mail(db *store.DB, logger *slog.Logger, sender *mail.Sender, interval time.Duration) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	consume := mail.Consume(sender.Config, time.Now)
	return &Runner{DB: db, Logger: logger, Tick: interval, LockKey: MailLockKey, Jobs: []Job{
		{Name: "mail-queue", Run: func(ctx context.Context) error {
			_, err := ledger.Follow(ctx, db, mail.ConsumerName, mailFollowBatch, consume)
			return err
		}},
		{Name: "mail-send", Run: func(ctx context.Context) error {
			_, err := sender.SendDue(ctx)
			return err
		}},
	}}
}

// InventorySchedules creates the due sessions of every schedule.
func InventorySchedules(db *store.DB, logger *slog.Logger) Job {
	if logger == nil {
		logger = slog.Default()
	}
	return Job{Name: "inventory-schedules", Run: func(ctx context.Context) error {
		n, err := assets.RunSchedules(ctx, db, time.Now())
		if n > 0 {
			logger.InfoContext(ctx, "scheduled inventory sessions created", "count", n)
		}
		return err
	}}
}

// rollupDaysPerTick caps the days rolled up per workspace per tick, so the
// first run over a long log is spread over several ticks (a year in about
// twelve) instead of holding the leader for minutes.
const rollupDaysPerTick = 31

// ActivityRollups rolls up the closed days of the activity log into daily
// counts (activity.RollupDays), which the audit-log summary reads.
func ActivityRollups(db *store.DB, logger *slog.Logger) Job {
	if logger == nil {
		logger = slog.Default()
	}
	return Job{Name: "activity-rollups", Run: func(ctx context.Context) error {
		n, err := activity.RollupDays(ctx, db, time.Now(), rollupDaysPerTick, businessHours(db))
		if n > 0 {
			logger.InfoContext(ctx, "activity days rolled up", "days", n)
		}
		return err
	}}
}

// LoginFailures writes the count of failed logins still pending in windows
// that have ended (auth.FlushLoginFailures), so a flood that stopped is in
// the log, with every attempt counted, within a window and a tick. It runs
// on the alerts node (Alerts), whose rules read those counts.
func LoginFailures(db *store.DB, logger *slog.Logger) Job {
	if logger == nil {
		logger = slog.Default()
	}
	return Job{Name: "login-failures", Run: func(ctx context.Context) error {
		n, err := auth.FlushLoginFailures(ctx, db, time.Now())
		if n > 0 {
			logger.InfoContext(ctx, "coalesced failed logins recorded", "events", n)
		}
		return err
	}}
}

// ActivityRetention purges the activity events each workspace's plan no
// longer keeps (retention.Purge), after the rollups so a day is rolled up
// before its events go. A long backlog is spread over ticks by the pass's
// time budget.
func ActivityRetention(db *store.DB, logger *slog.Logger) Job {
	if logger == nil {
		logger = slog.Default()
	}
	return Job{Name: "activity-retention", Run: func(ctx context.Context) error {
		res, err := retention.Purge(ctx, db, time.Now(), retention.Options{})
		if res.Events > 0 {
			logger.InfoContext(ctx, "expired activity events purged", "events", res.Events, "batches", res.Batches, "done", res.Done)
		}
		return err
	}}
}

// businessHours reads a workspace's business hours (its settings) for the
// rollups' after-hours counts, as the system acting in that workspace.
func businessHours(db *store.DB) activity.HoursOf {
	return func(ctx context.Context, workspaceID int64) (activity.BusinessHours, error) {
		ctx = actor.With(ctx, actor.Actor{WorkspaceID: workspaceID, Kind: actor.System, Name: "activity rollups"})
		ws, err := workspace.Get(ctx, db)
		if err != nil {
			return nil, err
		}
		return ws.Settings, nil
	}
}

// Run blocks until ctx is done, then returns once the job under way (if
// any) has finished and the leadership is released: a graceful stop.
func (r *Runner) Run(ctx context.Context) {
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	tick := r.Tick
	if tick <= 0 {
		tick = 30 * time.Second
	}
	var lead *store.Leadership
	defer func() {
		if lead != nil {
			lead.Release()
		}
	}()
	ticks := r.Ticks
	var timer *time.Timer
	if ticks == nil {
		timer = time.NewTimer(0)
		defer timer.Stop()
		ticks = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		if ctx.Err() != nil {
			return
		}
		if lead != nil && !lead.Alive(ctx) {
			if ctx.Err() != nil {
				// Stopped during the check: the ping failed for that, not
				// because the lock was lost.
				return
			}
			r.Logger.WarnContext(ctx, "lost the jobs leadership")
			lead.Release()
			lead = nil
		}
		if lead == nil {
			var err error
			key := r.LockKey
			if key == 0 {
				key = LeaderLockKey
			}
			if lead, err = r.DB.TryLead(ctx, key); err != nil && ctx.Err() == nil {
				r.Logger.ErrorContext(ctx, "jobs election", "err", err)
			}
		}
		if lead != nil {
			r.runAll(ctx)
		}
		if timer != nil {
			timer.Reset(tick)
		}
	}
}

// runAll runs every job once, in order, stopping early on shutdown.
func (r *Runner) runAll(ctx context.Context) {
	for _, j := range r.Jobs {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		err := j.Run(ctx)
		if r.Observe != nil && ctx.Err() == nil {
			r.Observe(j.Name, time.Since(start), err)
		}
		if err != nil && ctx.Err() == nil {
			r.Logger.ErrorContext(ctx, "job failed", "job", j.Name, "err", err, "took_ms", time.Since(start).Milliseconds())
		}
	}
}
