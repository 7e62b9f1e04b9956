package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Action is the seed's action type of a log entry: what caused the change.
type Action string

const (
	Scan               Action = "scan"
	UserCorrection     Action = "user_correction"
	UserAction         Action = "user_action"
	SystemAction       Action = "system_action"
	CreateRecordAction Action = "create_record"
	UpdateRecordAction Action = "update_record"
	DeleteRecordAction Action = "delete_record"
)

// Actions lists every action type in the seed's order.
func Actions() []Action {
	return []Action{Scan, UserCorrection, UserAction, SystemAction, CreateRecordAction, UpdateRecordAction, DeleteRecordAction}
}

// Valid reports whether a is one of the seed's action types.
func (a Action) Valid() bool { return slices.Contains(Actions(), a) }

// Record is a quantity of one item (optionally one lot) at one location.
type Record struct {
	ID           int64    `json:"id"`
	ItemID       int64    `json:"item_id"`
	SKU          string   `json:"sku"`
	Unit         string   `json:"unit"`
	Scale        int      `json:"-"`
	LocationID   int64    `json:"location_id"`
	LocationPath string   `json:"location_path"`
	Lot          string   `json:"lot"`
	Quantity     Quantity `json:"quantity"`
	// Allocated is the part of Quantity reserved for holders (orders);
	// Available is the rest.
	Allocated Quantity  `json:"allocated"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// QuantityText is the quantity with the unit's decimals, for pages.
func (r Record) QuantityText() string { return r.Quantity.Format(r.Scale) }

// Available is what may still be allocated or taken out: on hand less
// allocated.
func (r Record) Available() Quantity { return r.Quantity - r.Allocated }

// AllocatedText and AvailableText format with the unit's decimals.
func (r Record) AllocatedText() string { return r.Allocated.Format(r.Scale) }
func (r Record) AvailableText() string { return r.Available().Format(r.Scale) }

const (
	recordColumns = `r.id, r.item_id, i.sku, i.unit, i.unit_scale, r.location_id, l.path, r.lot, r.quantity, r.allocated, r.version,
	r.created_at, r.updated_at`
	// recordJoins follows inventory_records r in a FROM.
	recordJoins = `JOIN items i ON i.workspace_id = r.workspace_id AND i.id = r.item_id
	JOIN locations l ON l.workspace_id = r.workspace_id AND l.id = r.location_id`
	recordSelect = `SELECT ` + recordColumns + ` FROM inventory_records r ` + recordJoins
)

func scanRecord(row interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var created, updated int64
	if err := row.Scan(&r.ID, &r.ItemID, &r.SKU, &r.Unit, &r.Scale, &r.LocationID, &r.LocationPath, &r.Lot, &r.Quantity, &r.Allocated, &r.Version,
		&created, &updated); err != nil {
		return Record{}, err
	}
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	return r, nil
}

// GetRecord returns one live inventory record of the actor's workspace.
func GetRecord(ctx context.Context, from store.Reader, id int64) (Record, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return Record{}, err
	}
	r, err := scanRecord(from.Read().QueryRowContext(ctx, recordSelect+` WHERE r.workspace_id = $1 AND r.id = $2 AND r.deleted_at IS NULL`, who.WorkspaceID, id))
	return r, store.NotFound(err, "inventory record")
}

// RecordFilter narrows ListRecords.
type RecordFilter struct {
	ItemID     int64
	LocationID int64
	// WithEmpty includes records whose quantity is zero.
	WithEmpty bool
	Limit     int
}

// ListRecords returns live records by SKU and location.
func ListRecords(ctx context.Context, from store.Reader, f RecordFilter) ([]Record, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	q := from.Read()
	w := store.NewWhere(`r.workspace_id = ?`, who.WorkspaceID).And(`r.deleted_at IS NULL`)
	if f.ItemID != 0 {
		w.And(`r.item_id = ?`, f.ItemID)
	}
	if f.LocationID != 0 {
		w.And(`r.location_id = ?`, f.LocationID)
	}
	if !f.WithEmpty {
		w.And(`r.quantity <> 0`)
	}
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 1000
	}
	rows, err := q.QueryContext(ctx, recordSelect+` WHERE `+w.String()+fmt.Sprintf(` ORDER BY i.sku, l.path, r.lot LIMIT %d`, f.Limit), w.Args...)
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
		out = append(out, r)
	}
	return out, rows.Err()
}

// Options are what every movement may carry besides its quantities.
type Options struct {
	// EffectiveAt is when the movement really happened, for entries made
	// late; zero means now. It may not lie in the future.
	EffectiveAt time.Time `json:"effective_at"`
	// Reason explains the change (required for corrections).
	Reason string `json:"reason"`
	// Reference names an order, session or import the movement belongs to.
	Reference string `json:"reference"`
}

// change is one transaction's writing context: who acts, when, and under
// which workspace rules. Every log entry of a movement goes through it.
type change struct {
	ctx       context.Context
	tx        *store.Tx
	who       actor.Actor
	state     *txState
	recorded  time.Time
	effective time.Time
	reason    string
	reference string
	idemKey   string
	batchID   string
	// batch, when set, takes the movement's activity event into the one
	// event of its multi-movement request.
	batch   *batchEvent
	written []Entry
	// heldLast says the last entry written was held (heldwrites.go), so
	// the writes that go with it are held too.
	heldLast bool
	// recs are the records touched, at their latest level, in first-touch order.
	recs  map[int64]*Record
	order []int64
}

func (c *change) touched() []Record {
	out := make([]Record, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, *c.recs[id])
	}
	return out
}

func validateOptions(o *Options, f fault.Fields) {
	o.Reason, o.Reference = strings.TrimSpace(o.Reason), strings.TrimSpace(o.Reference)
	if len(o.Reason) > 1000 {
		f.Add("reason", "at most 1000 characters")
	} else if p := plaintext.Problem(o.Reason); p != "" {
		f.Add("reason", p)
	}
	if len(o.Reference) > MaxReferenceLength {
		f.Add("reference", fmt.Sprintf("at most %d characters", MaxReferenceLength))
	} else if err := plaintext.Line("reference", o.Reference); err != nil {
		f.Add("reference", err.(*fault.Error).Fields["reference"])
	}
	if !o.EffectiveAt.IsZero() && o.EffectiveAt.After(time.Now().Add(time.Minute)) {
		f.Add("effective_at", "may not lie in the future")
	}
	if !o.EffectiveAt.IsZero() && o.EffectiveAt.Year() < 1970 {
		f.Add("effective_at", "too far in the past")
	}
}

// txState is what the movements of one transaction share: the workspace
// rules, read at most once and only when a movement needs them (a receipt
// never does), and the items and locations already read (lookups.go).
type txState struct {
	ctx         context.Context
	tx          *store.Tx
	workspaceID int64
	loaded      bool
	allowNeg    bool
	lookups
	ahead
	// held is a PostgreSQL batch's held writes (nil when writes go one by
	// one).
	held *held
	// holders are the known shares of locked records' holders, by record
	// (allocations.go); a record not in it has not been read.
	holders map[int64]map[string]Quantity
	// stationPath is the acting station's bound location (stations.go).
	stationPath string
}

func newTxState(ctx context.Context, tx *store.Tx, workspaceID int64) *txState {
	return &txState{ctx: ctx, tx: tx, workspaceID: workspaceID}
}

// negativeAllowed reports whether the workspace allows negative stock.
func (rs *txState) negativeAllowed() (bool, error) {
	if !rs.loaded {
		ws, err := workspace.Get(rs.ctx, rs.tx)
		if err != nil {
			return false, err
		}
		rs.allowNeg, rs.loaded = ws.Settings.AllowNegativeStock, true
	}
	return rs.allowNeg, nil
}

func begin(ctx context.Context, tx *store.Tx, who actor.Actor, state *txState, o Options) *change {
	now := time.Now().UTC()
	c := &change{ctx: ctx, tx: tx, who: who, state: state, recorded: now, effective: o.EffectiveAt.UTC(),
		reason: o.Reason, reference: o.Reference, idemKey: actor.RequestFrom(ctx).IdempotencyKey}
	if c.effective.IsZero() {
		c.effective = now
	}
	return c
}

// actionFor maps the responsible party and the kind of movement to the
// seed's action type: stations scan; the system acts by itself; users and API
// keys correct or act.
func actionFor(who actor.Actor, correction bool) Action {
	switch {
	case who.Kind == actor.Station:
		return Scan
	case who.Kind == actor.System:
		return SystemAction
	case correction:
		return UserCorrection
	default:
		return UserAction
	}
}

// lock returns the live records with the given ids, locked for the rest of
// the transaction. Ids are locked in ascending order so that two movements
// over the same records cannot deadlock; SQLite has one writer and needs no
// row locks.
func (c *change) lock(ids ...int64) (map[int64]*Record, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[int64]*Record, len(ids))
	forUpdate := c.tx.ForUpdate("r")
	for _, id := range ids {
		if r, ok := c.state.takeAhead(id); ok {
			out[id] = &r
			continue
		}
		r, err := scanRecord(c.tx.QueryRowContext(c.ctx, recordSelect+` WHERE r.workspace_id = $1 AND r.id = $2 AND r.deleted_at IS NULL`+forUpdate,
			c.who.WorkspaceID, id))
		if err != nil {
			return nil, store.NotFound(err, fmt.Sprintf("inventory record %d", id))
		}
		out[id] = &r
	}
	return out, nil
}

// ensure returns the id of the live record of item at location with lot,
// creating it (and logging create_record) when there is none.
func (c *change) ensure(it Item, loc Location, lot string) (int64, error) {
	now := store.Micros(c.recorded)
	var id int64
	err := c.tx.QueryRowContext(c.ctx, `INSERT INTO inventory_records (workspace_id, item_id, location_id, lot, quantity, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 0, $5, $5)
		ON CONFLICT (workspace_id, item_id, location_id, lot) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
		c.who.WorkspaceID, it.ID, loc.ID, lot, now).Scan(&id)
	if err == nil {
		r := Record{ID: id, ItemID: it.ID, SKU: it.SKU, Unit: it.Unit, Scale: it.Scale, LocationID: loc.ID, LocationPath: loc.Path, Lot: lot}
		if err := c.ensureLevel(it.ID, loc.ID); err != nil {
			return 0, err
		}
		return id, c.entry(&r, 0, "create", CreateRecordAction)
	}
	if err != sql.ErrNoRows {
		return 0, err
	}
	err = c.tx.QueryRowContext(c.ctx, `SELECT id FROM inventory_records WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3
		AND lot = $4 AND deleted_at IS NULL`, c.who.WorkspaceID, it.ID, loc.ID, lot).Scan(&id)
	return id, err
}

