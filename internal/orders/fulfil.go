package orders

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// AllocateInput says what to allocate. With no lines, every line that still
// lacks stock is allocated from suggested records. A line named without
// records is allocated from suggested records; with records, from exactly
// those (a chosen record that cannot give the quantity refuses the request).
type AllocateInput struct {
	Lines []LineAllocation `json:"lines,omitempty"`
}

// LineAllocation is what to allocate to one line.
type LineAllocation struct {
	LineID  int64            `json:"line_id"`
	Records []RecordQuantity `json:"records,omitempty"`
}

// RecordQuantity is a quantity of one inventory record.
type RecordQuantity struct {
	RecordID int64                 `json:"record_id"`
	Quantity inventory.DecimalText `json:"quantity"`
}

// LinesInput names lines of the order; none means all of them (release,
// pick).
type LinesInput struct {
	Lines []int64 `json:"lines,omitempty"`
}

// ShipInput may state, per line, the quantity the shipper counted: it must
// be what the line holds allocated, or the shipment is refused. Without
// lines, everything allocated ships.
type ShipInput struct {
	Lines []LineQuantity `json:"lines,omitempty"`
}

// LineQuantity is a quantity for one line.
type LineQuantity struct {
	LineID   int64                 `json:"line_id"`
	Quantity inventory.DecimalText `json:"quantity"`
}

// ReceiveInput is what arrived for an inbound order, line by line.
type ReceiveInput struct {
	Lines []ReceiveLine `json:"lines"`
}

// ReceiveLine is a quantity of one line received into a location (the
// line's own when not given) and lot (the line's when not given).
type ReceiveLine struct {
	LineID     int64                 `json:"line_id"`
	Quantity   inventory.DecimalText `json:"quantity"`
	LocationID int64                 `json:"location_id,omitempty"`
	Lot        *string               `json:"lot,omitempty"`
}

