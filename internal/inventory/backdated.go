package inventory

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// BackdateTolerance is how far in the past a movement's effective time may
// lie and still count as "now": within it, taking stock out is checked
// against the current level only, as for a movement without an effective
// time.
const BackdateTolerance = time.Minute

// checkPast refuses a backdated movement that takes stock out (delta < 0)
// when the level of the record's item at its location, by effective time,
// would go below zero at any moment from the movement's effective time up to
// now, in a workspace that does not allow negative stock. That is the level
// "stock as of" shows, so no as-of answer can turn negative through a late
// entry. It runs before the record is changed; the current level of the
// record itself is checked by apply.
//
// The level at a moment counts every entry effective at or before it (as
// StockAsOf does), so the new entry comes after the entries already effective
// at the same moment, and entries sharing an effective time count together.
// Split and merge move stock between lots of one item-location: they never
// change its level, so they are not checked here.
func (c *change) checkPast(r *Record, delta Quantity, movement, field string) error {
	if delta >= 0 || movement == "split" || movement == "merge" {
		return nil
	}
	if !c.effective.Before(c.recorded.Add(-BackdateTolerance)) {
		return nil
	}
	if allowed, err := c.state.negativeAllowed(); err != nil || allowed {
		return err
	}
	if c.tx.ConcurrentWriters() {
		// The item-location's level row serializes backdated movements on
		// different records (lots) of it: the history read below then
		// includes whatever the other one wrote. A single writer needs no
		// lock (and no statement for it).
		var locked int64
		err := c.tx.QueryRowContext(c.ctx, `SELECT quantity FROM stock_levels
			WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3`+c.tx.ForUpdate(),
			c.who.WorkspaceID, r.ItemID, r.LocationID).Scan(&locked)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("lock stock level of item %d at location %d: %w", r.ItemID, r.LocationID, err)
		}
	}
	low, at, err := c.lowestSince(r.ItemID, r.LocationID, c.effective)
	if err != nil {
		return err
	}
	if low+delta >= 0 {
		return nil
	}
	return fault.Field(field, fmt.Sprintf("as of %s only %s %s of %s at %s were in stock, so taking out %s effective %s would make it negative; "+
		"the workspace does not allow negative stock", momentText(at), low.Format(r.Scale), r.Unit, r.SKU, r.LocationPath,
		(-delta).Format(r.Scale), momentText(c.effective)))
}

// lowestSince returns the lowest level, by effective time, of an item at a
// location from moment t on (the level as of t, then after each later
// effective time), and the earliest moment it is reached.
func (c *change) lowestSince(itemID, locationID int64, t time.Time) (Quantity, time.Time, error) {
	ls, err := stockAsOf(c.ctx, c.tx, c.who.WorkspaceID, t, StockFilter{ItemID: itemID, LocationID: locationID, WithEmpty: true})
	if err != nil {
		return 0, time.Time{}, err
	}
	var level Quantity
	for _, l := range ls {
		level += l.Quantity
	}
	low, at := level, t
	// Along the index (workspace_id, item_id, effective_at) with location_id
	// and change beside it: one row per later effective time.
	rows, err := c.tx.QueryContext(c.ctx, `SELECT effective_at, SUM(change) FROM inventory_log
		WHERE workspace_id = $1 AND item_id = $2 AND effective_at > $3 AND location_id = $4
		GROUP BY effective_at ORDER BY effective_at`, c.who.WorkspaceID, itemID, store.Micros(t), locationID)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var eff int64
		var sum Quantity
		if err := rows.Scan(&eff, &sum); err != nil {
			return 0, time.Time{}, err
		}
		level += sum
		if level < low {
			low, at = level, store.Time(eff)
		}
	}
	return low, at, rows.Err()
}

// momentText formats a moment for messages, to the second only when it has
// seconds.
func momentText(t time.Time) string {
	t = t.UTC()
	if t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04 UTC")
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}
