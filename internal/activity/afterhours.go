package activity

import (
	"context"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
)

// BusinessHours tells whether an instant falls within a workspace's
// business hours and days, in its time zone (workspace.Settings is one; the
// workspace area sits above this one, so it is passed in).
type BusinessHours interface {
	WithinBusinessHours(time.Time) bool
}

// HoursOf returns a workspace's business hours, for jobs that run over
// every workspace.
type HoursOf func(ctx context.Context, workspaceID int64) (BusinessHours, error)

// minuteMicros is one minute in µs.
const minuteMicros = int64(time.Minute / time.Microsecond)

// span is a range of instants [from, until), µs UTC.
type span struct{ from, until int64 }

// afterHoursSpans returns the parts of [from, until) outside within's
// business hours. Business hours are given to the minute and every time
// zone's offset is whole minutes, so the answer is constant within each UTC
// minute: it is asked once per minute (1,440 times a day, ~25 ms with a time
// zone loaded per call) and equal neighbours are joined. nil within: no
// after hours at all.
func afterHoursSpans(from, until int64, within BusinessHours) []span {
	if within == nil || from >= until {
		return nil
	}
	var out []span
	for m := floorDiv(from, minuteMicros) * minuteMicros; m < until; m += minuteMicros {
		if within.WithinBusinessHours(store.Time(m)) {
			continue
		}
		lo, hi := max(m, from), min(m+minuteMicros, until)
		if n := len(out); n > 0 && out[n-1].until == lo {
			out[n-1].until = hi
			continue
		}
		out = append(out, span{lo, hi})
	}
	return out
}

// afterHoursCase is an SQL expression, 1 for an event in one of spans and 0
// otherwise, its bounds added to w's arguments.
func afterHoursCase(w *store.Where, spans []span) string {
	if len(spans) == 0 {
		return "0"
	}
	conds := make([]string, len(spans))
	for i, s := range spans {
		conds[i] = "(occurred_at >= " + w.Add(s.from) + " AND occurred_at < " + w.Add(s.until) + ")"
	}
	return "CASE WHEN " + strings.Join(conds, " OR ") + " THEN 1 ELSE 0 END"
}