// moves runs stock movements in the order's transaction, a batch at a time:
// the order's state, its event and the change-log entries commit together.
func (w *work) moves(ms []inventory.Movement) error {
	for len(ms) > 0 {
		n := min(len(ms), inventory.MaxBatch)
		if _, err := inventory.ApplyIn(w.ctx, w.tx, ms[:n]...); err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}

// options are those of every stock entry the order causes: its number as
// the reference, so the change log filters by it and links back.
func (w *work) options(reason string) inventory.Options {
	return inventory.Options{Reference: w.order.Number, Reason: reason}
}

// notForStations refuses allocating and releasing to a scanning station:
// reserving stock is a planner's decision, not a shelf's.
func (w *work) notForStations(what string) error {
	if w.who.Kind == actor.Station {
		return fault.New(fault.Forbidden, "a scanning station picks, ships and receives orders; %s %s needs a person", what, w.order.Number)
	}
	return nil
}

// linesField names the lines of a request for a problem ("lines[2].quantity").
func linesField(i int, field string) string {
	if field == "" {
		return fmt.Sprintf("lines[%d]", i)
	}
	return fmt.Sprintf("lines[%d].%s", i, field)
}

// pickLines resolves the line ids of a request (all lines that want when
// none are given), refusing unknown and repeated ones.
func (w *work) pickLines(ids []int64, want func(Line) bool) ([]Line, error) {
	if len(ids) == 0 && want == nil {
		return nil, nil
	}
	if len(ids) == 0 {
		var out []Line
		for _, l := range w.order.Lines {
			if want(l) {
				out = append(out, l)
			}
		}
		return out, nil
	}
	seen := map[int64]bool{}
	bad := fault.Fields{}
	var out []Line
	for i, id := range ids {
		l, ok := w.order.Line(id)
		switch {
		case !ok:
			bad.Add(linesField(i, ""), fmt.Sprintf("%s has no line with id %d", w.order.Number, id))
		case seen[id]:
			bad.Add(linesField(i, ""), fmt.Sprintf("line %d is named twice", l.Number))
		default:
			seen[id] = true
			out = append(out, l)
		}
	}
	return out, bad.Err()
}

// release notes what a release changed, for the order's event.
type release struct{ old, new map[string]any }

// releaseLines gives back everything the lines hold (nil when they hold
// nothing) and clears their picked marks.
func (w *work) releaseLines(lines []Line, reason string) (*release, error) {
	var ms []inventory.Movement
	r := &release{old: map[string]any{}, new: map[string]any{}}
	var ids []int64
	for _, l := range lines {
		if l.Allocated == 0 {
			continue
		}
		for _, a := range l.Allocations {
			ms = append(ms, &inventory.Release{Record: inventory.RecordRef{RecordID: a.RecordID}, Quantity: inventory.DecimalText(a.Quantity.String()),
				Holder: w.order.Number, Options: w.options(reason)})
		}
		p := fmt.Sprintf("line %d ", l.Number)
		r.old[p+"allocated"], r.new[p+"allocated"] = l.AllocatedText(), inventory.Quantity(0).Format(l.Scale)
		ids = append(ids, l.ID)
		l.Allocated, l.Allocations, l.Picked = 0, []Allocation{}, false
		w.order.setLine(l)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	if err := w.moves(ms); err != nil {
		return nil, err
	}
	held := store.NewWhere(`workspace_id = ?`, w.who.WorkspaceID).And(store.In(w.tx, "line_id", ids))
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM order_allocations WHERE `+held.String(), held.Args...); err != nil {
		return nil, err
	}
	unpick := store.NewWhere(`workspace_id = ?`, w.who.WorkspaceID).And(store.In(w.tx, "id", ids))
	if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET picked = 0 WHERE `+unpick.String(), unpick.Args...); err != nil {
		return nil, err
	}
	return r, nil
}

// holdAllocation records that line l now also holds q of record rec.
func (w *work) holdAllocation(l *Line, rec inventory.Record, q inventory.Quantity) error {
	if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO order_allocations (workspace_id, line_id, record_id, order_id, quantity) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (workspace_id, line_id, record_id) DO UPDATE SET quantity = order_allocations.quantity + excluded.quantity`,
		w.who.WorkspaceID, l.ID, rec.ID, w.order.ID, int64(q)); err != nil {
		return fmt.Errorf("hold allocation: %w", err)
	}
	l.Allocated += q
	l.Allocations = append(l.Allocations, Allocation{RecordID: rec.ID, LocationID: rec.LocationID, LocationPath: rec.LocationPath, Lot: rec.Lot, Quantity: q})
	return nil
}

// allocateFrom reserves up to q of rec for the order, and reports how much
// it got: on PostgreSQL another order may have taken part of what rec
// showed as available; the record is then locked, and read again.
func (w *work) allocateFrom(rec inventory.Record, q inventory.Quantity, chosen bool) (inventory.Quantity, error) {
	m := &inventory.Allocate{Record: inventory.RecordRef{RecordID: rec.ID}, Quantity: inventory.DecimalText(q.String()), Holder: w.order.Number,
		Options: w.options("")}
	_, err := inventory.ApplyIn(w.ctx, w.tx, m)
	if err == nil {
		return q, nil
	}
	if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields["quantity"] == "" || chosen {
		return 0, err
	}
	// Refused for want of stock: the allocating movement locked the record
	// before it looked, so this read is the record as it now stands.
	now, err := inventory.GetRecord(w.ctx, w.tx, rec.ID)
	if fault.Is(err, fault.NotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	q = min(q, now.Available())
	if q <= 0 {
		return 0, nil
	}
	m.Quantity = inventory.DecimalText(q.String())
	if _, err := inventory.ApplyIn(w.ctx, w.tx, m); err != nil {
		return 0, err
	}
	return q, nil
}

// inReach reports whether a record at path lies in the line's location
// subtree (every record does when the line names none).
func inReach(l Line, path string) bool {
	return l.LocationPath == "" || path == l.LocationPath || strings.HasPrefix(path, l.LocationPath+"/")
}

// Allocate reserves stock for an outbound order's lines: from the records
// the request chooses, or from suggested ones (inventory.AvailableRecords:
// the line's location subtree and lot when it names them, oldest first).
// What cannot be had is the line's shortfall in the answer; the order is
// allocated when no line is short, partially allocated when some stock is
// held, and stays confirmed when none could be had.
//
// The allocations are planned from what the records show as available and
// made in batches (one round trip per hundred on PostgreSQL). When another
// order took some of that stock in the meantime, the batch is refused and
// the whole allocation runs again, record by record, each reading what is
// left under the record's lock.
func Allocate(ctx context.Context, db *store.DB, id int64, in AllocateInput) (Order, error) {
	o, err := change(ctx, db, actor.FulfilOrders, id, func(w *work) error { return w.allocate(in, false) })
	if errors.Is(err, errRaced) {
		return change(ctx, db, actor.FulfilOrders, id, func(w *work) error { return w.allocate(in, true) })
	}
	return o, err
}

// errRaced aborts a batched allocation whose plan another transaction
// overtook; Allocate runs it again record by record.
var errRaced = errors.New("orders: available stock changed while allocating")

// planned is one allocation of a request: q of rec for a line.
type planned struct {
	line *Line
	rec  inventory.Record
	q    inventory.Quantity
	// field is the request's field of a chosen record's quantity ("" for a
	// suggested record, which is never refused: it is planned again).
	field string
}

func (w *work) allocate(in AllocateInput, recordByRecord bool) error {
	if err := w.expectKind(Outbound, "be allocated"); err != nil {
		return err
	}
	if err := w.notForStations("allocating"); err != nil {
		return err
	}
	if err := w.expect("be allocated", Confirmed, PartiallyAllocated); err != nil {
		return err
	}
	requests := in.Lines
	if len(requests) == 0 {
		for _, l := range w.order.Lines {
			if l.Shortfall > 0 {
				requests = append(requests, LineAllocation{LineID: l.ID})
			}
		}
	}
	ids := make([]int64, len(requests))
	for i, p := range requests {
		ids[i] = p.LineID
	}
	lines, err := w.pickLines(ids, nil)
	if err != nil {
		return err
	}
	was := make([]string, len(lines))
	for i := range lines {
		was[i] = lines[i].AllocatedText()
	}
	// The suggested records of every line that takes them, read in one
	// statement before planning (the plan reads nothing else).
	var suggestions [][]inventory.Record
	if !recordByRecord {
		wants := make([]inventory.Wanted, len(requests))
		for i, r := range requests {
			if len(r.Records) == 0 {
				wants[i] = inventory.Wanted{ItemID: lines[i].ItemID, LocationID: lines[i].LocationID, Lot: lines[i].Lot}
			}
		}
		var asked []inventory.Wanted
		var at []int
		for i, want := range wants {
			if want.ItemID != 0 && lines[i].Quantity-lines[i].Allocated-lines[i].Shipped > 0 {
				asked, at = append(asked, want), append(at, i)
			}
		}
		found, err := inventory.AvailableRecordsOf(w.ctx, w.tx, asked)
		if err != nil {
			return err
		}
		suggestions = make([][]inventory.Record, len(requests))
		for k, i := range at {
			suggestions[i] = found[k]
		}
	}
	var plan []planned
	taken := map[int64]inventory.Quantity{}
	for i, r := range requests {
		l := &lines[i]
		switch {
		case len(r.Records) > 0:
			chosen, err := w.planChosen(l, r.Records, i)
			if err != nil {
				return err
			}
			if !recordByRecord {
				plan = append(plan, chosen...)
				continue
			}
			for _, p := range chosen {
				if _, err := w.allocateFrom(p.rec, p.q, true); err != nil {
					return p.refused(err)
				}
				if err := w.holdAllocation(l, p.rec, p.q); err != nil {
					return err
				}
			}
		case recordByRecord:
			if err := w.allocateSuggested(l); err != nil {
				return err
			}
		default:
			suggested, err := w.planSuggested(l, suggestions[i], taken)
			if err != nil {
				return err
			}
			plan = append(plan, suggested...)
		}
	}
	if err := w.allocatePlan(plan); err != nil {
		return err
	}
	before, after := map[string]any{}, map[string]any{}
	for i, l := range lines {
		if l.AllocatedText() != was[i] {
			key := fmt.Sprintf("line %d allocated", l.Number)
			before[key], after[key] = was[i], l.AllocatedText()
		}
		w.order.setLine(l)
	}
	status := w.order.allocationStatus()
	if status != w.order.Status {
		before["status"], after["status"] = string(w.order.Status), string(status)
	}
	if len(after) == 0 {
		return nil // nothing to be had: the answer shows each line's shortfall
	}
	return w.note(activity.Update, status, before, after, w.allocationSummary(status))
}

// refused is inventory's refusal of a chosen record's allocation, named
// by the request's field.
func (p planned) refused(err error) error {
	if e, ok := fault.As(err); ok && e.Kind == fault.Invalid {
		for k, v := range e.Fields {
			if k == "quantity" || strings.HasSuffix(k, ".quantity") {
				return fault.Field(p.field, fmt.Sprintf("line %d: %s", p.line.Number, v))
			}
		}
	}
	return err
}

// allocatePlan makes the planned allocations, a batch of movements at a
// time, and records what each line now holds in one statement.
func (w *work) allocatePlan(plan []planned) error {
	if len(plan) == 0 {
		return nil
	}
	for start := 0; start < len(plan); start += inventory.MaxBatch {
		batch := plan[start:min(start+inventory.MaxBatch, len(plan))]
		ms := make([]inventory.Movement, len(batch))
		for i, p := range batch {
			ms[i] = &inventory.Allocate{Record: inventory.RecordRef{RecordID: p.rec.ID}, Quantity: inventory.DecimalText(p.q.String()),
				Holder: w.order.Number, Options: w.options("")}
		}
		if _, err := inventory.ApplyIn(w.ctx, w.tx, ms...); err != nil {
			i, short := refusedMovement(err, len(batch))
			if !short {
				return err
			}
			if p := batch[i]; p.field != "" {
				return p.refused(err)
			}
			return errRaced
		}
	}
	// One upsert for all: a line may already hold part of a record.
	type key struct{ line, record int64 }
	sums := map[key]inventory.Quantity{}
	var order []key
	for _, p := range plan {
		k := key{p.line.ID, p.rec.ID}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += p.q
		p.line.Allocated += p.q
		p.line.Allocations = append(p.line.Allocations, Allocation{RecordID: p.rec.ID, LocationID: p.rec.LocationID,
			LocationPath: p.rec.LocationPath, Lot: p.rec.Lot, Quantity: p.q})
	}
	var args store.Args
	rows := make([]string, len(order))
	for i, k := range order {
		rows[i] = "(" + args.Add(w.who.WorkspaceID) + ", " + args.Add(k.line) + ", " + args.Add(k.record) + ", " + args.Add(w.order.ID) +
			", " + args.Add(int64(sums[k])) + ")"
	}
	if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO order_allocations (workspace_id, line_id, record_id, order_id, quantity) VALUES `+
		strings.Join(rows, ", ")+` ON CONFLICT (workspace_id, line_id, record_id) DO UPDATE SET quantity = order_allocations.quantity + excluded.quantity`,
		args...); err != nil {
		return fmt.Errorf("hold allocations: %w", err)
	}
	return nil
}

