package inventory

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/stocktrail/stocktrail/internal/store"
)

// readAhead reads the records that a batch's movements name before the
// first of them runs, in one statement, and on PostgreSQL locks them in id
// order, then the item-location levels of those records and of the
// receipts' targets, in key order.
//
// Locks taken one by one as the movements run, in the batch's own order,
// let two batches that touch the same records in other orders deadlock;
// PostgreSQL notices only after deadlock_timeout (a second) and one of them
// starts again. Measured with 16 clients sending batches of 100 receipts
// over 100,000 records: a deadlock every few seconds. And each movement's
// own read of its record was a round trip; the records read here are
// handed to the first movement that asks for each (takeAhead).
//
// It runs after prime, so the names in the movements resolve from the
// lookups; a reference it cannot resolve is skipped and the movement's own
// lookup reports it.
func (s *txState) readAhead(ms []Movement) error {
	var ids, keyItems, keyLocs []int64
	var keyLots []string
	allocating := false
	byKey := func(itemRef ItemRef, locRef LocationRef, lot string) {
		it, ok := s.resolveItem(itemRef)
		if !ok {
			return
		}
		loc, ok := s.resolveLocation(locRef)
		if !ok {
			return
		}
		keyItems, keyLocs, keyLots = append(keyItems, it), append(keyLocs, loc), append(keyLots, strings.TrimSpace(lot))
	}
	byRef := func(ref RecordRef) {
		if ref.RecordID != 0 {
			ids = append(ids, ref.RecordID)
			return
		}
		byKey(ref.ItemRef, ref.LocationRef, ref.Lot)
	}
	for _, m := range ms {
		switch m := m.(type) {
		case *Receipt:
			byKey(m.ItemRef, m.LocationRef, m.Lot)
		case *Issue:
			byRef(m.RecordRef)
		case *Move:
			byRef(m.RecordRef)
		case *Correction:
			byRef(m.RecordRef)
		case *Reconciliation:
			byRef(m.RecordRef)
		case *Allocate:
			byRef(m.Record)
			allocating = true
		case *Release:
			byRef(m.Record)
			allocating = true
		case *Ship:
			byRef(m.Record)
			allocating = true
		case bulkSet:
			byKey(ItemRef{SKU: m.row.SKU}, LocationRef{Location: m.row.Location}, m.row.Lot)
		}
	}
	if len(ids) == 0 && len(keyItems) == 0 {
		return nil
	}
	args := store.Pick(s.tx, func() []any {
		keys := make([][3]any, len(keyItems))
		for i := range keyItems {
			keys[i] = [3]any{keyItems[i], keyLocs[i], keyLots[i]}
		}
		b, err := json.Marshal(keys)
		if err != nil {
			// Numbers and strings always marshal.
			panic(err)
		}
		return []any{s.workspaceID, store.ListValue(s.tx, ids), string(b)}
	}, func() []any {
		return []any{s.workspaceID, store.ListValue(s.tx, ids), keyItems, keyLocs, keyLots}
	})()
	rows, err := s.tx.QueryContext(s.ctx, store.Pick(s.tx, readAheadSQLite, readAheadPostgres), args...)
	if err != nil {
		return err
	}
	type pair struct{ item, loc int64 }
	var pairs []pair
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			rows.Close()
			return err
		}
		s.keepAhead(r)
		pairs = append(pairs, pair{r.ItemID, r.LocationID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if allocating {
		if err := s.readHolders(); err != nil {
			return err
		}
	}
	// The levels are locked here, in key order, because concurrent writers
	// taking them movement by movement would deadlock (as records would).
	// Locked, they change only by this transaction, which is what lets its
	// writes be held. A single writer needs neither.
	if !s.tx.ConcurrentWriters() {
		return nil
	}
	for i := range keyItems {
		pairs = append(pairs, pair{keyItems[i], keyLocs[i]})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.loc, b.loc))
	})
	pairs = slices.Compact(pairs)
	items, locs := make([]int64, len(pairs)), make([]int64, len(pairs))
	for i, p := range pairs {
		items[i], locs[i] = p.item, p.loc
	}
	lrows, err := s.tx.QueryContext(s.ctx, `SELECT l.item_id, l.location_id, l.quantity FROM stock_levels l
		JOIN unnest($2::bigint[], $3::bigint[]) AS w (item_id, location_id)
			ON l.workspace_id = $1 AND l.item_id = w.item_id AND l.location_id = w.location_id
		ORDER BY l.item_id, l.location_id FOR UPDATE OF l`, s.workspaceID, items, locs)
	if err != nil {
		return err
	}
	defer lrows.Close()
	// Locked, these levels change only by this transaction's movements:
	// their writes can be held (heldwrites.go).
	s.held = newHeld()
	for lrows.Next() {
		var item, loc, level int64
		if err := lrows.Scan(&item, &loc, &level); err != nil {
			return err
		}
		s.knowLevel(item, loc, level)
	}
	return lrows.Err()
}

