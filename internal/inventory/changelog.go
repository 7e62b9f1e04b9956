package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Entry is one line of the inventory change log. It is written once, in the
// transaction of its movement, and never changed: the item's SKU and unit,
// the location's path and the responsible party's name are kept as they
// were then.
type Entry struct {
	ID           int64  `json:"id"`
	ItemID       int64  `json:"item_id"`
	SKU          string `json:"sku"`
	Unit         string `json:"unit"`
	Scale        int    `json:"-"`
	RecordID     int64  `json:"record_id"`
	LocationID   int64  `json:"location_id"`
	LocationPath string `json:"location_path"`
	Lot          string `json:"lot"`
	// Movement is the kind of movement that wrote the entry ("receipt", ...).
	Movement string   `json:"movement"`
	Action   Action   `json:"action"`
	Change   Quantity `json:"change"`
	// RecordLevel and LocationLevel are the record's level and the item's
	// level at the location right after this entry (in commit order).
	RecordLevel   Quantity `json:"record_level"`
	LocationLevel Quantity `json:"location_level"`
	// AllocatedChange is the change to the record's allocated quantity
	// (non-zero only for allocate, release and ship); AllocatedLevel is the
	// record's allocated quantity right after this entry.
	AllocatedChange Quantity  `json:"allocated_change"`
	AllocatedLevel  Quantity  `json:"allocated_level"`
	ActorKind       string    `json:"actor_kind"`
	ActorID         int64     `json:"actor_id,omitempty"`
	ActorName       string    `json:"actor_name"`
	RecordedAt      time.Time `json:"recorded_at"`
	EffectiveAt     time.Time `json:"effective_at"`
	Reason          string    `json:"reason,omitempty"`
	Reference       string    `json:"reference,omitempty"`
	IdempotencyKey  string    `json:"idempotency_key,omitempty"`
	BatchID         string    `json:"batch_id,omitempty"`
}

// ChangeText and the other *Text methods format quantities with the unit's
// decimals, for pages and exports.
func (e Entry) ChangeText() string        { return e.Change.Format(e.Scale) }
func (e Entry) RecordLevelText() string   { return e.RecordLevel.Format(e.Scale) }
func (e Entry) LocationLevelText() string { return e.LocationLevel.Format(e.Scale) }
func (e Entry) AllocatedChangeText() string {
	return e.AllocatedChange.Format(e.Scale)
}
func (e Entry) AllocatedLevelText() string { return e.AllocatedLevel.Format(e.Scale) }

// AllocatedChangeSigned is the allocated change with its sign, "+6" or
// "-2", as a change log shows it.
func (e Entry) AllocatedChangeSigned() string {
	if e.AllocatedChange > 0 {
		return "+" + e.AllocatedChangeText()
	}
	return e.AllocatedChangeText()
}

// ChangesAllocated reports whether the entry is an allocate, release or
// ship: it changes what is allocated (a ship also what is on hand).
func (e Entry) ChangesAllocated() bool { return e.AllocatedChange != 0 }

const entryColumns = `id, item_id, sku, unit, unit_scale, record_id, location_id, location_path, lot, movement, action, change,
	record_level, location_level, actor_kind, COALESCE(actor_id, 0), actor_name, recorded_at, effective_at, reason, reference,
	idempotency_key, batch_id, allocated_change, allocated_level`

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var rec, eff int64
	err := row.Scan(&e.ID, &e.ItemID, &e.SKU, &e.Unit, &e.Scale, &e.RecordID, &e.LocationID, &e.LocationPath, &e.Lot, &e.Movement,
		&e.Action, &e.Change, &e.RecordLevel, &e.LocationLevel, &e.ActorKind, &e.ActorID, &e.ActorName, &rec, &eff, &e.Reason,
		&e.Reference, &e.IdempotencyKey, &e.BatchID, &e.AllocatedChange, &e.AllocatedLevel)
	e.RecordedAt, e.EffectiveAt = store.Time(rec), store.Time(eff)
	return e, err
}

