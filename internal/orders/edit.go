package orders

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// MaxLines bounds the lines of one order.
const MaxLines = 500

// OrderInput is what it takes to create an order.
type OrderInput struct {
	Kind           Kind        `json:"kind"`
	Party          string      `json:"party"`
	PartyReference string      `json:"party_reference,omitempty"`
	Note           string      `json:"note,omitempty"`
	Lines          []LineInput `json:"lines,omitempty"`
}

// LineInput is one line to add: an item by id or SKU, a quantity, and
// optionally a location (subtree to allocate from, or to receive into), a
// preferred lot and a note.
type LineInput struct {
	ItemID     int64                 `json:"item_id,omitempty"`
	SKU        string                `json:"sku,omitempty"`
	Quantity   inventory.DecimalText `json:"quantity"`
	LocationID int64                 `json:"location_id,omitempty"`
	Lot        string                `json:"lot,omitempty"`
	Note       string                `json:"note,omitempty"`
}

// OrderChange edits an order's own fields; nil fields stay as they are.
type OrderChange struct {
	Party          *string `json:"party,omitempty"`
	PartyReference *string `json:"party_reference,omitempty"`
	Note           *string `json:"note,omitempty"`
}

// LineChange edits a line; nil fields stay as they are. A LocationID of 0
// removes the line's location.
type LineChange struct {
	Quantity   *inventory.DecimalText `json:"quantity,omitempty"`
	LocationID *int64                 `json:"location_id,omitempty"`
	Lot        *string                `json:"lot,omitempty"`
	Note       *string                `json:"note,omitempty"`
}

// CancelInput says why an order is cancelled (optional).
type CancelInput struct {
	Reason string `json:"reason,omitempty"`
}

// work is one change of one order: its transaction, the order as locked at
// the start, and the time of the change.
type work struct {
	ctx   context.Context
	tx    *store.Tx
	who   actor.Actor
	order Order
	now   time.Time
}

