package orders

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Kind says which way an order moves stock.
type Kind string

const (
	// Outbound orders (sales) take stock out: numbered SO-…, the party is
	// the customer.
	Outbound Kind = "outbound"
	// Inbound orders (purchases) bring stock in: numbered PO-…, the party
	// is the supplier.
	Inbound Kind = "inbound"
)

// Kinds lists the kinds, outbound first.
func Kinds() []Kind { return []Kind{Outbound, Inbound} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Outbound || k == Inbound }

// prefix starts the order numbers of the kind.
func (k Kind) prefix() string {
	if k == Inbound {
		return "PO-"
	}
	return "SO-"
}

// PartyName is what the party of an order of this kind is called.
func (k Kind) PartyName() string {
	if k == Inbound {
		return "supplier"
	}
	return "customer"
}

// numberPattern is what nextNumber hands out: the kind's prefix and at
// least six digits.
var numberPattern = regexp.MustCompile(`^(SO|PO)-[0-9]{6,}$`)

// IsNumber reports whether s is written as an order number (SO-000012,
// PO-000003), as change-log references and allocation holders carry them,
// so that pages can link them to their order. It does not say that the
// order exists.
func IsNumber(s string) bool { return numberPattern.MatchString(s) }

// Status is where an order is in its workflow.
type Status string

const (
	Draft              Status = "draft"
	Confirmed          Status = "confirmed"
	PartiallyAllocated Status = "partially_allocated"
	Allocated          Status = "allocated"
	Picked             Status = "picked"
	Shipped            Status = "shipped"
	PartiallyReceived  Status = "partially_received"
	Received           Status = "received"
	Closed             Status = "closed"
	Cancelled          Status = "cancelled"
)

// Statuses lists the statuses of a kind in workflow order, the empty kind
// all of them.
func Statuses(k Kind) []Status {
	switch k {
	case Outbound:
		return []Status{Draft, Confirmed, PartiallyAllocated, Allocated, Picked, Shipped, Closed, Cancelled}
	case Inbound:
		return []Status{Draft, Confirmed, PartiallyReceived, Received, Closed, Cancelled}
	}
	return []Status{Draft, Confirmed, PartiallyAllocated, Allocated, Picked, Shipped, PartiallyReceived, Received, Closed, Cancelled}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(""), s) }

// Title is the status as people read it ("partially allocated").
func (s Status) Title() string { return strings.ReplaceAll(string(s), "_", " ") }

// Open reports whether an order in status s may still change (neither
// closed nor cancelled).
func (s Status) Open() bool { return s != Closed && s != Cancelled }

