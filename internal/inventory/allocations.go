package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Allocations reserve part of a record for a holder (an order number such
// as SO-000012). A record's allocated quantity is the sum of its holders'
// (inventory_allocations) and of its log entries' allocated_change; what is
// available is on hand less allocated. Only a ship takes allocated stock
// out of a record; every other movement that would take the quantity below
// what is allocated is refused with the holders named.

// Allocate reserves Quantity of a record for Holder: allocated += q. It is
// refused (field "quantity") when q exceeds what is available, with the
// shortfall in the message. Its entry is movement "allocate", change 0,
// allocated_change +q.
type Allocate struct {
	Record   RecordRef   `json:"record"`
	Quantity DecimalText `json:"quantity"`
	Holder   string      `json:"holder"`
	Options
}

// Release gives back Quantity of Holder's allocation on the record (at most
// what Holder holds): movement "release", change 0, allocated_change −q.
type Release struct {
	Record   RecordRef   `json:"record"`
	Quantity DecimalText `json:"quantity"`
	Holder   string      `json:"holder"`
	Options
}

// Ship issues Quantity of Holder's allocated stock (at most what Holder
// holds on the record): change −q and allocated_change −q in one entry,
// movement "ship".
type Ship struct {
	Record   RecordRef   `json:"record"`
	Quantity DecimalText `json:"quantity"`
	Holder   string      `json:"holder"`
	Options
}

func (m *Allocate) Kind() string { return "allocate" }
func (m *Release) Kind() string  { return "release" }
func (m *Ship) Kind() string     { return "ship" }

func (m *Allocate) opts() *Options { return &m.Options }
func (m *Release) opts() *Options  { return &m.Options }
func (m *Ship) opts() *Options     { return &m.Options }

// Holding is how much of a record one holder has allocated.
type Holding struct {
	RecordID int64    `json:"record_id"`
	Holder   string   `json:"holder"`
	Quantity Quantity `json:"quantity"`
}

// MaxHolderLength bounds a holder's name (in characters).
const MaxHolderLength = 100

// cleanHolder checks a holder: required, one line, at most
// MaxHolderLength characters.
func cleanHolder(holder string) (string, error) {
	holder = strings.TrimSpace(holder)
	switch {
	case holder == "":
		return "", fault.Field("holder", "required: the order (or other holder) the stock is allocated to")
	case utf8.RuneCountInString(holder) > MaxHolderLength:
		return "", fault.Field("holder", fmt.Sprintf("at most %d characters", MaxHolderLength))
	}
	if err := plaintext.Line("holder", holder); err != nil {
		return "", err
	}
	return holder, nil
}

// allocation is what allocate, release and ship share: the holder, the
// locked record and the parsed quantity. The entry's reference is the
// holder, so the log names who holds every allocated unit.
func (c *change) allocation(kind string, ref RecordRef, quantity DecimalText, holder string, o Options) (*Record, Quantity, string, error) {
	if !o.EffectiveAt.IsZero() {
		return nil, 0, "", fault.Field("effective_at", "an allocation happens now: leave effective_at empty")
	}
	holder, err := cleanHolder(holder)
	if err != nil {
		return nil, 0, "", err
	}
	switch c.reference {
	case "":
		c.reference = holder
	case holder:
	default:
		return nil, 0, "", fault.Field("reference", fmt.Sprintf("a %s's reference is its holder %q; leave it empty", kind, holder))
	}
	id, err := c.recordID(ref)
	if err != nil {
		return nil, 0, "", err
	}
	r, err := c.lockOne(id)
	if err != nil {
		return nil, 0, "", err
	}
	q, err := positive("quantity", quantity, r.Scale)
	if err != nil {
		return nil, 0, "", err
	}
	return r, q, holder, nil
}

func (m *Allocate) run(c *change) error {
	r, q, holder, err := c.allocation(m.Kind(), m.Record, m.Quantity, m.Holder, m.Options)
	if err != nil {
		return err
	}
	old := r.Allocated
	if err := c.applyBoth(r, 0, q, m.Kind(), actionFor(c.who, false), "quantity"); err != nil {
		return err
	}
	if err := c.addToHolding(r.ID, holder, q); err != nil {
		return err
	}
	return c.allocationEvent(m.Kind(), r, old, holder, fmt.Sprintf("allocated %s %s of %s at %s to %s", q.Format(r.Scale), r.Unit, r.SKU,
		r.LocationPath, holder))
}

func (m *Release) run(c *change) error {
	r, q, holder, err := c.allocation(m.Kind(), m.Record, m.Quantity, m.Holder, m.Options)
	if err != nil {
		return err
	}
	held, err := c.takeFromHolder(r, holder, q)
	if err != nil {
		return err
	}
	old := r.Allocated
	if err := c.applyBoth(r, 0, -q, m.Kind(), actionFor(c.who, false), "quantity"); err != nil {
		return err
	}
	if err := c.setHolding(r.ID, holder, held-q); err != nil {
		return err
	}
	return c.allocationEvent(m.Kind(), r, old, holder, fmt.Sprintf("released %s %s of %s at %s from %s", q.Format(r.Scale), r.Unit, r.SKU,
		r.LocationPath, holder))
}

func (m *Ship) run(c *change) error {
	r, q, holder, err := c.allocation(m.Kind(), m.Record, m.Quantity, m.Holder, m.Options)
	if err != nil {
		return err
	}
	held, err := c.takeFromHolder(r, holder, q)
	if err != nil {
		return err
	}
	old := r.Quantity
	if err := c.applyBoth(r, -q, -q, m.Kind(), actionFor(c.who, false), "quantity"); err != nil {
		return err
	}
	if err := c.setHolding(r.ID, holder, held-q); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), r, old, fmt.Sprintf("shipped %s %s of %s at %s for %s", q.Format(r.Scale), r.Unit, r.SKU,
		r.LocationPath, holder))
}

