package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ItemKind says what sort of thing an item is.
type ItemKind string

const (
	Material ItemKind = "material"
	Part     ItemKind = "part"
	Product  ItemKind = "product"
)

func (k ItemKind) valid() bool { return k == Material || k == Part || k == Product }

// Item is a material, part or product kept in stock. Its SKU is unique in the
// workspace; Scale is how many decimals a quantity in its Unit may have.
type Item struct {
	ID    int64    `json:"id"`
	SKU   string   `json:"sku"`
	Name  string   `json:"name"`
	Kind  ItemKind `json:"kind"`
	Unit  string   `json:"unit"`
	Scale int      `json:"scale"`
	// MinLevel is the level below which the item's available stock,
	// summed over all locations, is a stock alert; nil for none.
	MinLevel  *Quantity `json:"min_level"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (it Item) values() map[string]any {
	v := map[string]any{"sku": it.SKU, "name": it.Name, "kind": string(it.Kind), "unit": it.Unit, "scale": it.Scale}
	if it.MinLevel != nil {
		v["min_level"] = it.MinLevel.Format(it.Scale)
	}
	return v
}

// MinLevelText is the minimum level in the item's unit, empty when none.
func (it Item) MinLevelText() string {
	if it.MinLevel == nil {
		return ""
	}
	return it.MinLevel.Format(it.Scale)
}

// ItemInput is what it takes to create or change an item.
type ItemInput struct {
	SKU   string   `json:"sku"`
	Name  string   `json:"name"`
	Kind  ItemKind `json:"kind"`
	Unit  string   `json:"unit"`
	Scale *int     `json:"scale"`
	// MinLevel is the optional minimum level (a decimal in the item's
	// unit); empty for none.
	MinLevel DecimalText `json:"min_level"`
	// minLevel is MinLevel parsed by validate.
	minLevel *Quantity
}

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

func (in *ItemInput) validate() error {
	f := fault.Fields{}
	in.SKU, in.Name, in.Unit = strings.TrimSpace(in.SKU), strings.TrimSpace(in.Name), strings.TrimSpace(in.Unit)
	if !skuPattern.MatchString(in.SKU) {
		f.Add("sku", "1–64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
	}
	if in.Name == "" {
		f.Add("name", "required")
	} else if err := plaintext.Line("name", in.Name); err != nil {
		f.Add("name", err.(*fault.Error).Fields["name"])
	} else if len(in.Name) > 200 {
		f.Add("name", "at most 200 characters")
	}
	if in.Kind == "" {
		in.Kind = Material
	}
	if !in.Kind.valid() {
		f.Add("kind", "must be material, part or product")
	}
	if in.Unit == "" {
		in.Unit = "pcs"
	}
	if len(in.Unit) > 20 {
		f.Add("unit", "at most 20 characters")
	}
	if in.Scale == nil {
		zero := 0
		in.Scale = &zero
	}
	if *in.Scale < 0 || *in.Scale > MaxScale {
		f.Add("scale", fmt.Sprintf("must be 0 to %d decimals", MaxScale))
	} else if text := strings.TrimSpace(string(in.MinLevel)); text == "" {
		in.minLevel = nil
	} else if q, err := ParseQuantity(text, *in.Scale); err != nil {
		f.Add("min_level", "minimum level "+err.Error())
	} else if q < 0 {
		f.Add("min_level", "the minimum level must be 0 or more")
	} else {
		in.minLevel = &q
	}
	return f.Err()
}

// CreateItem adds an item to the catalogue.
func CreateItem(ctx context.Context, db *store.DB, in ItemInput) (Item, error) {
	a, err := actor.Require(ctx, actor.ManageCatalog)
	if err != nil {
		return Item{}, err
	}
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	now := time.Now().UTC()
	it := Item{SKU: in.SKU, Name: in.Name, Kind: in.Kind, Unit: in.Unit, Scale: *in.Scale, MinLevel: in.minLevel, CreatedAt: now, UpdatedAt: now}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO items (workspace_id, sku, name, kind, unit, unit_scale, min_level, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`, a.WorkspaceID, it.SKU, it.Name, string(it.Kind), it.Unit, it.Scale,
			minLevelValue(it.MinLevel), store.Micros(now)).Scan(&it.ID)
		if store.IsUniqueViolation(err) {
			return &fault.Error{Kind: fault.Conflict, Message: "SKU " + it.SKU + " is already used", Fields: map[string]string{"sku": "already used"}}
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Inventory,
			EntityType: "items", EntityID: fmt.Sprint(it.ID), New: it.values(), Description: "item " + it.SKU + " created"})
		return err
	})
	return it, err
}

