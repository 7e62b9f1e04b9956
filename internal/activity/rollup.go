package activity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// Daily rollups (migration 00021): per workspace and UTC day, the number of
// events per (entity type, action, category, actor kind, actor id, actor
// name), so a summary over a large range adds up a few hundred rows per day
// instead of counting every event.
//
// The rule: a UTC day is closed once RollupGrace has passed since its end.
// Events are stamped with the time they are written (Record), so an event of
// a closed day would have to commit more than RollupGrace after it was
// stamped (a transaction or clock skew that long); the grace is wide enough
// that none does. Only closed days are rolled up, by a background job
// (RollupDays), never on the write path: recording an event touches nothing
// here. Each workspace has a watermark, the last day whose rollups are
// complete; Summarize uses rollups only for whole UTC days inside its range
// and up to the watermark, and counts the rest (partial first and last days,
// days after the watermark) from the events.
//
// Retention (a later issue) deletes old events: it must delete the rollups of
// the days it deletes in the same transaction (DELETE FROM
// activity_daily_counts WHERE workspace_id = $1 AND day < $2, the first day
// kept), or summaries would still count them.

// RollupGrace is how long after the end of a UTC day it is closed.
const RollupGrace = 2 * time.Hour

// dayMicros is one UTC day in µs, the unit of occurred_at.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// lastClosedDay is the last UTC day (days since 1970-01-01) closed at now.
func lastClosedDay(now time.Time) int64 {
	return floorDiv(store.Micros(now.Add(-RollupGrace)), dayMicros) - 1
}