// readAheadPostgres and readAheadSQLite read the live records of
// workspace $1 whose ids are in $2 or whose item, location and lot are in
// $3, $4, $5 (PostgreSQL arrays) or $3 (a JSON array of [item, location,
// lot] on SQLite). PostgreSQL's locks them in id order.
const readAheadPostgres = recordSelect + ` WHERE r.workspace_id = $1 AND r.deleted_at IS NULL AND r.id IN (
			SELECT unnest($2::bigint[])
			UNION
			SELECT k.id FROM unnest($3::bigint[], $4::bigint[], $5::text[]) AS w (item_id, location_id, lot)
			CROSS JOIN LATERAL (SELECT id FROM inventory_records x WHERE x.workspace_id = $1 AND x.item_id = w.item_id
				AND x.location_id = w.location_id AND x.lot = w.lot AND x.deleted_at IS NULL) AS k)
		ORDER BY r.id FOR UPDATE OF r`

// CROSS JOIN fixes SQLite's join order: from the lists to the records.
// Left to itself it scanned the workspace's records and probed the lists
// (seconds a batch at 100,000 records).
const readAheadSQLite = `SELECT ` + recordColumns + ` FROM (
			SELECT value AS id FROM json_each($2)
			UNION
			SELECT x.id FROM json_each($3) AS w CROSS JOIN inventory_records x WHERE x.workspace_id = $1
				AND x.item_id = w.value ->> 0 AND x.location_id = w.value ->> 1 AND x.lot = w.value ->> 2 AND x.deleted_at IS NULL
		) AS k CROSS JOIN inventory_records r ` + recordJoins + `
		WHERE r.id = k.id AND r.workspace_id = $1 AND r.deleted_at IS NULL`

// recordKey names a live record by what makes it unique.
type recordKey struct {
	item, loc int64
	lot       string
}

// ahead holds the records readAhead read. Each is handed out once, to the
// first movement that asks for it: later movements must see that one's
// change, so they read the record again.
type ahead struct {
	records map[int64]Record
	keys    map[recordKey]int64
}

func (a *ahead) keepAhead(r Record) {
	if a.records == nil {
		a.records, a.keys = map[int64]Record{}, map[recordKey]int64{}
	}
	a.records[r.ID] = r
	a.keys[recordKey{r.ItemID, r.LocationID, r.Lot}] = r.ID
}

// aheadID is the id of the record read ahead under k, if it is still unused.
func (a *ahead) aheadID(k recordKey) (int64, bool) {
	id, ok := a.keys[k]
	return id, ok
}

// takeAhead hands out the record read ahead with id, once.
func (a *ahead) takeAhead(id int64) (Record, bool) {
	r, ok := a.records[id]
	if ok {
		delete(a.records, id)
		delete(a.keys, recordKey{r.ItemID, r.LocationID, r.Lot})
	}
	return r, ok
}

func (l *lookups) resolveItem(ref ItemRef) (int64, bool) {
	if ref.ItemID != 0 {
		_, ok := l.itemByID(ref.ItemID)
		return ref.ItemID, ok
	}
	it, ok := l.itemBySKU(strings.TrimSpace(ref.SKU))
	return it.ID, ok
}

func (l *lookups) resolveLocation(ref LocationRef) (int64, bool) {
	if ref.LocationID != 0 {
		_, ok := l.locationByID(ref.LocationID)
		return ref.LocationID, ok
	}
	loc, ok := l.locationByPath(strings.TrimSpace(ref.Location))
	return loc.ID, ok
}

// readHolders reads the holders' shares of every record read ahead, in one
// statement, for a batch that allocates, releases or ships: its movements
// then read no shares one by one. The records are locked (or SQLite's one
// writer is this transaction), so the shares change only by this
// transaction's writes, which keep them in step (allocations.go).
func (s *txState) readHolders() error {
	recIDs := make([]int64, 0, len(s.ahead.records))
	for id := range s.ahead.records {
		recIDs = append(recIDs, id)
		s.knowHolders(id, map[string]Quantity{})
	}
	if len(recIDs) == 0 {
		return nil
	}
	slices.Sort(recIDs)
	w := store.NewWhere(`workspace_id = ?`, s.workspaceID).And(store.In(s.tx, "record_id", recIDs))
	rows, err := s.tx.QueryContext(s.ctx, `SELECT record_id, holder, quantity FROM inventory_allocations WHERE `+w.String(), w.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var holder string
		var q Quantity
		if err := rows.Scan(&id, &holder, &q); err != nil {
			return err
		}
		s.holders[id][holder] = q
	}
	return rows.Err()
}
