package inventory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/stocktrail/stocktrail/internal/store"
)

// On PostgreSQL a batch's movements hold their row changes in memory and
// send them together, as one statement, before the transaction's next
// statement or its commit (store.Tx.HoldWrites): each record's new
// quantity, each item-location's new level, the checkpoints' sums and the
// log entries. Each statement is a round trip to a server process, which
// costs more than the write it carries.
//
// A movement can be held only where its item-location level is known: the
// levels readAhead locked and read, and those a movement wrote directly
// earlier in the transaction (its UPDATE locked the row). The log entry's
// level after is then computed here. Everything else is written as before;
// it first sends what is held, since every statement sends the held writes
// before it runs.

type levelKey struct{ item, loc int64 }

type checkpointKey struct{ item, loc, period int64 }

// holderKey names one holder's share of a record (inventory_allocations).
type holderKey struct {
	record int64
	holder string
}

// heldRecord is a record's latest held quantity and allocated quantity.
type heldRecord struct {
	quantity, allocated, updated int64
	updates                      int
}

// heldSums are what a checkpoint's sums gain.
type heldSums struct{ change, allocated int64 }

// heldLog holds log rows column by column, as the statement sends them.
type heldLog struct {
	item, recordID, loc, change, recordLevel, recorded, effective, locLevel   []int64
	allocChange, allocLevel                                                   []int64
	scale                                                                     []int32
	sku, unit, path, lot, movement, action, reason, reference, idemKey, batch []string
}

// held is what a batch holds back, and the ids of the log rows it has sent.
// Records, levels and checkpoints are sent in key order, so that two
// transactions touch shared rows in the same order.
type held struct {
	levels  map[levelKey]int64
	records map[int64]*heldRecord
	changed map[levelKey]bool // levels to write
	// allocated is what each changed level's allocated quantity gains
	// (sent as a change: readAhead reads quantities only).
	allocated   map[levelKey]int64
	checkpoints map[checkpointKey]heldSums
	// holders are holders' new shares of records; 0 deletes the row.
	holders map[holderKey]int64
	log     heldLog
	rows    int
	sentIDs []int64
}

// knowLevel records an item-location's level in a batch whose writes may
// be held (after readAhead, or after a movement wrote the level directly).
func (s *txState) knowLevel(item, loc, level int64) {
	if s.held != nil {
		s.held.levels[levelKey{item, loc}] = level
	}
}

// hold holds c's entry for r when the item-location's level is known, and
// returns the level after it.
func (s *txState) hold(c *change, r *Record, delta, allocDelta Quantity, movement string, action Action, setRecord bool) (int64, bool) {
	h := s.held
	if h == nil {
		return 0, false
	}
	k := levelKey{r.ItemID, r.LocationID}
	level, ok := h.levels[k]
	if !ok {
		return 0, false
	}
	level += int64(delta)
	h.levels[k] = level
	h.changed[k] = true
	h.allocated[k] += int64(allocDelta)
	if setRecord {
		hr := h.records[r.ID]
		if hr == nil {
			hr = &heldRecord{}
			h.records[r.ID] = hr
		}
		hr.quantity, hr.allocated, hr.updated = int64(r.Quantity), int64(r.Allocated), store.Micros(c.recorded)
		hr.updates++
	}
	if delta != 0 || allocDelta != 0 {
		ck := checkpointKey{r.ItemID, r.LocationID, CheckpointPeriod(c.effective)}
		sums := h.checkpoints[ck]
		sums.change, sums.allocated = sums.change+int64(delta), sums.allocated+int64(allocDelta)
		h.checkpoints[ck] = sums
	}
	l := &h.log
	l.item, l.recordID, l.loc = append(l.item, r.ItemID), append(l.recordID, r.ID), append(l.loc, r.LocationID)
	l.change, l.recordLevel, l.locLevel = append(l.change, int64(delta)), append(l.recordLevel, int64(r.Quantity)), append(l.locLevel, level)
	l.recorded, l.effective = append(l.recorded, store.Micros(c.recorded)), append(l.effective, store.Micros(c.effective))
	l.allocChange, l.allocLevel = append(l.allocChange, int64(allocDelta)), append(l.allocLevel, int64(r.Allocated))
	l.scale = append(l.scale, int32(r.Scale))
	l.sku, l.unit, l.path, l.lot = append(l.sku, r.SKU), append(l.unit, r.Unit), append(l.path, r.LocationPath), append(l.lot, r.Lot)
	l.movement, l.action = append(l.movement, movement), append(l.action, string(action))
	l.reason, l.reference = append(l.reason, c.reason), append(l.reference, c.reference)
	l.idemKey, l.batch = append(l.idemKey, c.idemKey), append(l.batch, c.batchID)
	h.rows++
	if h.rows == 1 { // the first since the last send
		c.tx.HoldWrites(func(ctx context.Context) error { return s.sendHeld(ctx, c) })
	}
	return level, true
}

