package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Throttling (issue 14: an attacker could lock anyone out). Failures are
// counted per account and address together, per address, per account, and
// per trusted browser, over 15 minutes; past its limit a key is held back
// for a minute, doubling with each further failure up to 15 minutes. A
// browser that has logged in to the account before (a device cookie, as
// OWASP recommends) is only held back by its own failures: guesses from
// elsewhere, or from others behind the same proxy, never lock its person
// out.
const (
	throttleWindow      = 15 * time.Minute
	throttleFirstHold   = time.Minute
	throttleMaxHold     = 15 * time.Minute
	errBadCredentialMsg = "wrong e-mail or password"
)

// throttleKey is one count of failures and its limit.
type throttleKey struct {
	key   string
	limit int
}

// throttleKeys are the counts a login attempt is held back by and adds to:
// a browser the account knows only by its own, any other by its pair of
// account and address, its address and its account.
func throttleKeys(email, ip, device string) []throttleKey {
	if device != "" {
		return []throttleKey{{"device:" + hex.EncodeToString(hashToken(device)), 10}}
	}
	return []throttleKey{{"pair:" + email + "|" + ip, 5}, {"ip:" + ip, 20}, {"email:" + email, 50}}
}

// Session is a logged-in browser.
type Session struct {
	Token     string // only set by Login; the database keeps its hash
	CSRFToken string
	// DeviceToken, when set, is a new device cookie for this browser: it
	// logged in to the account, so the throttles others can trip for the
	// account or the address no longer hold it back (the database keeps
	// its hash).
	DeviceToken string
	User        User
	ExpiresAt   time.Time
}

// Login checks an e-mail and password and opens a session. Every outcome is
// recorded: LOGIN on success, LOGIN_FAILED (with the name that was tried)
// otherwise, committed even though nothing else changes.
func (s *Service) Login(ctx context.Context, email, password string) (Session, error) {
	req := actor.RequestFrom(ctx)
	email = strings.ToLower(strings.TrimSpace(email))
	now := s.now()
	device, err := s.trustedDevice(ctx, email, req.Device)
	if err != nil {
		return Session{}, err
	}
	keys := throttleKeys(email, req.IP, device)
	if wait, err := s.lockedFor(ctx, keys, now); err != nil {
		return Session{}, err
	} else if wait > 0 {
		var workspaceID, userID int64
		if u, _, err := userByEmail(ctx, s.DB.Read(), email); err == nil {
			workspaceID, userID = u.WorkspaceID, u.ID
		}
		s.recordFailedLogin(ctx, email, workspaceID, userID, "locked out after repeated failures", now)
		return Session{}, &fault.Error{Kind: fault.TooManyRequests, RetryAfter: int(wait.Seconds()) + 1,
			Message: fmt.Sprintf("too many failed logins; try again in %d minutes", int(wait.Minutes())+1)}
	}
	u, hash, err := userByEmail(ctx, s.DB.Read(), email)
	if errors.Is(err, sql.ErrNoRows) {
		verifyPassword(password, dummyHash)
		s.failLogin(ctx, keys, email, 0, 0, "unknown account", now)
		return Session{}, fault.New(fault.Unauthorized, errBadCredentialMsg)
	}
	if err != nil {
		return Session{}, err
	}
	if !verifyPassword(password, hash) {
		s.failLogin(ctx, keys, email, u.WorkspaceID, u.ID, "wrong password", now)
		return Session{}, fault.New(fault.Unauthorized, errBadCredentialMsg)
	}
	if u.Disabled {
		s.failLogin(ctx, keys, email, u.WorkspaceID, u.ID, "account disabled", now)
		return Session{}, fault.New(fault.Unauthorized, "this account is disabled; ask an admin")
	}
	sess := Session{Token: randomToken(32), CSRFToken: randomToken(32), User: u, ExpiresAt: now.Add(s.SessionIdle)}
	ctx = actor.With(ctx, actor.Actor{WorkspaceID: u.WorkspaceID, Kind: actor.User, ID: u.ID, Name: u.Name, Role: u.Role})
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (workspace_id, token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`, u.WorkspaceID, hashToken(sess.Token), u.ID, sess.CSRFToken,
			store.Micros(now), store.Micros(sess.ExpiresAt), req.IP, truncate(req.UserAgent, 512)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, keys[0].key); err != nil {
			return err
		}
		// device stays as the request sent it: this function may run again
		// (store.DB.InTx), and a second run must remember the new browser
		// too, not take the first run's cookie for a known one.
		sess.DeviceToken = ""
		if device == "" {
			sess.DeviceToken = randomToken(32)
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_devices (workspace_id, token_hash, user_id, created_at, last_used_at)
				VALUES ($1, $2, $3, $4, $4)`, u.WorkspaceID, hashToken(sess.DeviceToken), u.ID, store.Micros(now)); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE login_devices SET last_used_at = $1 WHERE token_hash = $2`,
			store.Micros(now), hashToken(device)); err != nil {
			return err
		}
		// The failures before this login are recorded before it.
		if err := flushLoginFailuresTx(ctx, tx, u.WorkspaceID, email, req.IP); err != nil {
			return err
		}
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Login, Category: activity.Authentication,
			EntityType: "users", EntityID: fmt.Sprint(u.ID), Description: u.Email + " logged in"})
		return err
	})
	return sess, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Service) lockedFor(ctx context.Context, keys []throttleKey, now time.Time) (time.Duration, error) {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.key
	}
	w := store.NewWhere(store.In(s.DB, "key", names))
	var until int64
	err := s.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(locked_until), 0) FROM login_throttle WHERE `+w.String(), w.Args...).Scan(&until)
	if err != nil {
		return 0, err
	}
	if wait := store.Time(until).Sub(now); wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// trustedDevice returns the device token of the request when it names a
