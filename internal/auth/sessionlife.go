package auth

import (
	"context"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
)

// User and station sessions live by the same rules: an idle limit that
// slides with use (written at most once a minute) and an absolute limit
// from sign-in; an expired session is deleted and its expiry recorded once.

// sessionLimits are a kind of session's idle and absolute lifetimes.
type sessionLimits struct{ idle, max time.Duration }

// expired reports whether a session created at created, whose idle expiry
// is expires (stored microseconds), has ended at now.
func (l sessionLimits) expired(now time.Time, created, expires int64) bool {
	return now.UnixMicro() >= expires || now.Sub(store.Time(created)) >= l.max
}

// slide returns the new idle expiry when the session was last seen more
// than a minute ago, capped by the absolute limit; ok is false when no write
// is due yet.
func (l sessionLimits) slide(now time.Time, created, lastSeen int64) (expiry time.Time, ok bool) {
	if now.Sub(store.Time(lastSeen)) <= time.Minute {
		return time.Time{}, false
	}
	expiry = now.Add(l.idle)
	if max := store.Time(created).Add(l.max); expiry.After(max) {
		expiry = max
	}
	return expiry, true
}

// expireSession deletes session id from table and records ev (a
// SESSION_EXPIRED event, with the session's party in ctx) in the same
// transaction; when a concurrent request got there first it records
// nothing.
func (s *Service) expireSession(ctx context.Context, table string, workspaceID, id int64, ev activity.Event) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another request already recorded it
		}
		_, err = activity.Record(ctx, tx, ev)
		return err
	})
}
