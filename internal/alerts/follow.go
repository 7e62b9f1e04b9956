package alerts

import (
	"context"
	"fmt"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Consumer is the alerts' name as a follower of the sealed sequence.
const Consumer = "alerts"

// followBatch bounds the entries evaluated in one transaction.
const followBatch = 500

// Follow evaluates the entries sealed since the last call (ledger.Follow):
// what it writes commits with the consumer's cursor, so each entry is
// evaluated exactly once across restarts. Run it on one elected node. It
// returns how many entries it evaluated.
func Follow(ctx context.Context, db *store.DB) (int, error) {
	return ledger.Follow(ctx, db, Consumer, followBatch, evaluateSealed)
}

// evaluateSealed loads the entries the workspace's enabled rules read and
// evaluates them in sequence order.
func evaluateSealed(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
	rules, err := listRules(ctx, tx, ws, true)
	if err != nil || len(rules) == 0 {
		return err
	}
	needs := map[string]bool{}
	for _, r := range rules {
		needs[r.Kind.Log()] = true
	}
	var eventIDs, entryIDs []int64
	seqOf := map[string]map[int64]int64{logActivity: {}, logInventory: {}}
	for _, s := range entries {
		log := string(s.Log)
		if !needs[log] {
			continue
		}
		seqOf[log][s.EntryID] = s.Seq
		if log == logActivity {
			eventIDs = append(eventIDs, s.EntryID)
		} else {
			entryIDs = append(entryIDs, s.EntryID)
		}
	}
	events, err := activity.EventsByID(ctx, tx, eventIDs)
	if err != nil {
		return fmt.Errorf("alerts: load events: %w", err)
	}
	logEntries, err := inventory.EntriesByID(ctx, tx, entryIDs)
	if err != nil {
		return fmt.Errorf("alerts: load change-log entries: %w", err)
	}
	bySeq := make(map[int64]Item, len(events)+len(logEntries))
	for _, ev := range events {
		seq := seqOf[logActivity][ev.ID]
		bySeq[seq] = ItemFromEvent(ev, seq)
	}
	for _, e := range logEntries {
		seq := seqOf[logInventory][e.ID]
		bySeq[seq] = ItemFromEntry(e, seq)
	}
	items := make([]Item, 0, len(bySeq))
	for _, s := range entries {
		if it, ok := bySeq[s.Seq]; ok {
			items = append(items, it)
		}
	}
	return evaluateItems(ctx, tx, ws, items)
}
