// Package benchdata writes generated inventory histories straight into the
// tables, for benchmarks and demos: millions of log entries in minutes,
// consistent with what the inventory package would have written.
package benchdata

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Synthetic describes a generated history for benchmarks: Items × Locations
// item-locations (one record each) and Entries receipts and issues spread
// evenly over Span up to now.
type Synthetic struct {
	Items, Locations, Entries int
	Span                      time.Duration
	Seed                      uint64
	// Progress, if set, is told how many entries have been written.
	Progress func(done int)
	// Log, if set, is told about each phase of the load as it ends.
	Log func(msg string)
	// RebuildIndexes drops the log's secondary indexes for the load and
	// creates them again at its end, in the same transaction: several times
	// faster for millions of entries, but the log table is locked (and on
	// SQLite the write-ahead log grows to the size of the load) meanwhile,
	// and the rebuild also covers entries that were there before.
	RebuildIndexes bool
	// Allocations mixes allocations into the history: about one entry in
	// eight allocates available stock to a new holder (SO-000001, …), one
	// in eight releases and one in eight ships the oldest open allocation of
	// the item-location, and issues take only what is available. Without
	// it the history is receipts and issues alone, as before.
	Allocations bool
}

// LoadSynthetic writes a generated history straight into the tables, many
// rows per statement, for benchmarks and demos: records, stock levels and
// checkpoints are computed in a first pass over the (deterministic) sequence
// and the log is written in a second, so the result satisfies inventory.CheckInvariant
// exactly as if every movement had gone through inventory.Apply. Only the system actor
// may run it; its entries name it.
func LoadSynthetic(ctx context.Context, db *store.DB, s Synthetic) error {
	who, ok := actor.From(ctx)
	if !ok || who.Kind != actor.System {
		return fault.New(fault.Forbidden, "only the command line may load synthetic data")
	}
	if s.Items <= 0 || s.Locations <= 0 || s.Entries < 0 {
		return fault.Field("items", "items and locations must be positive")
	}
	if s.Span <= 0 {
		s.Span = 365 * 24 * time.Hour
	}
	pairs := s.Items * s.Locations
	now := time.Now().UTC()
	start := now.Add(-s.Span)
	ws := who.WorkspaceID

	if db.Engine() == store.SQLite {
		restore, err := sqliteBulkMode(ctx, db)
		if err != nil {
			return err
		}
		defer restore()
	}
	phase := time.Now()
	logPhase := func(what string) {
		if s.Log != nil {
			s.Log(fmt.Sprintf("%s in %v", what, time.Since(phase).Round(time.Millisecond)))
		}
		phase = time.Now()
	}
	// Pass 1: final levels, holders and checkpoints.
	type cpKey struct {
		pair   int
		period int64
	}
	type cpSums struct{ change, allocated int64 }
	checkpoints := map[cpKey]cpSums{}
	g := newSynthGen(s, pairs, start)
	for {
		ev, ok := g.next()
		if !ok {
			break
		}
		if ev.delta == 0 && ev.allocDelta == 0 {
			continue
		}
		k := cpKey{ev.pair, inventory.CheckpointPeriod(ev.at)}
		sums := checkpoints[k]
		sums.change, sums.allocated = sums.change+ev.delta, sums.allocated+ev.allocDelta
		checkpoints[k] = sums
	}
	levels, allocated, open := g.levels, g.allocated, g.open

	logPhase(fmt.Sprintf("computed levels and %d checkpoints", len(checkpoints)))
	// Catalogue, records, levels and checkpoints.
	itemIDs := make([]int64, s.Items)
	locIDs := make([]int64, s.Locations)
	locPaths := make([]string, s.Locations)
	recIDs := make([]int64, pairs)
	prefix := fmt.Sprintf("SYN%d", now.UnixMilli()%1_000_000)
	nowUS := store.Micros(now)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range itemIDs {
			if err := tx.QueryRowContext(ctx, `INSERT INTO items (workspace_id, sku, name, kind, unit, unit_scale, created_at, updated_at)
				VALUES ($1, $2, $3, 'part', 'pcs', 0, $4, $4) RETURNING id`, ws, fmt.Sprintf("%s-%06d", prefix, i), fmt.Sprintf("Synthetic item %d", i),
				nowUS).Scan(&itemIDs[i]); err != nil {
				return err
			}
		}
		for i := range locIDs {
			locPaths[i] = fmt.Sprintf("%s-L%05d", prefix, i)
			if err := tx.QueryRowContext(ctx, `INSERT INTO locations (workspace_id, kind, code, name, path, created_at, updated_at)
				VALUES ($1, 'bin', $2, $2, $2, $3, $3) RETURNING id`, ws, locPaths[i], nowUS).Scan(&locIDs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	recordRows := make([][]any, 0, pairs)
	levelRows := make([][]any, 0, pairs)
	for p := 0; p < pairs; p++ {
		item, loc := itemIDs[p%s.Items], locIDs[p/s.Items]
		recordRows = append(recordRows, []any{ws, item, loc, levels[p], allocated[p], nowUS, nowUS})
		levelRows = append(levelRows, []any{ws, item, loc, levels[p], allocated[p]})
	}
	// Checkpoints in the order movements create them (month by month), not
	// in map order: on PostgreSQL the heap order decides how many pages a
	// month's updates touch.
	cpKeys := make([]cpKey, 0, len(checkpoints))
	for k := range checkpoints {
		cpKeys = append(cpKeys, k)
	}
	slices.SortFunc(cpKeys, func(a, b cpKey) int { return cmp.Or(cmp.Compare(a.period, b.period), cmp.Compare(a.pair, b.pair)) })
	cpRows := make([][]any, 0, len(checkpoints))
	for _, k := range cpKeys {
		cpRows = append(cpRows, []any{ws, itemIDs[k.pair%s.Items], locIDs[k.pair/s.Items], k.period, checkpoints[k].change, checkpoints[k].allocated})
	}
	tables := []bulkTable{
		{"inventory_records", []string{"workspace_id", "item_id", "location_id", "quantity", "allocated", "created_at", "updated_at"}, recordRows},
		{"stock_levels", []string{"workspace_id", "item_id", "location_id", "quantity", "allocated"}, levelRows},
		{"inventory_checkpoints", []string{"workspace_id", "item_id", "location_id", "period_start", "change_sum", "allocated_sum"}, cpRows},
	}
	if err := bulkInsert(ctx, db, tables); err != nil {
		return err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		// Map the new records back to their item-location pairs.
		itemIndex := make(map[int64]int, len(itemIDs))
		for i, id := range itemIDs {
			itemIndex[id] = i
		}
		locIndex := make(map[int64]int, len(locIDs))
		for i, id := range locIDs {
			locIndex[id] = i
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, item_id, location_id FROM inventory_records WHERE workspace_id = $1 AND item_id >= $2 AND item_id <= $3`,
			ws, itemIDs[0], itemIDs[len(itemIDs)-1])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, item, loc int64
			if err := rows.Scan(&id, &item, &loc); err != nil {
				return err
			}
			i, okI := itemIndex[item]
			l, okL := locIndex[loc]
			if okI && okL {
				recIDs[l*s.Items+i] = id
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	var holderRows [][]any
	for p, holds := range open {
		for _, h := range holds {
			holderRows = append(holderRows, []any{ws, recIDs[p], h.holder, h.quantity})
		}
	}
	if len(holderRows) > 0 {
		if err := bulkInsert(ctx, db, []bulkTable{{"inventory_allocations", []string{"workspace_id", "record_id", "holder", "quantity"}, holderRows}}); err != nil {
			return err
		}
	}

	logPhase("wrote catalogue, records, levels, checkpoints")
	// Pass 2: replay the same sequence into the log: COPY on PostgreSQL,
	// multi-row INSERTs on SQLite, a million rows per transaction. A
	// transaction is never retried here (plain inserts do not conflict),
	// so advancing the generator inside one is safe.
	skus := make([]string, s.Items)
	for i := range skus {
		skus[i] = fmt.Sprintf("%s-%06d", prefix, i)
	}
	g = newSynthGen(s, pairs, start)
	next := func(row []any) {
		ev, _ := g.next()
		pair := ev.pair
		us := store.Micros(ev.at)
		level := g.levels[pair] // one record per item-location: record level = location level
		row[0], row[1], row[2], row[3], row[4] = ws, itemIDs[pair%s.Items], skus[pair%s.Items], recIDs[pair], locIDs[pair/s.Items]
		row[5], row[6], row[7], row[8], row[9] = locPaths[pair/s.Items], ev.movement, ev.delta, level, level
		row[10], row[11], row[12] = who.Name, us, us
		row[17], row[18], row[19] = ev.allocDelta, g.allocated[pair], ev.holder
	}
	if err := loadSyntheticLog(ctx, db, s, next, logPhase); err != nil {
		return err
	}
	logPhase("committed the log")
	if err := db.RefreshStatistics(ctx, "inventory_log", "inventory_checkpoints", "stock_levels", "inventory_records"); err != nil {
		return err
	}
	logPhase("finished")
	return nil
}

// synthGen yields the deterministic sequence of a Synthetic history:
// receipts, and issues that never take a level below what is allocated;
// with allocations, also allocations of available stock and releases and
// shipments of open ones.
type synthGen struct {
	rng         *rand.Rand
	levels      []int64
	i, n        int
	start       time.Time
	span        time.Duration
	allocations bool
	allocated   []int64
	// open are each item-location's open allocations, oldest first.
	open    [][]synthHold
	holders int
}

// synthHold is one holder's allocation of an item-location's record.
type synthHold struct {
	holder   string
	quantity int64
}

// synthEvent is one entry of the history.
type synthEvent struct {
	pair              int
	delta, allocDelta int64
	at                time.Time
	movement, holder  string
}

func newSynthGen(s Synthetic, pairs int, start time.Time) *synthGen {
	return &synthGen{rng: rand.New(rand.NewPCG(s.Seed, 7)), levels: make([]int64, pairs), n: s.Entries, start: start, span: s.Span,
		allocations: s.Allocations, allocated: make([]int64, pairs), open: make([][]synthHold, pairs)}
}

func (g *synthGen) next() (synthEvent, bool) {
	if g.i >= g.n {
		return synthEvent{}, false
	}
	pair := g.rng.IntN(len(g.levels))
	amount := int64(1+g.rng.IntN(100)) * oneUnit
	ev := synthEvent{pair: pair, delta: amount, movement: "receipt",
		at: g.start.Add(time.Duration(float64(g.span) * float64(g.i) / float64(g.n)))}
	g.i++
	available := g.levels[pair] - g.allocated[pair]
	kind := 3 // receipt or issue
	if g.allocations {
		kind = g.rng.IntN(8)
	}
	switch {
	case kind == 0 && available >= amount:
		g.holders++
		ev.delta, ev.allocDelta, ev.movement, ev.holder = 0, amount, "allocate", fmt.Sprintf("SO-%06d", g.holders)
		g.open[pair] = append(g.open[pair], synthHold{ev.holder, amount})
	case (kind == 1 || kind == 2) && len(g.open[pair]) > 0:
		h := g.open[pair][0]
		g.open[pair] = g.open[pair][1:]
		ev.delta, ev.allocDelta, ev.movement, ev.holder = 0, -h.quantity, "release", h.holder
		if kind == 2 {
			ev.delta, ev.movement = -h.quantity, "ship"
		}
	case available >= amount && g.rng.IntN(3) == 0:
		ev.delta, ev.movement = -amount, "issue"
	}
	g.levels[pair] += ev.delta
	g.allocated[pair] += ev.allocDelta
	return ev, true
}

// logColumns are the columns loadSyntheticLog fills, in the order of its
// rows.
var logColumns = []string{"workspace_id", "item_id", "sku", "record_id", "location_id", "location_path", "movement",
	"change", "record_level", "location_level", "actor_name", "recorded_at", "effective_at",
	"unit", "unit_scale", "action", "actor_kind", "allocated_change", "allocated_level", "reference"}

// loadSyntheticLog writes s.Entries log rows, each filled by next (the
// first thirteen columns and the last three), in one bulk load. With s.RebuildIndexes it
// drops the log's secondary indexes first and creates them again from
// their own definitions at the end, in the same transaction, so they exist
// whatever happens.
func loadSyntheticLog(ctx context.Context, db *store.DB, s Synthetic, next func(row []any), logPhase func(string)) error {
	const chunk = 1_000_000 // rows between progress reports
	return db.BulkLoad(ctx, func(b *store.Bulk) error {
		q := func(query string) error { _, err := b.ExecContext(ctx, query); return err }
		var rebuild []string
		if s.RebuildIndexes {
			var err error
			if rebuild, err = dropLogIndexes(ctx, b, q); err != nil {
				return err
			}
			logPhase(fmt.Sprintf("dropped %d log indexes", len(rebuild)))
		}
		fill := func(row []any) error {
			next(row)
			row[13], row[14], row[15], row[16] = "pcs", int32(0), string(inventory.SystemAction), "system"
			return nil
		}
		for done := 0; done < s.Entries; {
			n := min(chunk, s.Entries-done)
			if err := b.Copy(ctx, "inventory_log", logColumns, n, fill); err != nil {
				return err
			}
			done += n
			if s.Progress != nil {
				s.Progress(done)
			}
		}
		if len(rebuild) > 0 {
			logPhase("wrote the log")
			if b.Engine() == store.Postgres {
				if err := q(`SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
					return err
				}
			}
		}
		return createAgain(rebuild, q, logPhase)
	})
}

