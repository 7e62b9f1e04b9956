package inventory

import (
	"context"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestReadAheadQueryPlanOnSQLite: SQLite reads a batch's records from the
// lists it is given, by primary key and by the records' unique key, and
// never scans the workspace's records (it did before its joins were fixed:
// seconds a batch at 100,000 records, which a small test would not notice
// by its time).
func TestReadAheadQueryPlanOnSQLite(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	rows, err := db.Read().QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+readAheadSQLite,
		1, `[1, 2]`, `[[1, 2, ""], [3, 4, "L1"]]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	for _, want := range []string{"SEARCH x USING INDEX inventory_records_key", "SEARCH r USING INTEGER PRIMARY KEY"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN r") || strings.HasPrefix(line, "SCAN x") || strings.Contains(line, "SEARCH r USING INDEX") {
			t.Errorf("plan reads records other than those named: %q in\n%s", line, text)
		}
	}
}
