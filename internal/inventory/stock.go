package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Level is the stock of one item at one location.
type Level struct {
	ItemID       int64  `json:"item_id"`
	SKU          string `json:"sku"`
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	Scale        int    `json:"-"`
	LocationID   int64  `json:"location_id"`
	LocationPath string `json:"location_path"`
	// Quantity is on hand; Allocated the part of it reserved for holders
	// (orders); Available the rest.
	Quantity  Quantity `json:"quantity"`
	Allocated Quantity `json:"allocated"`
	Available Quantity `json:"available"`
}

// QuantityText and the others format with the unit's decimals.
func (l Level) QuantityText() string  { return l.Quantity.Format(l.Scale) }
func (l Level) AllocatedText() string { return l.Allocated.Format(l.Scale) }
func (l Level) AvailableText() string { return l.Available.Format(l.Scale) }

// StockFilter narrows stock queries to one item and/or one location.
type StockFilter struct {
	ItemID     int64
	LocationID int64
	// WithEmpty keeps item-locations whose level is zero.
	WithEmpty bool
}

// where returns the filter's conditions, each after " AND ", with their
// values added to args.
func (f StockFilter) where(alias string, args *store.Args) string {
	var b strings.Builder
	if f.ItemID != 0 {
		b.WriteString(" AND " + alias + "item_id = " + args.Add(f.ItemID))
	}
	if f.LocationID != 0 {
		b.WriteString(" AND " + alias + "location_id = " + args.Add(f.LocationID))
	}
	return b.String()
}

// CurrentStock returns today's level per item and location.
func CurrentStock(ctx context.Context, db *store.DB, f StockFilter) ([]Level, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	args := store.Args{a.WorkspaceID}
	query := `SELECT s.item_id, s.location_id, s.quantity, s.allocated FROM stock_levels s WHERE s.workspace_id = $1` + f.where("s.", &args)
	if !f.WithEmpty {
		query += ` AND (s.quantity <> 0 OR s.allocated <> 0)`
	}
	return levels(ctx, db.Read(), a.WorkspaceID, query, args)
}

// StockAsOf rebuilds the level per item and location at moment t by
// effective time: a receipt entered late but effective earlier counts from
// its effective time. It adds the monthly checkpoints before t's month to
// the log entries of that month up to t, so it reads at most a month of log.
// Allocated quantities are rebuilt the same way, from the checkpoints and
// entries that changed them (partial indexes of their own).
func StockAsOf(ctx context.Context, db *store.DB, t time.Time, f StockFilter) ([]Level, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	return stockAsOf(ctx, db.Read(), a.WorkspaceID, t, f)
}