// sendHeld writes what is held in one statement; the log rows' ids join
// sentIDs in the order the rows were held.
func (s *txState) sendHeld(ctx context.Context, c *change) error {
	h := s.held
	if h.rows == 0 {
		return nil
	}
	var recIDs, recQty, recAlloc, recUpdated []int64
	var recUpdates []int32
	for _, id := range slices.Sorted(maps.Keys(h.records)) {
		hr := h.records[id]
		recIDs, recQty, recUpdated, recUpdates = append(recIDs, id), append(recQty, hr.quantity), append(recUpdated, hr.updated), append(recUpdates, int32(hr.updates))
		recAlloc = append(recAlloc, hr.allocated)
	}
	var lvlItems, lvlLocs, lvlQty, lvlAlloc []int64
	for _, k := range slices.SortedFunc(maps.Keys(h.changed), func(a, b levelKey) int {
		return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.loc, b.loc))
	}) {
		lvlItems, lvlLocs, lvlQty = append(lvlItems, k.item), append(lvlLocs, k.loc), append(lvlQty, h.levels[k])
		lvlAlloc = append(lvlAlloc, h.allocated[k])
	}
	// A month whose changes cancel out still gets its row, as when each
	// change is written by itself.
	var cpItems, cpLocs, cpPeriods, cpSums, cpAlloc []int64
	for _, k := range slices.SortedFunc(maps.Keys(h.checkpoints), func(a, b checkpointKey) int {
		return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.loc, b.loc), cmp.Compare(a.period, b.period))
	}) {
		sums := h.checkpoints[k]
		cpItems, cpLocs, cpPeriods, cpSums = append(cpItems, k.item), append(cpLocs, k.loc), append(cpPeriods, k.period), append(cpSums, sums.change)
		cpAlloc = append(cpAlloc, sums.allocated)
	}
	// Shares reaching 0 are deleted, the others written: disjoint keys,
	// so one statement does both.
	var delRecs, putRecs, putQty []int64
	var delHolders, putHolders []string
	for _, k := range slices.SortedFunc(maps.Keys(h.holders), func(a, b holderKey) int {
		return cmp.Or(cmp.Compare(a.record, b.record), cmp.Compare(a.holder, b.holder))
	}) {
		if q := h.holders[k]; q == 0 {
			delRecs, delHolders = append(delRecs, k.record), append(delHolders, k.holder)
		} else {
			putRecs, putHolders, putQty = append(putRecs, k.record), append(putHolders, k.holder), append(putQty, q)
		}
	}
	var actorID any
	if c.who.ID != 0 {
		actorID = c.who.ID
	}
	l := &h.log
	rows, err := c.tx.QueryContext(ctx, pgSendHeld, c.who.WorkspaceID,
		recIDs, recQty, recUpdates, recUpdated,
		lvlItems, lvlLocs, lvlQty,
		cpItems, cpLocs, cpPeriods, cpSums,
		string(c.who.Kind), actorID, c.who.Name,
		l.item, l.sku, l.unit, l.scale, l.recordID, l.loc, l.path, l.lot, l.movement, l.action, l.change, l.recordLevel,
		l.recorded, l.effective, l.reason, l.reference, l.idemKey, l.batch, l.locLevel,
		recAlloc, lvlAlloc, cpAlloc, l.allocChange, l.allocLevel,
		delRecs, delHolders, putRecs, putHolders, putQty)
	if err != nil {
		return fmt.Errorf("write the batch's movements: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, h.rows)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("write the batch's movements: %w", err)
	}
	if len(ids) != h.rows {
		return fmt.Errorf("write the batch's movements: %d log rows written of %d", len(ids), h.rows)
	}
	// Ids come from the log's sequence in insertion order.
	slices.Sort(ids)
	h.sentIDs = append(h.sentIDs, ids...)
	h.reset()
	return nil
}

func newHeld() *held {
	h := &held{levels: map[levelKey]int64{}}
	h.reset()
	return h
}

// reset empties what is held (the known levels stay).
func (h *held) reset() {
	h.records, h.changed, h.allocated = map[int64]*heldRecord{}, map[levelKey]bool{}, map[levelKey]int64{}
	h.checkpoints, h.log, h.rows = map[checkpointKey]heldSums{}, heldLog{}, 0
	h.holders = map[holderKey]int64{}
}