// takeFromHolder returns what holder holds of the locked record r, and
// refuses when it is less than q.
func (c *change) takeFromHolder(r *Record, holder string, q Quantity) (Quantity, error) {
	shares, err := c.holderShares(r.ID)
	if err != nil {
		return 0, err
	}
	held, ok := shares[holder]
	if !ok {
		return 0, fault.Field("quantity", fmt.Sprintf("%s holds none of %s at %s (lot %q)", holder, r.SKU, r.LocationPath, r.Lot))
	}
	if q > held {
		return 0, fault.Field("quantity", fmt.Sprintf("%s holds only %s %s of %s at %s (lot %q)", holder, held.Format(r.Scale), r.Unit,
			r.SKU, r.LocationPath, r.Lot))
	}
	return held, nil
}

// holderShares are the holders' shares of a locked record: read once per
// transaction (a batch reads them with its records, readAhead), then kept
// in step by this transaction's own writes, the only ones while the
// record is locked.
func (c *change) holderShares(recordID int64) (map[string]Quantity, error) {
	if shares, ok := c.state.holders[recordID]; ok {
		return shares, nil
	}
	hs, err := holdings(c.ctx, c.tx, c.who.WorkspaceID, recordID)
	if err != nil {
		return nil, err
	}
	shares := make(map[string]Quantity, len(hs))
	for _, h := range hs {
		shares[h.Holder] = h.Quantity
	}
	c.state.knowHolders(recordID, shares)
	return shares, nil
}

func (s *txState) knowHolders(recordID int64, shares map[string]Quantity) {
	if s.holders == nil {
		s.holders = map[int64]map[string]Quantity{}
	}
	s.holders[recordID] = shares
}

// addToHolding adds q to holder's share of a locked record. Where the
// shares are not known and the entry was written directly (a single
// allocate), one upsert adds it without reading them.
func (c *change) addToHolding(recordID int64, holder string, q Quantity) error {
	shares, known := c.state.holders[recordID]
	if !known && !c.heldLast {
		_, err := c.tx.ExecContext(c.ctx, `INSERT INTO inventory_allocations (workspace_id, record_id, holder, quantity) VALUES ($1, $2, $3, $4)
			ON CONFLICT (workspace_id, record_id, holder) DO UPDATE SET quantity = inventory_allocations.quantity + excluded.quantity`,
			c.who.WorkspaceID, recordID, holder, int64(q))
		if err != nil {
			return fmt.Errorf("allocate to %s: %w", holder, err)
		}
		return nil
	}
	if !known {
		var err error
		if shares, err = c.holderShares(recordID); err != nil {
			return err
		}
	}
	return c.setHolding(recordID, holder, shares[holder]+q)
}