// change locks order id, runs fn and answers the order as fn left it. The
// order row is locked first (FOR UPDATE on PostgreSQL; SQLite has one
// writer), so two requests on one order serialise.
func change(ctx context.Context, db *store.DB, perm actor.Permission, id int64, fn func(w *work) error) (Order, error) {
	who, err := actor.Require(ctx, perm)
	if err != nil {
		return Order{}, err
	}
	var out Order
	err = db.InTx(ctx, func(tx *store.Tx) error {
		o, err := load(ctx, tx, who.WorkspaceID, id, tx.ForUpdate("o"))
		if err != nil {
			return err
		}
		w := &work{ctx: ctx, tx: tx, who: who, order: o, now: time.Now().UTC()}
		if err := fn(w); err != nil {
			return err
		}
		out, err = load(ctx, tx, who.WorkspaceID, id, "")
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return out, nil
}

// note records an activity event about the order and marks the order
// changed (updated_at, version), with status as its new status.
func (w *work) note(action activity.Action, status Status, old, new map[string]any, description string) error {
	if _, err := w.tx.ExecContext(w.ctx, `UPDATE orders SET status = $1, updated_at = $2, version = version + 1 WHERE workspace_id = $3 AND id = $4`,
		string(status), store.Micros(w.now), w.who.WorkspaceID, w.order.ID); err != nil {
		return fmt.Errorf("update order %s: %w", w.order.Number, err)
	}
	w.order.Status = status
	return activity.Note(w.ctx, w.tx, activity.Event{Action: action, Category: activity.Orders, EntityType: "orders",
		EntityID: fmt.Sprint(w.order.ID), Old: old, New: new, Description: w.order.Number + " " + description})
}

// expect refuses the change unless the order is in one of the statuses:
// a workflow step may not be skipped, nor a shipped or closed order edited.
func (w *work) expect(what string, allowed ...Status) error {
	for _, s := range allowed {
		if w.order.Status == s {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = s.Title()
	}
	list := strings.Join(names, " or ")
	if n := len(names); n > 2 {
		list = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	msg := fmt.Sprintf("%s is %s; an order can %s only when it is %s", w.order.Number, w.order.Status.Title(), what, list)
	return &fault.Error{Kind: fault.Conflict, Message: msg, Fields: map[string]string{"status": msg}}
}

// expectKind refuses an operation that belongs to the other kind of order.
func (w *work) expectKind(k Kind, what string) error {
	if w.order.Kind == k {
		return nil
	}
	msg := fmt.Sprintf("%s is an %s order; only %s orders can %s", w.order.Number, w.order.Kind, k, what)
	return &fault.Error{Kind: fault.Conflict, Message: msg, Fields: map[string]string{"kind": msg}}
}

// lineEditable are the statuses in which lines may be added, changed or
// removed: before anything left or arrived. An outbound order's lines stay
// editable while allocated (not yet picked); changing an allocated line
// releases its allocations first.
func (w *work) linesEditable() error {
	if w.order.Kind == Outbound {
		return w.expect("have its lines changed", Draft, Confirmed, PartiallyAllocated, Allocated)
	}
	return w.expect("have its lines changed", Draft, Confirmed)
}

func cleanText(field, s string, max int, oneLine bool) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", fault.Field(field, fmt.Sprintf("at most %d characters", max))
	}
	if oneLine {
		if err := plaintext.Line(field, s); err != nil {
			return "", err
		}
	}
	return s, nil
}

// header checks the order's own fields.
func (o *Order) checkHeader(f fault.Fields) {
	var err error
	if o.Party, err = cleanText("party", o.Party, 200, true); err != nil {
		f.Add("party", fieldMessage(err, "party"))
	} else if o.Party == "" {
		f.Add("party", "name the "+o.Kind.PartyName())
	}
	if o.PartyReference, err = cleanText("party_reference", o.PartyReference, 100, true); err != nil {
		f.Add("party_reference", fieldMessage(err, "party_reference"))
	}
	if o.Note, err = cleanText("note", o.Note, 2000, false); err != nil {
		f.Add("note", fieldMessage(err, "note"))
	}
}

// fieldMessage is err's message for field (or its whole message).
func fieldMessage(err error, field string) string {
	if e, ok := fault.As(err); ok {
		if m := e.Fields[field]; m != "" {
			return m
		}
		return e.Message
	}
	return err.Error()
}

// lineRow is a checked line, ready to store.
type lineRow struct {
	item       inventory.Item
	quantity   inventory.Quantity
	locationID int64
	location   string
	lot, note  string
}

// checkLine resolves and checks one line in the actor's workspace; prefix
// names its fields ("lines[2]." in a create, "" for a single line).
func (w *work) checkLine(in LineInput, prefix string) (lineRow, error) {
	f := fault.Fields{}
	var row lineRow
	var err error
	switch {
	case in.ItemID != 0:
		row.item, err = inventory.GetItem(w.ctx, w.tx, in.ItemID)
		if fault.Is(err, fault.NotFound) {
			f.Add(prefix+"item_id", "no such item")
		} else if err != nil {
			return row, err
		}
	case strings.TrimSpace(in.SKU) != "":
		row.item, err = inventory.ItemBySKU(w.ctx, w.tx, in.SKU)
		if fault.Is(err, fault.NotFound) {
			f.Add(prefix+"sku", fmt.Sprintf("no item has the SKU %q", strings.TrimSpace(in.SKU)))
		} else if err != nil {
			return row, err
		}
	default:
		f.Add(prefix+"item_id", "name the item by item_id or sku")
	}
	if row.item.ID != 0 {
		row.quantity, err = positive(in.Quantity, row.item.Scale)
		if err != nil {
			f.Add(prefix+"quantity", err.Error())
		}
	}
	if in.LocationID != 0 {
		loc, err := inventory.GetLocation(w.ctx, w.tx, in.LocationID)
		if fault.Is(err, fault.NotFound) {
			f.Add(prefix+"location_id", "no such location")
		} else if err != nil {
			return row, err
		}
		row.locationID, row.location = loc.ID, loc.Path
	}
	if row.lot, err = cleanText(prefix+"lot", in.Lot, 64, true); err != nil {
		f.Add(prefix+"lot", fieldMessage(err, prefix+"lot"))
	}
	if row.note, err = cleanText(prefix+"note", in.Note, 500, false); err != nil {
		f.Add(prefix+"note", fieldMessage(err, prefix+"note"))
	}
	return row, f.Err()
}

// positive parses a quantity greater than zero for a unit of scale
// decimals.
func positive(text inventory.DecimalText, scale int) (inventory.Quantity, error) {
	q, err := inventory.ParseQuantity(strings.TrimSpace(string(text)), scale)
	if err != nil {
		return 0, err
	}
	if q <= 0 {
		return 0, fmt.Errorf("must be greater than zero")
	}
	return q, nil
}

// insertLine stores a checked line as the order's next line.
func (w *work) insertLine(row lineRow, number int) (Line, error) {
	var loc any
	if row.locationID != 0 {
		loc = row.locationID
	}
	var id int64
	err := w.tx.QueryRowContext(w.ctx, `INSERT INTO order_lines (workspace_id, order_id, line_no, item_id, quantity, location_id, lot, note,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
		w.who.WorkspaceID, w.order.ID, number, row.item.ID, int64(row.quantity), loc, row.lot, row.note, store.Micros(w.now)).Scan(&id)
	if err != nil {
		return Line{}, fmt.Errorf("insert order line: %w", err)
	}
	l := Line{ID: id, Number: number, ItemID: row.item.ID, SKU: row.item.SKU, ItemName: row.item.Name, Unit: row.item.Unit,
		Scale: row.item.Scale, Quantity: row.quantity, LocationID: row.locationID, LocationPath: row.location, Lot: row.lot, Note: row.note}
	w.order.Lines = append(w.order.Lines, l)
	return l, nil
}

// nextNumber hands out the workspace's next number of kind k: one counter
// row per (workspace, kind), incremented in the creating transaction, so
// numbers are unique across nodes and have no gaps.
func nextNumber(ctx context.Context, tx *store.Tx, workspaceID int64, k Kind) (string, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO order_numbers (workspace_id, kind, last) VALUES ($1, $2, 1)
		ON CONFLICT (workspace_id, kind) DO UPDATE SET last = order_numbers.last + 1 RETURNING last`, workspaceID, string(k)).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("number order: %w", err)
	}
	return fmt.Sprintf("%s%06d", k.prefix(), n), nil
}

// Create adds an order in draft, with the lines given (an order may be
// created empty and filled line by line).
func Create(ctx context.Context, db *store.DB, in OrderInput) (Order, error) {
	who, err := actor.Require(ctx, actor.ManageOrders)
	if err != nil {
		return Order{}, err
	}
	f := fault.Fields{}
	if !in.Kind.Valid() {
		f.Add("kind", "must be outbound or inbound")
	}
	o := Order{Kind: in.Kind, Status: Draft, Party: in.Party, PartyReference: in.PartyReference, Note: in.Note, CreatedBy: who.Name}
	o.checkHeader(f)
	if len(in.Lines) > MaxLines {
		f.Add("lines", fmt.Sprintf("at most %d lines", MaxLines))
	}
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	var out Order
	err = db.InTx(ctx, func(tx *store.Tx) error {
		w := &work{ctx: ctx, tx: tx, who: who, order: o, now: time.Now().UTC()}
		rows := make([]lineRow, len(in.Lines))
		bad := fault.Fields{}
		for i, l := range in.Lines {
			row, err := w.checkLine(l, fmt.Sprintf("lines[%d].", i))
			if e, ok := fault.As(err); ok && e.Kind == fault.Invalid {
				for k, v := range e.Fields {
					bad.Add(k, fmt.Sprintf("line %d: %s", i+1, v))
				}
				continue
			} else if err != nil {
				return err
			}
			rows[i] = row
		}
		if err := bad.Err(); err != nil {
			return err
		}
		number, err := nextNumber(ctx, tx, who.WorkspaceID, o.Kind)
		if err != nil {
			return err
		}
		w.order.Number = number
		err = tx.QueryRowContext(ctx, `INSERT INTO orders (workspace_id, kind, number, status, party, party_reference, note, created_by,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
			who.WorkspaceID, string(o.Kind), number, string(Draft), o.Party, o.PartyReference, o.Note, who.Name, store.Micros(w.now)).Scan(&w.order.ID)
		if err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
		values := w.order.values()
		for i, row := range rows {
			l, err := w.insertLine(row, i+1)
			if err != nil {
				return err
			}
			for k, v := range l.values() {
				values[k] = v
			}
		}
		description := fmt.Sprintf("created for %s %s", o.Kind.PartyName(), o.Party)
		if len(rows) > 0 {
			description += " with " + lineCount(len(rows))
		}
		if err := activity.Note(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Orders, EntityType: "orders",
			EntityID: fmt.Sprint(w.order.ID), New: values, Description: number + " " + description}); err != nil {
			return err
		}
		out, err = load(ctx, tx, who.WorkspaceID, w.order.ID, "")
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return out, nil
}

// Update changes an order's party, party reference or note, while it is
// still open and has not shipped or been received in full.
func Update(ctx context.Context, db *store.DB, id int64, c OrderChange) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		if err := w.expect("be edited", Draft, Confirmed, PartiallyAllocated, Allocated, Picked, PartiallyReceived); err != nil {
			return err
		}
		o := w.order
		if c.Party != nil {
			o.Party = *c.Party
		}
		if c.PartyReference != nil {
			o.PartyReference = *c.PartyReference
		}
		if c.Note != nil {
			o.Note = *c.Note
		}
		f := fault.Fields{}
		o.checkHeader(f)
		if err := f.Err(); err != nil {
			return err
		}
		before, after := activity.Changes(w.order.values(), o.values())
		if len(after) == 0 {
			return nil
		}
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE orders SET party = $1, party_reference = $2, note = $3 WHERE workspace_id = $4 AND id = $5`,
			o.Party, o.PartyReference, o.Note, w.who.WorkspaceID, o.ID); err != nil {
			return err
		}
		return w.note(activity.Update, o.Status, before, after, "edited")
	})
}

// AddLine adds a line at the end of the order.
func AddLine(ctx context.Context, db *store.DB, id int64, in LineInput) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		if err := w.linesEditable(); err != nil {
			return err
		}
		if len(w.order.Lines) >= MaxLines {
			return fault.Field("lines", fmt.Sprintf("an order has at most %d lines", MaxLines))
		}
		row, err := w.checkLine(in, "")
		if err != nil {
			return err
		}
		number := 1
		if n := len(w.order.Lines); n > 0 {
			number = w.order.Lines[n-1].Number + 1
		}
		l, err := w.insertLine(row, number)
		if err != nil {
			return err
		}
		status := w.order.Status
		if status == Allocated {
			status = PartiallyAllocated // the new line has nothing yet
		}
		old := map[string]any{}
		for k := range l.values() {
			old[k] = nil
		}
		after := l.values()
		if status != w.order.Status {
			old["status"], after["status"] = string(w.order.Status), string(status)
		}
		return w.note(activity.Update, status, old, after, fmt.Sprintf("line %d added: %s %s", l.Number, l.QuantityText(), l.SKU))
	})
}

