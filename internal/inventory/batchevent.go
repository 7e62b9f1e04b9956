package inventory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
)

// batchEvent gathers the movements of a multi-movement request (a batch, a
// bulk update) into the one activity event that request records. A batch is
// one user action: its movements, each with its levels, are in the change
// log under the batch id; an activity event per movement would repeat them
// and cost more to write than the movements themselves.
type batchEvent struct {
	movements int
	kinds     map[string]int
	records   []int64
	seen      map[int64]bool
}

// batchEventRecords caps how many record ids the event lists; the change log
// has them all.
const batchEventRecords = 100

func newBatchEvent() *batchEvent {
	return &batchEvent{kinds: map[string]int{}, seen: map[int64]bool{}}
}

func (b *batchEvent) add(kind string, recordID int64) {
	b.movements++
	b.kinds[kind]++
	if recordID != 0 && !b.seen[recordID] {
		b.seen[recordID] = true
		if len(b.records) < batchEventRecords {
			b.records = append(b.records, recordID)
		}
	}
}

// note queues the event in c's transaction; what names the request ("batch",
// "bulk update").
func (b *batchEvent) note(c *change, what string) error {
	if b.movements == 0 {
		return nil
	}
	kinds := make([]string, 0, len(b.kinds))
	for k := range b.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d× %s", b.kinds[k], k)
	}
	return activity.Note(c.ctx, c.tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
		EntityType: "inventory_batch", EntityID: c.batchID,
		New:         map[string]any{"movements": b.movements, "kinds": b.kinds, "records": b.records, "records_total": len(b.seen)},
		Description: fmt.Sprintf("%s of %d movements on %s: %s", what, b.movements, countOf(len(b.seen), "record"), strings.Join(parts, ", "))})
}

func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