// refusedMovement finds which of n movements inventory refused for want
// of stock (a problem with its quantity).
func refusedMovement(err error, n int) (int, bool) {
	e, ok := fault.As(err)
	if !ok || e.Kind != fault.Invalid {
		return 0, false
	}
	for k := range e.Fields {
		if n == 1 && k == "quantity" {
			return 0, true
		}
		var i int
		if _, err := fmt.Sscanf(k, "movements[%d].quantity", &i); err == nil && strings.HasSuffix(k, "].quantity") && i >= 0 && i < n {
			return i, true
		}
	}
	return 0, false
}

// allocationSummary describes an allocation for the order's event.
func (w *work) allocationSummary(status Status) string {
	var short []string
	for _, l := range w.order.Lines {
		if s := l.Quantity - l.Allocated - l.Shipped; s > 0 {
			short = append(short, fmt.Sprintf("line %d short %s %s", l.Number, s.Format(l.Scale), l.Unit))
		}
	}
	if len(short) == 0 {
		return "allocated in full"
	}
	return status.Title() + ": " + strings.Join(short, ", ")
}

// planChosen checks the records a request chooses for line l (request
// i): the line's item, inside its location subtree and lot, quantities
// greater than zero that together do not exceed what the line lacks.
func (w *work) planChosen(l *Line, chosen []RecordQuantity, i int) ([]planned, error) {
	need := l.Quantity - l.Allocated - l.Shipped
	var total inventory.Quantity
	var out []planned
	for j, c := range chosen {
		field := func(name string) string { return fmt.Sprintf("lines[%d].records[%d].%s", i, j, name) }
		rec, err := inventory.GetRecord(w.ctx, w.tx, c.RecordID)
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Field(field("record_id"), fmt.Sprintf("line %d: no such inventory record", l.Number))
		}
		if err != nil {
			return nil, err
		}
		if rec.ItemID != l.ItemID {
			return nil, fault.Field(field("record_id"), fmt.Sprintf("line %d is for %s; record %d holds %s", l.Number, l.SKU, rec.ID, rec.SKU))
		}
		if !inReach(*l, rec.LocationPath) {
			return nil, fault.Field(field("record_id"), fmt.Sprintf("line %d allocates from %s; record %d is at %s", l.Number, l.LocationPath, rec.ID, rec.LocationPath))
		}
		if l.Lot != "" && rec.Lot != l.Lot {
			return nil, fault.Field(field("record_id"), fmt.Sprintf("line %d asks for lot %q; record %d is lot %q", l.Number, l.Lot, rec.ID, rec.Lot))
		}
		q, err := positive(c.Quantity, rec.Scale)
		if err != nil {
			return nil, fault.Field(field("quantity"), fmt.Sprintf("line %d: %s", l.Number, err))
		}
		total += q
		if total > need {
			return nil, fault.Field(field("quantity"), fmt.Sprintf("line %d needs %s %s more; %s chosen", l.Number, need.Format(l.Scale), l.Unit, total.Format(l.Scale)))
		}
		out = append(out, planned{line: l, rec: rec, q: q, field: field("quantity")})
	}
	return out, nil
}