// lineOf returns the order's line with the given id, NotFound otherwise.
func (w *work) lineOf(lineID int64) (Line, error) {
	if l, ok := w.order.Line(lineID); ok {
		return l, nil
	}
	return Line{}, fault.New(fault.NotFound, "%s has no line %d", w.order.Number, lineID)
}

// UpdateLine changes a line's quantity, location, lot or note. On an
// allocated outbound order a new quantity, location or lot releases the
// line's allocations first (the change log records the release), so it is
// allocated again as it now reads.
func UpdateLine(ctx context.Context, db *store.DB, id, lineID int64, c LineChange) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		if err := w.linesEditable(); err != nil {
			return err
		}
		l, err := w.lineOf(lineID)
		if err != nil {
			return err
		}
		in := LineInput{ItemID: l.ItemID, Quantity: inventory.DecimalText(l.QuantityText()), LocationID: l.LocationID, Lot: l.Lot, Note: l.Note}
		if c.Quantity != nil {
			in.Quantity = *c.Quantity
		}
		if c.LocationID != nil {
			in.LocationID = *c.LocationID
		}
		if c.Lot != nil {
			in.Lot = *c.Lot
		}
		if c.Note != nil {
			in.Note = *c.Note
		}
		row, err := w.checkLine(in, "")
		if err != nil {
			return err
		}
		next := l
		next.Quantity, next.LocationID, next.LocationPath, next.Lot, next.Note = row.quantity, row.locationID, row.location, row.lot, row.note
		before, after := activity.Changes(l.values(), next.values())
		if len(after) == 0 {
			return nil
		}
		// What the line holds no longer fits a new quantity, location or
		// lot; a new note changes nothing about it.
		var released *release
		if next.Quantity != l.Quantity || next.LocationID != l.LocationID || next.Lot != l.Lot {
			released, err = w.releaseLines([]Line{l}, "line changed")
			if err != nil {
				return err
			}
			next.Allocated, next.Allocations, next.Picked = 0, []Allocation{}, false
		}
		var loc any
		if row.locationID != 0 {
			loc = row.locationID
		}
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET quantity = $1, location_id = $2, lot = $3, note = $4, updated_at = $5
			WHERE workspace_id = $6 AND id = $7`, int64(row.quantity), loc, row.lot, row.note, store.Micros(w.now), w.who.WorkspaceID, l.ID); err != nil {
			return err
		}
		w.order.setLine(next)
		status := w.order.Status
		if released != nil {
			status = w.order.allocationStatus()
			for k, v := range released.old {
				before[k] = v
			}
			for k, v := range released.new {
				after[k] = v
			}
		}
		if status != w.order.Status {
			before["status"], after["status"] = string(w.order.Status), string(status)
		}
		return w.note(activity.Update, status, before, after, fmt.Sprintf("line %d changed", l.Number))
	})
}

// RemoveLine deletes a line (releasing what it holds). Line numbers of the
// other lines stay as they are.
func RemoveLine(ctx context.Context, db *store.DB, id, lineID int64) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		if err := w.linesEditable(); err != nil {
			return err
		}
		l, err := w.lineOf(lineID)
		if err != nil {
			return err
		}
		released, err := w.releaseLines([]Line{l}, "line removed")
		if err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM order_lines WHERE workspace_id = $1 AND id = $2`, w.who.WorkspaceID, l.ID); err != nil {
			return err
		}
		before, after := l.values(), map[string]any{}
		for k := range before {
			after[k] = nil
		}
		if released != nil {
			for k, v := range released.old {
				before[k] = v
			}
			for k, v := range released.new {
				after[k] = v
			}
		}
		w.order.dropLine(l.ID)
		status := w.order.Status
		if status == PartiallyAllocated || status == Allocated {
			status = w.order.allocationStatus()
		}
		if status != w.order.Status {
			before["status"], after["status"] = string(w.order.Status), string(status)
		}
		return w.note(activity.Update, status, before, after, fmt.Sprintf("line %d removed (%s %s)", l.Number, l.QuantityText(), l.SKU))
	})
}

