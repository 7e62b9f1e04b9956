package inventory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
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
}

// LoadSynthetic writes a generated history straight into the tables, many
// rows per statement, for benchmarks and demos: records, stock levels and
// checkpoints are computed in a first pass over the (deterministic) sequence
// and the log is written in a second, so the result satisfies CheckInvariant
// exactly as if every movement had gone through Apply. Only the system actor
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

	// Pass 1: final levels and checkpoints.
	type cpKey struct {
		pair   int
		period int64
	}
	levels := make([]int64, pairs)
	checkpoints := map[cpKey]int64{}
	g := newSynthGen(s, pairs, start)
	for {
		pair, delta, at, ok := g.next()
		if !ok {
			break
		}
		levels[pair] += delta
		checkpoints[cpKey{pair, periodStart(at)}] += delta
	}

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
		recordRows := make([][]any, 0, pairs)
		levelRows := make([][]any, 0, pairs)
		for p := 0; p < pairs; p++ {
			item, loc := itemIDs[p%s.Items], locIDs[p/s.Items]
			recordRows = append(recordRows, []any{ws, item, loc, levels[p], nowUS, nowUS})
			levelRows = append(levelRows, []any{ws, item, loc, levels[p]})
		}
		if err := insertMany(ctx, tx, `INSERT INTO inventory_records (workspace_id, item_id, location_id, quantity, created_at, updated_at) VALUES `, recordRows); err != nil {
			return err
		}
		if err := insertMany(ctx, tx, `INSERT INTO stock_levels (workspace_id, item_id, location_id, quantity) VALUES `, levelRows); err != nil {
			return err
		}
		cpRows := make([][]any, 0, len(checkpoints))
		for k, sum := range checkpoints {
			cpRows = append(cpRows, []any{ws, itemIDs[k.pair%s.Items], locIDs[k.pair/s.Items], k.period, sum})
		}
		if err := insertMany(ctx, tx, `INSERT INTO inventory_checkpoints (workspace_id, item_id, location_id, period_start, change_sum) VALUES `, cpRows); err != nil {
			return err
		}
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

	// Pass 2: replay the same sequence into the log, many rows per
	// statement, many statements per transaction. A transaction is never
	// retried here (plain inserts do not conflict), so advancing the
	// generator inside it is safe.
	const perStatement, perTx = 500, 50_000
	var b strings.Builder
	args := make([]any, 0, perStatement*13)
	rows := 0
	flush := func(tx *store.Tx) error {
		if rows == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO inventory_log (workspace_id, item_id, sku, unit, unit_scale, record_id, location_id,
			location_path, movement, action, change, record_level, location_level, actor_kind, actor_name, recorded_at, effective_at)
			VALUES `+b.String(), args...)
		b.Reset()
		args, rows = args[:0], 0
		return err
	}
	g = newSynthGen(s, pairs, start)
	for done := 0; done < s.Entries; {
		end := min(done+perTx, s.Entries)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for ; done < end; done++ {
				pair, delta, at, _ := g.next()
				if rows > 0 {
					b.WriteString(",")
				}
				n := len(args)
				ph := func(k int) string { return placeholder(tx, n+k) }
				fmt.Fprintf(&b, "(%s,%s,%s,'pcs',0,%s,%s,%s,%s,'system_action',%s,%s,%s,'system',%s,%s,%s)",
					ph(1), ph(2), ph(3), ph(4), ph(5), ph(6), ph(7), ph(8), ph(9), ph(10), ph(11), ph(12), ph(13))
				mv := "receipt"
				if delta < 0 {
					mv = "issue"
				}
				us := store.Micros(at)
				level := g.levels[pair]
				args = append(args, ws, itemIDs[pair%s.Items], fmt.Sprintf("%s-%06d", prefix, pair%s.Items), recIDs[pair], locIDs[pair/s.Items],
					locPaths[pair/s.Items], mv, delta, level, level, who.Name, us, us)
				rows++
				if rows == perStatement {
					if err := flush(tx); err != nil {
						return err
					}
				}
			}
			return flush(tx)
		})
		if err != nil {
			return err
		}
		if s.Progress != nil {
			s.Progress(done)
		}
	}
	if db.Engine() == store.Postgres {
		// Fresh statistics and visibility map, as autovacuum would leave
		// them after a while, so index-only scans apply at once.
		if _, err := db.Exec(ctx, `VACUUM (ANALYZE) inventory_log, inventory_checkpoints, stock_levels`); err != nil {
			return err
		}
	}
	return nil
}

// synthGen yields the deterministic sequence of a Synthetic history:
// receipts, and issues that never take a level below zero.
type synthGen struct {
	rng    *rand.Rand
	levels []int64
	i, n   int
	start  time.Time
	span   time.Duration
}

func newSynthGen(s Synthetic, pairs int, start time.Time) *synthGen {
	return &synthGen{rng: rand.New(rand.NewPCG(s.Seed, 7)), levels: make([]int64, pairs), n: s.Entries, start: start, span: s.Span}
}

func (g *synthGen) next() (pair int, delta int64, at time.Time, ok bool) {
	if g.i >= g.n {
		return 0, 0, time.Time{}, false
	}
	pair = g.rng.IntN(len(g.levels))
	amount := int64(1+g.rng.IntN(100)) * microsPerUnit
	delta = amount
	if g.levels[pair] >= amount && g.rng.IntN(3) == 0 {
		delta = -amount
	}
	g.levels[pair] += delta
	at = g.start.Add(time.Duration(float64(g.span) * float64(g.i) / float64(g.n)))
	g.i++
	return pair, delta, at, true
}

// insertMany inserts rows with as many rows per statement as keep the
// parameter count within both engines' limits.
func insertMany(ctx context.Context, tx *store.Tx, prefix string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, 6000/len(rows[0]))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(")
			for j, v := range row {
				if j > 0 {
					b.WriteString(",")
				}
				args = append(args, v)
				b.WriteString(placeholder(tx, len(args)))
			}
			b.WriteString(")")
		}
		if _, err := tx.ExecContext(ctx, prefix+b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholder is the n-th parameter marker. SQLite gets plain "?": it
// treats "$n" as a named parameter and looks names up in a list, which is
// quadratic in statements with thousands of parameters.
func placeholder(tx *store.Tx, n int) string {
	if tx.Engine() == store.SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}
