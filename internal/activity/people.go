package activity

import (
	"context"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Person is a user as filters offer it.
type Person struct {
	ID      int64
	Name    string
	Deleted bool
}

// People lists the workspace's users, deleted ones too (their events stay),
// for the user filter of the activity log.
func People(ctx context.Context, db *store.DB) ([]Person, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return nil, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, name, deleted_at IS NOT NULL FROM users
		WHERE workspace_id = $1 ORDER BY lower(name), id`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Name, &p.Deleted); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