func stockAsOf(ctx context.Context, q store.Querier, workspaceID int64, t time.Time, f StockFilter) ([]Level, error) {
	// Aggregates summed in Go rather than one GROUP BY over a UNION: the
	// checkpoints then stream in primary-key order with no temporary table,
	// and the aggregates can run at once (sumsAt).
	var parts []sumPart
	p := CheckpointPeriod(t)
	next := store.Micros(time.UnixMicro(p).UTC().AddDate(0, 1, 0))
	backward := false
	// One item's checkpoints are a few thousand index entries at most:
	// there the two extra round trips would cost more than they save.
	if !f.WithEmpty && f.ItemID == 0 {
		// The level as of t is also today's level minus what came after t:
		// the checkpoints of the months after t's month and the entries
		// of t's month after t. Read whichever side of t holds less
		// history (by effective time), so a whole-workspace as-of reads
		// at most half the checkpoints. (Not with WithEmpty: today's
		// levels include item-locations that did not exist yet at t.)
		var first, last sql.NullInt64
		args := store.Args{workspaceID}
		cond := f.where("", &args)
		// Two index seeks (SQLite does not optimise MIN and MAX together).
		if err := q.QueryRowContext(ctx, `SELECT (SELECT effective_at FROM inventory_log WHERE workspace_id = $1`+cond+` ORDER BY effective_at LIMIT 1),
			(SELECT effective_at FROM inventory_log WHERE workspace_id = $1`+cond+` ORDER BY effective_at DESC LIMIT 1)`,
			args...).Scan(&first, &last); err != nil {
			return nil, err
		}
		at := store.Micros(t)
		backward = first.Valid && at-first.Int64 > last.Int64-at
	}
	// A whole workspace is read in halves, by item for the levels and
	// checkpoints and by effective time for the log, on two connections at
	// once: SQLite runs a query on one thread, and at 10M entries the
	// checkpoints alone take over a second to read. A filtered as-of reads
	// little and stays one query each.
	// Only a pool has connections to spare: a transaction's queries run one
	// after another on its one connection.
	_, pool := q.(*sql.DB)
	whole := pool && f.ItemID == 0 && f.LocationID == 0
	var itemSplit int64
	if whole {
		var lo, hi sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM items WHERE workspace_id = $1`, workspaceID).Scan(&lo, &hi); err != nil {
			return nil, err
		}
		if !lo.Valid || lo.Int64 == hi.Int64 {
			whole = false
		} else {
			itemSplit = lo.Int64 + (hi.Int64-lo.Int64)/2
		}
	}
	// byItem adds query, split by item when the whole workspace is read.
	byItem := func(query, groupBy string, args store.Args) {
		if !whole {
			parts = append(parts, sumPart{query: query + groupBy, args: args})
			return
		}
		lower, upper := slices.Clip(args), slices.Clip(args)
		parts = append(parts,
			sumPart{query: query + " AND item_id <= " + lower.Add(itemSplit) + groupBy, args: lower},
			sumPart{query: query + " AND item_id > " + upper.Add(itemSplit) + groupBy, args: upper})
	}
	// byTime adds a query over the log's effective times from $2 to $3
	// (the operators given), split at their midpoint.
	byTime := func(query string, from, to int64, fromOp, toOp string, args []any) {
		sql := func(lo, hi string) string {
			return strings.NewReplacer("{from}", lo, "{to}", hi).Replace(query)
		}
		if !whole {
			parts = append(parts, sumPart{query: sql(fromOp, toOp), args: append([]any{workspaceID, from, to}, args...)})
			return
		}
		mid := from + (to-from)/2
		parts = append(parts,
			sumPart{query: sql(fromOp, "<="), args: append([]any{workspaceID, from, mid}, args...)},
			sumPart{query: sql(">", toOp), args: append([]any{workspaceID, mid, to}, args...)})
	}

	// Within t's month, likewise read the shorter side of t: the entries
	// from the month's start up to t (added), or those after t to the
	// month's end (subtracted, with t's month's checkpoint on the other
	// side).
	at := store.Micros(t)
	afterT := !f.WithEmpty && at-p > next-at
	cpSign, cpCond := "", "period_start < $2"
	switch {
	case !backward && afterT:
		cpCond = "period_start <= $2"
	case backward && afterT:
		cpSign, cpCond = "-", "period_start > $2"
	case backward:
		cpSign, cpCond = "-", "period_start >= $2"
	}
	if backward {
		args := store.Args{workspaceID}
		byItem(`SELECT item_id, location_id, quantity FROM stock_levels WHERE workspace_id = $1`+f.where("", &args), "", args)
	}
	args := store.Args{workspaceID, p}
	byItem(`SELECT item_id, location_id, `+cpSign+`SUM(change_sum) FROM inventory_checkpoints
		WHERE workspace_id = $1 AND `+cpCond+f.where("", &args), ` GROUP BY item_id, location_id`, args)
	logArgs := store.Args{workspaceID, 0, 0} // $2 and $3 are byTime's
	cond := f.where("", &logArgs)
	filter := logArgs[3:]
	if afterT {
		byTime(`SELECT item_id, location_id, -SUM(change) FROM inventory_log
		WHERE workspace_id = $1 AND effective_at {from} $2 AND effective_at {to} $3`+cond+` GROUP BY item_id, location_id`, at, next, ">", "<", filter)
	} else {
		byTime(`SELECT item_id, location_id, SUM(change) FROM inventory_log
		WHERE workspace_id = $1 AND effective_at {from} $2 AND effective_at {to} $3`+cond+` GROUP BY item_id, location_id`, p, at, ">=", "<=", filter)
	}
	// Allocated as of t: always forward (checkpoints before t's month, then
	// the month's allocation entries up to t). Only checkpoints and entries
	// that changed allocated are read, along their partial indexes.
	parts = append(parts, allocatedAt(workspaceID, t, f)...)
	out, err := sumsAt(ctx, q, parts, pool, f.WithEmpty)
	if err != nil {
		return nil, err
	}
	return namedAndSorted(ctx, q, workspaceID, out)
}

// allocatedAt is the aggregates of the allocated quantities as of t:
// always forward (the checkpoints before t's month, then the month's
// allocation entries up to t), and only the checkpoints and entries that
// changed allocated, along their partial indexes. Allocation entries are
// never backdated (their effective time is their recorded time), so this
// is also what was allocated as shown at t.
func allocatedAt(workspaceID int64, t time.Time, f StockFilter) []sumPart {
	p := CheckpointPeriod(t)
	cpArgs := store.Args{workspaceID, p}
	cpCond := f.where("", &cpArgs)
	logArgs := store.Args{workspaceID, p, store.Micros(t)}
	logCond := f.where("", &logArgs)
	return []sumPart{{query: `SELECT item_id, location_id, SUM(allocated_sum) FROM inventory_checkpoints
		WHERE workspace_id = $1 AND allocated_sum <> 0 AND period_start < $2` + cpCond + ` GROUP BY item_id, location_id`, args: cpArgs, allocated: true},
		{query: `SELECT item_id, location_id, SUM(allocated_change) FROM inventory_log
		WHERE workspace_id = $1 AND allocated_change <> 0 AND effective_at >= $2 AND effective_at <= $3` + logCond + ` GROUP BY item_id, location_id`,
			args: logArgs, allocated: true}}
}

// sumPart is one aggregate of stockAsOf: rows of item, location and a
// quantity to add to the level's on-hand quantity, or to its allocated
// quantity when allocated is set.
type sumPart struct {
	query     string
	args      []any
	allocated bool
}

// sumsAt runs the parts, at once when q is a pool (each on a connection of
// its own), and adds up their quantities per item and location. Zero sums
// are dropped unless withEmpty.
func sumsAt(ctx context.Context, q store.Querier, parts []sumPart, concurrent, withEmpty bool) ([]Level, error) {
	type key struct{ item, loc int64 }
	type sums struct{ quantity, allocated Quantity }
	results := make([]map[key]sums, len(parts))
	errs := make([]error, len(parts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		run := func() {
			defer wg.Done()
			got := map[key]sums{}
			errs[i] = func() error {
				rows, err := q.QueryContext(ctx, part.query, part.args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var k key
					var v Quantity
					if err := rows.Scan(&k.item, &k.loc, &v); err != nil {
						return err
					}
					s := got[k]
					if part.allocated {
						s.allocated += v
					} else {
						s.quantity += v
					}
					got[k] = s
				}
				return rows.Err()
			}()
			if errs[i] != nil {
				cancel()
			}
			results[i] = got
		}
		if concurrent {
			go run()
		} else {
			run()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	total := results[0]
	for _, r := range results[1:] {
		if len(r) > len(total) {
			total, r = r, total
		}
		for k, v := range r {
			t := total[k]
			t.quantity, t.allocated = t.quantity+v.quantity, t.allocated+v.allocated
			total[k] = t
		}
	}
	out := make([]Level, 0, len(total))
	for k, v := range total {
		if v.quantity != 0 || v.allocated != 0 || withEmpty {
			out = append(out, Level{ItemID: k.item, LocationID: k.loc, Quantity: v.quantity, Allocated: v.allocated,
				Available: v.quantity - v.allocated})
		}
	}
	return out, nil
}

// StockAsShown answers "what did the system show at moment k": the level
// after the last entry recorded by then, per item and location, whatever
// effective times were entered later. Allocated quantities are never
// backdated, so what was allocated as shown at k is what was allocated as
// of k (allocatedAt).
func StockAsShown(ctx context.Context, db *store.DB, k time.Time, f StockFilter) ([]Level, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	// For each item-location, the last entry recorded by k: its id is below
	// the first entry recorded at or after k+MaxEntryDelay, so the search
	// walks back from there along (item, location, id).
	hi, err := idFrom(ctx, db.Read(), a.WorkspaceID, k.Add(MaxEntryDelay))
	if err != nil {
		return nil, err
	}
	if hi == 0 {
		hi = math.MaxInt64
	}
	args := store.Args{a.WorkspaceID, store.Micros(k), hi}
	cond := f.where("s.", &args)
	query := `SELECT item_id, location_id, level FROM (
		SELECT s.item_id, s.location_id, (SELECT l.location_level FROM inventory_log l
			WHERE l.workspace_id = $1 AND l.item_id = s.item_id AND l.location_id = s.location_id AND l.id < $3 AND l.recorded_at <= $2
			ORDER BY l.id DESC LIMIT 1) AS level
		FROM stock_levels s WHERE s.workspace_id = $1` + cond + `) AS shown WHERE level IS NOT NULL`
	if !f.WithEmpty {
		query += ` AND level <> 0`
	}
	parts := append([]sumPart{{query: query, args: args}}, allocatedAt(a.WorkspaceID, k, f)...)
	// Only the item-locations shown at k: every allocated one has a level
	// then (stock is allocated only from stock on hand).
	out, err := sumsAt(ctx, db.Read(), parts, false, f.WithEmpty)
	if err != nil {
		return nil, err
	}
	return namedAndSorted(ctx, db.Read(), a.WorkspaceID, out)
}

// levels runs a query yielding (item_id, location_id, quantity, allocated)
// and names the items and locations.
func levels(ctx context.Context, q store.Querier, workspaceID int64, query string, args []any) ([]Level, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []Level
	for rows.Next() {
		var l Level
		if err := rows.Scan(&l.ItemID, &l.LocationID, &l.Quantity, &l.Allocated); err != nil {
			rows.Close()
			return nil, err
		}
		l.Available = l.Quantity - l.Allocated
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return namedAndSorted(ctx, q, workspaceID, out)
}

// namedAndSorted names the levels' items and locations and sorts them by
// SKU and location path.
func namedAndSorted(ctx context.Context, q store.Querier, workspaceID int64, out []Level) ([]Level, error) {
	if err := nameLevels(ctx, q, workspaceID, out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SKU != out[j].SKU {
			return out[i].SKU < out[j].SKU
		}
		return out[i].LocationPath < out[j].LocationPath
	})
	return out, nil
}

func nameLevels(ctx context.Context, q store.Querier, workspaceID int64, ls []Level) error {
	if len(ls) == 0 {
		return nil
	}
	itemSet, locSet := map[int64]bool{}, map[int64]bool{}
	for _, l := range ls {
		itemSet[l.ItemID], locSet[l.LocationID] = true, true
	}
	items := map[int64]Item{}
	rows, err := q.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE workspace_id = $1`+idsIn(itemSet), workspaceID)
	if err != nil {
		return err
	}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return err
		}
		items[it.ID] = it
	}
	rows.Close()
	paths := map[int64]string{}
	rows, err = q.QueryContext(ctx, `SELECT id, path FROM locations WHERE workspace_id = $1`+idsIn(locSet), workspaceID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var path string
		if err := rows.Scan(&id, &path); err != nil {
			rows.Close()
			return err
		}
		paths[id] = path
	}
	rows.Close()
	for i := range ls {
		it := items[ls[i].ItemID]
		ls[i].SKU, ls[i].Name, ls[i].Unit, ls[i].Scale = it.SKU, it.Name, it.Unit, it.Scale
		ls[i].LocationPath = paths[ls[i].LocationID]
	}
	return nil
}

