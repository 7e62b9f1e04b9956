package inventory

import (
	"encoding/json"
	"strings"

	"github.com/stocktrail/stocktrail/internal/store"
)

// A batch of movements names the same items and locations again and again,
// and on PostgreSQL every lookup is a round trip. The movements of one
// transaction share what they have read (items and locations do not change
// under a movement), and a batch reads the items and locations it names up
// front, one query for each kind of reference.
type lookups struct {
	items  map[int64]Item
	skus   map[string]int64
	locs   map[int64]Location
	paths  map[string]int64
	primed bool
}

func (l *lookups) keepItem(it Item) {
	if l.items == nil {
		l.items, l.skus = map[int64]Item{}, map[string]int64{}
	}
	l.items[it.ID], l.skus[it.SKU] = it, it.ID
}

func (l *lookups) keepLocation(loc Location) {
	if l.locs == nil {
		l.locs, l.paths = map[int64]Location{}, map[string]int64{}
	}
	l.locs[loc.ID], l.paths[loc.Path] = loc, loc.ID
}

func (l *lookups) itemByID(id int64) (Item, bool) {
	it, ok := l.items[id]
	return it, ok
}

func (l *lookups) itemBySKU(sku string) (Item, bool) {
	id, ok := l.skus[sku]
	if !ok {
		return Item{}, false
	}
	return l.itemByID(id)
}

func (l *lookups) locationByID(id int64) (Location, bool) {
	loc, ok := l.locs[id]
	return loc, ok
}

func (l *lookups) locationByPath(path string) (Location, bool) {
	id, ok := l.paths[path]
	if !ok {
		return Location{}, false
	}
	return l.locationByID(id)
}

// referrer is a movement that names items and locations directly.
type referrer interface {
	refs() ([]ItemRef, []LocationRef)
}

func (m *Receipt) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.ItemRef}, []LocationRef{m.LocationRef}
}
func (m *Issue) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.ItemRef}, []LocationRef{m.LocationRef}
}
func (m *Move) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.ItemRef}, []LocationRef{m.LocationRef, {LocationID: m.ToLocationID, Location: m.ToLocation}}
}
func (m *Correction) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.ItemRef}, []LocationRef{m.LocationRef}
}
func (m *Reconciliation) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.ItemRef}, []LocationRef{m.LocationRef}
}

// prime reads, in at most four queries, the items and locations that the
// movements name. What it does not find is left for the movement's own
// lookup, which reports it.
func (s *txState) prime(ms []Movement) error {
	if s.primed {
		return nil
	}
	s.primed = true
	var itemIDs, locIDs []int64
	var skus, paths []string
	for _, m := range ms {
		r, ok := m.(referrer)
		if !ok {
			continue
		}
		items, locs := r.refs()
		for _, ref := range items {
			if ref.ItemID != 0 {
				itemIDs = append(itemIDs, ref.ItemID)
			} else if sku := strings.TrimSpace(ref.SKU); sku != "" {
				skus = append(skus, sku)
			}
		}
		for _, ref := range locs {
			if ref.LocationID != 0 {
				locIDs = append(locIDs, ref.LocationID)
			} else if path := strings.TrimSpace(ref.Location); path != "" {
				paths = append(paths, path)
			}
		}
	}
	load := func(ids []int64, names []string, table, columns, nameColumn, filter string, keep func(row interface{ Scan(...any) error }) error) error {
		for _, q := range []struct {
			column string
			values any
			n      int
		}{{"id", ids, len(ids)}, {nameColumn, names, len(names)}} {
			if q.n == 0 {
				continue
			}
			rows, err := s.tx.QueryContext(s.ctx, `SELECT `+columns+` FROM `+table+` WHERE workspace_id = $1 AND `+q.column+` `+s.inList(q.values)+filter,
				s.workspaceID, sqlList(s.tx.Engine(), q.values))
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := keep(rows); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := load(itemIDs, skus, "items", itemColumns, "sku", ` AND deleted_at IS NULL`, func(row interface{ Scan(...any) error }) error {
		it, err := scanItem(row)
		if err == nil {
			s.keepItem(it)
		}
		return err
	}); err != nil {
		return err
	}
	return load(locIDs, paths, "locations", locationColumns, "path", ``, func(row interface{ Scan(...any) error }) error {
		loc, err := scanLocation(row)
		if err == nil {
			s.keepLocation(loc)
		}
		return err
	})
}

// inList is the condition that a column is one of the list given as $2:
// an array on PostgreSQL, a JSON array on SQLite, so the statement's text is
// the same whatever the list's length.
func (s *txState) inList(values any) string {
	if s.tx.Engine() == store.Postgres {
		if _, ok := values.([]int64); ok {
			return `= ANY($2::bigint[])`
		}
		return `= ANY($2::text[])`
	}
	return `IN (SELECT value FROM json_each($2))`
}

func sqlList(engine store.Engine, values any) any {
	if engine == store.Postgres {
		return values
	}
	b, _ := json.Marshal(values)
	return string(b)
}
