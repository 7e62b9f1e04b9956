package auth

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// User is a person who logs in.
type User struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        actor.Role `json:"role"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// values are what activity events show of a user (never the password hash).
func (u User) values() map[string]any {
	return map[string]any{"email": u.Email, "name": u.Name, "role": string(u.Role), "disabled": u.Disabled}
}

// NewUser is what it takes to create a user.
type NewUser struct {
	Email    string     `json:"email"`
	Name     string     `json:"name"`
	Role     actor.Role `json:"role"`
	Password string     `json:"password"`
}

func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", fault.Field("email", "required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", fault.Field("email", "not a valid e-mail address")
	}
	return email, nil
}

func validateUserName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fault.Field("name", "required")
	}
	if len(name) > 200 {
		return "", fault.Field("name", "at most 200 characters")
	}
	if err := plaintext.Line("name", name); err != nil {
		return "", err
	}
	return name, nil
}

func (n NewUser) validate() (NewUser, error) {
	f := fault.Fields{}
	var err error
	if n.Email, err = normalizeEmail(n.Email); err != nil {
		f.Add("email", err.(*fault.Error).Fields["email"])
	}
	if n.Name, err = validateUserName(n.Name); err != nil {
		f.Add("name", err.(*fault.Error).Fields["name"])
	}
	if !n.Role.Valid() {
		f.Add("role", "must be admin, manager, operator or auditor")
	}
	if err := validatePassword(n.Password); err != nil {
		f.Add("password", err.(*fault.Error).Fields["password"])
	}
	return n, f.Err()
}

// CreateUser adds a user to the actor's workspace.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (User, error) {
	a, err := actor.Require(ctx, actor.ManageUsers)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		u, err = s.createUser(ctx, tx, a.WorkspaceID, n)
		return err
	})
	return u, err
}

// createUser inserts a user and records it; callers check permissions.
func (s *Service) createUser(ctx context.Context, tx *store.Tx, workspaceID int64, n NewUser) (User, error) {
	n, err := n.validate()
	if err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(n.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{WorkspaceID: workspaceID, Email: n.Email, Name: n.Name, Role: n.Role, CreatedAt: now, UpdatedAt: now}
	err = tx.QueryRowContext(ctx, `INSERT INTO users (workspace_id, email, name, role, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, workspaceID, u.Email, u.Name, string(u.Role), hash, store.Micros(now)).Scan(&u.ID)
	if store.IsUniqueViolation(err) {
		return User{}, &fault.Error{Kind: fault.Conflict, Message: "a user with this e-mail already exists", Fields: map[string]string{"email": "already taken"}}
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	_, err = activity.Record(ctx, tx, activity.Event{WorkspaceID: workspaceID, Action: activity.Create, Category: activity.Users,
		EntityType: "users", EntityID: fmt.Sprint(u.ID), New: u.values(), Description: "user " + u.Email + " created"})
	return u, err
}

const userColumns = `id, workspace_id, email, name, role, disabled, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var disabled int
	var created, updated int64
	if err := row.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &u.Role, &disabled, &created, &updated); err != nil {
		return User{}, err
	}
	u.Disabled = disabled != 0
	u.CreatedAt, u.UpdatedAt = store.Time(created), store.Time(updated)
	return u, nil
}

// ListUsers returns the workspace's users (not deleted), by name, and
// records that they were listed.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	a, err := actor.Require(ctx, actor.ManageUsers)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY lower(name), id`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The user list is sensitive data: reading it is recorded (one event per
	// listing, with the number of users shown).
	err = activity.RecordNow(ctx, s.DB, activity.Event{Action: activity.Read, Category: activity.Users, EntityType: "users",
		New: map[string]any{"rows": len(out)}, Description: fmt.Sprintf("listed %d users", len(out))})
	return out, err
}

// GetUser returns one user of the actor's workspace.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	a, err := actor.Require(ctx, actor.ManageUsers)
	if err != nil {
		return User{}, err
	}
	return getUser(ctx, s.DB.Read(), a.WorkspaceID, id)
}