// setHolding stores what holder now holds of a record; the row goes when
// it reaches zero. When the entry that goes with it was held, so is this
// write (heldwrites.go).
func (c *change) setHolding(recordID int64, holder string, q Quantity) error {
	if shares, ok := c.state.holders[recordID]; ok {
		if q == 0 {
			delete(shares, holder)
		} else {
			shares[holder] = q
		}
	}
	if c.heldLast {
		c.state.held.holders[holderKey{recordID, holder}] = int64(q)
		return nil
	}
	var err error
	if q == 0 {
		_, err = c.tx.ExecContext(c.ctx, `DELETE FROM inventory_allocations WHERE workspace_id = $1 AND record_id = $2 AND holder = $3`,
			c.who.WorkspaceID, recordID, holder)
	} else {
		_, err = c.tx.ExecContext(c.ctx, `INSERT INTO inventory_allocations (workspace_id, record_id, holder, quantity) VALUES ($1, $2, $3, $4)
			ON CONFLICT (workspace_id, record_id, holder) DO UPDATE SET quantity = excluded.quantity`,
			c.who.WorkspaceID, recordID, holder, int64(q))
	}
	if err != nil {
		return fmt.Errorf("allocation of %s: %w", holder, err)
	}
	return nil
}

// allocationEvent writes the activity event of an allocate or release:
// the record's allocated quantity before and after.
func (c *change) allocationEvent(kind string, r *Record, old Quantity, holder, description string) error {
	return c.event(kind, r.ID, map[string]any{"allocated": old.Format(r.Scale)},
		map[string]any{"allocated": r.Allocated.Format(r.Scale), "holder": holder, "movement": kind}, description)
}

// shortfall refuses allocating q of r beyond what is available.
func (c *change) shortfall(r *Record, q Quantity, field string) error {
	available := max(r.Available(), 0)
	return fault.Field(field, fmt.Sprintf("only %s %s of %s at %s (lot %q) are available (%s on hand, %s allocated): %s short",
		available.Format(r.Scale), r.Unit, r.SKU, r.LocationPath, r.Lot, r.Quantity.Format(r.Scale), r.Allocated.Format(r.Scale),
		(q-available).Format(r.Scale)))
}

// takesAllocated refuses a movement that would take allocated stock out of
// r, naming who holds it.
func (c *change) takesAllocated(r *Record, field string) error {
	hs, err := holdings(c.ctx, c.tx, c.who.WorkspaceID, r.ID)
	if err != nil {
		return err
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Holder
	}
	lot := ""
	if r.Lot != "" {
		lot = fmt.Sprintf(" (lot %q)", r.Lot)
	}
	return fault.Field(field, fmt.Sprintf("%s of %s %s of %s at %s%s are allocated to %s; release them first",
		r.Allocated.Format(r.Scale), r.Quantity.Format(r.Scale), r.Unit, r.SKU, r.LocationPath, lot, strings.Join(names, ", ")))
}

// Allocations lists who holds a record's allocated units, by holder.
func Allocations(ctx context.Context, from store.Reader, recordID int64) ([]Holding, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	return holdings(ctx, from.Read(), who.WorkspaceID, recordID)
}

// AllocationsOf lists what one holder (an order) holds, by record: what a
// cancellation or a shipment of the whole order releases or ships.
func AllocationsOf(ctx context.Context, from store.Reader, holder string) ([]Holding, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	rows, err := from.Read().QueryContext(ctx, `SELECT record_id, holder, quantity FROM inventory_allocations WHERE workspace_id = $1 AND holder = $2
		ORDER BY record_id`, who.WorkspaceID, strings.TrimSpace(holder))
	if err != nil {
		return nil, err
	}
	return scanHoldings(rows)
}

func holdings(ctx context.Context, q store.Querier, workspaceID, recordID int64) ([]Holding, error) {
	rows, err := q.QueryContext(ctx, `SELECT record_id, holder, quantity FROM inventory_allocations WHERE workspace_id = $1 AND record_id = $2
		ORDER BY holder`, workspaceID, recordID)
	if err != nil {
		return nil, err
	}
	return scanHoldings(rows)
}