func (o *Order) setLine(l Line) {
	for i := range o.Lines {
		if o.Lines[i].ID == l.ID {
			o.Lines[i] = l
		}
	}
}

func (o *Order) dropLine(id int64) {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			o.Lines = append(o.Lines[:i:i], o.Lines[i+1:]...)
			return
		}
	}
}

// allocationStatus is what an outbound order's allocations make it: allocated
// when every line holds all it asks for, partially allocated when some hold
// something, confirmed when none does.
func (o Order) allocationStatus() Status {
	full, any := true, false
	for _, l := range o.Lines {
		if l.Allocated > 0 {
			any = true
		}
		if l.Allocated < l.Quantity {
			full = false
		}
	}
	switch {
	case any && full:
		return Allocated
	case any:
		return PartiallyAllocated
	}
	return Confirmed
}

// Confirm moves a draft order to confirmed: its lines are agreed, and an
// outbound order may now be allocated, an inbound one received.
func Confirm(ctx context.Context, db *store.DB, id int64) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		if err := w.expect("be confirmed", Draft); err != nil {
			return err
		}
		if len(w.order.Lines) == 0 {
			return fault.Field("lines", "add at least one line before confirming "+w.order.Number)
		}
		return w.note(activity.Update, Confirmed, map[string]any{"status": string(Draft)}, map[string]any{"status": string(Confirmed)}, "confirmed")
	})
}

