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
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Engines(t, func(t *testing.T, db *store.DB) {
				text := logPlan(t, db, c.filter)
				t.Log(text)
				if !strings.Contains(text, c.index) {
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
