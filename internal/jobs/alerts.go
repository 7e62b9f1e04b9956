package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/store"
)

// AlertsLockKey elects the node that evaluates alert rules. It is a lock of
// its own so that alerts, evaluated every second as entries are sealed,
// never wait behind a long job.
const AlertsLockKey int64 = 0x5374_416c_7274 // "StAlrt"

// Alerts returns the runner that evaluates the alert rules against newly
// sealed entries every interval (about a second) on the node elected for it.
// It first writes the counts of failed logins whose coalescing window has
// ended, so the failed-logins rules see every attempt within a window and a
// tick instead of waiting for the standard jobs' slower tick.
func Alerts(db *store.DB, logger *slog.Logger, interval time.Duration) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{DB: db, Logger: logger, Tick: interval, LockKey: AlertsLockKey, Jobs: []Job{
		LoginFailures(db, logger),
		{Name: "alert-rules", Run: func(ctx context.Context) error {
			_, err := alerts.Follow(ctx, db)
			return err
		}},
	}}
}