// Order is an outbound or inbound order with its lines.
type Order struct {
	ID     int64  `json:"id"`
	Kind   Kind   `json:"kind"`
	Number string `json:"number"`
	Status Status `json:"status"`
	// Party is the customer (outbound) or the supplier (inbound);
	// PartyReference their own reference for the order.
	Party          string    `json:"party"`
	PartyReference string    `json:"party_reference"`
	Note           string    `json:"note"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
	Lines          []Line    `json:"lines"`
}

// Line is one item of an order.
type Line struct {
	ID       int64  `json:"id"`
	Number   int    `json:"line_no"`
	ItemID   int64  `json:"item_id"`
	SKU      string `json:"sku"`
	ItemName string `json:"item_name"`
	Unit     string `json:"unit"`
	Scale    int    `json:"-"`
	// Quantity is what the order asks for.
	Quantity inventory.Quantity `json:"quantity"`
	// LocationID, when set, is the subtree to allocate from (outbound) or
	// the location to receive into (inbound); Lot a preferred lot.
	LocationID   int64  `json:"location_id,omitempty"`
	LocationPath string `json:"location_path,omitempty"`
	Lot          string `json:"lot"`
	Note         string `json:"note"`
	// Allocated is what the line holds now (outbound), Shortfall what it
	// still lacks; both are zero once shipped.
	Allocated inventory.Quantity `json:"allocated"`
	Shortfall inventory.Quantity `json:"shortfall"`
	Picked    bool               `json:"picked"`
	Shipped   inventory.Quantity `json:"shipped"`
	Received  inventory.Quantity `json:"received"`
	// Allocations are the records the line holds, oldest first.
	Allocations []Allocation `json:"allocations"`
}

// QuantityText and the other …Text methods format a quantity with the
// unit's decimals, for pages.
func (l Line) QuantityText() string  { return l.Quantity.Format(l.Scale) }
func (l Line) AllocatedText() string { return l.Allocated.Format(l.Scale) }
func (l Line) ShortfallText() string { return l.Shortfall.Format(l.Scale) }
func (l Line) ShippedText() string   { return l.Shipped.Format(l.Scale) }
func (l Line) ReceivedText() string  { return l.Received.Format(l.Scale) }

// Allocation is the part of a record one outbound line holds.
type Allocation struct {
	RecordID     int64              `json:"record_id"`
	LocationID   int64              `json:"location_id"`
	LocationPath string             `json:"location_path"`
	Lot          string             `json:"lot"`
	Quantity     inventory.Quantity `json:"quantity"`
}

// Line returns the line with the given id.
func (o Order) Line(id int64) (Line, bool) {
	for _, l := range o.Lines {
		if l.ID == id {
			return l, true
		}
	}
	return Line{}, false
}

// values are the order's fields as its activity events record them.
func (o Order) values() map[string]any {
	return map[string]any{"kind": string(o.Kind), "number": o.Number, "status": string(o.Status), "party": o.Party,
		"party_reference": o.PartyReference, "note": o.Note}
}

// lineValues are a line's fields as activity events record them, each
// named "line N field" so that a History tab reads "line 2 quantity: 5 → 8".
func (l Line) values() map[string]any {
	p := fmt.Sprintf("line %d ", l.Number)
	v := map[string]any{p + "sku": l.SKU, p + "quantity": l.QuantityText(), p + "lot": l.Lot, p + "note": l.Note}
	v[p+"location"] = l.LocationPath
	return v
}

const orderColumns = `o.id, o.kind, o.number, o.status, o.party, o.party_reference, o.note, o.created_by, o.created_at, o.updated_at, o.version`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var created, updated int64
	if err := row.Scan(&o.ID, &o.Kind, &o.Number, &o.Status, &o.Party, &o.PartyReference, &o.Note, &o.CreatedBy, &created, &updated, &o.Version); err != nil {
		return Order{}, err
	}
	o.CreatedAt, o.UpdatedAt = store.Time(created), store.Time(updated)
	return o, nil
}

// Get returns one order of the actor's workspace with its lines and
// allocations. A scanning station reads it too: it picks, ships and
// receives against it.
func Get(ctx context.Context, r store.Reader, id int64) (Order, error) {
	who, err := actor.RequireAny(ctx, actor.ViewOrders, actor.UseStation)
	if err != nil {
		return Order{}, err
	}
	return load(ctx, r.Read(), who.WorkspaceID, id, "")
}

// History returns the order's activity events, newest first: its History
// tab. Everyone who may see the order may read it.
func History(ctx context.Context, db *store.DB, id int64, limit int) ([]activity.Event, error) {
	who, err := actor.Require(ctx, actor.ViewOrders)
	if err != nil {
		return nil, err
	}
	var one int
	if err := db.Read().QueryRowContext(ctx, `SELECT 1 FROM orders WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, id).Scan(&one); err != nil {
		return nil, store.NotFound(err, "order")
	}
	return activity.ForEntity(ctx, db, "orders", fmt.Sprint(id), limit)
}

// ByNumber returns the order with the given number (SO-000012), for
// scanning stations and links from the change log's references.
func ByNumber(ctx context.Context, r store.Reader, number string) (Order, error) {
	who, err := actor.RequireAny(ctx, actor.ViewOrders, actor.UseStation)
	if err != nil {
		return Order{}, err
	}
	q := r.Read()
	var id int64
	err = q.QueryRowContext(ctx, `SELECT id FROM orders WHERE workspace_id = $1 AND number = $2`, who.WorkspaceID,
		strings.ToUpper(strings.TrimSpace(number))).Scan(&id)
	if err != nil {
		return Order{}, store.NotFound(err, "order")
	}
	return load(ctx, q, who.WorkspaceID, id, "")
}

