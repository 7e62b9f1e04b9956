package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
)

// LoginFailureWindow is how long repeated refusals of one (e-mail, address)
// pair are counted into one LOGIN_FAILED event. A flood writes at most two
// events per pair and window: the first failure at once (so alerting sees
// the attack begin), then one event carrying the count of the rest, written
// by the alerts node within about a second of the window's end
// (jobs.Alerts), so a failed-logins rule sees every attempt within about
// ten seconds. Four clients hammering for ten seconds once wrote 7,128
// events; now they write two or three per pair.
const LoginFailureWindow = 10 * time.Second

// A LOGIN_FAILED event's new_values: "email" and "reason" always; when the
// event covers more than the attempt that wrote it, also "attempts" (an
// integer; absent means 1), "first_at" and "last_at" (RFC 3339, UTC). Other
// areas (alert rules, reports) rely on these names: the sum of "attempts"
// over the events is the number of refused logins.
const (
	failedEmail    = "email"
	failedReason   = "reason"
	failedAttempts = "attempts"
	failedFirstAt  = "first_at"
	failedLastAt   = "last_at"
)

// noteFailedLogin counts one refused login of email from ip inside tx: the
// first of a window writes an event at once; later ones of the same window
// are counted in login_failure_windows; the first after the window writes
// one event for the attempts counted (if any) and opens a new window with an
// event of its own.
func noteFailedLogin(ctx context.Context, tx *store.Tx, workspaceID, userID int64, email, ip, reason string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO login_failure_windows
		(workspace_id, email, ip, user_id, window_start, pending, pending_first, pending_last, reasons)
		VALUES ($1, $2, $3, $4, $5, 0, 0, 0, '') ON CONFLICT (workspace_id, email, ip) DO NOTHING`,
		workspaceID, email, ip, userID, store.Micros(now))
	if err != nil {
		return fmt.Errorf("count failed login: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 1 {
		return recordFailedAttempt(ctx, tx, workspaceID, userID, email, reason)
	}
	var w failureWindow
	err = tx.QueryRowContext(ctx, `SELECT w.window_start, w.pending, w.pending_first, w.pending_last, w.reasons, w.user_id
		FROM login_failure_windows w WHERE w.workspace_id = $1 AND w.email = $2 AND w.ip = $3`+tx.ForUpdate("w"),
		workspaceID, email, ip).Scan(&w.start, &w.pending, &w.first, &w.last, &w.reasons, &w.userID)
	if err != nil {
		return fmt.Errorf("count failed login: %w", err)
	}
	if now.Before(store.Time(w.start).Add(LoginFailureWindow)) {
		first := w.first
		if w.pending == 0 {
			first = store.Micros(now)
		}
		_, err := tx.ExecContext(ctx, `UPDATE login_failure_windows SET pending = pending + 1, pending_first = $1,
			pending_last = $2, reasons = $3, user_id = $4 WHERE workspace_id = $5 AND email = $6 AND ip = $7`,
			first, store.Micros(now), addReason(w.reasons, reason), userID, workspaceID, email, ip)
		return err
	}
	if err := w.flush(ctx, tx, workspaceID, email, ip); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE login_failure_windows SET window_start = $1, pending = 0, pending_first = 0,
		pending_last = 0, reasons = '', user_id = $2 WHERE workspace_id = $3 AND email = $4 AND ip = $5`,
		store.Micros(now), userID, workspaceID, email, ip); err != nil {
		return err
	}
	return recordFailedAttempt(ctx, tx, workspaceID, userID, email, reason)
}

// failureWindow is a row of login_failure_windows.
type failureWindow struct {
	start, pending, first, last, userID int64
	reasons                             string
}

// flush writes the window's pending attempts (if any) as one event. The
// caller holds the row and resets or deletes it in the same transaction.
// The event is stamped when it is written, like every event (the daily
// rollups rely on it); the attempts' own times are in first_at and last_at.
func (w failureWindow) flush(ctx context.Context, tx *store.Tx, workspaceID int64, email, ip string) error {
	if w.pending == 0 {
		return nil
	}
	first, last := store.Time(w.first).UTC(), store.Time(w.last).UTC()
	reason := strings.ReplaceAll(w.reasons, ",", ", ")
	// Recorded now, not queued, so it precedes what the caller records next
	// (the login that ended the run, the failure that opens a new window).
	_, err := activity.Record(ctx, tx, activity.Event{WorkspaceID: workspaceID, ActorKind: "anonymous", ActorName: email,
		Action: activity.LoginFailed, Category: activity.Authentication, EntityType: "users", EntityID: userEntity(w.userID),
		IP: ip, New: map[string]any{failedEmail: email, failedReason: reason, failedAttempts: w.pending,
			failedFirstAt: first.Format(time.RFC3339), failedLastAt: last.Format(time.RFC3339)},
		Description: fmt.Sprintf("%d failed logins for %s from %s between %s and %s: %s", w.pending, email, ip,
			first.Format("2006-01-02 15:04:05"), last.Format("15:04:05 UTC"), reason)})
	return err
}