// finishHeld sends what the movements held and gives res's entries that
// were held (id 0) the ids the log gave them, in order.
func (s *txState) finishHeld(res *Result) error {
	if err := s.tx.FlushHeld(s.ctx); err != nil {
		return err
	}
	if s.held == nil || len(s.held.sentIDs) == 0 {
		return nil
	}
	ids := s.held.sentIDs
	s.held.sentIDs = nil
	for i := range res.Entries {
		if res.Entries[i].ID == 0 {
			if len(ids) == 0 {
				return fmt.Errorf("inventory: fewer log ids than held entries")
			}
			res.Entries[i].ID, ids = ids[0], ids[1:]
		}
	}
	if len(ids) > 0 {
		return fmt.Errorf("inventory: %d log ids left over", len(ids))
	}
	return nil
}

// pgSendHeld writes held records, levels, checkpoints and log rows. The
// log rows go in the order held (WITH ORDINALITY … ORDER BY), so their ids
// follow it. The allocated quantities ride along: $35 the records' (new
// values), $36 the levels' (changes), $37 the checkpoints' (changes), $38
// and $39 the log rows' allocated change and level. $40–$44 are the holders'
// shares: deleted ($40, $41) and written ($42–$44).
const pgSendHeld = `WITH rec AS (
		UPDATE inventory_records r SET quantity = u.q, allocated = u.a, version = r.version + u.n, updated_at = u.t
		FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::bigint[], $35::bigint[]) AS u (id, q, n, t, a)
		WHERE r.workspace_id = $1 AND r.id = u.id
	), lvl AS (
		UPDATE stock_levels l SET quantity = u.q, allocated = l.allocated + u.a
		FROM unnest($6::bigint[], $7::bigint[], $8::bigint[], $36::bigint[]) AS u (item_id, location_id, q, a)
		WHERE l.workspace_id = $1 AND l.item_id = u.item_id AND l.location_id = u.location_id
	), cp AS (
		INSERT INTO inventory_checkpoints (workspace_id, item_id, location_id, period_start, change_sum, allocated_sum)
		SELECT $1, u.item_id, u.location_id, u.period_start, u.change_sum, u.allocated_sum
		FROM unnest($9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $37::bigint[]) AS u (item_id, location_id, period_start, change_sum, allocated_sum)
		ON CONFLICT (workspace_id, item_id, location_id, period_start) DO UPDATE SET change_sum = inventory_checkpoints.change_sum + excluded.change_sum,
			allocated_sum = inventory_checkpoints.allocated_sum + excluded.allocated_sum
	), hdel AS (
		DELETE FROM inventory_allocations a USING unnest($40::bigint[], $41::text[]) AS u (record_id, holder)
		WHERE a.workspace_id = $1 AND a.record_id = u.record_id AND a.holder = u.holder
	), hput AS (
		INSERT INTO inventory_allocations (workspace_id, record_id, holder, quantity)
		SELECT $1, u.record_id, u.holder, u.quantity FROM unnest($42::bigint[], $43::text[], $44::bigint[]) AS u (record_id, holder, quantity)
		ON CONFLICT (workspace_id, record_id, holder) DO UPDATE SET quantity = excluded.quantity
	)
	INSERT INTO inventory_log (workspace_id, item_id, sku, unit, unit_scale, record_id, location_id,
		location_path, lot, movement, action, change, record_level, actor_kind, actor_id, actor_name, recorded_at,
		effective_at, reason, reference, idempotency_key, batch_id, location_level, allocated_change, allocated_level)
	SELECT $1, u.item_id, u.sku, u.unit, u.unit_scale, u.record_id, u.location_id, u.location_path, u.lot, u.movement,
		u.action, u.change, u.record_level, $13::text, $14::bigint, $15::text, u.recorded_at, u.effective_at, u.reason,
		u.reference, u.idempotency_key, u.batch_id, u.location_level, u.allocated_change, u.allocated_level
	FROM unnest($16::bigint[], $17::text[], $18::text[], $19::int[], $20::bigint[], $21::bigint[], $22::text[], $23::text[],
		$24::text[], $25::text[], $26::bigint[], $27::bigint[], $28::bigint[], $29::bigint[], $30::text[], $31::text[],
		$32::text[], $33::text[], $34::bigint[], $38::bigint[], $39::bigint[])
		WITH ORDINALITY AS u (item_id, sku, unit, unit_scale, record_id, location_id, location_path, lot, movement,
		action, change, record_level, recorded_at, effective_at, reason, reference, idempotency_key, batch_id, location_level,
		allocated_change, allocated_level, n)
	ORDER BY u.n
	RETURNING id`
