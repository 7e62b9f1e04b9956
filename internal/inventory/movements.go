package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Movement is one kind of stock change (receipt, issue, move, split, merge,
// initialize, correction, reconciliation, allocate, release, ship). Apply
// runs one or many in a single transaction.
type Movement interface {
	// Kind names the movement in log entries ("receipt", "issue", ...).
	Kind() string
	opts() *Options
	run(c *change) error
}

// MaxBatch caps how many movements one transaction may carry.
const MaxBatch = 100

// Result is what a movement wrote: its log entries in commit order and the
// records it touched, at their new levels.
type Result struct {
	Entries []Entry  `json:"entries"`
	Records []Record `json:"records"`
}

// Apply runs the movements in one transaction: all of them happen, with
// their log entries and activity events, or none. A problem with the n-th of
// several movements names its fields "movements[n].field".
func Apply(ctx context.Context, db *store.DB, ms ...Movement) (Result, error) {
	who, err := checkMovements(ctx, ms)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = db.InTx(ctx, func(tx *store.Tx) error {
		res, err = applyIn(ctx, tx, who, ms)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// ApplyIn runs movements inside the caller's transaction, with the same
// permission check and validation as Apply: orders use it so that the
// order's own state, its activity event and the stock entries commit
// together. An error leaves the transaction to the caller, who must roll it
// back (return the error from db.InTx's function).
func ApplyIn(ctx context.Context, tx *store.Tx, ms ...Movement) (Result, error) {
	who, err := checkMovements(ctx, ms)
	if err != nil {
		return Result{}, err
	}
	return applyIn(ctx, tx, who, ms)
}

// checkMovements checks the permission and what can be checked of the
// movements before the transaction.
func checkMovements(ctx context.Context, ms []Movement) (actor.Actor, error) {
	who, err := actor.Require(ctx, actor.MoveStock)
	if err != nil {
		return actor.Actor{}, err
	}
	if len(ms) == 0 {
		return actor.Actor{}, fault.Field("movements", "send at least one movement")
	}
	if len(ms) > MaxBatch {
		return actor.Actor{}, fault.Field("movements", fmt.Sprintf("at most %d movements in one batch", MaxBatch))
	}
	for i, m := range ms {
		if err := refuseForStation(who, m); err != nil {
			return actor.Actor{}, inBatch(err, i, len(ms))
		}
		f := fault.Fields{}
		validateOptions(m.opts(), f)
		if err := f.Err(); err != nil {
			return actor.Actor{}, inBatch(err, i, len(ms))
		}
	}
	return who, nil
}

func applyIn(ctx context.Context, tx *store.Tx, who actor.Actor, ms []Movement) (Result, error) {
	var res Result
	state := newTxState(ctx, tx, who.WorkspaceID)
	var batch *batchEvent
	if len(ms) > 1 {
		if err := state.prime(ms); err != nil {
			return Result{}, err
		}
		if err := state.readAhead(ms); err != nil {
			return Result{}, err
		}
		batch = newBatchEvent()
	}
	var c *change
	for i, m := range ms {
		c = begin(ctx, tx, who, state, *m.opts())
		if batch != nil {
			c.batchID = actor.RequestFrom(ctx).RequestID
			c.batch = batch
		}
		if err := m.run(c); err != nil {
			return Result{}, inBatch(err, i, len(ms))
		}
		res.Entries = append(res.Entries, c.written...)
		res.Records = append(res.Records, c.touched()...)
	}
	if batch == nil {
		return res, nil
	}
	if err := state.finishHeld(&res); err != nil {
		return Result{}, err
	}
	if err := batch.note(c, "batch"); err != nil {
		return Result{}, err
	}
	return res, nil
}

func inBatch(err error, i, n int) error {
	e, ok := fault.As(err)
	if !ok || n == 1 {
		return err
	}
	out := &fault.Error{Kind: e.Kind, Message: fmt.Sprintf("movement %d: %s", i+1, e.Message), Err: e.Err}
	if len(e.Fields) > 0 {
		out.Fields = map[string]string{}
		for k, v := range e.Fields {
			out.Fields[fmt.Sprintf("movements[%d].%s", i, k)] = v
		}
	}
	return out
}

// Receive runs one receipt; the other single-movement helpers below do the
// same for their kinds.
func Receive(ctx context.Context, db *store.DB, in Receipt) (Result, error) {
	return Apply(ctx, db, &in)
}

// IssueStock takes stock out of a record.
func IssueStock(ctx context.Context, db *store.DB, in Issue) (Result, error) {
	return Apply(ctx, db, &in)
}

// MoveStock moves stock from a record to another location.
func MoveStock(ctx context.Context, db *store.DB, in Move) (Result, error) {
	return Apply(ctx, db, &in)
}

// SplitRecord splits part of a record off into a new lot.
func SplitRecord(ctx context.Context, db *store.DB, in Split) (Result, error) {
	return Apply(ctx, db, &in)
}

// MergeRecords merges records of one item into one.
func MergeRecords(ctx context.Context, db *store.DB, in Merge) (Result, error) {
	return Apply(ctx, db, &in)
}

// InitializeBatch sets the levels of a location's records to counted values.
func InitializeBatch(ctx context.Context, db *store.DB, in Initialize) (Result, error) {
	return Apply(ctx, db, &in)
}

// Correct changes a record by a signed amount, with a reason.
func Correct(ctx context.Context, db *store.DB, in Correction) (Result, error) {
	return Apply(ctx, db, &in)
}

// Reconcile sets a record to a counted quantity.
func Reconcile(ctx context.Context, db *store.DB, in Reconciliation) (Result, error) {
	return Apply(ctx, db, &in)
}

// ItemRef names an item by id or SKU.
type ItemRef struct {
	ItemID int64  `json:"item_id,omitempty"`
	SKU    string `json:"sku,omitempty"`
}

// LocationRef names a location by id or path ("WH1/A/03"). A station's
// own location is used when neither is given.
type LocationRef struct {
	LocationID int64  `json:"location_id,omitempty"`
	Location   string `json:"location,omitempty"`
}

// RecordRef names a record by id, or by item, location and lot.
type RecordRef struct {
	RecordID int64 `json:"record_id,omitempty"`
	ItemRef
	LocationRef
	Lot string `json:"lot,omitempty"`
}

// Receipt is stock coming in (stock-in).
type Receipt struct {
	ItemRef
	LocationRef
	Lot      string      `json:"lot,omitempty"`
	Quantity DecimalText `json:"quantity"`
	Options
}

// Issue is stock going out (stock-out).
type Issue struct {
	RecordRef
	Quantity DecimalText `json:"quantity"`
	Options
}

// Move takes stock from a record to the same item and lot at another location.
type Move struct {
	RecordRef
	ToLocationID int64       `json:"to_location_id,omitempty"`
	ToLocation   string      `json:"to_location,omitempty"`
	Quantity     DecimalText `json:"quantity"`
	Options
}

// Split moves part of a record into a new lot at the same location.
type Split struct {
	RecordRef
	NewLot   string      `json:"new_lot"`
	Quantity DecimalText `json:"quantity"`
	Options
}

// Merge empties records into one record of the same item and location; the
// emptied records are deleted.
type Merge struct {
	RecordIDs    []int64 `json:"record_ids"`
	IntoRecordID int64   `json:"into_record_id"`
	Options
}

// InitializeLine is one counted line of a batch initialize.
type InitializeLine struct {
	ItemRef
	Lot      string      `json:"lot,omitempty"`
	Quantity DecimalText `json:"quantity"`
}

// Initialize sets, at one location, each line's record to its counted
// quantity (creating records as needed): the scanning station's batch
// initialize.
type Initialize struct {
	LocationRef
	Lines []InitializeLine `json:"lines"`
	Options
}

// Correction changes a record by a signed amount; a reason is required.
type Correction struct {
	RecordRef
	Change DecimalText `json:"change"`
	Options
}

// Reconciliation sets a record (created if missing) to a counted quantity;
// the difference is logged as user_correction.
type Reconciliation struct {
	RecordRef
	Counted DecimalText `json:"counted"`
	Options
}

func (m *Receipt) Kind() string        { return "receipt" }
func (m *Issue) Kind() string          { return "issue" }
func (m *Move) Kind() string           { return "move" }
func (m *Split) Kind() string          { return "split" }
func (m *Merge) Kind() string          { return "merge" }
func (m *Initialize) Kind() string     { return "initialize" }
func (m *Correction) Kind() string     { return "correction" }
func (m *Reconciliation) Kind() string { return "reconciliation" }

func (m *Receipt) opts() *Options        { return &m.Options }
func (m *Issue) opts() *Options          { return &m.Options }
func (m *Move) opts() *Options           { return &m.Options }
func (m *Split) opts() *Options          { return &m.Options }
func (m *Merge) opts() *Options          { return &m.Options }
func (m *Initialize) opts() *Options     { return &m.Options }
func (m *Correction) opts() *Options     { return &m.Options }
func (m *Reconciliation) opts() *Options { return &m.Options }

// positive parses a strictly positive quantity for the item's unit.
func positive(field string, text DecimalText, scale int) (Quantity, error) {
	q, err := ParseQuantity(string(text), scale)
	if err != nil {
		return 0, fault.Field(field, err.Error())
	}
	if q <= 0 {
		return 0, fault.Field(field, "must be greater than zero")
	}
	return q, nil
}

func cleanLot(field, lot string) (string, error) {
	lot = strings.TrimSpace(lot)
	if len(lot) > 64 {
		return "", fault.Field(field, "at most 64 characters")
	}
	// Lots come from forms, the API and imported files alike: all one line.
	if err := plaintext.Line(field, lot); err != nil {
		return "", err
	}
	return lot, nil
}

func (c *change) item(ref ItemRef) (Item, error) {
	switch {
	case ref.ItemID != 0:
		if it, ok := c.state.itemByID(ref.ItemID); ok {
			return it, nil
		}
		it, err := getItem(c.ctx, c.tx, c.who.WorkspaceID, ref.ItemID)
		if fault.Is(err, fault.NotFound) {
			return Item{}, fault.Field("item_id", "no such item")
		}
		if err == nil {
			c.state.keepItem(it)
		}
		return it, err
	case strings.TrimSpace(ref.SKU) != "":
		if it, ok := c.state.itemBySKU(strings.TrimSpace(ref.SKU)); ok {
			return it, nil
		}
		it, err := itemBySKU(c.ctx, c.tx, c.who.WorkspaceID, ref.SKU)
		if fault.Is(err, fault.NotFound) {
			return Item{}, fault.Field("sku", fmt.Sprintf("there is no item with SKU %s", strings.TrimSpace(ref.SKU)))
		}
		if err == nil {
			c.state.keepItem(it)
		}
		return it, err
	}
	return Item{}, fault.Field("sku", "give a SKU or item_id")
}

func (c *change) location(ref LocationRef, field string) (Location, error) {
	var l Location
	var err error
	id := ref.LocationID
	cached := false
	switch {
	case id == 0 && strings.TrimSpace(ref.Location) != "":
		if l, cached = c.state.locationByPath(strings.TrimSpace(ref.Location)); cached {
			break
		}
		l, err = scanLocation(c.tx.QueryRowContext(c.ctx, `SELECT `+locationColumns+` FROM locations WHERE workspace_id = $1 AND path = $2`,
			c.who.WorkspaceID, strings.TrimSpace(ref.Location)))
		if errors.Is(err, sql.ErrNoRows) {
			return Location{}, fault.Field(field, fmt.Sprintf("unknown location %q", ref.Location))
		}
	default:
		if id == 0 && c.who.Kind == actor.Station {
			id = c.who.LocationID
		}
		if id == 0 {
			return Location{}, fault.Field(field, "give a location (id or path such as WH1/A/03)")
		}
		if l, cached = c.state.locationByID(id); cached {
			break
		}
		l, err = getLocation(c.ctx, c.tx, c.who.WorkspaceID, id)
		if fault.Is(err, fault.NotFound) {
			return Location{}, fault.Field(field, "no such location")
		}
	}
	if err != nil {
		return Location{}, err
	}
	if !cached {
		c.state.keepLocation(l)
	}
	if l.ArchivedAt != nil {
		return Location{}, fault.Field(field, "location "+l.Path+" is archived")
	}
	return l, nil
}

// recordID resolves a RecordRef to the id of a live record.
func (c *change) recordID(ref RecordRef) (int64, error) {
	if ref.RecordID != 0 {
		return ref.RecordID, nil
	}
	it, err := c.item(ref.ItemRef)
	if err != nil {
		if ref.ItemID == 0 && ref.SKU == "" {
			return 0, fault.Field("record_id", "give a record_id, or a SKU and a location")
		}
		return 0, err
	}
	loc, err := c.location(ref.LocationRef, "location")
	if err != nil {
		return 0, err
	}
	lot, err := cleanLot("lot", ref.Lot)
	if err != nil {
		return 0, err
	}
	if id, ok := c.state.aheadID(recordKey{it.ID, loc.ID, lot}); ok {
		return id, nil
	}
	var id int64
	err = c.tx.QueryRowContext(c.ctx, `SELECT id FROM inventory_records WHERE workspace_id = $1 AND item_id = $2 AND location_id = $3
		AND lot = $4 AND deleted_at IS NULL`, c.who.WorkspaceID, it.ID, loc.ID, lot).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, c.noRecord(it, loc, lot)
	}
	return id, err
}

// noRecord is the refusal of a movement that names a lot the item has no
// record of at loc. When the item is there in other lots, it says so and
// names them (field "lot", cause *LotChoices), so that a screen can offer
// them instead of "no stock".
func (c *change) noRecord(it Item, loc Location, lot string) error {
	rows, err := c.tx.QueryContext(c.ctx, `SELECT lot, quantity FROM inventory_records WHERE workspace_id = $1 AND item_id = $2
		AND location_id = $3 AND deleted_at IS NULL AND quantity <> 0 ORDER BY lot LIMIT $4`, c.who.WorkspaceID, it.ID, loc.ID, maxLotChoices)
	if err != nil {
		return err
	}
	defer rows.Close()
	choices := &LotChoices{SKU: it.SKU, LocationPath: loc.Path, Unit: it.Unit}
	for rows.Next() {
		var l string
		var q Quantity
		if err := rows.Scan(&l, &q); err != nil {
			return err
		}
		choices.Lots = append(choices.Lots, LotLevel{Lot: l, Quantity: q.Format(it.Scale)})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(choices.Lots) == 0 || (len(choices.Lots) == 1 && choices.Lots[0].Lot == lot) {
		return fault.Field("record_id", fmt.Sprintf("no stock of %s at %s (lot %q)", it.SKU, loc.Path, lot))
	}
	msg := choices.sentence(lot)
	return &fault.Error{Kind: fault.Invalid, Message: msg, Fields: map[string]string{"lot": msg}, Err: choices}
}

func (c *change) lockOne(id int64) (*Record, error) {
	recs, err := c.lock(id)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Field("record_id", "no such inventory record")
		}
		return nil, err
	}
	return recs[id], nil
}

func (m *Receipt) run(c *change) error {
	it, err := c.item(m.ItemRef)
	if err != nil {
		return err
	}
	loc, err := c.location(m.LocationRef, "location")
	if err != nil {
		return err
	}
	lot, err := cleanLot("lot", m.Lot)
	if err != nil {
		return err
	}
	q, err := positive("quantity", m.Quantity, it.Scale)
	if err != nil {
		return err
	}
	r, err := c.ensureLocked(it, loc, lot)
	if err != nil {
		return err
	}
	old := r.Quantity
	if err := c.apply(r, q, m.Kind(), actionFor(c.who, false), "quantity"); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), r, old, fmt.Sprintf("received %s %s of %s at %s", q.Format(it.Scale), it.Unit, it.SKU, loc.Path))
}

