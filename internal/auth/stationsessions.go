package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// A station's web session lives longer than a user's: the screen is mounted
// at a bench and should not ask for its token every morning. Revoking the
// station ends it at once.
const (
	StationSessionIdle = 7 * 24 * time.Hour
	StationSessionMax  = 30 * 24 * time.Hour
)

const errBadStationToken = "unknown or revoked station token"

// StationSession is a browser signed in as a scanning station.
type StationSession struct {
	Token     string // only set by StationSignIn; the database keeps its hash
	CSRFToken string
	Station   Station
	ExpiresAt time.Time
}

// StationSignIn checks a station token and opens a web session acting as
// that station. A good token is recorded (LOGIN, by the station) in the
// session's transaction; a bad one changes nothing and, as with bearer
// tokens, records nothing: tokens are 256-bit secrets, so there is nothing to
// throttle and no name to show.
func (s *Service) StationSignIn(ctx context.Context, token string) (StationSession, error) {
	token = strings.TrimSpace(token)
	bad := fault.Field("token", errBadStationToken)
	if token == "" {
		return StationSession{}, fault.Field("token", "paste or scan the station's token (sts_…)")
	}
	if !strings.HasPrefix(token, stationPrefix) || len(token) > 200 {
		return StationSession{}, bad
	}
	var st Station
	var created int64
	var wsID int64
	var revoked sql.NullInt64
	err := s.DB.Read().QueryRowContext(ctx, `SELECT workspace_id, id, name, COALESCE(location_id, 0), prefix, created_at, revoked_at
		FROM stations WHERE token_hash = $1`, hashToken(token)).
		Scan(&wsID, &st.ID, &st.Name, &st.LocationID, &st.Prefix, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked.Valid {
		return StationSession{}, bad
	}
	if err != nil {
		return StationSession{}, err
	}
	st.CreatedAt = store.Time(created)
	now := s.now()
	sess := StationSession{Token: randomToken(32), CSRFToken: randomToken(32), Station: st, ExpiresAt: now.Add(StationSessionIdle)}
	req := actor.RequestFrom(ctx)
	ctx = actor.With(ctx, stationActor(wsID, st))
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Revoked between the read and now: the update finds nothing.
		res, err := tx.ExecContext(ctx, `UPDATE stations SET last_used_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL`,
			store.Micros(now), wsID, st.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bad
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO station_sessions (workspace_id, token_hash, station_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`, wsID, hashToken(sess.Token), st.ID, sess.CSRFToken,
			store.Micros(now), store.Micros(sess.ExpiresAt), req.IP, truncate(req.UserAgent, 512)); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Login, Category: activity.Authentication,
			EntityType: "stations", EntityID: fmt.Sprint(st.ID), New: map[string]any{"prefix": st.Prefix},
			Description: "scanning station " + st.Name + " signed in at the station screen"})
		return err
	})
	if err != nil {
		return StationSession{}, err
	}
	return sess, nil
}

// stationActor is the responsible party of a station: the operator role, at
// its bound location (as for its bearer token).
func stationActor(workspaceID int64, st Station) actor.Actor {
	return actor.Actor{WorkspaceID: workspaceID, Kind: actor.Station, ID: st.ID, Name: st.Name, Role: actor.StationRole, LocationID: st.LocationID}
}

// ResolveStationSession returns the station actor and CSRF token of a
// station session cookie. It reads the station on every request, so a
// revoked station is signed out on its next request. An expired session is
// deleted and its expiry recorded.
func (s *Service) ResolveStationSession(ctx context.Context, token string) (actor.Actor, string, error) {
	signedOut := fault.New(fault.Unauthorized, "this screen is not signed in as a station")
	if token == "" || len(token) > 100 {
		return actor.Actor{}, "", signedOut
	}
	now := s.now()
	var (
		sessionID, wsID, created, lastSeen, expires int64
		csrf                                        string
		st                                          Station
		revoked                                     sql.NullInt64
	)
	err := s.DB.Read().QueryRowContext(ctx, `SELECT s.id, s.workspace_id, s.created_at, s.last_seen_at, s.expires_at, s.csrf_token,
		st.id, st.name, COALESCE(st.location_id, 0), st.revoked_at
		FROM station_sessions s JOIN stations st ON st.workspace_id = s.workspace_id AND st.id = s.station_id
		WHERE s.token_hash = $1`, hashToken(token)).
		Scan(&sessionID, &wsID, &created, &lastSeen, &expires, &csrf, &st.ID, &st.Name, &st.LocationID, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.Actor{}, "", signedOut
	}
	if err != nil {
		return actor.Actor{}, "", err
	}
	if revoked.Valid {
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "this station has been revoked; ask a manager for a new token")
	}
	a := stationActor(wsID, st)
	limits := sessionLimits{idle: StationSessionIdle, max: StationSessionMax}
	if limits.expired(now, created, expires) {
		if err := s.expireSession(actor.With(ctx, a), "station_sessions", wsID, sessionID, activity.Event{Action: activity.SessionExpired,
			Category: activity.Authentication, EntityType: "stations", EntityID: fmt.Sprint(st.ID),
			Description: "station screen session of " + st.Name + " expired"}); err != nil {
			return actor.Actor{}, "", err
		}
		return actor.Actor{}, "", fault.New(fault.Unauthorized, "the station's session has expired; sign in again")
	}
	// Slide the idle expiry and the station's last use together.
	if newExpiry, due := limits.slide(now, created, lastSeen); due {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE station_sessions SET last_seen_at = $1, expires_at = $2 WHERE workspace_id = $3 AND id = $4`,
				store.Micros(now), store.Micros(newExpiry), wsID, sessionID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE stations SET last_used_at = $1 WHERE workspace_id = $2 AND id = $3`, store.Micros(now), wsID, st.ID)
			return err
		})
		if err != nil {
			return actor.Actor{}, "", err
		}
	}
	return a, csrf, nil
}

// StationSignOut ends the station session with the given token.
func (s *Service) StationSignOut(ctx context.Context, token string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Station {
		return fault.New(fault.Unauthorized, "not signed in as a station")
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM station_sessions WHERE workspace_id = $1 AND station_id = $2 AND token_hash = $3`,
			a.WorkspaceID, a.ID, hashToken(token))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Logout, Category: activity.Authentication,
			EntityType: "stations", EntityID: fmt.Sprint(a.ID), Description: "scanning station " + a.Name + " signed out of the station screen"})
		return err
	})
}