// RollupDays rolls up the closed days after each workspace's watermark, at
// most maxDays per workspace (0: no cap) so a first run over a long log is
// spread over several ticks, and returns how many days it rolled up. Each day
// is one transaction that replaces that day's rows and moves the watermark,
// so a run stopped midway (or run twice, by two nodes) leaves complete days.
//
// hours gives each workspace's business hours, by which each row also counts
// its events after hours (nil: none are).
func RollupDays(ctx context.Context, db *store.DB, now time.Time, maxDays int, hours HoursOf) (int, error) {
	closed := lastClosedDay(now)
	rows, err := db.Read().QueryContext(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("rollup workspaces: %w", err)
	}
	var workspaces []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		workspaces = append(workspaces, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	done := 0
	for _, ws := range workspaces {
		from, ok, err := nextRollupDay(ctx, db, ws, closed)
		if err != nil {
			return done, err
		}
		if !ok {
			continue
		}
		var within BusinessHours
		if hours != nil {
			if within, err = hours(ctx, ws); err != nil {
				return done, fmt.Errorf("business hours of workspace %d: %w", ws, err)
			}
		}
		for day := from; day <= closed && (maxDays <= 0 || day < from+int64(maxDays)); day++ {
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			if err := RollupDay(ctx, db, ws, day, within); err != nil {
				return done, err
			}
			done++
		}
	}
	return done, nil
}

// nextRollupDay is the first day after ws's watermark. A workspace without a
// watermark starts at its first event's day; without events it has nothing
// to roll up (ok false).
func nextRollupDay(ctx context.Context, db *store.DB, ws, closed int64) (int64, bool, error) {
	var through int64
	err := db.Read().QueryRowContext(ctx, `SELECT through_day FROM activity_rollup_watermarks WHERE workspace_id = $1`, ws).Scan(&through)
	if err == nil {
		return through + 1, through < closed, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("rollup watermark: %w", err)
	}
	var first sql.NullInt64
	if err := db.Read().QueryRowContext(ctx, `SELECT MIN(occurred_at) FROM activity_events WHERE workspace_id = $1`, ws).Scan(&first); err != nil {
		return 0, false, fmt.Errorf("first event: %w", err)
	}
	if !first.Valid {
		return 0, false, nil
	}
	day := floorDiv(first.Int64, dayMicros)
	return day, day <= closed, nil
}

// RollupDay (re)computes one UTC day of one workspace: it replaces the day's
// rows and, if the day follows the watermark (or the workspace has none yet),
// moves the watermark to it, in one transaction. Running it again gives the same rows. The caller must only
// pass closed days (RollupDays does): the day is counted before the
// transaction, from the read pool, so the write transaction (on SQLite the
// one writer every recorded event waits for) only writes a few hundred rows.
// within decides which events were after hours (nil: none).
func RollupDay(ctx context.Context, db *store.DB, workspaceID, day int64, within BusinessHours) error {
	counts, err := countRange(ctx, db, workspaceID, day*dayMicros, (day+1)*dayMicros, within)
	if err != nil {
		return fmt.Errorf("count day %d of workspace %d: %w", day, workspaceID, err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		// The watermark first: its row lock makes a second node rolling up
		// the same workspace (a leader that lost its lock mid-run) wait
		// for this transaction instead of colliding on the day's rows. It
		// moves only from the day before, so it never claims a day that
		// was skipped.
		if _, err := tx.ExecContext(ctx, `INSERT INTO activity_rollup_watermarks (workspace_id, through_day) VALUES ($1, $2)
			ON CONFLICT (workspace_id) DO UPDATE SET through_day = CASE
				WHEN activity_rollup_watermarks.through_day = excluded.through_day - 1 THEN excluded.through_day
				ELSE activity_rollup_watermarks.through_day END`, workspaceID, day); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM activity_daily_counts WHERE workspace_id = $1 AND day = $2`, workspaceID, day); err != nil {
			return err
		}
		for _, c := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO activity_daily_counts
				(workspace_id, day, entity_type, action, category, actor_kind, actor_id, actor_name, n, after_hours, last_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				workspaceID, day, c.table, c.action, c.category, c.kind, c.id, c.name, c.n, c.afterHours, c.lastAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("roll up day %d of workspace %d: %w", day, workspaceID, err)
	}
	return nil
}

// rollupKey is what a rollup row counts by.
type rollupKey struct {
	table, action, category, kind string
	id                            int64
	name                          string
}

// rollupCount is one rollup row: the events of a key, how many of them were
// after hours, and the time of the last.
type rollupCount struct {
	rollupKey
	n, afterHours, lastAt int64
}

// countRange counts the events of [from, until) (µs) per rollup key, the
// after-hours ones by the spans outside within's business hours (see
// afterHoursSpans), in one pass over the range.
func countRange(ctx context.Context, db *store.DB, workspaceID, from, until int64, within BusinessHours) ([]rollupCount, error) {
	w := store.NewWhere("workspace_id = ?", workspaceID).And("occurred_at >= ?", from).And("occurred_at < ?", until)
	if within != nil {
		// Asking the business hours costs more than finding out that a day
		// holds no events.
		var one int
		err := db.Read().QueryRowContext(ctx, `SELECT 1 FROM activity_events WHERE `+w.String()+` LIMIT 1`, w.Args...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	after := afterHoursCase(w, afterHoursSpans(from, until, within))
	rows, err := db.Read().QueryContext(ctx, `SELECT entity_type, action, category, actor_kind, COALESCE(actor_id, 0), actor_name,
		COUNT(*), CAST(SUM(`+after+`) AS BIGINT), MAX(occurred_at)
		FROM activity_events WHERE `+w.String()+`
		GROUP BY entity_type, action, category, actor_kind, actor_id, actor_name`, w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// A NULL and a 0 actor id are the same party here; merge them.
	merged := map[rollupKey]int{}
	var counts []rollupCount
	for rows.Next() {
		var c rollupCount
		if err := rows.Scan(&c.table, &c.action, &c.category, &c.kind, &c.id, &c.name, &c.n, &c.afterHours, &c.lastAt); err != nil {
			return nil, err
		}
		if i, seen := merged[c.rollupKey]; seen {
			counts[i].n += c.n
			counts[i].afterHours += c.afterHours
			counts[i].lastAt = max(counts[i].lastAt, c.lastAt)
			continue
		}
		merged[c.rollupKey] = len(counts)
		counts = append(counts, c)
	}
	return counts, rows.Err()
}

// rollupWatermark is the last day of ws whose rollups are complete (ok false:
// none yet).
func rollupWatermark(ctx context.Context, db *store.DB, ws int64) (int64, bool, error) {
	var through int64
	err := db.Read().QueryRowContext(ctx, `SELECT through_day FROM activity_rollup_watermarks WHERE workspace_id = $1`, ws).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("rollup watermark: %w", err)
	}
	return through, true, nil
}

// rollupable reports whether the rollups can answer f: they keep no entity
// id and no text.
func (f Filter) rollupable() bool {
	return f.EntityID == "" && len(strings.Fields(f.Text)) == 0
}

// rollupPlan splits f's range into whole UTC days answered by rollups
// [firstDay, lastDay] (fromOpen: no lower bound) and the edges counted from
// the events. ok is false when no whole rolled-up day lies inside the range.
type rollupPlan struct {
	fromOpen          bool
	firstDay, lastDay int64
	edges             []Filter
}

func planRollup(f Filter, through int64) (rollupPlan, bool) {
	p := rollupPlan{fromOpen: f.From.IsZero(), lastDay: through}
	if !p.fromOpen {
		from := store.Micros(f.From)
		p.firstDay = floorDiv(from+dayMicros-1, dayMicros) // the first day starting at or after From
	}
	if !f.Until.IsZero() {
		p.lastDay = min(through, floorDiv(store.Micros(f.Until), dayMicros)-1) // the last day ending at or before Until
	}
	if !p.fromOpen && p.firstDay > p.lastDay {
		return rollupPlan{}, false
	}
	if !p.fromOpen && f.From.Before(store.Time(p.firstDay*dayMicros)) {
		e := f
		e.Until = store.Time(p.firstDay * dayMicros)
		p.edges = append(p.edges, e)
	}
	afterRollups := store.Time((p.lastDay + 1) * dayMicros)
	if f.Until.IsZero() || afterRollups.Before(f.Until) {
		e := f
		e.From = afterRollups
		p.edges = append(p.edges, e)
	}
	return p, true
}

// summarizeRollups adds the rollups of plan's days that match f to acc.
func summarizeRollups(ctx context.Context, db *store.DB, workspaceID int64, f Filter, p rollupPlan, acc *summaryAcc) error {
	w := store.NewWhere("workspace_id = ?", workspaceID).And("day <= ?", p.lastDay)
	if !p.fromOpen {
		w.And("day >= ?", p.firstDay)
	}
	f.andCounted(w)
	// Where the database hashes the groups it adds them up; SQLite would
	// sort every row to group them, so its rows are added up here instead
	// (acc merges them by key).
	q := `SELECT entity_type, action, actor_kind, actor_id, MAX(actor_name), CAST(SUM(n) AS BIGINT)
		FROM activity_daily_counts WHERE ` + w.String() + ` GROUP BY entity_type, action, actor_kind, actor_id`
	if !db.GroupsByHashing() {
		q = `SELECT entity_type, action, actor_kind, actor_id, actor_name, n FROM activity_daily_counts WHERE ` + w.String()
	}
	rows, err := db.Read().QueryContext(ctx, q, w.Args...)
	if err != nil {
		return err
	}
	return acc.addRows(rows)
}