func (m *Issue) run(c *change) error {
	id, err := c.recordID(m.RecordRef)
	if err != nil {
		return err
	}
	r, err := c.lockOne(id)
	if err != nil {
		return err
	}
	q, err := positive("quantity", m.Quantity, r.Scale)
	if err != nil {
		return err
	}
	old := r.Quantity
	if err := c.apply(r, -q, m.Kind(), actionFor(c.who, false), "quantity"); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), r, old, fmt.Sprintf("issued %s %s of %s at %s", q.Format(r.Scale), r.Unit, r.SKU, r.LocationPath))
}

func (m *Move) run(c *change) error {
	id, err := c.recordID(m.RecordRef)
	if err != nil {
		return err
	}
	src, err := c.lockOne(id)
	if err != nil {
		return err
	}
	to, err := c.location(LocationRef{LocationID: m.ToLocationID, Location: m.ToLocation}, "to_location")
	if err != nil {
		return err
	}
	if to.ID == src.LocationID {
		return fault.Field("to_location", "is the record's own location")
	}
	q, err := positive("quantity", m.Quantity, src.Scale)
	if err != nil {
		return err
	}
	it, err := getItem(c.ctx, c.tx, c.who.WorkspaceID, src.ItemID)
	if err != nil {
		return err
	}
	dstID, err := c.ensure(it, to, src.Lot)
	if err != nil {
		return err
	}
	recs, err := c.lock(src.ID, dstID)
	if err != nil {
		return err
	}
	src, dst := recs[src.ID], recs[dstID]
	old := src.Quantity
	action := actionFor(c.who, false)
	if err := c.apply(src, -q, m.Kind(), action, "quantity"); err != nil {
		return err
	}
	if err := c.apply(dst, q, m.Kind(), action, "quantity"); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), src, old, fmt.Sprintf("moved %s %s of %s from %s to %s", q.Format(src.Scale), src.Unit, src.SKU,
		src.LocationPath, dst.LocationPath), dst)
}

