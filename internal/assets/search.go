package assets

import (
	"context"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Search finds up to limit assets whose tag or name contains text (any
// case), the exact tag first, then tags starting with it: what the header's
// search box shows as one types.
func Search(ctx context.Context, db *store.DB, text string, limit int) ([]Asset, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT `+assetColumns+assetFrom+`
		WHERE a.workspace_id = $1 AND (LOWER(a.tag) LIKE $2 ESCAPE '\' OR LOWER(a.name) LIKE $2 ESCAPE '\')
		ORDER BY CASE WHEN LOWER(a.tag) = $3 THEN 0 WHEN LOWER(a.tag) LIKE $4 ESCAPE '\' THEN 1 ELSE 2 END, a.tag LIMIT $5`,
		who.WorkspaceID, "%"+store.EscapeLike(text)+"%", text, store.EscapeLike(text)+"%", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Asset
	for rows.Next() {
		a, err := scanAsset(rows, who.WorkspaceID)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
