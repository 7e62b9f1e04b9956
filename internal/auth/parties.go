package auth

import (
	"context"
	"sort"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
)

// Party is a responsible party as filters offer it: a user, a scanning
// station or an API key, by name. Gone marks a deleted user or a revoked
// station or key: their entries stay in the logs, so they stay choosable.
type Party struct {
	Kind actor.Kind
	ID   int64
	Name string
	Gone bool
}

// ListParties lists the workspace's users, stations and API keys by name,
// for the change log's and activity log's filters. Names only: whoever
// reads either log sees them there already, so this needs no more than
// that and is not itself recorded as a read of the user list.
func (s *Service) ListParties(ctx context.Context) ([]Party, error) {
	a, err := actor.RequireAny(ctx, actor.ViewInventory, actor.ViewActivity)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, `
		SELECT 'user', id, name, deleted_at IS NOT NULL FROM users WHERE workspace_id = $1
		UNION ALL SELECT 'station', id, name, revoked_at IS NOT NULL FROM stations WHERE workspace_id = $1
		UNION ALL SELECT 'api_key', id, name, revoked_at IS NOT NULL FROM api_keys WHERE workspace_id = $1
`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Party
	for rows.Next() {
		var p Party
		var kind string
		if err := rows.Scan(&kind, &p.ID, &p.Name, &p.Gone); err != nil {
			return nil, err
		}
		p.Kind = actor.Kind(kind)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sorted here, not in SQL, so both engines order names alike: by kind,
	// current before gone, then by name regardless of case.
	order := map[actor.Kind]int{actor.User: 0, actor.Station: 1, actor.APIKey: 2}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		if a.Gone != b.Gone {
			return !a.Gone
		}
		if la, lb := strings.ToLower(a.Name), strings.ToLower(b.Name); la != lb {
			return la < lb
		}
		return a.ID < b.ID
	})
	return out, nil
}