// StationDraft returns the draft kept with the calling station's session
// (the station screen keeps the batch being scanned there; auth does not
// read it).
func (s *Service) StationDraft(ctx context.Context, token string) (string, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Station {
		return "", fault.New(fault.Unauthorized, "not signed in as a station")
	}
	var draft string
	err := s.DB.Read().QueryRowContext(ctx, `SELECT draft FROM station_sessions WHERE workspace_id = $1 AND station_id = $2 AND token_hash = $3`,
		a.WorkspaceID, a.ID, hashToken(token)).Scan(&draft)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.New(fault.Unauthorized, "this screen is not signed in as a station")
	}
	return draft, err
}

// MaxStationDraft caps the size of a station session's draft.
const MaxStationDraft = 64 << 10

// SetStationDraft replaces the draft kept with the calling station's session.
func (s *Service) SetStationDraft(ctx context.Context, token, draft string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Station {
		return fault.New(fault.Unauthorized, "not signed in as a station")
	}
	if len(draft) > MaxStationDraft {
		return fault.New(fault.TooLarge, "the batch is too large; submit it first")
	}
	res, err := s.DB.Exec(ctx, `UPDATE station_sessions SET draft = $1 WHERE workspace_id = $2 AND station_id = $3 AND token_hash = $4`,
		draft, a.WorkspaceID, a.ID, hashToken(token))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.Unauthorized, "this screen is not signed in as a station")
	}
	return nil
}

// endStationSessions deletes every web session of a station (when it is
// revoked) and says how many there were.
func endStationSessions(ctx context.Context, tx *store.Tx, workspaceID, stationID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM station_sessions WHERE workspace_id = $1 AND station_id = $2`, workspaceID, stationID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