// LogFilter selects change-log entries. Zero fields do not filter.
type LogFilter struct {
	ItemID     int64
	SKU        string
	LocationID int64
	RecordID   int64
	Action     Action
	// ActorKind is user, station, api_key or system; ActorID narrows it to one.
	ActorKind string
	ActorID   int64
	// BatchID narrows the log to the entries of one batch or file import
	// (the request id of its activity event).
	BatchID string
	// Reference narrows the log to the entries carrying exactly this
	// reference, such as an order number (every entry an order causes
	// carries it).
	Reference string
	// From and To bound the recorded time (From inclusive, To exclusive).
	From, To time.Time
	// Before is the keyset cursor: only entries with a smaller id.
	Before int64
	Limit  int
}

// MaxPage is the largest page of the change log.
const MaxPage = 500

// MaxBatchIDLength bounds a batch id filter (batch ids are request ids).
const MaxBatchIDLength = 64

// MaxReferenceLength bounds a reference, as a movement's and as a filter.
const MaxReferenceLength = 200

// Cursor encodes the position after the last entry of a page.
func Cursor(lastID int64) string { return "e" + strconv.FormatInt(lastID, 36) }

// ParseCursor reads a cursor from Cursor.
func ParseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "e"), 36, 64)
	if !strings.HasPrefix(s, "e") || err != nil || id <= 0 {
		return 0, fault.Field("cursor", "not a cursor from next_cursor")
	}
	return id, nil
}

// LogPage is one page of the change log, newest first.
type LogPage struct {
	Entries    []Entry `json:"data"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// ListLog returns one page of the workspace's change log, newest first.
// Pages are cut by id (keyset), so the thousandth page costs what the first
// does; every filter has an index ending in id.
func ListLog(ctx context.Context, db *store.DB, f LogFilter) (LogPage, error) {
	a, err := actor.RequireAny(ctx, actor.ViewInventory, actor.UseStation)
	if err != nil {
		return LogPage{}, err
	}
	if !a.Can(actor.ViewInventory) {
		// A station's screen shows what it recorded itself, nothing more.
		f.ActorKind, f.ActorID = string(actor.Station), a.ID
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxPage {
		f.Limit = MaxPage
	}
	var page LogPage
	err = scanLog(ctx, db.Read(), a.WorkspaceID, f, f.Limit+1, func(e Entry) error {
		page.Entries = append(page.Entries, e)
		return nil
	})
	if err != nil {
		return LogPage{}, err
	}
	if len(page.Entries) > f.Limit {
		page.Entries = page.Entries[:f.Limit]
		page.NextCursor = Cursor(page.Entries[f.Limit-1].ID)
	}
	return page, nil
}

// validateFilter checks the filter's values and names the bad ones.
func (f *LogFilter) validate() error {
	fields := fault.Fields{}
	if f.Action != "" && !f.Action.Valid() {
		fields.Add("action", "unknown action type")
	}
	switch f.ActorKind {
	case "", "user", "station", "api_key", "system":
	default:
		fields.Add("actor_kind", "must be user, station, api_key or system")
	}
	if f.ActorID != 0 && f.ActorKind == "" {
		fields.Add("actor_kind", "give the kind of party with actor_id")
	}
	if len(f.BatchID) > MaxBatchIDLength {
		fields.Add("batch_id", fmt.Sprintf("at most %d characters", MaxBatchIDLength))
	}
	if len(f.Reference) > MaxReferenceLength {
		fields.Add("reference", fmt.Sprintf("at most %d characters", MaxReferenceLength))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields.Add("to", "must be after from")
	}
	return fields.Err()
}

// resolveSKU turns a SKU filter into an item filter.
func (f *LogFilter) resolveSKU(ctx context.Context, q store.Querier, workspaceID int64) error {
	if f.SKU == "" || f.ItemID != 0 {
		return nil
	}
	it, err := itemBySKU(ctx, q, workspaceID, f.SKU)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return fault.Field("sku", fmt.Sprintf("there is no item with SKU %s", f.SKU))
		}
		return err
	}
	f.ItemID = it.ID
	return nil
}

// MaxEntryDelay bounds the time between a movement's recorded time and the
// insert of its log entries (entry refuses to write later; see
// maxWriteDelay, kept well below it to leave room for clock skew between
// nodes). Because ids are handed out in insert order, it turns recorded-time
// bounds into exact id bounds found with one index probe each:
//   - every entry recorded at or after T has a larger id than any entry
//     recorded before T−MaxEntryDelay (inserted before T);
//   - every entry recorded before T has a smaller id than any entry recorded
//     at or after T+MaxEntryDelay.
const MaxEntryDelay = time.Hour

// maxWriteDelay is how long a movement may take from its recorded time to
// writing its entries before it is refused.
const maxWriteDelay = 10 * time.Minute

// idBefore returns the id of the entry recorded last before t (0 if none).
func idBefore(ctx context.Context, q store.Querier, workspaceID int64, t time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM inventory_log WHERE workspace_id = $1 AND recorded_at < $2
		ORDER BY recorded_at DESC, id DESC LIMIT 1`, workspaceID, store.Micros(t)).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// idFrom returns the id of the entry recorded first at or after t (0 if none).