// ensureLocked returns the live record of item at location with lot,
// locked, creating it first when there is none. It is for movements that
// lock only this one record (two-record movements lock in id order).
func (c *change) ensureLocked(it Item, loc Location, lot string) (*Record, error) {
	if id, ok := c.state.aheadID(recordKey{it.ID, loc.ID, lot}); ok {
		if r, ok := c.state.takeAhead(id); ok {
			return &r, nil
		}
	}
	// The item and location are in hand: read the record alone.
	r := Record{ItemID: it.ID, SKU: it.SKU, Unit: it.Unit, Scale: it.Scale, LocationID: loc.ID, LocationPath: loc.Path, Lot: lot}
	var created, updated int64
	err := c.tx.QueryRowContext(c.ctx, `SELECT id, quantity, allocated, version, created_at, updated_at FROM inventory_records
		WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3 AND lot = $4 AND deleted_at IS NULL`+c.tx.ForUpdate(),
		c.who.WorkspaceID, it.ID, loc.ID, lot).Scan(&r.ID, &r.Quantity, &r.Allocated, &r.Version, &created, &updated)
	if err == nil {
		r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
		return &r, nil
	}
	if err != sql.ErrNoRows {
		return nil, err
	}
	id, err := c.ensure(it, loc, lot)
	if err != nil {
		return nil, err
	}
	recs, err := c.lock(id)
	if err != nil {
		return nil, err
	}
	return recs[id], nil
}