// ItemChange is a partial edit of an item: fields left nil keep their
// value (PATCH semantics).
type ItemChange struct {
	SKU   *string   `json:"sku"`
	Name  *string   `json:"name"`
	Kind  *ItemKind `json:"kind"`
	Unit  *string   `json:"unit"`
	Scale *int      `json:"scale"`
	// MinLevel sets the minimum level; null or "" removes it.
	MinLevel OptionalDecimal `json:"min_level"`
}

// OptionalDecimal is a decimal a PATCH may set, or clear with null or "":
// Set says the member was sent at all.
type OptionalDecimal struct {
	Set  bool
	Text DecimalText
}

// UnmarshalJSON records that the member was present; null clears.
func (o *OptionalDecimal) UnmarshalJSON(b []byte) error {
	o.Set = true
	return o.Text.UnmarshalJSON(b)
}

// minLevelValue is the column value of a minimum level (NULL for none).
func minLevelValue(q *Quantity) any {
	if q == nil {
		return nil
	}
	return int64(*q)
}

// UpdateItem changes the fields c names of an item's SKU, name, kind, unit
// and scale. Log entries keep the SKU and unit as they were when written.
// The unit and scale say how every stored quantity of the item reads, so
// they may only change while the item has no stock records and no history.
func UpdateItem(ctx context.Context, db *store.DB, id int64, c ItemChange) (Item, error) {
	a, err := actor.Require(ctx, actor.ManageCatalog)
	if err != nil {
		return Item{}, err
	}
	var it Item
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getItem(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		in := ItemInput{SKU: old.SKU, Name: old.Name, Kind: old.Kind, Unit: old.Unit, Scale: &old.Scale, MinLevel: DecimalText(old.MinLevelText())}
		if c.SKU != nil {
			in.SKU = *c.SKU
		}
		if c.Name != nil {
			in.Name = *c.Name
		}
		if c.Kind != nil {
			in.Kind = *c.Kind
		}
		if c.Unit != nil {
			in.Unit = *c.Unit
		}
		if c.Scale != nil {
			in.Scale = c.Scale
		}
		if c.MinLevel.Set {
			in.MinLevel = c.MinLevel.Text
		}
		if err := in.validate(); err != nil {
			return err
		}
		if in.Unit != old.Unit || *in.Scale != old.Scale {
			if err := refuseUnitChange(ctx, tx, a.WorkspaceID, old, in); err != nil {
				return err
			}
		}
		it = old
		it.SKU, it.Name, it.Kind, it.Unit, it.Scale, it.MinLevel = in.SKU, in.Name, in.Kind, in.Unit, *in.Scale, in.minLevel
		before, after := activity.Changes(old.values(), it.values())
		if len(after) == 0 {
			return nil
		}
		it.UpdatedAt = time.Now().UTC()
		_, err = tx.ExecContext(ctx, `UPDATE items SET sku = $3, name = $4, kind = $5, unit = $6, unit_scale = $7, min_level = $8, updated_at = $9
			WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id, it.SKU, it.Name, string(it.Kind), it.Unit, it.Scale,
			minLevelValue(it.MinLevel), store.Micros(it.UpdatedAt))
		if store.IsUniqueViolation(err) {
			return &fault.Error{Kind: fault.Conflict, Message: "SKU " + it.SKU + " is already used", Fields: map[string]string{"sku": "already used"}}
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
			EntityType: "items", EntityID: fmt.Sprint(id), Old: before, New: after, Description: "item " + it.SKU + " updated"})
		return err
	})
	return it, err
}

// refuseUnitChange refuses a new unit or scale for an item with stock
// records or change-log entries: their stored quantities would silently
// read as other amounts.
func refuseUnitChange(ctx context.Context, tx *store.Tx, workspaceID int64, old Item, in ItemInput) error {
	var used int
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM inventory_records WHERE workspace_id = $1 AND item_id = $2 LIMIT 1) r) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM inventory_log WHERE workspace_id = $1 AND item_id = $2 LIMIT 1) l)`,
		workspaceID, old.ID).Scan(&used); err != nil {
		return err
	}
	if used == 0 {
		return nil
	}
	f := fault.Fields{}
	if in.Unit != old.Unit {
		f.Add("unit", fmt.Sprintf("cannot change from %s: item %s has stock or history recorded in %s", old.Unit, old.SKU, old.Unit))
	}
	if *in.Scale != old.Scale {
		f.Add("scale", fmt.Sprintf("cannot change from %d decimals: item %s has stock or history recorded with them", old.Scale, old.SKU))
	}
	return &fault.Error{Kind: fault.Conflict, Fields: f,
		Message: "item " + old.SKU + " has stock or history, so its unit and scale can no longer change; create a new item instead"}
}

// DeleteItem removes an item from the catalogue; only an item without stock
// may go, so no quantity disappears without a log entry.
func DeleteItem(ctx context.Context, db *store.DB, id int64) error {
	a, err := actor.Require(ctx, actor.ManageCatalog)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		it, err := getItem(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_records WHERE workspace_id = $1 AND item_id = $2
			AND deleted_at IS NULL AND quantity <> 0`, a.WorkspaceID, id).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return fault.New(fault.Conflict, "item %s still has stock in %d records; issue or correct it first", it.SKU, open)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE items SET deleted_at = $3 WHERE workspace_id = $1 AND id = $2`,
			a.WorkspaceID, id, store.Micros(time.Now())); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Delete, Category: activity.Inventory,
			EntityType: "items", EntityID: fmt.Sprint(id), Old: it.values(), Description: "item " + it.SKU + " deleted"})
		return err
	})
}