// recordFailedAttempt records one refused login as its own event.
func recordFailedAttempt(ctx context.Context, tx *store.Tx, workspaceID, userID int64, email, reason string) error {
	return activity.Note(ctx, tx, activity.Event{WorkspaceID: workspaceID, ActorKind: "anonymous", ActorName: email,
		Action: activity.LoginFailed, Category: activity.Authentication, EntityType: "users", EntityID: userEntity(userID),
		New: map[string]any{failedEmail: email, failedReason: reason}, Description: "failed login for " + email + ": " + reason})
}

// userEntity is the entity id of the account tried: empty when the e-mail
// matches none.
func userEntity(userID int64) string {
	if userID == 0 {
		return ""
	}
	return fmt.Sprint(userID)
}

// addReason adds reason to a comma-separated list of distinct reasons.
func addReason(reasons, reason string) string {
	list := strings.Split(reasons, ",")
	if reasons == "" {
		list = nil
	}
	if slices.Contains(list, reason) || len(list) >= 5 {
		return reasons
	}
	return strings.Join(append(list, reason), ",")
}

// flushLoginFailuresTx writes the pending attempts of one pair and forgets
// its window: a successful login ends the run of failures before it.
func flushLoginFailuresTx(ctx context.Context, tx *store.Tx, workspaceID int64, email, ip string) error {
	var w failureWindow
	err := tx.QueryRowContext(ctx, `SELECT w.window_start, w.pending, w.pending_first, w.pending_last, w.reasons, w.user_id
		FROM login_failure_windows w WHERE w.workspace_id = $1 AND w.email = $2 AND w.ip = $3`+tx.ForUpdate("w"),
		workspaceID, email, ip).Scan(&w.start, &w.pending, &w.first, &w.last, &w.reasons, &w.userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := w.flush(ctx, tx, workspaceID, email, ip); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM login_failure_windows WHERE workspace_id = $1 AND email = $2 AND ip = $3`,
		workspaceID, email, ip)
	return err
}

// FlushLoginFailures writes one event for each window that ended with
// attempts counted but not yet recorded, and forgets windows that ended with
// none; it returns the number of events written. Run by a background job, so
// the count of a flood that stopped reaches the log (and alert rules) within
// a window and a tick. Each window is its own transaction, re-read under
// its row lock, so two runs at once write no attempt twice.
func FlushLoginFailures(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	cutoff := store.Micros(now.Add(-LoginFailureWindow))
	rows, err := db.Read().QueryContext(ctx, `SELECT workspace_id, email, ip FROM login_failure_windows
		WHERE pending > 0 AND window_start <= $1 ORDER BY window_start LIMIT 1000`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("stale login failure windows: %w", err)
	}
	type pair struct {
		ws        int64
		email, ip string
	}
	var stale []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.ws, &p.email, &p.ip); err != nil {
			rows.Close()
			return 0, err
		}
		stale = append(stale, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	written := 0
	for _, p := range stale {
		wrote := false
		err := db.InTx(ctx, func(tx *store.Tx) error {
			wrote = false
			var w failureWindow
			err := tx.QueryRowContext(ctx, `SELECT w.window_start, w.pending, w.pending_first, w.pending_last, w.reasons, w.user_id
				FROM login_failure_windows w WHERE w.workspace_id = $1 AND w.email = $2 AND w.ip = $3`+tx.ForUpdate("w"),
				p.ws, p.email, p.ip).Scan(&w.start, &w.pending, &w.first, &w.last, &w.reasons, &w.userID)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			if w.pending == 0 || w.start > cutoff {
				return nil // flushed by a login or a failure meanwhile
			}
			if err := w.flush(ctx, tx, p.ws, p.email, p.ip); err != nil {
				return err
			}
			wrote = true
			_, err = tx.ExecContext(ctx, `DELETE FROM login_failure_windows WHERE workspace_id = $1 AND email = $2 AND ip = $3`,
				p.ws, p.email, p.ip)
			return err
		})
		if err != nil {
			return written, fmt.Errorf("flush failed logins of %s from %s: %w", p.email, p.ip, err)
		}
		if wrote {
			written++
		}
	}
	// Windows that ended with nothing pending hold nothing worth keeping.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failure_windows WHERE pending = 0 AND window_start <= $1`, cutoff)
		return err
	})
	return written, err
}