// idsIn narrows a query to a few ids (written as integer literals, which
// are safe) or, for many, to nothing: reading the whole table is then
// cheaper than a huge IN list.
func idsIn(set map[int64]bool) string {
	if len(set) > 500 {
		return ""
	}
	// In order, so that the same set gives the same statement text: pgx
	// prepares every new text (a parse and plan, 15–20 ms at times on a busy
	// server) and map order made nearly every call a new one.
	sorted := make([]int64, 0, len(set))
	for id := range set {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	ids := make([]string, len(sorted))
	for i, id := range sorted {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return " AND id IN (" + strings.Join(ids, ",") + ")"
}

// Difference is how the level of an item at a location changed between two
// moments: on hand (From, To, Change) and allocated (FromAllocated,
// ToAllocated, AllocatedChange). The embedded Level is the level at the
// later moment.
type Difference struct {
	Level
	From            Quantity `json:"from"`
	To              Quantity `json:"to"`
	Change          Quantity `json:"change"`
	FromAllocated   Quantity `json:"from_allocated"`
	ToAllocated     Quantity `json:"to_allocated"`
	AllocatedChange Quantity `json:"allocated_change"`
}

// FromText and the others format with the unit's decimals.
func (d Difference) FromText() string            { return d.From.Format(d.Scale) }
func (d Difference) ToText() string              { return d.To.Format(d.Scale) }
func (d Difference) ChangeText() string          { return d.Change.Format(d.Scale) }
func (d Difference) FromAllocatedText() string   { return d.FromAllocated.Format(d.Scale) }
func (d Difference) ToAllocatedText() string     { return d.ToAllocated.Format(d.Scale) }
func (d Difference) AllocatedChangeText() string { return d.AllocatedChange.Format(d.Scale) }

// StockDiff compares stock as of two moments (by effective time) and lists
// the item-locations whose level on hand or allocated differs.
func StockDiff(ctx context.Context, db *store.DB, from, to time.Time, f StockFilter) ([]Difference, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, fault.Field("to", "must be after from")
	}
	f.WithEmpty = true
	before, err := stockAsOf(ctx, db.Read(), a.WorkspaceID, from, f)
	if err != nil {
		return nil, err
	}
	after, err := stockAsOf(ctx, db.Read(), a.WorkspaceID, to, f)
	if err != nil {
		return nil, err
	}
	type key struct{ item, loc int64 }
	diffs := map[key]*Difference{}
	for _, l := range before {
		diffs[key{l.ItemID, l.LocationID}] = &Difference{Level: l, From: l.Quantity, FromAllocated: l.Allocated}
	}
	for _, l := range after {
		d, ok := diffs[key{l.ItemID, l.LocationID}]
		if !ok {
			d = &Difference{Level: l}
			diffs[key{l.ItemID, l.LocationID}] = d
		}
		d.To, d.ToAllocated = l.Quantity, l.Allocated
	}
	var out []Difference
	for _, d := range diffs {
		if d.From != d.To || d.FromAllocated != d.ToAllocated {
			d.Change, d.AllocatedChange = d.To-d.From, d.ToAllocated-d.FromAllocated
			d.Quantity, d.Allocated, d.Available = d.To, d.ToAllocated, d.To-d.ToAllocated
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SKU != out[j].SKU {
			return out[i].SKU < out[j].SKU
		}
		return out[i].LocationPath < out[j].LocationPath
	})
	return out, nil
}

// CheckInvariant verifies, for one workspace, that every record's quantity
// equals the sum of its logged changes, that each item-location level equals
// the sum of its records, and that the checkpoints equal the log grouped by
// month; likewise for allocated quantities: a record's allocated equals the
// sum of its entries' allocated_change and the sum of its holders, and
// each holder's share equals the sum of the allocation entries naming it
// (their reference); and that no record has more allocated than on hand
// unless the workspace allows negative stock. It returns a description of
// every mismatch, or nil.
func CheckInvariant(ctx context.Context, r store.Reader) error {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return err
	}
	q, workspaceID := r.Read(), who.WorkspaceID
	var problems []string
	check := func(what, query string) error {
		rows, err := q.QueryContext(ctx, query, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id1, id2 int64
			var have, want int64
			if err := rows.Scan(&id1, &id2, &have, &want); err != nil {
				return err
			}
			problems = append(problems, fmt.Sprintf("%s %d/%d: stored %d, log says %d", what, id1, id2, have, want))
		}
		return rows.Err()
	}
	if err := check("record", `SELECT r.id, 0, r.quantity, COALESCE(s.total, 0) FROM inventory_records r
		LEFT JOIN (SELECT record_id, SUM(change) AS total FROM inventory_log WHERE workspace_id = $1 GROUP BY record_id) s
		ON s.record_id = r.id WHERE r.workspace_id = $1 AND r.quantity <> COALESCE(s.total, 0)`); err != nil {
		return err
	}
	if err := check("item-location", `SELECT sl.item_id, sl.location_id, sl.quantity, COALESCE(r.total, 0) FROM stock_levels sl
		LEFT JOIN (SELECT item_id, location_id, SUM(quantity) AS total FROM inventory_records WHERE workspace_id = $1
			GROUP BY item_id, location_id) r ON r.item_id = sl.item_id AND r.location_id = sl.location_id
		WHERE sl.workspace_id = $1 AND sl.quantity <> COALESCE(r.total, 0)`); err != nil {
		return err
	}
	// Allocations: along the partial index of allocation entries, which
	// holds only those.
	if err := check("record allocated", `SELECT r.id, 0, r.allocated, COALESCE(s.total, 0) FROM inventory_records r
		LEFT JOIN (SELECT record_id, SUM(allocated_change) AS total FROM inventory_log WHERE workspace_id = $1 AND allocated_change <> 0
			GROUP BY record_id) s ON s.record_id = r.id
		WHERE r.workspace_id = $1 AND r.allocated <> COALESCE(s.total, 0)`); err != nil {
		return err
	}
	if err := check("record holders", `SELECT r.id, 0, r.allocated, COALESCE(h.total, 0) FROM inventory_records r
		LEFT JOIN (SELECT record_id, SUM(quantity) AS total FROM inventory_allocations WHERE workspace_id = $1 GROUP BY record_id) h
			ON h.record_id = r.id
		WHERE r.workspace_id = $1 AND r.allocated <> COALESCE(h.total, 0)`); err != nil {
		return err
	}
	if err := check("item-location allocated", `SELECT sl.item_id, sl.location_id, sl.allocated, COALESCE(r.total, 0) FROM stock_levels sl
		LEFT JOIN (SELECT item_id, location_id, SUM(allocated) AS total FROM inventory_records WHERE workspace_id = $1
			GROUP BY item_id, location_id) r ON r.item_id = sl.item_id AND r.location_id = sl.location_id
		WHERE sl.workspace_id = $1 AND sl.allocated <> COALESCE(r.total, 0)`); err != nil {
		return err
	}
	if err := check("record last entry allocated", `SELECT id, 0, allocated, last FROM (SELECT r.id, r.allocated,
			(SELECT l.allocated_level FROM inventory_log l WHERE l.workspace_id = r.workspace_id AND l.record_id = r.id
				ORDER BY l.id DESC LIMIT 1) AS last
		FROM inventory_records r WHERE r.workspace_id = $1 AND r.allocated <> 0) x
		WHERE last IS NOT NULL AND allocated <> last`); err != nil {
		return err
	}
	if err := checkHolders(ctx, q, workspaceID, &problems); err != nil {
		return err
	}
	ws, err := workspace.Get(ctx, r)
	if err != nil {
		return err
	}
	if !ws.Settings.AllowNegativeStock {
		rows, err := q.QueryContext(ctx, `SELECT id, quantity, allocated FROM inventory_records
			WHERE workspace_id = $1 AND quantity < allocated`, workspaceID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, quantity, allocated int64
			if err := rows.Scan(&id, &quantity, &allocated); err != nil {
				rows.Close()
				return err
			}
			problems = append(problems, fmt.Sprintf("record %d: %d on hand, %d allocated", id, quantity, allocated))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	// The level-after of each record's last entry is its current quantity.
	// One index seek per record (inventory_log_record): joining the log to
	// a GROUP BY of it led SQLite, without statistics, to scan the whole
	// log once per record.
	if err := check("record last entry", `SELECT id, 0, quantity, last FROM (SELECT r.id, r.quantity,
			(SELECT l.record_level FROM inventory_log l WHERE l.workspace_id = r.workspace_id AND l.record_id = r.id
				ORDER BY l.id DESC LIMIT 1) AS last
		FROM inventory_records r WHERE r.workspace_id = $1) x
		WHERE last IS NOT NULL AND quantity <> last`); err != nil {
		return err
	}
	// Checkpoints against the log, grouped by month in Go (month lengths
	// differ, which plain SQL on both engines cannot group by cheaply).
	type key struct{ item, loc, period int64 }
	sums := map[key]int64{}
	allocSums := map[key]int64{}
	rows, err := q.QueryContext(ctx, `SELECT item_id, location_id, effective_at, change, allocated_change FROM inventory_log WHERE workspace_id = $1`, workspaceID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var item, loc, eff, ch, alloc int64
		if err := rows.Scan(&item, &loc, &eff, &ch, &alloc); err != nil {
			rows.Close()
			return err
		}
		k := key{item, loc, CheckpointPeriod(store.Time(eff))}
		if ch != 0 || alloc != 0 {
			sums[k] += ch
			allocSums[k] += alloc
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT item_id, location_id, period_start, change_sum, allocated_sum FROM inventory_checkpoints WHERE workspace_id = $1`, workspaceID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var sum, allocSum int64
		if err := rows.Scan(&k.item, &k.loc, &k.period, &sum, &allocSum); err != nil {
			rows.Close()
			return err
		}
		if sums[k] != sum {
			problems = append(problems, fmt.Sprintf("checkpoint %d/%d@%d: stored %d, log says %d", k.item, k.loc, k.period, sum, sums[k]))
		}
		if allocSums[k] != allocSum {
			problems = append(problems, fmt.Sprintf("checkpoint %d/%d@%d: stored allocated %d, log says %d", k.item, k.loc, k.period, allocSum, allocSums[k]))
		}
		delete(sums, k)
	}
	rows.Close()
	for k, v := range sums {
		problems = append(problems, fmt.Sprintf("checkpoint %d/%d@%d missing, log says %d", k.item, k.loc, k.period, v))
	}
	if len(problems) > 0 {
		return fmt.Errorf("inventory invariant broken:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// checkHolders compares each holder's share of a record with the sum of
// the allocation entries of that record naming it (their reference is the
// holder).
func checkHolders(ctx context.Context, q store.Querier, workspaceID int64, problems *[]string) error {
	type key struct {
		record int64
		holder string
	}
	logged := map[key]int64{}
	rows, err := q.QueryContext(ctx, `SELECT record_id, reference, SUM(allocated_change) FROM inventory_log
		WHERE workspace_id = $1 AND allocated_change <> 0 GROUP BY record_id, reference`, workspaceID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var sum int64
		if err := rows.Scan(&k.record, &k.holder, &sum); err != nil {
			rows.Close()
			return err
		}
		if sum != 0 {
			logged[k] = sum
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT record_id, holder, quantity FROM inventory_allocations WHERE workspace_id = $1`, workspaceID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var held int64
		if err := rows.Scan(&k.record, &k.holder, &held); err != nil {
			return err
		}
		if logged[k] != held {
			*problems = append(*problems, fmt.Sprintf("holder %q of record %d: holds %d, log says %d", k.holder, k.record, held, logged[k]))
		}
		delete(logged, k)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for k, v := range logged {
		*problems = append(*problems, fmt.Sprintf("holder %q of record %d: holds nothing, log says %d", k.holder, k.record, v))
	}
	return nil
}