// planSuggested plans what l still lacks from available records, oldest
// first, as far as they go after what this request already took of them.
func (w *work) planSuggested(l *Line, recs []inventory.Record, taken map[int64]inventory.Quantity) ([]planned, error) {
	need := l.Quantity - l.Allocated - l.Shipped
	if need <= 0 {
		return nil, nil
	}
	var out []planned
	for _, rec := range recs {
		if need <= 0 {
			break
		}
		if q := min(need, rec.Available()-taken[rec.ID]); q > 0 {
			out = append(out, planned{line: l, rec: rec, q: q})
			taken[rec.ID] += q
			need -= q
		}
	}
	return out, nil
}

// allocateSuggested allocates what l still lacks from available records,
// oldest first, as far as they go, one record at a time (each allocation
// reads the record again under its lock).
func (w *work) allocateSuggested(l *Line) error {
	need := l.Quantity - l.Allocated - l.Shipped
	if need <= 0 {
		return nil
	}
	recs, err := inventory.AvailableRecords(w.ctx, w.tx, l.ItemID, l.LocationID, l.Lot)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if need <= 0 {
			break
		}
		got, err := w.allocateFrom(rec, min(need, rec.Available()), false)
		if err != nil {
			return err
		}
		if got > 0 {
			if err := w.holdAllocation(l, rec, got); err != nil {
				return err
			}
			need -= got
		}
	}
	return nil
}

