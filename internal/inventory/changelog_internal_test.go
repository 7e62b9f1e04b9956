package inventory

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestBatchFilterUsesItsIndex: the index of batch entries is partial
// (batch_id <> ”), and an engine uses a partial index only where it can
// tell the query implies its condition: a page of one batch must be read
// through it, not by walking the workspace's whole log.
func TestBatchFilterUsesItsIndex(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		query, args, err := logQuery(ctx, db.Read(), 1, LogFilter{BatchID: "req-1"}, entryColumns, 101, false)
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
				if len(args) != 2 {
					t.Fatalf("query arguments %v, want workspace and batch id", args)
				}
				return fmt.Sprintf(`EXPLAIN EXECUTE batch_page(%d, '%s')`, args[0], args[1]), nil, nil
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
		if text := strings.Join(plan, "\n"); !strings.Contains(text, "inventory_log_batch") {
			t.Errorf("a batch's page is not read through inventory_log_batch:\n%s", text)
		}
	})
}