func (m *Split) run(c *change) error {
	id, err := c.recordID(m.RecordRef)
	if err != nil {
		return err
	}
	src, err := c.lockOne(id)
	if err != nil {
		return err
	}
	lot, err := cleanLot("new_lot", m.NewLot)
	if err != nil {
		return err
	}
	if lot == src.Lot {
		return fault.Field("new_lot", "must differ from the record's lot")
	}
	q, err := positive("quantity", m.Quantity, src.Scale)
	if err != nil {
		return err
	}
	if q > src.Quantity {
		return fault.Field("quantity", fmt.Sprintf("the record holds only %s %s", src.Quantity.Format(src.Scale), src.Unit))
	}
	it, err := getItem(c.ctx, c.tx, c.who.WorkspaceID, src.ItemID)
	if err != nil {
		return err
	}
	loc, err := getLocation(c.ctx, c.tx, c.who.WorkspaceID, src.LocationID)
	if err != nil {
		return err
	}
	dstID, err := c.ensure(it, loc, lot)
	if err != nil {
		return err
	}
	recs, err := c.lock(src.ID, dstID)
	if err != nil {
		return err
	}
	src, dst := recs[src.ID], recs[dstID]
	old := src.Quantity
	action := actionFor(c.who, false)
	if err := c.apply(src, -q, m.Kind(), action, "quantity"); err != nil {
		return err
	}
	if err := c.apply(dst, q, m.Kind(), action, "quantity"); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), src, old, fmt.Sprintf("split %s %s of %s into lot %q", q.Format(src.Scale), src.Unit, src.SKU, lot), dst)
}

