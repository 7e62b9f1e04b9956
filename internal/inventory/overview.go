package inventory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Shortage is an item whose available stock, summed over every location,
// is below its minimum level.
type Shortage struct {
	ItemID    int64    `json:"item_id"`
	SKU       string   `json:"sku"`
	Name      string   `json:"name"`
	Unit      string   `json:"unit"`
	Scale     int      `json:"-"`
	MinLevel  Quantity `json:"min_level"`
	Available Quantity `json:"available"`
}

// MinLevelText and AvailableText format with the unit's decimals.
func (s Shortage) MinLevelText() string  { return s.MinLevel.Format(s.Scale) }
func (s Shortage) AvailableText() string { return s.Available.Format(s.Scale) }

// ShortfallText is how much is missing to reach the minimum.
func (s Shortage) ShortfallText() string { return (s.MinLevel - s.Available).Format(s.Scale) }

// BelowMinimum returns up to limit items whose available stock (on hand
// less allocated, over all locations) is below their minimum level, the
// largest shortfall first, and how many items are below it in all.
func BelowMinimum(ctx context.Context, r store.Reader, limit int) ([]Shortage, int, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	// Only items with a minimum are read (a partial index holds them), each
	// with its few stock_levels rows.
	rows, err := r.Read().QueryContext(ctx, `SELECT i.id, i.sku, i.name, i.unit, i.unit_scale, i.min_level,
			COALESCE(SUM(s.quantity - s.allocated), 0) AS available
		FROM items i LEFT JOIN stock_levels s ON s.workspace_id = i.workspace_id AND s.item_id = i.id
		WHERE i.workspace_id = $1 AND i.min_level IS NOT NULL AND i.deleted_at IS NULL
		GROUP BY i.id, i.sku, i.name, i.unit, i.unit_scale, i.min_level
		HAVING COALESCE(SUM(s.quantity - s.allocated), 0) < i.min_level
		ORDER BY i.min_level - COALESCE(SUM(s.quantity - s.allocated), 0) DESC, i.sku`, a.WorkspaceID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Shortage
	total := 0
	for rows.Next() {
		total++
		var s Shortage
		if err := rows.Scan(&s.ItemID, &s.SKU, &s.Name, &s.Unit, &s.Scale, &s.MinLevel, &s.Available); err != nil {
			return nil, 0, err
		}
		if len(out) < limit {
			out = append(out, s)
		}
	}
	return out, total, rows.Err()
}

// LevelPoint is one change of an item's level at one location: the level
// before and after the entry, as the log recorded it.
type LevelPoint struct {
	EntryID    int64     `json:"entry_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Before     Quantity  `json:"before"`
	After      Quantity  `json:"after"`
}

// LevelSeries is an item's level over time at one location.
type LevelSeries struct {
	LocationID   int64        `json:"location_id"`
	LocationPath string       `json:"location_path"`
	Points       []LevelPoint `json:"points"`
}

// LevelHistory returns the item's level after each of its latest limit
// change-log entries, one series per location in path order, oldest point
// first. The levels are those the log recorded (what the system showed at
// each moment, by recording time). Complete reports whether the entries
// reach back to the item's first.
func LevelHistory(ctx context.Context, db *store.DB, itemID int64, limit int) (series []LevelSeries, complete bool, err error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, false, err
	}
	if _, err := getItem(ctx, db.Read(), a.WorkspaceID, itemID); err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, location_id, location_path, recorded_at, change, location_level
		FROM inventory_log WHERE workspace_id = $1 AND item_id = $2 ORDER BY id DESC LIMIT $3`, a.WorkspaceID, itemID, limit+1)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	byLocation := map[int64]int{}
	n := 0
	for rows.Next() {
		n++
		if n > limit {
			break
		}
		var p LevelPoint
		var loc int64
		var path string
		var recorded int64
		var change Quantity
		if err := rows.Scan(&p.EntryID, &loc, &path, &recorded, &change, &p.After); err != nil {
			return nil, false, err
		}
		p.RecordedAt, p.Before = store.Time(recorded), p.After-change
		i, ok := byLocation[loc]
		if !ok {
			i = len(series)
			byLocation[loc] = i
			// The newest entry names the location by its latest path.
			series = append(series, LevelSeries{LocationID: loc, LocationPath: path})
		}
		series[i].Points = append(series[i].Points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	for i := range series {
		pts := series[i].Points
		for l, r := 0, len(pts)-1; l < r; l, r = l+1, r-1 {
			pts[l], pts[r] = pts[r], pts[l]
		}
	}
	slices.SortFunc(series, func(x, y LevelSeries) int { return strings.Compare(x.LocationPath, y.LocationPath) })
	return series, n <= limit, nil
}

// Found is what the search of the inventory found: items by SKU or name,
// locations by code, path or name.
type Found struct {
	Items     []Item     `json:"items"`
	Locations []Location `json:"locations"`
}

// Search finds up to limit items and limit locations matching text (any
// case, anywhere in the SKU, name, code or path), exact matches first, then
// those starting with it.
func Search(ctx context.Context, r store.Reader, text string, limit int) (Found, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return Found{}, err
	}
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return Found{}, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	q := r.Read()
	like, prefix := "%"+store.EscapeLike(text)+"%", store.EscapeLike(text)+"%"
	rows, err := q.QueryContext(ctx, `SELECT `+itemColumns+` FROM items
		WHERE workspace_id = $1 AND deleted_at IS NULL AND (LOWER(sku) LIKE $2 ESCAPE '\' OR LOWER(name) LIKE $2 ESCAPE '\')
		ORDER BY CASE WHEN LOWER(sku) = $3 THEN 0 WHEN LOWER(sku) LIKE $4 ESCAPE '\' THEN 1 ELSE 2 END, sku LIMIT $5`,
		a.WorkspaceID, like, text, prefix, limit)
	if err != nil {
		return Found{}, err
	}
	var out Found
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return Found{}, err
		}
		out.Items = append(out.Items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Found{}, err
	}
	rows, err = q.QueryContext(ctx, `SELECT `+locationColumns+` FROM locations
		WHERE workspace_id = $1 AND archived_at IS NULL AND (LOWER(path) LIKE $2 ESCAPE '\' OR LOWER(name) LIKE $2 ESCAPE '\')
		ORDER BY CASE WHEN LOWER(code) = $3 OR LOWER(path) = $3 THEN 0 WHEN LOWER(code) LIKE $4 ESCAPE '\' THEN 1 ELSE 2 END, path LIMIT $5`,
		a.WorkspaceID, like, text, prefix, limit)
	if err != nil {
		return Found{}, err
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return Found{}, err
		}
		out.Locations = append(out.Locations, l)
	}
	return out, rows.Err()
}
