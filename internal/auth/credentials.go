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

// APIKey is a credential for programs. The secret is shown once, at creation.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       actor.Role `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Secret is only set in the answer to CreateAPIKey.
	Secret string `json:"key,omitempty"`
}

// Station is a scanning station: a named identity bound to a location.
type Station struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	LocationID int64  `json:"location_id,omitempty"`
	// LocationPath names the location for people ("WH1/A-01"); set by
	// ListStations.
	LocationPath string     `json:"-"`
	Prefix       string     `json:"prefix"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	// Token is only set in the answer to CreateStation.
	Token string `json:"token,omitempty"`
}

func optionalTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.Time(v.Int64)
	return &t
}

func validateCredentialName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fault.Field("name", "required")
	case len(name) > 100:
		return "", fault.Field("name", "at most 100 characters")
	}
	return name, nil
}

// CreateAPIKey makes a key with the given role. An actor can only hand out
// a role it could itself be given, so a manager cannot mint an admin key.
func (s *Service) CreateAPIKey(ctx context.Context, name string, role actor.Role) (APIKey, error) {
	a, err := actor.Require(ctx, actor.ManageAPIKeys)
	if err != nil {
		return APIKey{}, err
	}
	name, err = validateCredentialName(name)
	if err != nil {
		return APIKey{}, err
	}
	if !role.Valid() {
		return APIKey{}, fault.Field("role", "must be admin, manager, operator or auditor")
	}
	secret, prefix := newSecret(apiKeyPrefix)
	k := APIKey{Name: name, Role: role, Prefix: prefix, CreatedBy: a.Name, CreatedAt: s.now(), Secret: secret}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_keys (workspace_id, name, role, prefix, key_hash, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, a.WorkspaceID, k.Name, string(k.Role), k.Prefix, hashToken(secret),
			k.CreatedBy, store.Micros(k.CreatedAt)).Scan(&k.ID); err != nil {
			return err
		}
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Authentication,
			EntityType: "api_keys", EntityID: fmt.Sprint(k.ID), New: map[string]any{"name": k.Name, "role": string(k.Role), "prefix": k.Prefix},
			Description: "API key " + k.Name + " created"})
		return err
	})
	return k, err
}

// ListAPIKeys returns the workspace's keys, newest first, revoked ones too.
func (s *Service) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	a, err := actor.Require(ctx, actor.ManageAPIKeys)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT id, name, role, prefix, created_by, created_at, last_used_at, revoked_at
		FROM api_keys WHERE workspace_id = $1 ORDER BY id DESC`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Prefix, &k.CreatedBy, &created, &used, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt, k.LastUsedAt, k.RevokedAt = store.Time(created), optionalTime(used), optionalTime(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey stops a key from working, at once and on every node.
func (s *Service) RevokeAPIKey(ctx context.Context, id int64) error {
	a, err := actor.Require(ctx, actor.ManageAPIKeys)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		var name string
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT name, revoked_at FROM api_keys WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id).Scan(&name, &revoked)
		if err != nil {
			return store.NotFound(err, "API key")
		}
		if revoked.Valid {
			return fault.New(fault.Conflict, "API key %q is already revoked", name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3`,
			store.Micros(s.now()), a.WorkspaceID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Revoke, Category: activity.Authentication,
			EntityType: "api_keys", EntityID: fmt.Sprint(id), Old: map[string]any{"revoked": false}, New: map[string]any{"revoked": true},
			Description: "API key " + name + " revoked"})
		return err
	})
}

// CreateStation registers a scanning station and returns its token once.
func (s *Service) CreateStation(ctx context.Context, name string, locationID int64) (Station, error) {
	a, err := actor.Require(ctx, actor.ManageStations)
	if err != nil {
		return Station{}, err
	}
	name, err = validateCredentialName(name)
	if err != nil {
		return Station{}, err
	}
	if locationID < 0 {
		return Station{}, fault.Field("location_id", "must be a location id")
	}
	token, prefix := newSecret(stationPrefix)
	st := Station{Name: name, LocationID: locationID, Prefix: prefix, CreatedAt: s.now(), Token: token}
	var loc any
	if locationID > 0 {
		loc = locationID
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if locationID > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM locations WHERE workspace_id = $1 AND id = $2 AND archived_at IS NULL`,
				a.WorkspaceID, locationID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fault.Field("location_id", "no such location")
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO stations (workspace_id, name, location_id, prefix, token_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, a.WorkspaceID, st.Name, loc, st.Prefix, hashToken(token),
			store.Micros(st.CreatedAt)).Scan(&st.ID)
		if store.IsUniqueViolation(err) {
			return &fault.Error{Kind: fault.Conflict, Message: "a station with this name already exists", Fields: map[string]string{"name": "already taken"}}
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Configuration,
			EntityType: "stations", EntityID: fmt.Sprint(st.ID), New: map[string]any{"name": st.Name, "location_id": locationID},
			Description: "scanning station " + st.Name + " created"})
		return err
	})
	return st, err
}

