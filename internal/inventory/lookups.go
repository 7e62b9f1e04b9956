package inventory

import (
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
	load := func(table, columns, filter string, keep func(row interface{ Scan(...any) error }) error, lists ...listCond) error {
		for _, list := range lists {
			if list.cond == "" {
				continue
			}
			w := store.NewWhere(`workspace_id = ?`, s.workspaceID).And(list.cond, list.arg)
			rows, err := s.tx.QueryContext(s.ctx, `SELECT `+columns+` FROM `+table+` WHERE `+w.String()+filter, w.Args...)
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
	if err := load("items", itemColumns, ` AND deleted_at IS NULL`, func(row interface{ Scan(...any) error }) error {
		it, err := scanItem(row)
		if err == nil {
			s.keepItem(it)
		}
		return err
	}, inList(s.tx, "id", itemIDs), inList(s.tx, "sku", skus)); err != nil {
		return err
	}
	return load("locations", locationColumns, ``, func(row interface{ Scan(...any) error }) error {
		loc, err := scanLocation(row)
		if err == nil {
			s.keepLocation(loc)
		}
		return err
	}, inList(s.tx, "id", locIDs), inList(s.tx, "path", paths))
}

// listCond is a list condition made by store.In and its argument; empty
// for an empty list, which needs no query.
type listCond struct {
	cond string
	arg  any
}

func inList[T int64 | string](tx *store.Tx, column string, values []T) listCond {
	if len(values) == 0 {
		return listCond{}
	}
	cond, arg := store.In(tx, column, values)
	return listCond{cond, arg}
}