func (m *Merge) run(c *change) error {
	if m.IntoRecordID == 0 {
		return fault.Field("into_record_id", "required")
	}
	if len(m.RecordIDs) == 0 {
		return fault.Field("record_ids", "name at least one record to merge")
	}
	if len(m.RecordIDs) > MaxBatch {
		return fault.Field("record_ids", fmt.Sprintf("at most %d records", MaxBatch))
	}
	ids := append([]int64{m.IntoRecordID}, m.RecordIDs...)
	for _, id := range m.RecordIDs {
		if id == m.IntoRecordID {
			return fault.Field("record_ids", "may not include into_record_id")
		}
	}
	recs, err := c.lock(ids...)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return &fault.Error{Kind: fault.Invalid, Message: err.Error(), Fields: map[string]string{"record_ids": err.Error()}}
		}
		return err
	}
	into := recs[m.IntoRecordID]
	old := into.Quantity
	action := actionFor(c.who, false)
	for _, id := range m.RecordIDs {
		r := recs[id]
		if r.ItemID != into.ItemID {
			return fault.Field("record_ids", fmt.Sprintf("record %d holds %s, not %s: only records of one item merge", id, r.SKU, into.SKU))
		}
		if r.LocationID != into.LocationID {
			return fault.Field("record_ids", fmt.Sprintf("record %d is at %s, not %s: move it first", id, r.LocationPath, into.LocationPath))
		}
	}
	for _, id := range m.RecordIDs {
		r := recs[id]
		q := r.Quantity
		if q != 0 {
			if err := c.apply(r, -q, m.Kind(), action, "record_ids"); err != nil {
				return err
			}
			if err := c.apply(into, q, m.Kind(), action, "record_ids"); err != nil {
				return err
			}
		}
		if err := c.remove(r, m.Kind()); err != nil {
			return err
		}
	}
	return c.recordEvent(m.Kind(), into, old, fmt.Sprintf("merged %d records of %s into record %d", len(m.RecordIDs), into.SKU, into.ID))
}

