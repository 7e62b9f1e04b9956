package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Consumer is the fan-out's name in ledger_cursors.
const Consumer = "webhooks"

// fanoutBatch is how many sealed entries one fan-out transaction handles.
const fanoutBatch = 200

// Fanout hands newly sealed entries to the endpoints that subscribe to
// them: one delivery per endpoint, entry and format, and its job, written
// in the transaction that advances the "webhooks" cursor. Run it on one
// elected node (jobs.WebhookFanout). It returns how many entries it read.
func (w *Webhooks) Fanout(ctx context.Context) (int, error) {
	return ledger.Follow(ctx, w.db, Consumer, fanoutBatch, w.fanoutBatch)
}

// target is an enabled endpoint's subscriptions.
type target struct {
	endpointID int64
	subs       []Subscription
}

func (w *Webhooks) fanoutBatch(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
	targets, err := enabledTargets(ctx, tx, ws)
	if err != nil || len(targets) == 0 {
		return err
	}
	var wantActivity, wantChanges bool
	for _, t := range targets {
		for _, s := range t.subs {
			wantActivity = wantActivity || s.Stream != ChangesStream
			wantChanges = wantChanges || s.Stream == ChangesStream
		}
	}
	var eventIDs, entryIDs []int64
	for _, e := range entries {
		switch {
		case e.Log == ledger.ActivityEvents && wantActivity:
			eventIDs = append(eventIDs, e.EntryID)
		case e.Log == ledger.InventoryLog && wantChanges:
			entryIDs = append(entryIDs, e.EntryID)
		}
	}
	events, err := activity.EventsByID(ctx, tx, eventIDs)
	if err != nil {
		return err
	}
	changes, err := inventory.EntriesByID(ctx, tx, entryIDs)
	if err != nil {
		return err
	}
	eventByID := make(map[int64]activity.Event, len(events))
	for _, ev := range events {
		eventByID[ev.ID] = ev
	}
	changeByID := make(map[int64]inventory.Entry, len(changes))
	for _, c := range changes {
		changeByID[c.ID] = c
	}
	now := store.Micros(time.Now())
	for _, e := range entries {
		ev, isEvent := eventByID[e.EntryID]
		ch, isChange := changeByID[e.EntryID]
		if e.Log == ledger.ActivityEvents && !isEvent || e.Log == ledger.InventoryLog && !isChange {
			continue // not subscribed to (or purged)
		}
		for _, t := range targets {
			for _, format := range formatsFor(t.subs, e.Log, ev, ch) {
				var body any
				var eventType string
				switch {
				case e.Log == ledger.InventoryLog:
					body, eventType = changeEnvelope(ws, e.Seq, ch), changeType(ch)
				case format == OCSF:
					body, eventType = OCSFFor(ws, e.Seq, ev), activityType(ev)
				default:
					body, eventType = activityEnvelope(ws, e.Seq, ev), activityType(ev)
				}
				payload, err := json.Marshal(body)
				if err != nil {
					return fmt.Errorf("webhook payload: %w", err)
				}
				// Stable across retries and redeliveries, so receivers can
				// drop duplicates by webhook-id.
				messageID := fmt.Sprintf("msg_%d_%d_%s", ws, e.Seq, format)
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (workspace_id, endpoint_id, message_id, event_type, seq, log, entry_id,
					format, payload, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10) RETURNING id`,
					ws, t.endpointID, messageID, eventType, e.Seq, string(e.Log), e.EntryID, string(format), string(payload), now).Scan(&id); err != nil {
					return fmt.Errorf("write webhook delivery: %w", err)
				}
				if err := w.enqueue(ctx, tx, ws, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// formatsFor lists the formats in which an endpoint's subscriptions want
// an entry (once each, however many subscriptions match).
func formatsFor(subs []Subscription, log ledger.Log, ev activity.Event, ch inventory.Entry) []Format {
	var out []Format
	add := func(f Format) {
		for _, have := range out {
			if have == f {
				return
			}
		}
		out = append(out, f)
	}
	for _, s := range subs {
		switch {
		case log == ledger.InventoryLog && s.Stream == ChangesStream:
			if s.Filter == "" || s.Filter == string(ch.Action) {
				add(s.Format)
			}
		case log == ledger.ActivityEvents && s.Stream == AlertsStream:
			if isAlert(ev) {
				add(s.Format)
			}
		case log == ledger.ActivityEvents && s.Stream == ActivityStream:
			if s.Filter == "" || s.Filter == string(ev.Category) {
				add(s.Format)
			}
		}
	}
	return out
}

// enabledTargets reads the workspace's enabled endpoints that subscribe to
// anything: one small query, as it runs for every batch of entries.
func enabledTargets(ctx context.Context, q store.Querier, ws int64) ([]target, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.endpoint_id, s.id, s.stream, s.filter, s.format FROM webhook_subscriptions s
		JOIN webhook_endpoints e ON e.workspace_id = s.workspace_id AND e.id = s.endpoint_id
		WHERE s.workspace_id = $1 AND e.enabled = 1 ORDER BY s.endpoint_id, s.id`, ws)
	if err != nil {
		return nil, fmt.Errorf("webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []target
	for rows.Next() {
		var endpointID int64
		var s Subscription
		if err := rows.Scan(&endpointID, &s.ID, &s.Stream, &s.Filter, &s.Format); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].endpointID != endpointID {
			out = append(out, target{endpointID: endpointID})
		}
		out[len(out)-1].subs = append(out[len(out)-1].subs, s)
	}
	return out, rows.Err()
}

// keepFinished is how long delivered and failed deliveries, with their
// bodies and attempts, stay visible; the events themselves stay in their
// logs for as long as retention keeps them.
const keepFinished = 30 * 24 * time.Hour

// pruneBatch bounds one pruning transaction.
const pruneBatch = 1000

// PruneDeliveries deletes deliveries finished more than 30 days before now,
// with their attempts, at most a batch per call; it returns how many.
func (w *Webhooks) PruneDeliveries(ctx context.Context, now time.Time) (int, error) {
	cutoff := store.Micros(now.Add(-keepFinished))
	var n int
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT workspace_id, id FROM webhook_deliveries
			WHERE status <> 'pending' AND finished_at < $1 ORDER BY finished_at LIMIT $2`, cutoff, pruneBatch)
		if err != nil {
			return fmt.Errorf("finished webhook deliveries: %w", err)
		}
		byWorkspace := map[int64][]int64{}
		for rows.Next() {
			var ws, id int64
			if err := rows.Scan(&ws, &id); err != nil {
				rows.Close()
				return err
			}
			byWorkspace[ws] = append(byWorkspace[ws], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = 0
		for ws, ids := range byWorkspace {
			for _, table := range []string{"webhook_attempts", "webhook_deliveries"} {
				column := "delivery_id"
				if table == "webhook_deliveries" {
					column = "id"
				}
				where := store.NewWhere("workspace_id = ?", ws).And(store.In(tx, column, ids))
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where.String(), where.Args...); err != nil {
					return fmt.Errorf("prune %s: %w", table, err)
				}
			}
			n += len(ids)
		}
		return nil
	})
	return n, err
}
