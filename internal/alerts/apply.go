package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// evaluateItems runs items (in sequence order) through workspace ws's rules
// inside tx: it loads the pending window and the open alerts, evaluates,
// and writes the alerts raised or joined, their evidence, the activity
// events of new alerts and the new window, all in tx.
func evaluateItems(ctx context.Context, tx *store.Tx, ws int64, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	rules, err := listRules(ctx, tx, ws, false)
	if err != nil || len(rules) == 0 {
		return err
	}
	w, err := workspace.Get(ctx, tx)
	if err != nil {
		return err
	}
	earliest, latest := items[0].At, items[0].At
	for _, it := range items {
		if it.At.Before(earliest) {
			earliest = it.At
		}
		if it.At.After(latest) {
			latest = it.At
		}
	}
	var longest time.Duration
	for _, r := range rules {
		longest = max(longest, r.window())
	}
	// Forget what aged out before the batch's first entry (none of its
	// entries can count it), and the windows of rules switched off, before
	// reading the window; what ages out during the batch is pruned after.
	for _, r := range rules {
		query, args := `DELETE FROM alert_pending WHERE workspace_id = $1 AND rule_id = $2`, []any{ws, r.ID}
		if r.Enabled {
			query, args = query+` AND occurred_at < $3`, append(args, store.Micros(earliest.Add(-r.window())))
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("alerts: prune window: %w", err)
		}
	}
	st, err := loadState(ctx, tx, ws, rules, matchedKeys(rules, w.Settings, items), earliest.Add(-longest))
	if err != nil {
		return err
	}
	bursts := Evaluate(rules, w.Settings, st, items)
	st.prune(rules, latest)
	for _, b := range bursts {
		if err := writeBurst(ctx, tx, ws, b); err != nil {
			return err
		}
	}
	return writePending(ctx, tx, ws, st)
}

// matchedKeys returns, per rule, the keys the items count towards: the
// only parts of the window the evaluation needs to read.
func matchedKeys(rules []Rule, settings workspace.Settings, items []Item) map[int64][]string {
	out := map[int64][]string{}
	seen := map[ruleKey]bool{}
	for _, it := range items {
		for _, r := range rules {
			if !r.Enabled {
				continue
			}
			if m, ok := matchItem(r, settings, it); ok && !seen[ruleKey{r.ID, m.key}] {
				seen[ruleKey{r.ID, m.key}] = true
				out[r.ID] = append(out[r.ID], m.key)
			}
		}
	}
	return out
}