func scanHoldings(rows *sql.Rows) ([]Holding, error) {
	defer rows.Close()
	var out []Holding
	for rows.Next() {
		var h Holding
		if err := rows.Scan(&h.RecordID, &h.Holder, &h.Quantity); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// MaxAvailableRecords bounds AvailableRecords' answer.
const MaxAvailableRecords = 1000

// AvailableRecords suggests records of an item to allocate from: live
// records with stock available, optionally at a location or below it and
// of one lot, oldest first (first in, first out by the record's creation).
func AvailableRecords(ctx context.Context, from store.Reader, itemID int64, locationID int64, lot string) ([]Record, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	q := from.Read()
	root := ""
	if locationID != 0 {
		loc, err := getLocation(ctx, q, who.WorkspaceID, locationID)
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Field("location_id", "no such location")
		}
		if err != nil {
			return nil, err
		}
		root = loc.Path
	}
	w := store.NewWhere(`r.workspace_id = ?`, who.WorkspaceID).And(`r.item_id = ?`, itemID).And(`r.deleted_at IS NULL`).
		And(`r.quantity > r.allocated`)
	if lot = strings.TrimSpace(lot); lot != "" {
		w.And(`r.lot = ?`, lot)
	}
	rows, err := q.QueryContext(ctx, recordSelect+` WHERE `+w.String()+fmt.Sprintf(` ORDER BY r.created_at, r.id LIMIT %d`, MaxAvailableRecords), w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		// The subtree by path, here rather than in SQL: LIKE would need its
		// wildcards escaped in paths, and an item's records are few.
		if root == "" || r.LocationPath == root || strings.HasPrefix(r.LocationPath, root+"/") {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// Wanted names what AvailableRecordsOf looks for: an item, optionally at a
// location or below it, and of one lot.
type Wanted struct {
	ItemID     int64
	LocationID int64
	Lot        string
}

// AvailableRecordsOf answers AvailableRecords for each of wants, in their
// order, reading the records of every item without a lot in one statement:
// a 100-line order's allocation plan read them one item at a time, 100
// statements. What each answers is what AvailableRecords answers for it.
func AvailableRecordsOf(ctx context.Context, from store.Reader, wants []Wanted) ([][]Record, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	q := from.Read()
	out := make([][]Record, len(wants))
	roots := map[int64]string{}
	var items []int64
	byItem := map[int64]bool{}
	for i, want := range wants {
		if strings.TrimSpace(want.Lot) != "" {
			// Rare, and the first MaxAvailableRecords records of an item
			// need not hold the lot's: asked on its own.
			if out[i], err = AvailableRecords(ctx, from, want.ItemID, want.LocationID, want.Lot); err != nil {
				return nil, err
			}
			continue
		}
		if _, ok := roots[want.LocationID]; !ok && want.LocationID != 0 {
			loc, err := getLocation(ctx, q, who.WorkspaceID, want.LocationID)
			if fault.Is(err, fault.NotFound) {
				return nil, fault.Field("location_id", "no such location")
			}
			if err != nil {
				return nil, err
			}
			roots[want.LocationID] = loc.Path
		}
		if !byItem[want.ItemID] {
			byItem[want.ItemID] = true
			items = append(items, want.ItemID)
		}
	}
	if len(items) == 0 {
		return out, nil
	}
	w := store.NewWhere(`r.workspace_id = ?`, who.WorkspaceID).And(store.In(from, "r.item_id", items)).And(`r.deleted_at IS NULL`).
		And(`r.quantity > r.allocated`)
	rows, err := q.QueryContext(ctx, recordSelect+` WHERE `+w.String()+` ORDER BY r.item_id, r.created_at, r.id`, w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	recs := map[int64][]Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		if len(recs[r.ItemID]) < MaxAvailableRecords {
			recs[r.ItemID] = append(recs[r.ItemID], r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, want := range wants {
		if strings.TrimSpace(want.Lot) != "" {
			continue
		}
		root := roots[want.LocationID]
		for _, r := range recs[want.ItemID] {
			if root == "" || r.LocationPath == root || strings.HasPrefix(r.LocationPath, root+"/") {
				out[i] = append(out[i], r)
			}
		}
	}
	return out, nil
}

func (m *Allocate) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.Record.ItemRef}, []LocationRef{m.Record.LocationRef}
}
func (m *Release) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.Record.ItemRef}, []LocationRef{m.Record.LocationRef}
}
func (m *Ship) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{m.Record.ItemRef}, []LocationRef{m.Record.LocationRef}
}
