package orders

import (
	"context"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Search finds up to limit orders whose number, party or party reference
// contains text (any case), the exact number first, then newest first. The
// orders come without their lines: a search lists them, it does not show
// them.
func Search(ctx context.Context, db *store.DB, text string, limit int) ([]Order, error) {
	who, err := actor.Require(ctx, actor.ViewOrders)
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
	rows, err := db.Read().QueryContext(ctx, `SELECT `+orderColumns+` FROM orders o
		WHERE o.workspace_id = $1 AND (LOWER(o.number) LIKE $2 ESCAPE '\' OR LOWER(o.party) LIKE $2 ESCAPE '\'
			OR LOWER(o.party_reference) LIKE $2 ESCAPE '\')
		ORDER BY CASE WHEN LOWER(o.number) = $3 THEN 0 ELSE 1 END, o.id DESC LIMIT $4`,
		who.WorkspaceID, "%"+store.EscapeLike(text)+"%", text, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