// browser that has logged in to email's account before, and "" otherwise.
func (s *Service) trustedDevice(ctx context.Context, email, token string) (string, error) {
	if token == "" || len(token) > 128 {
		return "", nil
	}
	var n int
	err := s.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM login_devices d JOIN users u ON u.workspace_id = d.workspace_id AND u.id = d.user_id
		WHERE d.token_hash = $1 AND u.email = $2 AND u.deleted_at IS NULL`, hashToken(token), email).Scan(&n)
	if err != nil || n == 0 {
		return "", err
	}
	return token, nil
}

// failLogin counts a failure against each of keys, holding a key back once
// it passes its limit (a minute, doubling with each further failure, up to
// 15 minutes), and records the event.
func (s *Service) failLogin(ctx context.Context, keys []throttleKey, email string, workspaceID, userID int64, reason string, now time.Time) {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			windowStart := store.Micros(now.Add(-throttleWindow))
			var failures int
			if err := tx.QueryRowContext(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, $2, 0)
				ON CONFLICT (key) DO UPDATE SET
				  failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END,
				  window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END
				RETURNING failures`, k.key, store.Micros(now), windowStart).Scan(&failures); err != nil {
				return err
			}
			if failures < k.limit {
				continue
			}
			hold := throttleMaxHold
			if over := failures - k.limit; over < 5 {
				hold = min(throttleMaxHold, throttleFirstHold<<over)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET locked_until = $1 WHERE key = $2`,
				store.Micros(now.Add(hold)), k.key); err != nil {
				return err
			}
		}
		return s.recordFailedLoginTx(ctx, tx, email, workspaceID, userID, reason, now)
	})
	if err != nil {
		// The caller still answers "wrong password"; losing the count must
		// not turn a failed login into a server error.
		_ = err
	}
}

func (s *Service) recordFailedLogin(ctx context.Context, email string, workspaceID, userID int64, reason string, now time.Time) {
	_ = s.DB.InTx(ctx, func(tx *store.Tx) error {
		return s.recordFailedLoginTx(ctx, tx, email, workspaceID, userID, reason, now)
	})
}

// recordFailedLoginTx counts LOGIN_FAILED in the account's workspace (see
// noteFailedLogin: repeated refusals of one e-mail from one address become
// one event per window with their count); a name that matches no account
// goes to the first workspace, since an install normally has one and its
// admins need to see who tried.
func (s *Service) recordFailedLoginTx(ctx context.Context, tx *store.Tx, email string, workspaceID, userID int64, reason string, now time.Time) error {
	if workspaceID == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM workspaces ORDER BY id LIMIT 1`).Scan(&workspaceID); err != nil {
			return err
		}
	}
	return noteFailedLogin(ctx, tx, workspaceID, userID, email, actor.RequestFrom(ctx).IP, reason, now)
}

