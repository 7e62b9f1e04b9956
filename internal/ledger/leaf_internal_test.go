package ledger

import (
	"context"
	"slices"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestLeafCoversEveryColumn: the canonical form holds every column of both
// logs, so no field can change without its leaf hash changing. A column
// added by a migration fails here until the encoding covers it.
func TestLeafCoversEveryColumn(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		query := store.Pick(db, `SELECT name FROM pragma_table_info($1)`,
			`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`)
		for _, log := range Logs {
			rows, err := db.Read().QueryContext(context.Background(), query, string(log))
			if err != nil {
				t.Fatal(err)
			}
			var inTable []string
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				inTable = append(inTable, name)
			}
			rows.Close()
			var encoded []string
			for _, c := range columns[log] {
				encoded = append(encoded, c.name)
			}
			slices.Sort(inTable)
			slices.Sort(encoded)
			if !slices.Equal(inTable, encoded) {
				t.Errorf("%s: table columns %v, leaf encodes %v", log, inTable, encoded)
			}
		}
	})
}

// TestCanonicalForm pins the encoding byte for byte: leaves already sealed
// must keep their hashes.
func TestCanonicalForm(t *testing.T) {
	values := make([]any, len(columns[ActivityEvents]))
	for i, c := range columns[ActivityEvents] {
		switch {
		case c.name == "actor_id" || c.name == "old_values" || c.name == "reported_by_id":
			values[i] = nil
		case c.text:
			values[i] = c.name + ` <"é">`
		default:
			values[i] = int64(i)
		}
	}
	got := string(encode(ActivityEvents, values))
	want := `{"v":"stocktrail-leaf-v1","log":"activity_events","workspace_id":0,"id":1,"occurred_at":2,"actor_kind":"actor_kind <\"é\">","actor_id":null,` +
		`"actor_name":"actor_name <\"é\">","action":"action <\"é\">","category":"category <\"é\">","entity_type":"entity_type <\"é\">",` +
		`"entity_id":"entity_id <\"é\">","old_values":null,"new_values":"new_values <\"é\">","description":"description <\"é\">",` +
		`"ip":"ip <\"é\">","user_agent":"user_agent <\"é\">","request_id":"request_id <\"é\">","reported_by_kind":"reported_by_kind <\"é\">",` +
		`"reported_by_id":null,"reported_by_name":"reported_by_name <\"é\">"}`
	if got != want {
		t.Errorf("canonical form changed:\n got %s\nwant %s", got, want)
	}
}