// Close ends a shipped outbound order or a fully received inbound one.
func Close(ctx context.Context, db *store.DB, id int64) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		done := Shipped
		if w.order.Kind == Inbound {
			done = Received
		}
		if err := w.expect("be closed", done); err != nil {
			return err
		}
		return w.note(activity.Update, Closed, map[string]any{"status": string(done)}, map[string]any{"status": string(Closed)}, "closed")
	})
}

// Cancel ends an open order that has not shipped (outbound) or not been
// received in full (inbound). An outbound order's allocations are all
// released in the same transaction; what an inbound order received stays.
func Cancel(ctx context.Context, db *store.DB, id int64, in CancelInput) (Order, error) {
	return change(ctx, db, actor.ManageOrders, id, func(w *work) error {
		reason, err := cleanText("reason", in.Reason, 500, false)
		if err != nil {
			return err
		}
		if w.order.Kind == Outbound {
			err = w.expect("be cancelled", Draft, Confirmed, PartiallyAllocated, Allocated, Picked)
		} else {
			err = w.expect("be cancelled", Draft, Confirmed, PartiallyReceived)
		}
		if err != nil {
			return err
		}
		before, after := map[string]any{"status": string(w.order.Status)}, map[string]any{"status": string(Cancelled)}
		released, err := w.releaseLines(w.order.Lines, "order cancelled")
		if err != nil {
			return err
		}
		if released != nil {
			for k, v := range released.old {
				before[k] = v
			}
			for k, v := range released.new {
				after[k] = v
			}
		}
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET picked = 0 WHERE workspace_id = $1 AND order_id = $2`,
			w.who.WorkspaceID, w.order.ID); err != nil {
			return err
		}
		description := "cancelled"
		if reason != "" {
			after["reason"] = reason
			description += ": " + reason
		}
		return w.note(activity.Update, Cancelled, before, after, description)
	})
}

// lineCount says how many lines in words a History reads: "1 line",
// "3 lines".
func lineCount(n int) string {
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}