// Release gives back what the named lines (all when none) hold. The order
// returns to confirmed or partially allocated.
func Release(ctx context.Context, db *store.DB, id int64, in LinesInput) (Order, error) {
	return change(ctx, db, actor.FulfilOrders, id, func(w *work) error {
		if err := w.expectKind(Outbound, "be released"); err != nil {
			return err
		}
		if err := w.notForStations("releasing"); err != nil {
			return err
		}
		if err := w.expect("have its allocations released", PartiallyAllocated, Allocated, Picked); err != nil {
			return err
		}
		lines, err := w.pickLines(in.Lines, func(l Line) bool { return l.Allocated > 0 })
		if err != nil {
			return err
		}
		for i, l := range lines {
			if l.Allocated == 0 && len(in.Lines) > 0 {
				return fault.Field(linesField(i, ""), fmt.Sprintf("line %d holds nothing to release", l.Number))
			}
		}
		r, err := w.releaseLines(lines, "released by hand")
		if err != nil {
			return err
		}
		if r == nil {
			return fault.Field("lines", w.order.Number+" holds nothing to release")
		}
		status := w.order.afterPicking()
		r.old["status"], r.new["status"] = string(w.order.Status), string(status)
		return w.note(activity.Update, status, r.old, r.new, "allocations released")
	})
}