func (m *Initialize) run(c *change) error {
	loc, err := c.location(m.LocationRef, "location")
	if err != nil {
		return err
	}
	if len(m.Lines) == 0 {
		return fault.Field("lines", "send at least one line")
	}
	if len(m.Lines) > 1000 {
		return fault.Field("lines", "at most 1000 lines")
	}
	seen := map[string]int{}
	type target struct {
		id      int64
		counted Quantity
	}
	var targets []target
	for i, line := range m.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		it, err := c.item(line.ItemRef)
		if err != nil {
			return prefixFields(err, field)
		}
		lot, err := cleanLot(field+".lot", line.Lot)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%d/%s", it.ID, lot)
		if j, dup := seen[key]; dup {
			return fault.Field(field, fmt.Sprintf("repeats line %d (%s lot %q)", j, it.SKU, lot))
		}
		seen[key] = i
		q, err := ParseQuantity(string(line.Quantity), it.Scale)
		if err != nil {
			return fault.Field(field+".quantity", err.Error())
		}
		if q < 0 {
			return fault.Field(field+".quantity", "a counted quantity may not be negative")
		}
		id, err := c.ensure(it, loc, lot)
		if err != nil {
			return err
		}
		targets = append(targets, target{id, q})
	}
	ids := make([]int64, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	recs, err := c.lock(ids...)
	if err != nil {
		return err
	}
	action := actionFor(c.who, false)
	for i, t := range targets {
		r := recs[t.id]
		if d := t.counted - r.Quantity; d != 0 {
			if err := c.apply(r, d, m.Kind(), action, fmt.Sprintf("lines[%d].quantity", i)); err != nil {
				return err
			}
		}
	}
	return c.eventAt("initialize", loc, len(targets))
}

