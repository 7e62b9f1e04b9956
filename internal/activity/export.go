package activity

import (
	"context"
	"fmt"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// exportBatch is how many events an export reads per query: memory stays at
// one batch however long the export, and no read snapshot is held open for
// the whole download.
const exportBatch = 500

// ExportEvents streams every event matching f (its paging ignored), newest first,
// to fn, stopping after maxRows (0: no cap) or at fn's first error, and then
// records an EXPORT event with the format and the number of rows written,
// also when the export stopped early. It returns the number of rows written.
func ExportEvents(ctx context.Context, db *store.DB, f Filter, format string, maxRows int, fn func(Event) error) (int, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return 0, err
	}
	page := f
	page.Skip, page.After, page.Limit = 0, nil, exportBatch
	n := 0
	var streamErr error
	for streamErr == nil {
		res, err := query(ctx, db, a.WorkspaceID, page)
		if err != nil {
			streamErr = err
			break
		}
		for _, ev := range res.Events {
			if maxRows > 0 && n >= maxRows {
				break
			}
			if streamErr = fn(ev); streamErr != nil {
				break
			}
			n++
		}
		if res.Next == nil || (maxRows > 0 && n >= maxRows) {
			break
		}
		page.After = res.Next
	}
	vals := f.values()
	vals["format"], vals["rows"], vals["complete"] = format, n, streamErr == nil
	desc := fmt.Sprintf("exported %d activity events as %s", n, format)
	// The record of the export must survive a client that hung up midway.
	recordErr := RecordNow(context.WithoutCancel(ctx), db, Event{Action: Export, Category: Audit, EntityType: "activity_events",
		New: vals, Description: desc})
	if streamErr != nil {
		return n, streamErr
	}
	return n, recordErr
}