func idFrom(ctx context.Context, q store.Querier, workspaceID int64, t time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM inventory_log WHERE workspace_id = $1 AND recorded_at >= $2
		ORDER BY recorded_at, id LIMIT 1`, workspaceID, store.Micros(t)).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// scanLog streams the entries matching f, newest first, at most limit
// (0 = all) of them, to fn. Date ranges become id ranges first (see
// MaxEntryDelay), so the id-ordered filter indexes serve the query.
func scanLog(ctx context.Context, q store.Querier, workspaceID int64, f LogFilter, limit int, fn func(Entry) error) error {
	query, args, err := logQuery(ctx, q, workspaceID, f, entryColumns, limit, false)
	if err != nil {
		return err
	}
	return streamEntries(ctx, q, fn, query, args...)
}

// streamEntries hands each entry query returns to fn.
func streamEntries(ctx context.Context, q store.Querier, fn func(Entry) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// logQuery builds the query selecting columns of the entries matching f,
// newest first, at most limit (0 = all) of them.
//
// byID makes SQLite read the table itself in id (rowid) order between the
// workspace's first and last entry, instead of walking the workspace index
// and looking every row up in the table: a quarter less CPU for a whole
// log. Only for reading a workspace's whole log (no filter but time and
// cursor): the rows of other workspaces inside that id range are read and
// skipped, which is nothing where one workspace holds most of the entries.
func logQuery(ctx context.Context, q store.Querier, workspaceID int64, f LogFilter, columns string, limit int, byID bool) (string, []any, error) {
	if err := f.validate(); err != nil {
		return "", nil, err
	}
	var w *store.Where
	if byID {
		// The unary plus keeps SQLite off the workspace index.
		w = store.NewWhere("+workspace_id = ?", workspaceID)
		var lo, hi int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM inventory_log WHERE workspace_id = $1 ORDER BY id LIMIT 1), 0),
			COALESCE((SELECT id FROM inventory_log WHERE workspace_id = $1 ORDER BY id DESC LIMIT 1), 0)`, workspaceID).Scan(&lo, &hi); err != nil {
			return "", nil, err
		}
		w.And("id >= ?", lo).And("id <= ?", hi)
	} else {
		w = store.NewWhere("workspace_id = ?", workspaceID)
	}
	if err := f.resolveSKU(ctx, q, workspaceID); err != nil {
		return "", nil, err
	}
	if f.ItemID != 0 {
		w.And("item_id = ?", f.ItemID)
	}
	if f.LocationID != 0 {
		w.And("location_id = ?", f.LocationID)
	}
	if f.RecordID != 0 {
		w.And("record_id = ?", f.RecordID)
	}
	if f.Action != "" {
		w.And("action = ?", string(f.Action))
	}
	if f.ActorKind != "" {
		w.And("actor_kind = ?", f.ActorKind)
		if f.ActorID != 0 {
			w.And("actor_id = ?", f.ActorID)
		}
	}
	if f.BatchID != "" {
		// Spelled out so that both engines see the partial index applies.
		w.And("batch_id <> ''")
		w.And("batch_id = ?", f.BatchID)
	}
	if f.Reference != "" {
		// Spelled out for the partial index, as for batch_id (00016).
		w.And("reference <> ''")
		w.And("reference = ?", f.Reference)
	}
	if !f.From.IsZero() {
		lo, err := idBefore(ctx, q, workspaceID, f.From.Add(-MaxEntryDelay))
		if err != nil {
			return "", nil, err
		}
		w.And("id > ?", lo)
		w.And("recorded_at >= ?", store.Micros(f.From))
	}
	if !f.To.IsZero() {
		hi, err := idFrom(ctx, q, workspaceID, f.To.Add(MaxEntryDelay))
		if err != nil {
			return "", nil, err
		}
		if hi > 0 {
			w.And("id < ?", hi)
		}
		w.And("recorded_at < ?", store.Micros(f.To))
	}
	if f.Before != 0 {
		w.And("id < ?", f.Before)
	}
	f.pinIndex(w)
	query := `SELECT ` + columns + ` FROM inventory_log WHERE ` + w.String() + ` ORDER BY id DESC`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	return query, w.Args, nil
}