const itemColumns = `id, sku, name, kind, unit, unit_scale, min_level, created_at, updated_at`

func scanItem(row interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var created, updated int64
	var minLevel sql.NullInt64
	if err := row.Scan(&it.ID, &it.SKU, &it.Name, &it.Kind, &it.Unit, &it.Scale, &minLevel, &created, &updated); err != nil {
		return Item{}, err
	}
	it.CreatedAt, it.UpdatedAt = store.Time(created), store.Time(updated)
	if minLevel.Valid {
		q := Quantity(minLevel.Int64)
		it.MinLevel = &q
	}
	return it, nil
}

// GetItem returns one item of the actor's workspace that has not been
// deleted.
func GetItem(ctx context.Context, r store.Reader, id int64) (Item, error) {
	who, err := actor.RequireAny(ctx, actor.ViewInventory, actor.UseStation)
	if err != nil {
		return Item{}, err
	}
	return getItem(ctx, r.Read(), who.WorkspaceID, id)
}

func getItem(ctx context.Context, q store.Querier, workspaceID, id int64) (Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
		workspaceID, id))
	return it, store.NotFound(err, "item")
}

// ItemBySKU returns the item of the actor's workspace with the given SKU.
func ItemBySKU(ctx context.Context, r store.Reader, sku string) (Item, error) {
	who, err := actor.RequireAny(ctx, actor.ViewInventory, actor.UseStation)
	if err != nil {
		return Item{}, err
	}
	return itemBySKU(ctx, r.Read(), who.WorkspaceID, sku)
}

func itemBySKU(ctx context.Context, q store.Querier, workspaceID int64, sku string) (Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE workspace_id = $1 AND sku = $2 AND deleted_at IS NULL`,
		workspaceID, strings.TrimSpace(sku)))
	if err == sql.ErrNoRows {
		return Item{}, &fault.Error{Kind: fault.NotFound, Message: fmt.Sprintf("unknown SKU %q", sku), Fields: map[string]string{"sku": "unknown SKU"}}
	}
	return it, err
}

// ListItems returns the catalogue in SKU order, optionally only SKUs or
// names containing search.
func ListItems(ctx context.Context, r store.Reader, search string, limit int) ([]Item, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	q, workspaceID := r.Read(), who.WorkspaceID
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	query := `SELECT ` + itemColumns + ` FROM items WHERE workspace_id = $1 AND deleted_at IS NULL`
	args := []any{workspaceID}
	if s := strings.TrimSpace(search); s != "" {
		query += ` AND (LOWER(sku) LIKE $2 ESCAPE '\' OR LOWER(name) LIKE $2 ESCAPE '\')`
		args = append(args, "%"+store.EscapeLike(strings.ToLower(s))+"%")
	}
	query += fmt.Sprintf(` ORDER BY sku LIMIT %d`, limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}