func (c *change) ensureLevel(itemID, locationID int64) error {
	_, err := c.tx.ExecContext(c.ctx, `INSERT INTO stock_levels (workspace_id, item_id, location_id, quantity) VALUES ($1, $2, $3, 0)
		ON CONFLICT (workspace_id, item_id, location_id) DO NOTHING`, c.who.WorkspaceID, itemID, locationID)
	return err
}

// apply changes a locked record by delta and logs it. field names the input
// that a refusal is about.
func (c *change) apply(r *Record, delta Quantity, movement string, action Action, field string) error {
	return c.applyBoth(r, delta, 0, movement, action, field)
}

// applyBoth changes a locked record's quantity by delta and its allocated
// quantity by allocDelta, and logs it. Stock that is allocated may leave
// the record only by a ship (which takes it off allocated too), never by
// another movement, whether or not the workspace allows negative stock.
func (c *change) applyBoth(r *Record, delta, allocDelta Quantity, movement string, action Action, field string) error {
	next, ok := r.Quantity.add(delta)
	if !ok {
		return fault.Field(field, "the level would be out of range")
	}
	nextAlloc, ok := r.Allocated.add(allocDelta)
	if !ok || nextAlloc < 0 {
		return fault.Field(field, "the allocated level would be out of range")
	}
	if nextAlloc > 0 && next < nextAlloc && (delta < 0 || allocDelta > 0) {
		if allocDelta > 0 {
			return c.shortfall(r, allocDelta, field)
		}
		return c.takesAllocated(r, field)
	}
	if next < 0 {
		allowed, err := c.state.negativeAllowed()
		if err != nil {
			return err
		}
		if !allowed {
			where := r.LocationPath
			if r.Lot != "" {
				where += " lot " + r.Lot
			}
			return fault.Field(field, fmt.Sprintf("only %s %s of %s at %s; the workspace does not allow negative stock",
				r.Quantity.Format(r.Scale), r.Unit, r.SKU, where))
		}
	}
	if err := c.checkPast(r, delta, movement, field); err != nil {
		return err
	}
	r.Quantity, r.Allocated = next, nextAlloc
	r.Version++
	return c.write(r, delta, allocDelta, movement, action, true)
}