func getUser(ctx context.Context, q store.Querier, workspaceID, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`, workspaceID, id))
	return u, store.NotFound(err, "user")
}

// UserChange edits a user; nil fields stay as they are.
type UserChange struct {
	Name     *string     `json:"name"`
	Role     *actor.Role `json:"role"`
	Disabled *bool       `json:"disabled"`
	Password *string     `json:"password"`
}

// UpdateUser edits a user. A role change is recorded as its own event with
// the old and new role; a password change records that it happened, never
// the password. The last active admin cannot be demoted or disabled.
func (s *Service) UpdateUser(ctx context.Context, id int64, c UserChange) (User, error) {
	a, err := actor.Require(ctx, actor.ManageUsers)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		old, err := getUser(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		u := old
		f := fault.Fields{}
		if c.Name != nil {
			if u.Name, err = validateUserName(*c.Name); err != nil {
				f.Add("name", err.(*fault.Error).Fields["name"])
			}
		}
		if c.Role != nil {
			if !c.Role.Valid() {
				f.Add("role", "must be admin, manager, operator or auditor")
			}
			u.Role = *c.Role
		}
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		var hash string
		if c.Password != nil {
			if err := validatePassword(*c.Password); err != nil {
				f.Add("password", err.(*fault.Error).Fields["password"])
			} else if hash, err = s.hashPassword(*c.Password); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if old.Role == actor.Admin && !old.Disabled && (u.Role != actor.Admin || u.Disabled) {
			if err := requireAnotherAdmin(ctx, tx, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		u.UpdatedAt = s.now()
		disabled := 0
		if u.Disabled {
			disabled = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, role = $2, disabled = $3, updated_at = $4 WHERE workspace_id = $5 AND id = $6`,
			u.Name, string(u.Role), disabled, store.Micros(u.UpdatedAt), a.WorkspaceID, id); err != nil {
			return err
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE workspace_id = $2 AND id = $3`, hash, a.WorkspaceID, id); err != nil {
				return err
			}
			if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.PasswordChange, Category: activity.Users,
				EntityType: "users", EntityID: fmt.Sprint(id), Description: "password of " + u.Email + " changed"}); err != nil {
				return err
			}
		}
		if u.Disabled {
			// A disabled user is logged out everywhere at once.
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2`, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		if old.Role != u.Role {
			if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.RoleChange, Category: activity.Users,
				EntityType: "users", EntityID: fmt.Sprint(id), Old: map[string]any{"role": string(old.Role)}, New: map[string]any{"role": string(u.Role)},
				Description: fmt.Sprintf("role of %s changed from %s to %s", u.Email, old.Role, u.Role)}); err != nil {
				return err
			}
		}
		oldV, newV := old.values(), u.values()
		delete(oldV, "role")
		delete(newV, "role")
		if before, after := activity.Changes(oldV, newV); len(after) > 0 {
			if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Users,
				EntityType: "users", EntityID: fmt.Sprint(id), Old: before, New: after, Description: "user " + u.Email + " updated"}); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

func requireAnotherAdmin(ctx context.Context, tx *store.Tx, workspaceID, exceptID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND role = 'admin'
		AND disabled = 0 AND deleted_at IS NULL AND id <> $2`, workspaceID, exceptID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fault.New(fault.Conflict, "this is the last active admin of the workspace; make another user admin first")
	}
	return nil
}

// DeleteUser removes a user from the workspace. The row is kept (marked
// deleted) so that the trail still resolves who did what.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	a, err := actor.Require(ctx, actor.ManageUsers)
	if err != nil {
		return err
	}
	if a.Kind == actor.User && a.ID == id {
		return fault.New(fault.Conflict, "you cannot delete your own account")
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		u, err := getUser(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		if u.Role == actor.Admin && !u.Disabled {
			if err := requireAnotherAdmin(ctx, tx, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET deleted_at = $1 WHERE workspace_id = $2 AND id = $3`,
			store.Micros(s.now()), a.WorkspaceID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2`, a.WorkspaceID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Delete, Category: activity.Users,
			EntityType: "users", EntityID: fmt.Sprint(id), Old: u.values(), Description: "user " + u.Email + " deleted"})
		return err
	})
}

// userByEmail finds a live user for login; sql.ErrNoRows if none.
func userByEmail(ctx context.Context, q store.Querier, email string) (User, string, error) {
	var hash string
	var u User
	var disabled int
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1 AND deleted_at IS NULL`, email).
		Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &u.Role, &disabled, &created, &updated, &hash)
	if err != nil {
		return User{}, "", err
	}
	u.Disabled = disabled != 0
	u.CreatedAt, u.UpdatedAt = store.Time(created), store.Time(updated)
	return u, hash, nil
}