// loadState reads the pending window of the given keys and the latest open
// alert of each rule and key whose last evidence came after since.
func loadState(ctx context.Context, tx *store.Tx, ws int64, rules []Rule, keys map[int64][]string, since time.Time) (*State, error) {
	st := NewState()
	byID := map[int64]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for ruleID, list := range keys {
		w := store.NewWhere("workspace_id = ?", ws).And("rule_id = ?", ruleID).And(store.In(tx, "group_key", list))
		rows, err := tx.QueryContext(ctx, `SELECT rule_id, group_key, subject, log, entry_id, seq, occurred_at, weight, summary
			FROM alert_pending WHERE `+w.String()+` ORDER BY seq`, w.Args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k ruleKey
			var p pending
			var at int64
			if err := rows.Scan(&k.rule, &k.key, &p.subject, &p.Log, &p.EntryID, &p.Seq, &at, &p.Weight, &p.Summary); err != nil {
				rows.Close()
				return nil, err
			}
			p.OccurredAt = store.Time(at)
			st.pending[k] = append(st.pending[k], p)
			if st.stored[k] == nil {
				st.stored[k] = map[entryRef]bool{}
			}
			st.stored[k][entryRef{p.Log, p.EntryID}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, rule_id, group_key, subject, first_at, last_at, weight, evidence_count
		FROM alerts WHERE workspace_id = $1 AND status = $2 AND last_at >= $3 ORDER BY id`, ws, Open, store.Micros(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b Burst
		var ruleID, first, last int64
		if err := rows.Scan(&b.ID, &ruleID, &b.Key, &b.Subject, &first, &last, &b.Weight, &b.Count); err != nil {
			return nil, err
		}
		r, ok := byID[ruleID]
		if !ok {
			continue
		}
		b.Rule, b.FirstAt, b.LastAt = r, store.Time(first), store.Time(last)
		st.open[ruleKey{ruleID, b.Key}] = &b // ordered by id: the latest wins
	}
	return st, rows.Err()
}

// writeBurst inserts a raised alert (and records ALERT_RAISED) or updates
// one that was joined, and adds the new evidence.
func writeBurst(ctx context.Context, tx *store.Tx, ws int64, b *Burst) error {
	if b.Raised() {
		now := time.Now().UTC()
		if err := tx.QueryRowContext(ctx, `INSERT INTO alerts (workspace_id, rule_id, kind, rule_name, group_key, subject, status,
			evidence_count, weight, first_at, last_at, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			ws, b.Rule.ID, string(b.Rule.Kind), b.Rule.Name, b.Key, b.Subject, Open, b.Count, b.Weight,
			store.Micros(b.FirstAt), store.Micros(b.LastAt), store.Micros(now)).Scan(&b.ID); err != nil {
			return fmt.Errorf("raise alert: %w", err)
		}
	} else {
		// The writes below are independent of each other and of what the
		// evaluation reads: queued, they travel in one statement on
		// PostgreSQL (a flood adds thousands of evidence rows).
		tx.ExecLater(`UPDATE alerts SET evidence_count = $1, weight = $2, first_at = $3, last_at = $4
			WHERE workspace_id = $5 AND id = $6`, b.Count, b.Weight, store.Micros(b.FirstAt), store.Micros(b.LastAt), ws, b.ID)
	}
	for _, e := range b.Added {
		tx.ExecLater(`INSERT INTO alert_evidence (workspace_id, alert_id, log, entry_id, seq, occurred_at, weight, summary)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ws, b.ID, e.Log, e.EntryID, e.Seq, store.Micros(e.OccurredAt),
			e.Weight, e.Summary)
	}
	if !b.Raised() {
		return nil
	}
	sum := summary(b.Rule.Kind, b.Key, b.Subject, b.Weight, b.Count)
	link := fmt.Sprintf("/notifications/alerts/%d", b.ID)
	return activity.Note(ctx, tx, activity.Event{WorkspaceID: ws, Action: ActionRaised, Category: activity.Audit,
		EntityType: "alerts", EntityID: fmt.Sprint(b.ID),
		New: map[string]any{"alert_id": b.ID, "rule_id": b.Rule.ID, "rule_name": b.Rule.Name, "kind": string(b.Rule.Kind),
			"summary": sum, "evidence_count": b.Count, "first_at": b.FirstAt.UTC().Format(time.RFC3339),
			"last_at": b.LastAt.UTC().Format(time.RFC3339), "email_to": b.Rule.EmailTo, "link": link},
		Description: fmt.Sprintf("alert raised by rule %q: %s", b.Rule.Name, sum)})
}

// writePending writes the difference between the pending entries loaded
// and those left: the entries counted now, less those that fired, aged out
// or belong to rules switched off. Those deleted were loaded and those
// inserted were not, so the queued writes never touch the same row.
func writePending(ctx context.Context, tx *store.Tx, ws int64, st *State) error {
	for k := range st.dirty {
		now := map[entryRef]bool{}
		for _, p := range st.pending[k] {
			ref := entryRef{p.Log, p.EntryID}
			now[ref] = true
			if st.stored[k][ref] {
				continue
			}
			tx.ExecLater(`INSERT INTO alert_pending (workspace_id, rule_id, log, entry_id, group_key, subject, seq,
				occurred_at, weight, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, ws, k.rule, p.Log, p.EntryID, k.key,
				p.subject, p.Seq, store.Micros(p.OccurredAt), p.Weight, p.Summary)
		}
		for ref := range st.stored[k] {
			if !now[ref] {
				tx.ExecLater(`DELETE FROM alert_pending WHERE workspace_id = $1 AND rule_id = $2 AND log = $3 AND entry_id = $4`,
					ws, k.rule, ref.log, ref.id)
			}
		}
		st.stored[k] = now
	}
	st.dirty = map[ruleKey]bool{}
	return nil
}