// entry appends one log entry for r (already at its new level, stored) and
// keeps the level of the item at the location and the checkpoint in step.
func (c *change) entry(r *Record, delta Quantity, movement string, action Action) error {
	return c.write(r, delta, 0, movement, action, false)
}

// write stores r's new quantity and allocated quantity when setRecord is
// true, and appends its log entry with the level and checkpoint changes
// that go with it. allocDelta is the change to r's allocated quantity.
func (c *change) write(r *Record, delta, allocDelta Quantity, movement string, action Action, setRecord bool) error {
	if err := c.checkStationReach(r); err != nil {
		return err
	}
	if time.Since(c.recorded) > maxWriteDelay {
		// Recorded-time queries rely on entries being written promptly.
		return fault.New(fault.Conflict, "the movement took too long to write; try again")
	}
	c.heldLast = false
	var actorID any
	if c.who.ID != 0 {
		actorID = c.who.ID
	}
	logArgs := []any{c.who.WorkspaceID, r.ItemID, r.SKU, r.Unit, r.Scale, r.ID, r.LocationID, r.LocationPath, r.Lot, movement, string(action),
		int64(delta), int64(r.Quantity), string(c.who.Kind), actorID, c.who.Name, store.Micros(c.recorded),
		store.Micros(c.effective), c.reason, c.reference, c.idemKey, c.batchID}
	var id, level int64
	if c.tx.RoundTrips() {
		if held, ok := c.state.hold(c, r, delta, allocDelta, movement, action, setRecord); ok {
			// Sent with the batch's other writes; the id comes then.
			level, c.heldLast = held, true
		} else {
			// One round trip instead of four: each is a loopback exchange
			// with a server process, and they were most of a movement's cost.
			err := c.tx.QueryRowContext(c.ctx, pgWriteEntry, append(logArgs, setRecord, CheckpointPeriod(c.effective),
				int64(allocDelta), int64(r.Allocated))...).Scan(&id, &level)
			if err != nil {
				return fmt.Errorf("append inventory log: %w", err)
			}
			// The level's row is now locked by this transaction.
			c.state.knowLevel(r.ItemID, r.LocationID, level)
		}
	} else {
		if setRecord {
			if _, err := c.tx.ExecContext(c.ctx, `UPDATE inventory_records SET quantity = $3, allocated = $5, version = version + 1, updated_at = $4
				WHERE workspace_id = $1 AND id = $2`, c.who.WorkspaceID, r.ID, int64(r.Quantity), store.Micros(c.recorded), int64(r.Allocated)); err != nil {
				return err
			}
		}
		// An UPDATE and a SELECT rather than UPDATE … RETURNING: SQLite
		// builds RETURNING on a trigger, which gives the statement a
		// statement journal of its own (a page copy in and out per
		// movement).
		if _, err := c.tx.ExecContext(c.ctx, `UPDATE stock_levels SET quantity = quantity + $4, allocated = allocated + $5
			WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3`,
			c.who.WorkspaceID, r.ItemID, r.LocationID, int64(delta), int64(allocDelta)); err != nil {
			return fmt.Errorf("stock level of item %d at location %d: %w", r.ItemID, r.LocationID, err)
		}
		if err := c.tx.QueryRowContext(c.ctx, `SELECT quantity FROM stock_levels WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3`,
			c.who.WorkspaceID, r.ItemID, r.LocationID).Scan(&level); err != nil {
			return fmt.Errorf("stock level of item %d at location %d: %w", r.ItemID, r.LocationID, err)
		}
		if err := c.tx.QueryRowContext(c.ctx, `INSERT INTO inventory_log (workspace_id, item_id, sku, unit, unit_scale, record_id, location_id,
			location_path, lot, movement, action, change, record_level, actor_kind, actor_id, actor_name, recorded_at,
			effective_at, reason, reference, idempotency_key, batch_id, location_level, allocated_change, allocated_level)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) RETURNING id`,
			append(logArgs, level, int64(allocDelta), int64(r.Allocated))...).Scan(&id); err != nil {
			return fmt.Errorf("append inventory log: %w", err)
		}
		if delta != 0 || allocDelta != 0 {
			if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO inventory_checkpoints (workspace_id, item_id, location_id, period_start, change_sum, allocated_sum)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (workspace_id, item_id, location_id, period_start) DO UPDATE SET change_sum = inventory_checkpoints.change_sum + excluded.change_sum,
					allocated_sum = inventory_checkpoints.allocated_sum + excluded.allocated_sum`,
				c.who.WorkspaceID, r.ItemID, r.LocationID, CheckpointPeriod(c.effective), int64(delta), int64(allocDelta)); err != nil {
				return err
			}
		}
	}
	c.written = append(c.written, Entry{ID: id, ItemID: r.ItemID, SKU: r.SKU, Unit: r.Unit, Scale: r.Scale, RecordID: r.ID,
		LocationID: r.LocationID, LocationPath: r.LocationPath, Lot: r.Lot, Movement: movement, Action: action, Change: delta,
		RecordLevel: r.Quantity, LocationLevel: Quantity(level), AllocatedChange: allocDelta, AllocatedLevel: r.Allocated, ActorKind: string(c.who.Kind), ActorID: c.who.ID, ActorName: c.who.Name,
		RecordedAt: c.recorded, EffectiveAt: c.effective, Reason: c.reason, Reference: c.reference, IdempotencyKey: c.idemKey,
		BatchID: c.batchID})
	if c.recs == nil {
		c.recs = map[int64]*Record{}
	}
	if _, seen := c.recs[r.ID]; !seen {
		c.order = append(c.order, r.ID)
	}
	c.recs[r.ID] = r
	return nil
}

// pgWriteEntry is write's statement on PostgreSQL: the record's new
// quantity and allocated quantity (when $23), the item-location level, the
// month's checkpoint and the log entry, which takes the level after from
// the level's update. $25 is the allocated change, $26 the record's
// allocated level after. Every data-modifying WITH runs exactly once,
// referenced or not.
const pgWriteEntry = `WITH rec AS (
		UPDATE inventory_records SET quantity = $13, allocated = $26, version = version + 1, updated_at = $17
		WHERE $23 AND workspace_id = $1 AND id = $6
	), lvl AS (
		UPDATE stock_levels SET quantity = quantity + $12, allocated = allocated + $25
		WHERE workspace_id = $1 AND item_id = $2 AND location_id = $7 RETURNING quantity
	), cp AS (
		INSERT INTO inventory_checkpoints (workspace_id, item_id, location_id, period_start, change_sum, allocated_sum)
		SELECT $1, $2, $7, $24, $12, $25 WHERE $12::bigint <> 0 OR $25::bigint <> 0
		ON CONFLICT (workspace_id, item_id, location_id, period_start) DO UPDATE SET change_sum = inventory_checkpoints.change_sum + excluded.change_sum,
			allocated_sum = inventory_checkpoints.allocated_sum + excluded.allocated_sum
	)
	INSERT INTO inventory_log (workspace_id, item_id, sku, unit, unit_scale, record_id, location_id,
		location_path, lot, movement, action, change, record_level, actor_kind, actor_id, actor_name, recorded_at,
		effective_at, reason, reference, idempotency_key, batch_id, location_level, allocated_change, allocated_level)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, lvl.quantity, $25, $26 FROM lvl
	RETURNING id, location_level`

// remove marks a record deleted after logging delete_record with whatever
// quantity it still held taken out.
func (c *change) remove(r *Record, movement string) error {
	if r.Allocated > 0 {
		return c.takesAllocated(r, "record_id")
	}
	delta := -r.Quantity
	if err := c.checkPast(r, delta, movement, "effective_at"); err != nil {
		return err
	}
	if _, err := c.tx.ExecContext(c.ctx, `UPDATE inventory_records SET quantity = 0, version = version + 1, updated_at = $3, deleted_at = $3
		WHERE workspace_id = $1 AND id = $2`, c.who.WorkspaceID, r.ID, store.Micros(c.recorded)); err != nil {
		return err
	}
	r.Quantity = 0
	r.Version++
	return c.entry(r, delta, movement, DeleteRecordAction)
}

// event records the movement in the activity trail.
func (c *change) event(what string, entityID int64, old, new any, description string) error {
	if c.batch != nil {
		c.batch.add(what, entityID)
		return nil
	}
	action := activity.Update
	switch what {
	case "create":
		action = activity.Create
	case "delete":
		action = activity.Delete
	}
	return activity.Note(c.ctx, c.tx, activity.Event{Action: action, Category: activity.Inventory,
		EntityType: "inventory_records", EntityID: fmt.Sprint(entityID), Old: old, New: new, Description: what + ": " + description})
}

// CheckpointPeriod is the checkpoint period (inventory_checkpoints'
// period_start) of an effective time: the start of its calendar month in
// UTC, in stored microseconds.
func CheckpointPeriod(t time.Time) int64 {
	t = t.UTC()
	return store.Micros(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}
