package auth

import (
	"context"
	"errors"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// WorkspaceInput is a new workspace and its first admin, as the install's
// operator creates them (stocktrail workspace create).
type WorkspaceInput struct {
	Name       string
	Plan       workspace.Plan
	AdminEmail string
	// AdminName defaults to "Administrator".
	AdminName string
	// AdminPassword is the first admin's password; the caller generates one
	// (GeneratePassword) and prints it once.
	AdminPassword string
}

// CreateWorkspace creates a workspace and its first admin in one
// transaction: the operator's work, refused to every workspace member.
// E-mail addresses are unique across the install (logging in finds the
// workspace by e-mail), so an address in use anywhere is refused.
func (s *Service) CreateWorkspace(ctx context.Context, in WorkspaceInput) (workspace.Workspace, User, error) {
	op, err := workspace.RequireOperator(ctx)
	if err != nil {
		return workspace.Workspace{}, User{}, err
	}
	if in.AdminName == "" {
		in.AdminName = "Administrator"
	}
	f := fault.Fields{}
	if in.AdminEmail == "" {
		f.Add("admin_email", "required: the first admin's e-mail address, with which they log in")
	}
	admin := NewUser{Email: in.AdminEmail, Name: in.AdminName, Role: actor.Admin, Password: in.AdminPassword}
	if in.AdminEmail != "" {
		if _, err := admin.validate(); err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) {
				for field, msg := range fe.Fields {
					f.Add("admin_"+field, msg)
				}
			}
		}
	}
	if !in.Plan.Valid() {
		f.Add("plan", "must be starter, business or enterprise")
	}
	if in.Name == "" {
		f.Add("name", "required")
	}
	if err := f.Err(); err != nil {
		return workspace.Workspace{}, User{}, err
	}
	var w workspace.Workspace
	var u User
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if w, err = workspace.Create(ctx, tx, in.Name, in.Plan); err != nil {
			return err
		}
		u, err = s.createUser(workspace.AsOperatorIn(ctx, op, w.ID), tx, w.ID, admin)
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Fields["email"] != "" {
			return fault.Field("admin_email", "already used by a user of this install (an e-mail address logs in to one workspace)")
		}
		return err
	})
	return w, u, err
}