// Logout ends the session with the given token.
func (s *Service) Logout(ctx context.Context, token string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.User {
		return fault.New(fault.Unauthorized, "not logged in")
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
			return err
		}
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Logout, Category: activity.Authentication,
			EntityType: "users", EntityID: fmt.Sprint(a.ID), Description: a.Name + " logged out"})
		return err
	})
}

// ResolveSession returns the actor and CSRF token of a session cookie. An
// expired session is deleted and its expiry recorded.
func (s *Service) ResolveSession(ctx context.Context, token string) (actor.Actor, string, error) {
	if token == "" || len(token) > 100 {
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "not logged in")
	}
	now := s.now()
	var (
		sessionID, created, lastSeen, expires int64
		csrf                                  string
		u                                     User
		disabled                              int
		uc, uu                                int64
	)
	err := s.DB.Read().QueryRowContext(ctx, `SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.csrf_token,
		u.id, u.workspace_id, u.email, u.name, u.role, u.disabled, u.created_at, u.updated_at
		FROM sessions s JOIN users u ON u.workspace_id = s.workspace_id AND u.id = s.user_id
		WHERE s.token_hash = $1 AND u.deleted_at IS NULL`, hashToken(token)).
		Scan(&sessionID, &created, &lastSeen, &expires, &csrf, &u.ID, &u.WorkspaceID, &u.Email, &u.Name, &u.Role, &disabled, &uc, &uu)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "not logged in")
	}
	if err != nil {
		return actor.Actor{}, "", err
	}
	a := actor.Actor{WorkspaceID: u.WorkspaceID, Kind: actor.User, ID: u.ID, Name: u.Name, Role: u.Role}
	if disabled != 0 {
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "this account is disabled")
	}
	limits := sessionLimits{idle: s.SessionIdle, max: s.SessionMax}
	if limits.expired(now, created, expires) {
		if err := s.expireSession(actor.With(ctx, a), "sessions", u.WorkspaceID, sessionID, activity.Event{Action: activity.SessionExpired,
			Category: activity.Authentication, EntityType: "users", EntityID: fmt.Sprint(u.ID), Description: "session of " + u.Email + " expired"}); err != nil {
			return actor.Actor{}, "", err
		}
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "your session has expired; please log in again")
	}
	if newExpiry, due := limits.slide(now, created, lastSeen); due {
		if _, err := s.DB.Exec(ctx, `UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE workspace_id = $3 AND id = $4`,
			store.Micros(now), store.Micros(newExpiry), u.WorkspaceID, sessionID); err != nil {
			return actor.Actor{}, "", err
		}
	}
	return a, csrf, nil
}

// CheckCSRF compares a presented CSRF token with the session's in constant time.
func CheckCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// Bootstrap creates the first workspace and its admin when there is no
// workspace yet. It returns created=false when the install already has one.
// An empty password is replaced by a generated one, returned so that the
// caller can print it once.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (created bool, usedPassword string, err error) {
	if email == "" {
		email = "admin@stocktrail.local"
	}
	if password == "" {
		password = GeneratePassword()
	}
	ctx = actor.With(ctx, actor.SystemActor(0, "bootstrap"))
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		created = false // fn may run again (store.DB.InTx)
		n, err := workspace.Count(ctx, tx)
		if err != nil || n > 0 {
			return err
		}
		w, err := workspace.Create(ctx, tx, "My workspace", workspace.Enterprise)
		if err != nil {
			return err
		}
		ctx := actor.With(ctx, actor.SystemActor(w.ID, "bootstrap"))
		if _, err := s.createUser(ctx, tx, w.ID, NewUser{Email: email, Name: "Administrator", Role: actor.Admin, Password: password}); err != nil {
			return err
		}
		created = true
		return nil
	})
	return created, password, err
}