// createAgain runs the CREATE INDEX statements of the log indexes a load
// dropped.
func createAgain(indexes []string, q func(string) error, logPhase func(string)) error {
	for _, ddl := range indexes {
		if err := q(ddl); err != nil {
			return fmt.Errorf("%s: %w", ddl, err)
		}
	}
	if len(indexes) > 0 {
		logPhase(fmt.Sprintf("created the %d log indexes again", len(indexes)))
	}
	return nil
}

// logIndexes lists inventory_log's secondary indexes (not its primary key)
// with the statements that create them.
var logIndexes = map[store.Engine]string{
	store.SQLite: `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inventory_log' AND sql IS NOT NULL ORDER BY name`,
	store.Postgres: `SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = 'inventory_log'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			ORDER BY c.relname`,
}

// dropLogIndexes drops inventory_log's secondary indexes and returns the
// statements that create them again.
func dropLogIndexes(ctx context.Context, b *store.Bulk, exec func(string) error) ([]string, error) {
	var names, defs []string
	rows, err := b.QueryContext(ctx, logIndexes[b.Engine()])
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := exec(`DROP INDEX ` + name); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// sqliteBulkMode gives SQLite's one writer connection a 1 GiB page cache
// and in-memory statement journals for the load: with the default 2 MB
// cache, inserting into the log's thirteen indexes spends most of its time
// re-reading pages and spilling dirty ones into the WAL mid-transaction.
// The returned function puts the old settings back.
func sqliteBulkMode(ctx context.Context, db *store.DB) (func(), error) {
	var cache, temp int64
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp)
	})
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(ctx, `PRAGMA cache_size = -1048576`); err != nil {
		return nil, err
	}
	if _, err := db.Exec(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
		return nil, err
	}
	return func() {
		bg := context.WithoutCancel(ctx)
		db.Exec(bg, fmt.Sprintf(`PRAGMA cache_size = %d`, cache))
		db.Exec(bg, fmt.Sprintf(`PRAGMA temp_store = %d`, temp))
	}, nil
}

// bulkTable is rows for the named table's columns.
type bulkTable struct {
	name    string
	columns []string
	rows    [][]any
}

// bulkInsert writes the tables in one bulk load.
func bulkInsert(ctx context.Context, db *store.DB, tables []bulkTable) error {
	return db.BulkLoad(ctx, func(b *store.Bulk) error {
		for _, t := range tables {
			i := 0
			err := b.Copy(ctx, t.name, t.columns, len(t.rows), func(row []any) error {
				copy(row, t.rows[i])
				i++
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// oneUnit is the stored value of a quantity of one (whatever the unit's
// scale, quantities are stored with inventory.QuantityScale decimals).
var oneUnit = func() int64 {
	q, err := inventory.ParseQuantity("1", 0)
	if err != nil {
		panic(err)
	}
	return int64(q)
}()