// load reads an order with its lines; lock, when not empty, is appended to
// the order's SELECT (the caller's tx.ForUpdate("o")).
func load(ctx context.Context, q store.Querier, workspaceID, id int64, lock string) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders o WHERE o.workspace_id = $1 AND o.id = $2`+lock,
		workspaceID, id))
	if err != nil {
		return Order{}, store.NotFound(err, "order")
	}
	if o.Lines, err = loadLines(ctx, q, workspaceID, o); err != nil {
		return Order{}, err
	}
	return o, nil
}

const lineSelect = `SELECT ln.order_id, ln.id, ln.line_no, ln.item_id, i.sku, i.name, i.unit, i.unit_scale, ln.quantity, ln.location_id,
	COALESCE(l.path, ''), ln.lot, ln.note, ln.picked, ln.shipped, ln.received
	FROM order_lines ln
	JOIN items i ON i.workspace_id = ln.workspace_id AND i.id = ln.item_id
	LEFT JOIN locations l ON l.workspace_id = ln.workspace_id AND l.id = ln.location_id`

func loadLines(ctx context.Context, q store.Querier, workspaceID int64, o Order) ([]Line, error) {
	byOrder, err := readLines(ctx, q, `ln.workspace_id = $1 AND ln.order_id = $2`, `a.workspace_id = $1 AND a.order_id = $2`, workspaceID, o.ID)
	if err != nil {
		return nil, err
	}
	o.Lines = byOrder[o.ID]
	o.settle()
	return o.Lines, nil
}

// attachLines reads the lines of a page of orders in two statements.
func attachLines(ctx context.Context, db *store.DB, workspaceID int64, page []Order) error {
	if len(page) == 0 {
		return nil
	}
	ids := make([]int64, len(page))
	for i, o := range page {
		ids[i] = o.ID
	}
	lines := store.NewWhere(`ln.workspace_id = ?`, workspaceID).And(store.In(db, "ln.order_id", ids))
	// The same conditions over the allocations, with the same arguments.
	held := store.NewWhere(`a.workspace_id = ?`, workspaceID).And(store.In(db, "a.order_id", ids))
	byOrder, err := readLines(ctx, db.Read(), lines.String(), held.String(), lines.Args...)
	if err != nil {
		return err
	}
	for i := range page {
		page[i].Lines = byOrder[page[i].ID]
		page[i].settle()
	}
	return nil
}

// readLines reads lines (lineWhere over order_lines ln) and their
// allocations (heldWhere over order_allocations a, the same arguments),
// by order, in line order.
func readLines(ctx context.Context, q store.Querier, lineWhere, heldWhere string, args ...any) (map[int64][]Line, error) {
	rows, err := q.QueryContext(ctx, lineSelect+` WHERE `+lineWhere+` ORDER BY ln.order_id, ln.line_no`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Line{}
	type at struct {
		order int64
		i     int
	}
	byID := map[int64]at{}
	for rows.Next() {
		var l Line
		var orderID int64
		var loc sql.NullInt64
		var picked int
		if err := rows.Scan(&orderID, &l.ID, &l.Number, &l.ItemID, &l.SKU, &l.ItemName, &l.Unit, &l.Scale, &l.Quantity, &loc, &l.LocationPath,
			&l.Lot, &l.Note, &picked, &l.Shipped, &l.Received); err != nil {
			return nil, err
		}
		l.LocationID, l.Picked, l.Allocations = loc.Int64, picked != 0, []Allocation{}
		byID[l.ID] = at{orderID, len(out[orderID])}
		out[orderID] = append(out[orderID], l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(byID) == 0 {
		return out, nil
	}
	arows, err := q.QueryContext(ctx, `SELECT a.line_id, a.record_id, r.location_id, l.path, r.lot, a.quantity
		FROM order_allocations a
		JOIN inventory_records r ON r.workspace_id = a.workspace_id AND r.id = a.record_id
		JOIN locations l ON l.workspace_id = r.workspace_id AND l.id = r.location_id
		WHERE `+heldWhere+` ORDER BY a.line_id, a.record_id`, args...)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var lineID int64
		var a Allocation
		if err := arows.Scan(&lineID, &a.RecordID, &a.LocationID, &a.LocationPath, &a.Lot, &a.Quantity); err != nil {
			return nil, err
		}
		if p, ok := byID[lineID]; ok {
			l := &out[p.order][p.i]
			l.Allocations = append(l.Allocations, a)
			l.Allocated += a.Quantity
		}
	}
	return out, arows.Err()
}

// settle works out what each line of an open outbound order still lacks.
func (o *Order) settle() {
	if o.Lines == nil {
		o.Lines = []Line{}
	}
	if o.Kind != Outbound || o.Status == Shipped || !o.Status.Open() {
		return
	}
	for i := range o.Lines {
		if short := o.Lines[i].Quantity - o.Lines[i].Allocated - o.Lines[i].Shipped; short > 0 {
			o.Lines[i].Shortfall = short
		}
	}
}

// Filter selects orders for List. Zero fields do not filter.
type Filter struct {
	Kind   Kind
	Status Status
	// Search matches the number, the party or the party's reference.
	Search string
	// Party matches the customer or supplier (part of the name, any case).
	Party string
	// ItemID keeps orders with a line of the item.
	ItemID int64
	// From and To bound the creation time (From inclusive, To exclusive).
	From, To time.Time
	// Before is the paging cursor: orders with a smaller id (newest first).
	Before int64
	Limit  int
}

// Page is one page of orders, newest first; Next is the cursor of the
// following page (0 when this is the last).
type Page struct {
	Orders []Order `json:"orders"`
	Next   int64   `json:"next,omitempty"`
}

// MaxPage bounds a page of List.
const MaxPage = 500

// List returns the orders matching f, newest first, with their lines.
func List(ctx context.Context, db *store.DB, f Filter) (Page, error) {
	who, err := actor.Require(ctx, actor.ViewOrders)
	if err != nil {
		return Page{}, err
	}
	bad := fault.Fields{}
	if f.Kind != "" && !f.Kind.Valid() {
		bad.Add("kind", "must be outbound or inbound")
	}
	if f.Status != "" && !f.Status.Valid() {
		bad.Add("status", "unknown status")
	}
	if f.Limit < 0 || f.Limit > MaxPage {
		bad.Add("limit", fmt.Sprintf("must be from 1 to %d", MaxPage))
	}
	if f.Before < 0 {
		bad.Add("before", "must not be negative")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		bad.Add("to", "must be after from")
	}
	if err := bad.Err(); err != nil {
		return Page{}, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	w := store.NewWhere(`o.workspace_id = ?`, who.WorkspaceID)
	if f.Kind != "" {
		w.And(`o.kind = ?`, string(f.Kind))
	}
	if f.Status != "" {
		w.And(`o.status = ?`, string(f.Status))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		p := w.Add("%" + store.EscapeLike(strings.ToLower(s)) + "%")
		w.And(`(LOWER(o.number) LIKE ` + p + ` ESCAPE '\' OR LOWER(o.party) LIKE ` + p + ` ESCAPE '\' OR LOWER(o.party_reference) LIKE ` +
			p + ` ESCAPE '\')`)
	}
	if s := strings.TrimSpace(f.Party); s != "" {
		w.And(`LOWER(o.party) LIKE ? ESCAPE '\'`, "%"+store.EscapeLike(strings.ToLower(s))+"%")
	}
	if f.ItemID != 0 {
		w.And(`EXISTS (SELECT 1 FROM order_lines ln WHERE ln.workspace_id = o.workspace_id AND ln.order_id = o.id AND ln.item_id = ?)`, f.ItemID)
	}
	if !f.From.IsZero() {
		w.And(`o.created_at >= ?`, store.Micros(f.From))
	}
	if !f.To.IsZero() {
		w.And(`o.created_at < ?`, store.Micros(f.To))
	}
	if f.Before > 0 {
		w.And(`o.id < ?`, f.Before)
	}
	q := db.Read()
	rows, err := q.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders o WHERE `+w.String()+` ORDER BY o.id DESC LIMIT `+w.Add(f.Limit+1), w.Args...)
	if err != nil {
		return Page{}, err
	}
	page := Page{Orders: []Order{}}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return Page{}, err
		}
		page.Orders = append(page.Orders, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Orders) > f.Limit {
		page.Orders = page.Orders[:f.Limit]
		page.Next = page.Orders[f.Limit-1].ID
	}
	if err := attachLines(ctx, db, who.WorkspaceID, page.Orders); err != nil {
		return Page{}, err
	}
	return page, nil
}