// afterPicking is the outbound status the lines make: picked when every
// line that holds stock has been picked, else as allocated.
func (o Order) afterPicking() Status {
	s := o.allocationStatus()
	if s == Confirmed {
		return s
	}
	for _, l := range o.Lines {
		if l.Allocated > 0 && !l.Picked {
			return s
		}
	}
	return Picked
}

// Pick marks allocated lines (all when none are named) as picked: the
// stock is off the shelf. The order is picked once every line holding stock
// is. A scanning station picks only stock at its location and below.
func Pick(ctx context.Context, db *store.DB, id int64, in LinesInput) (Order, error) {
	return change(ctx, db, actor.FulfilOrders, id, func(w *work) error {
		if err := w.expectKind(Outbound, "be picked"); err != nil {
			return err
		}
		if err := w.expect("be picked", PartiallyAllocated, Allocated); err != nil {
			return err
		}
		lines, err := w.pickLines(in.Lines, func(l Line) bool { return l.Allocated > 0 && !l.Picked })
		if err != nil {
			return err
		}
		home, err := w.stationHome()
		if err != nil {
			return err
		}
		before, after := map[string]any{}, map[string]any{}
		var ids []int64
		for i, l := range lines {
			switch {
			case l.Allocated == 0:
				return fault.Field(linesField(i, ""), fmt.Sprintf("line %d holds no stock to pick; allocate it first", l.Number))
			case l.Picked:
				return fault.Field(linesField(i, ""), fmt.Sprintf("line %d is picked already", l.Number))
			}
			for _, a := range l.Allocations {
				if home != "" && a.LocationPath != home && !strings.HasPrefix(a.LocationPath, home+"/") {
					return &fault.Error{Kind: fault.Forbidden, Fields: map[string]string{linesField(i, ""): "outside " + home},
						Message: fmt.Sprintf("this station works at %s and below; line %d's stock is at %s", home, l.Number, a.LocationPath)}
				}
			}
			p := fmt.Sprintf("line %d picked", l.Number)
			before[p], after[p] = false, true
			ids = append(ids, l.ID)
			l.Picked = true
			w.order.setLine(l)
		}
		if len(ids) == 0 {
			return fault.Field("lines", w.order.Number+" has no allocated line left to pick")
		}
		picked := store.NewWhere(`workspace_id = ?`, w.who.WorkspaceID).And(store.In(w.tx, "id", ids))
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET picked = 1, updated_at = `+picked.Add(store.Micros(w.now))+` WHERE `+picked.String(),
			picked.Args...); err != nil {
			return err
		}
		status := w.order.afterPicking()
		if status != w.order.Status {
			before["status"], after["status"] = string(w.order.Status), string(status)
		}
		return w.note(activity.Update, status, before, after, lineCount(len(ids))+" picked")
	})
}

// stationHome is the bound location's path of a station actor ("" for
// everyone else, and for a station bound nowhere).
func (w *work) stationHome() (string, error) {
	if w.who.Kind != actor.Station || w.who.LocationID == 0 {
		return "", nil
	}
	var path string
	err := w.tx.QueryRowContext(w.ctx, `SELECT path FROM locations WHERE workspace_id = $1 AND id = $2`, w.who.WorkspaceID, w.who.LocationID).Scan(&path)
	return path, err
}

// Ship issues exactly the allocated stock of a picked order (inventory.Ship
// per allocation, the order number as holder and reference): the order is
// shipped. What a line lacked stays unshipped; close the order, or cancel it
// before shipping.
func Ship(ctx context.Context, db *store.DB, id int64, in ShipInput) (Order, error) {
	return change(ctx, db, actor.FulfilOrders, id, func(w *work) error {
		if err := w.expectKind(Outbound, "be shipped"); err != nil {
			return err
		}
		if err := w.expect("be shipped", Picked); err != nil {
			return err
		}
		seen := map[int64]bool{}
		for i, c := range in.Lines {
			l, ok := w.order.Line(c.LineID)
			if !ok {
				return fault.Field(linesField(i, "line_id"), fmt.Sprintf("%s has no line with id %d", w.order.Number, c.LineID))
			}
			if seen[l.ID] {
				return fault.Field(linesField(i, "line_id"), fmt.Sprintf("line %d is named twice", l.Number))
			}
			seen[l.ID] = true
			q, err := inventory.ParseQuantity(strings.TrimSpace(string(c.Quantity)), l.Scale)
			switch {
			case err != nil:
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d: %s", l.Number, err))
			case q <= 0:
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d: must be greater than zero", l.Number))
			case q > l.Allocated:
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d: only %s %s are allocated; %s cannot ship", l.Number,
					l.AllocatedText(), l.Unit, q.Format(l.Scale)))
			case q < l.Allocated:
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d: %s %s are allocated and ship together; release the rest before shipping %s",
					l.Number, l.AllocatedText(), l.Unit, q.Format(l.Scale)))
			}
		}
		var ms []inventory.Movement
		before, after := map[string]any{"status": string(Picked)}, map[string]any{"status": string(Shipped)}
		for _, l := range w.order.Lines {
			if l.Allocated == 0 {
				continue
			}
			for _, a := range l.Allocations {
				ms = append(ms, &inventory.Ship{Record: inventory.RecordRef{RecordID: a.RecordID}, Quantity: inventory.DecimalText(a.Quantity.String()),
					Holder: w.order.Number, Options: w.options("")})
			}
			p := fmt.Sprintf("line %d shipped", l.Number)
			before[p], after[p] = l.ShippedText(), (l.Shipped + l.Allocated).Format(l.Scale)
		}
		if err := w.moves(ms); err != nil {
			return err
		}
		// Each line has shipped what it held: one statement for all lines.
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET updated_at = $1, shipped = shipped +
			(SELECT COALESCE(SUM(a.quantity), 0) FROM order_allocations a WHERE a.workspace_id = order_lines.workspace_id AND a.line_id = order_lines.id)
			WHERE workspace_id = $2 AND order_id = $3`, store.Micros(w.now), w.who.WorkspaceID, w.order.ID); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM order_allocations WHERE workspace_id = $1 AND order_id = $2`, w.who.WorkspaceID, w.order.ID); err != nil {
			return err
		}
		return w.note(activity.Update, Shipped, before, after, "shipped")
	})
}

// Receive books stock arriving for an inbound order: a receipt per line
// (the order number as reference), into the location and lot given or the
// line's own. A line may be received in parts, and beyond its quantity only
// within the workspace's over-receipt tolerance. The order is received when
// every line has arrived in full, partially received before.
func Receive(ctx context.Context, db *store.DB, id int64, in ReceiveInput) (Order, error) {
	return change(ctx, db, actor.FulfilOrders, id, func(w *work) error {
		if err := w.expectKind(Inbound, "be received"); err != nil {
			return err
		}
		if err := w.expect("be received", Confirmed, PartiallyReceived); err != nil {
			return err
		}
		if len(in.Lines) == 0 {
			return fault.Field("lines", "say what arrived: at least one line with its quantity")
		}
		if len(in.Lines) > inventory.MaxBatch {
			return fault.Field("lines", fmt.Sprintf("at most %d lines in one receipt", inventory.MaxBatch))
		}
		ws, err := workspace.Get(w.ctx, w.tx)
		if err != nil {
			return err
		}
		tolerance := int64(ws.Settings.OverReceiptPercent)
		arriving := map[int64]inventory.Quantity{}
		var ms []inventory.Movement
		for i, r := range in.Lines {
			l, ok := w.order.Line(r.LineID)
			if !ok {
				return fault.Field(linesField(i, "line_id"), fmt.Sprintf("%s has no line with id %d", w.order.Number, r.LineID))
			}
			q, err := positive(r.Quantity, l.Scale)
			if err != nil {
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d: %s", l.Number, err))
			}
			arriving[l.ID] += q
			limit := l.Quantity + inventory.Quantity(int64(l.Quantity)*tolerance/100)
			if l.Received+arriving[l.ID] > limit {
				more := max(limit-l.Received, 0)
				return fault.Field(linesField(i, "quantity"), fmt.Sprintf("line %d ordered %s %s of %s and has received %s; at most %s more may arrive (over-receipt tolerance %d%%)",
					l.Number, l.QuantityText(), l.Unit, l.SKU, l.ReceivedText(), more.Format(l.Scale), tolerance))
			}
			loc := r.LocationID
			if loc == 0 {
				loc = l.LocationID
			}
			if loc == 0 {
				return fault.Field(linesField(i, "location_id"), fmt.Sprintf("line %d names no location; say where it is received", l.Number))
			}
			lot := l.Lot
			if r.Lot != nil {
				lot = *r.Lot
			}
			ms = append(ms, &inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: l.ItemID}, LocationRef: inventory.LocationRef{LocationID: loc},
				Lot: lot, Quantity: inventory.DecimalText(q.String()), Options: w.options("")})
		}
		if _, err := inventory.ApplyIn(w.ctx, w.tx, ms...); err != nil {
			return renameMovements(err)
		}
		before, after := map[string]any{}, map[string]any{}
		for _, l := range w.order.Lines {
			q, ok := arriving[l.ID]
			if !ok {
				continue
			}
			p := fmt.Sprintf("line %d received", l.Number)
			before[p], after[p] = l.ReceivedText(), (l.Received + q).Format(l.Scale)
			if _, err := w.tx.ExecContext(w.ctx, `UPDATE order_lines SET received = received + $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
				int64(q), store.Micros(w.now), w.who.WorkspaceID, l.ID); err != nil {
				return err
			}
			l.Received += q
			w.order.setLine(l)
		}
		status := Received
		for _, l := range w.order.Lines {
			if l.Received < l.Quantity {
				status = PartiallyReceived
			}
		}
		if status != w.order.Status {
			before["status"], after["status"] = string(w.order.Status), string(status)
		}
		return w.note(activity.Update, status, before, after, status.Title())
	})
}

// renameMovements turns inventory's "movements[i].field" into the request's
// "lines[i].field", so a refused receipt names the line that caused it.
func renameMovements(err error) error {
	e, ok := fault.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &fault.Error{Kind: e.Kind, Message: e.Message, Err: e.Err, Fields: map[string]string{}}
	for k, v := range e.Fields {
		if rest, ok := strings.CutPrefix(k, "movements["); ok {
			k = "lines[" + rest
		}
		out.Fields[k] = v
	}
	return out
}
