package activity

import (
	"context"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// DayCount is how many events one UTC day holds.
type DayCount struct {
	Day   time.Time `json:"day"`
	Count int64     `json:"count"`
}

// DailyVolume returns the number of events on each of the days UTC days up
// to the one holding now, oldest first, zero days included. Days up to the
// rollup watermark are read from activity_daily_counts (a few rows a day),
// later ones counted from the events, as Summarize does.
func DailyVolume(ctx context.Context, db *store.DB, days int, now time.Time) ([]DayCount, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return nil, err
	}
	if days <= 0 || days > 366 {
		days = 30
	}
	last := floorDiv(store.Micros(now), dayMicros)
	first := last - int64(days) + 1
	counts := make(map[int64]int64, days)
	through, ok, err := rollupWatermark(ctx, db, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	countFrom := first
	if ok && through >= first {
		rows, err := db.Read().QueryContext(ctx, `SELECT day, CAST(SUM(n) AS BIGINT) FROM activity_daily_counts
			WHERE workspace_id = $1 AND day >= $2 AND day <= $3 GROUP BY day`, a.WorkspaceID, first, min(through, last))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d, n int64
			if err := rows.Scan(&d, &n); err != nil {
				rows.Close()
				return nil, err
			}
			counts[d] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		countFrom = through + 1
	}
	if countFrom <= last {
		// 86400000000 is dayMicros: a constant, so both engines group by
		// the same expression they select.
		rows, err := db.Read().QueryContext(ctx, `SELECT occurred_at / 86400000000 AS d, COUNT(*) FROM activity_events
			WHERE workspace_id = $1 AND occurred_at >= $2 GROUP BY occurred_at / 86400000000`, a.WorkspaceID, countFrom*dayMicros)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var d, n int64
			if err := rows.Scan(&d, &n); err != nil {
				return nil, err
			}
			if d <= last {
				counts[d] += n
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]DayCount, 0, days)
	for d := first; d <= last; d++ {
		out = append(out, DayCount{Day: store.Time(d * dayMicros), Count: counts[d]})
	}
	return out, nil
}
