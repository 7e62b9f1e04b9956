package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// GroupsByHashing says what the planner does with a GROUP BY on a column no
// index orders: hash the groups, or sort the rows in a temporary b-tree.
func TestGroupsByHashingMatchesThePlanner(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE grouping_test (id BIGINT PRIMARY KEY, k TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const query = `SELECT k, COUNT(*) FROM grouping_test GROUP BY k`
		rows, err := db.Read().QueryContext(ctx, store.Pick(db, `EXPLAIN QUERY PLAN `, `EXPLAIN `)+query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			cells := make([]any, len(cols))
			texts := make([]string, len(cols))
			for i := range cells {
				cells[i] = &texts[i]
			}
			if err := rows.Scan(cells...); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, strings.Join(texts, " "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		hashed := strings.Contains(text, "HashAggregate")
		sorted := strings.Contains(text, "TEMP B-TREE FOR GROUP BY")
		if hashed == sorted || hashed != db.GroupsByHashing() {
			t.Errorf("GroupsByHashing() = %v, but the plan is:\n%s", db.GroupsByHashing(), text)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if tx.GroupsByHashing() != db.GroupsByHashing() {
				t.Errorf("Tx.GroupsByHashing() = %v, DB's %v", tx.GroupsByHashing(), db.GroupsByHashing())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