func (m *Correction) run(c *change) error {
	if m.Reason == "" {
		return fault.Field("reason", "a correction needs a reason")
	}
	id, err := c.recordID(m.RecordRef)
	if err != nil {
		return err
	}
	r, err := c.lockOne(id)
	if err != nil {
		return err
	}
	d, err := ParseQuantity(string(m.Change), r.Scale)
	if err != nil {
		return fault.Field("change", err.Error())
	}
	if d == 0 {
		return fault.Field("change", "must not be zero")
	}
	old := r.Quantity
	if err := c.apply(r, d, m.Kind(), actionFor(c.who, true), "change"); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), r, old, fmt.Sprintf("corrected %s at %s by %s %s: %s", r.SKU, r.LocationPath, d.Format(r.Scale), r.Unit, m.Reason))
}

func (m *Reconciliation) run(c *change) error {
	var id int64
	var err error
	if m.RecordID != 0 {
		id = m.RecordID
	} else {
		it, err := c.item(m.ItemRef)
		if err != nil {
			return err
		}
		loc, err := c.location(m.LocationRef, "location")
		if err != nil {
			return err
		}
		lot, err := cleanLot("lot", m.Lot)
		if err != nil {
			return err
		}
		if id, err = c.ensure(it, loc, lot); err != nil {
			return err
		}
	}
	r, err := c.lockOne(id)
	if err != nil {
		return err
	}
	counted, err := ParseQuantity(string(m.Counted), r.Scale)
	if err != nil {
		return fault.Field("counted", err.Error())
	}
	if counted < 0 {
		return fault.Field("counted", "a counted quantity may not be negative")
	}
	old := r.Quantity
	if d := counted - r.Quantity; d != 0 {
		if c.reason == "" {
			c.reason = "reconciled to a count of " + counted.Format(r.Scale)
		}
		if err := c.apply(r, d, m.Kind(), actionFor(c.who, true), "counted"); err != nil {
			return err
		}
	}
	return c.recordEvent(m.Kind(), r, old, fmt.Sprintf("reconciled %s at %s to %s %s", r.SKU, r.LocationPath, counted.Format(r.Scale), r.Unit))
}

func prefixFields(err error, prefix string) error {
	e, ok := fault.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &fault.Error{Kind: e.Kind, Message: prefix + ": " + e.Message, Fields: map[string]string{}}
	for k, v := range e.Fields {
		out.Fields[prefix+"."+k] = v
	}
	return out
}

// recordEvent writes the activity event of a movement on r (and others).
func (c *change) recordEvent(kind string, r *Record, old Quantity, description string, others ...*Record) error {
	newValues := map[string]any{"quantity": r.Quantity.Format(r.Scale), "movement": kind}
	for _, o := range others {
		newValues[fmt.Sprintf("record_%d_quantity", o.ID)] = o.Quantity.Format(o.Scale)
	}
	return c.event(kind, r.ID, map[string]any{"quantity": old.Format(r.Scale)}, newValues, description)
}

func (c *change) eventAt(kind string, loc Location, lines int) error {
	return c.event(kind, 0, nil, map[string]any{"location": loc.Path, "lines": lines},
		fmt.Sprintf("%d lines at %s", lines, loc.Path))
}
