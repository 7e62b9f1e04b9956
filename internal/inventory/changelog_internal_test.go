package inventory

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestPartialFilterIndexesServePages: the index of batch entries is partial
// (batch_id <> ”), and an engine uses a partial index only where it can
// tell the query implies its condition: a page of one batch must be read
// through it, not by walking the workspace's whole log. The same for the
// entries of one reference (an order number; 00016), also with a cursor,
// as the order page's link pages through them.
func TestPartialFilterIndexesServePages(t *testing.T) {
	for _, c := range []struct {
		name, index string
		filter      LogFilter
	}{
		{"batch", "inventory_log_batch", LogFilter{BatchID: "req-1"}},
		{"reference", "inventory_log_reference", LogFilter{Reference: "SO-000001"}},
		{"reference page 2", "inventory_log_reference", LogFilter{Reference: "SO-000001", Before: 1000}},
		{"action", "inventory_log_action", LogFilter{Action: SystemAction}},
		{"action page 2", "inventory_log_action", LogFilter{Action: SystemAction, Before: 1000}},
		{"actor kind", "inventory_log_actor_kind", LogFilter{ActorKind: "system", Before: 1000}},
		{"actor", "inventory_log_actor", LogFilter{ActorKind: "api_key", ActorID: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Engines(t, func(t *testing.T, db *store.DB) {
				text := logPlan(t, db, c.filter)
				t.Log(text)
				if !strings.Contains(text, c.index+" ") {
					t.Errorf("the page is not read through %s:\n%s", c.index, text)
				}
			})
		})
	}
}

// logPlan answers the plan each engine chooses for a change-log page of f:
// on PostgreSQL the generic plan of the prepared statement, which it keeps
// whatever the values, as a planner that sees no rows would scan the table.
func logPlan(t *testing.T, db *store.DB, f LogFilter) string {
	{
		ctx := context.Background()
		query, args, err := logQuery(ctx, db.Read(), 1, f, entryColumns, 101, false)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		err = db.InTx(ctx, func(tx *store.Tx) error {
			prepared := false
			defer func() {
				if prepared {
					tx.ExecContext(ctx, `DEALLOCATE batch_page`)
				}
			}()
			explain, explainArgs, err := store.Pick(tx, func() (string, []any, error) {
				return `EXPLAIN QUERY PLAN ` + query, args, nil
			}, func() (string, []any, error) {
				// An empty table is cheapest to scan: ask for the index the
				// planner would take on a real log. And ask for the plan it
				// keeps for a prepared statement whatever the batch id (the
				// one for a given id could see that 'req-1' <> '').
				for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL plan_cache_mode = force_generic_plan`,
					`PREPARE batch_page AS ` + query} {
					if _, err := tx.ExecContext(ctx, set); err != nil {
						return "", nil, err
					}
				}
				prepared = true
				vals := make([]string, len(args))
				for i, a := range args {
					if s, ok := a.(string); ok {
						vals[i] = "'" + s + "'"
					} else {
						vals[i] = fmt.Sprint(a)
					}
				}
				return `EXPLAIN EXECUTE batch_page(` + strings.Join(vals, ", ") + `)`, nil, nil
			})()
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, explain, explainArgs...)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				for _, v := range vals {
					if s, ok := v.(string); ok {
						plan = append(plan, s)
					} else if b, ok := v.([]byte); ok {
						plan = append(plan, string(b))
					}
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
}

// TestFiltersMatchingMostEntriesKeepTheirIndex: when an action (or a kind
// of party) matches most of the log, PostgreSQL's planner prefers walking
// the primary key backwards and skipping what does not match, which reads
// every newer entry that does not match before it fills a page (100 ms at
// 10M entries whose newest 400,000 were receipts by API key). The page
// must seek in the filter's own index instead. A temporary table of
// 100,000 analyzed entries, 96% of them by the system, stands in for the
// log (it hides the real one for this transaction).
func TestFiltersMatchingMostEntriesKeepTheirIndex(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	for _, f := range []LogFilter{
		{Action: SystemAction},
		{Action: SystemAction, Before: 99_000},
		{ActorKind: "system"},
		{ActorKind: "system", Before: 99_000},
	} {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, stmt := range []string{
				`CREATE TEMP TABLE inventory_log (LIKE public.inventory_log INCLUDING ALL) ON COMMIT DROP`,
				`INSERT INTO inventory_log (workspace_id, id, item_id, sku, unit, unit_scale, record_id, location_id,
					location_path, movement, action, change, record_level, location_level, actor_kind, actor_id,
					actor_name, recorded_at, effective_at)
				SELECT 1, g, g % 100, 'S', 'pcs', 0, g % 1000, g % 10, 'L', 'receipt',
					CASE WHEN g > 96000 THEN 'user_action' ELSE 'system_action' END, 1, 1, 1,
					CASE WHEN g > 96000 THEN 'api_key' ELSE 'system' END, NULL, 'x', g, g
				FROM generate_series(1, 100000) g`,
				`ANALYZE inventory_log`,
			} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			query, args, err := logQuery(ctx, tx, 1, f, entryColumns, 101, false)
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `EXPLAIN `+query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				plan = append(plan, line)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "pkey") || !strings.Contains(text, "Index Scan Backward") {
				t.Errorf("%+v: the page does not seek in the filter's index:\n%s", f, text)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