// ListStations returns the workspace's stations, revoked ones too.
func (s *Service) ListStations(ctx context.Context) ([]Station, error) {
	a, err := actor.Require(ctx, actor.ManageStations)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT s.id, s.name, COALESCE(s.location_id, 0), COALESCE(l.path, ''), s.prefix, s.created_at, s.last_used_at, s.revoked_at
		FROM stations s LEFT JOIN locations l ON l.workspace_id = s.workspace_id AND l.id = s.location_id
		WHERE s.workspace_id = $1 ORDER BY lower(s.name), s.id`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Station
	for rows.Next() {
		var st Station
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&st.ID, &st.Name, &st.LocationID, &st.LocationPath, &st.Prefix, &created, &used, &revoked); err != nil {
			return nil, err
		}
		st.CreatedAt, st.LastUsedAt, st.RevokedAt = store.Time(created), optionalTime(used), optionalTime(revoked)
		out = append(out, st)
	}
	return out, rows.Err()
}

// RevokeStation stops a station's token from working and ends its web
// sessions.
func (s *Service) RevokeStation(ctx context.Context, id int64) error {
	a, err := actor.Require(ctx, actor.ManageStations)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		var name string
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT name, revoked_at FROM stations WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id).Scan(&name, &revoked)
		if err != nil {
			return store.NotFound(err, "station")
		}
		if revoked.Valid {
			return fault.New(fault.Conflict, "station %q is already revoked", name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE stations SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3`,
			store.Micros(s.now()), a.WorkspaceID, id); err != nil {
			return err
		}
		// Its station screens are signed out with it.
		ended, err := endStationSessions(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Revoke, Category: activity.Configuration,
			EntityType: "stations", EntityID: fmt.Sprint(id), Old: map[string]any{"revoked": false},
			New:         map[string]any{"revoked": true, "web_sessions_ended": ended},
			Description: "scanning station " + name + " revoked"})
		return err
	})
}

// ResolveBearer turns an API key or station token into its actor. Stations
// act with the operator role, at their bound location.
func (s *Service) ResolveBearer(ctx context.Context, secret string) (actor.Actor, error) {
	unknown := fault.New(fault.Unauthorized, "unknown or revoked API key")
	if len(secret) > 200 {
		return actor.Actor{}, unknown
	}
	var table string
	switch {
	case strings.HasPrefix(secret, apiKeyPrefix):
		table = "api_keys"
	case strings.HasPrefix(secret, stationPrefix):
		table = "stations"
	default:
		return actor.Actor{}, unknown
	}
	var a actor.Actor
	var used, revoked sql.NullInt64
	var err error
	if table == "api_keys" {
		a.Kind = actor.APIKey
		err = s.DB.Read().QueryRowContext(ctx, `SELECT workspace_id, id, name, role, last_used_at, revoked_at FROM api_keys WHERE key_hash = $1`,
			hashToken(secret)).Scan(&a.WorkspaceID, &a.ID, &a.Name, &a.Role, &used, &revoked)
	} else {
		a.Kind, a.Role = actor.Station, actor.StationRole
		err = s.DB.Read().QueryRowContext(ctx, `SELECT workspace_id, id, name, COALESCE(location_id, 0), last_used_at, revoked_at FROM stations WHERE token_hash = $1`,
			hashToken(secret)).Scan(&a.WorkspaceID, &a.ID, &a.Name, &a.LocationID, &used, &revoked)
	}
	if errors.Is(err, sql.ErrNoRows) || revoked.Valid {
		return actor.Actor{}, unknown
	}
	if err != nil {
		return actor.Actor{}, err
	}
	// Record last use at most once a minute, so busy keys do not turn every
	// read into a write.
	now := s.now()
	if !used.Valid || now.Sub(store.Time(used.Int64)) > time.Minute {
		if _, err := s.DB.Exec(ctx, `UPDATE `+table+` SET last_used_at = $1 WHERE workspace_id = $2 AND id = $3`,
			store.Micros(now), a.WorkspaceID, a.ID); err != nil {
			return actor.Actor{}, err
		}
	}
	return a, nil
}
