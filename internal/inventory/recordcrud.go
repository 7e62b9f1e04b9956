package inventory

import (
	"context"
	"fmt"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// RecordInput is what it takes to create an inventory record: item,
// location, lot and an opening quantity, which is the change of its
// create_record entry. It is also the movement that creates it.
type RecordInput struct {
	ItemRef
	LocationRef
	Lot      string      `json:"lot,omitempty"`
	Quantity DecimalText `json:"quantity"`
	Options
}

// RecordChange edits a record's lot; quantities change only by movements.
type RecordChange struct {
	Lot string `json:"lot"`
	Options
}

// CreateRecord creates a record (create_record).
func CreateRecord(ctx context.Context, db *store.DB, in RecordInput) (Result, error) {
	return Apply(ctx, db, &in)
}

// UpdateRecord changes a record's lot (update_record).
func UpdateRecord(ctx context.Context, db *store.DB, id int64, in RecordChange) (Result, error) {
	return Apply(ctx, db, &recordEdit{id: id, RecordChange: in})
}

// DeleteRecord deletes a record (delete_record); whatever quantity
// it held is logged as taken out.
func DeleteRecord(ctx context.Context, db *store.DB, id int64, o Options) (Result, error) {
	return Apply(ctx, db, &recordDelete{id: id, Options: o})
}

func (m *RecordInput) Kind() string   { return "create" }
func (m *RecordInput) opts() *Options { return &m.Options }

func (m *RecordInput) run(c *change) error {
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
	q := Quantity(0)
	if m.Quantity != "" {
		if q, err = ParseQuantity(string(m.Quantity), it.Scale); err != nil {
			return fault.Field("quantity", err.Error())
		}
		if q < 0 {
			if allowed, err := c.state.negativeAllowed(); err != nil {
				return err
			} else if !allowed {
				return fault.Field("quantity", "may not be negative")
			}
		}
	}
	var id int64
	err = c.tx.QueryRowContext(c.ctx, `INSERT INTO inventory_records (workspace_id, item_id, location_id, lot, quantity, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, c.who.WorkspaceID, it.ID, loc.ID, lot, int64(q), store.Micros(c.recorded)).Scan(&id)
	if store.IsUniqueViolation(err) {
		return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("%s at %s lot %q already has a record", it.SKU, loc.Path, lot),
			Fields: map[string]string{"lot": "already has a record here"}}
	}
	if err != nil {
		return err
	}
	if err := c.ensureLevel(it.ID, loc.ID); err != nil {
		return err
	}
	r := &Record{ID: id, ItemID: it.ID, SKU: it.SKU, Unit: it.Unit, Scale: it.Scale, LocationID: loc.ID, LocationPath: loc.Path,
		Lot: lot, Quantity: q, Version: 1, CreatedAt: c.recorded, UpdatedAt: c.recorded}
	if err := c.entry(r, q, m.Kind(), CreateRecordAction); err != nil {
		return err
	}
	return c.recordEvent(m.Kind(), r, 0, fmt.Sprintf("record of %s at %s created with %s %s", it.SKU, loc.Path, q.Format(it.Scale), it.Unit))
}

type recordEdit struct {
	id int64
	RecordChange
}

func (m *recordEdit) Kind() string   { return "update" }
func (m *recordEdit) opts() *Options { return &m.Options }

func (m *recordEdit) run(c *change) error {
	r, err := c.lockOne(m.id)
	if err != nil {
		return err
	}
	lot, err := cleanLot("lot", m.Lot)
	if err != nil {
		return err
	}
	if lot == r.Lot {
		return fault.Field("lot", "is unchanged")
	}
	old := r.Lot
	_, err = c.tx.ExecContext(c.ctx, `UPDATE inventory_records SET lot = $3, version = version + 1, updated_at = $4
		WHERE workspace_id = $1 AND id = $2`, c.who.WorkspaceID, r.ID, lot, store.Micros(c.recorded))
	if store.IsUniqueViolation(err) {
		return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("lot %q already has a record here; merge instead", lot),
			Fields: map[string]string{"lot": "already has a record here"}}
	}
	if err != nil {
		return err
	}
	r.Lot = lot
	r.Version++
	if c.reason == "" {
		c.reason = fmt.Sprintf("lot %q → %q", old, lot)
	}
	if err := c.entry(r, 0, m.Kind(), UpdateRecordAction); err != nil {
		return err
	}
	return c.event(m.Kind(), r.ID, map[string]any{"lot": old}, map[string]any{"lot": lot}, "record lot changed")
}

type recordDelete struct {
	id int64
	Options
}

func (m *recordDelete) Kind() string   { return "delete" }
func (m *recordDelete) opts() *Options { return &m.Options }

func (m *recordDelete) run(c *change) error {
	r, err := c.lockOne(m.id)
	if err != nil {
		return err
	}
	if r.Quantity != 0 && m.Reason == "" {
		return fault.Field("reason", fmt.Sprintf("the record still holds %s %s: say why it is deleted", r.Quantity.Format(r.Scale), r.Unit))
	}
	old := r.Quantity
	if err := c.remove(r, m.Kind()); err != nil {
		return err
	}
	return c.event(m.Kind(), r.ID, map[string]any{"quantity": old.Format(r.Scale), "lot": r.Lot}, nil, "record deleted")
}