// pinIndex keeps PostgreSQL on the filter's own index when the filter is
// only an action or the kind of party (with or without its id). Such a
// value can match most of the log, and then PostgreSQL walks the primary
// key backwards and skips the rows that do not match, betting they are
// spread evenly: at 10M entries whose newest 400,000 did not match, a page
// took 100 ms instead of 1. A row comparison on the index's columns is a
// range only that index can seek to, and the planner's estimate for it
// makes the primary key a bad bet; the narrower filters (item, location,
// record, batch, reference) keep their own index, as their range is
// small. SQLite picks the filter's index with or without it.
func (f *LogFilter) pinIndex(w *store.Where) {
	if f.ItemID != 0 || f.LocationID != 0 || f.RecordID != 0 || f.BatchID != "" || f.Reference != "" {
		return
	}
	before := f.Before
	if before == 0 {
		// Without the plain bound too, SQLite takes the row comparison
		// for a range on its first column and sorts what it finds.
		before = math.MaxInt64
		w.And("id < ?", before)
	}
	switch {
	case f.ActorKind != "" && f.ActorID != 0:
		w.And("(actor_kind, actor_id, id) < (?, ?, ?)", f.ActorKind, f.ActorID, before)
	case f.ActorKind != "" && f.Action == "":
		w.And("(actor_kind, id) < (?, ?)", f.ActorKind, before)
	case f.Action != "":
		w.And("(action, id) < (?, ?)", string(f.Action), before)
	}
}

// ItemHistory returns the newest entries about one item.
func ItemHistory(ctx context.Context, db *store.DB, itemID int64, before int64, limit int) (LogPage, error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return LogPage{}, err
	}
	if _, err := getItem(ctx, db.Read(), a.WorkspaceID, itemID); err != nil {
		return LogPage{}, err
	}
	return ListLog(ctx, db, LogFilter{ItemID: itemID, Before: before, Limit: limit})
}

// Backdated reports whether the entry was recorded at another time than it
// took effect (a movement entered late).
func (e Entry) Backdated() bool { return !e.EffectiveAt.Equal(e.RecordedAt) }

// EntriesByID returns the actor's workspace's change-log entries with the
// given ids, in the order of ids; ids that name no entry there are skipped.
// For consumers of the sealed sequence (alerts, notifications, live feeds).
func EntriesByID(ctx context.Context, r store.Reader, ids []int64) ([]Entry, error) {
	who, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	w := store.NewWhere("workspace_id = ?", who.WorkspaceID).And(store.In(r, "id", ids))
	rows, err := r.Read().QueryContext(ctx, `SELECT `+entryColumns+` FROM inventory_log WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("change-log entries by id: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]Entry, len(ids))
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		byID[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(byID))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}
