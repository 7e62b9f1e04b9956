package inventory_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestOneActivityEventPerRequest: a single movement records an event on its
// record; a batch or a bulk update records one event for the whole request,
// naming its batch id, counts and records, while the change log keeps an
// entry per movement.
func TestOneActivityEventPerRequest(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		type event struct {
			entityType, entityID, description string
			newValues                         map[string]any
		}
		var lastID int64
		newEvents := func() []event {
			t.Helper()
			rows, err := db.Read().QueryContext(w.ctx, `SELECT id, entity_type, entity_id, description, COALESCE(new_values, '')
				FROM activity_events WHERE workspace_id = $1 AND id > $2 AND category = 'inventory' ORDER BY id`, w.f.Workspace.ID, lastID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []event
			for rows.Next() {
				var e event
				var raw string
				if err := rows.Scan(&lastID, &e.entityType, &e.entityID, &e.description, &raw); err != nil {
					t.Fatal(err)
				}
				if raw != "" {
					if err := json.Unmarshal([]byte(raw), &e.newValues); err != nil {
						t.Fatal(err)
					}
				}
				out = append(out, e)
			}
			return out
		}
		newEvents() // the world's items and locations
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		if got := newEvents(); len(got) != 1 || got[0].entityType != "inventory_records" {
			t.Fatalf("single receipt events %+v", got)
		}

		ctx := actor.WithRequest(w.ctx, actor.Request{RequestID: "req-batch-1"})
		res, err := inventory.Apply(ctx, db,
			&inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "5"},
			&inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a2.ID}, Quantity: "1"},
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "3"})
		if err != nil {
			t.Fatal(err)
		}
		// The receipt into a new record at A2 logs create_record first.
		if len(res.Entries) != 4 {
			t.Fatalf("batch entries %d", len(res.Entries))
		}
		got := newEvents()
		if len(got) != 1 || got[0].entityType != "inventory_batch" || got[0].entityID != "req-batch-1" {
			t.Fatalf("batch events %+v", got)
		}
		nv := got[0].newValues
		if nv["movements"] != float64(3) || nv["records_total"] != float64(2) || len(nv["records"].([]any)) != 2 {
			t.Fatalf("batch event values %+v", nv)
		}
		if kinds := nv["kinds"].(map[string]any); kinds["receipt"] != float64(2) || kinds["issue"] != float64(1) {
			t.Fatalf("batch event kinds %+v", kinds)
		}
		if got[0].description != "batch of 3 movements on 2 records: 1× issue, 2× receipt" {
			t.Fatalf("batch description %q", got[0].description)
		}
		for _, e := range res.Entries {
			if e.BatchID != "req-batch-1" {
				t.Fatalf("entry batch id %q", e.BatchID)
			}
		}
		// The event's id opens exactly the batch's entries in the change log,
		// newest first, and nothing of the single receipt before it.
		page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{BatchID: "req-batch-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != len(res.Entries) {
			t.Fatalf("batch filter gave %d entries, want %d", len(page.Entries), len(res.Entries))
		}
		for i, e := range page.Entries {
			if want := res.Entries[len(res.Entries)-1-i]; e.ID != want.ID || e.BatchID != "req-batch-1" {
				t.Fatalf("batch filter entry %d: id %d batch %q, want id %d", i, e.ID, e.BatchID, want.ID)
			}
		}
		if page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{BatchID: "req-nothing"}); err != nil || len(page.Entries) != 0 {
			t.Fatalf("unknown batch: %d entries, %v", len(page.Entries), err)
		}
		if _, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{BatchID: strings.Repeat("x", 65)}); fault.KindOf(err) != fault.Invalid ||
			!strings.Contains(fmt.Sprint(err.(*fault.Error).Fields), "batch_id") {
			t.Fatalf("a 65-character batch id: %v", err)
		}

		// A failed batch records nothing, its event included.
		if _, err := inventory.Apply(ctx, db,
			&inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "5"},
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "1000"}); err == nil {
			t.Fatal("issuing more than is there succeeded")
		}
		if got := newEvents(); len(got) != 0 {
			t.Fatalf("failed batch left events %+v", got)
		}

		ctx = actor.WithRequest(w.ctx, actor.Request{RequestID: "req-import-1"})
		if _, err := inventory.BulkUpdate(ctx, db, []inventory.BulkRow{
			{Row: 2, SKU: "BOLT-M8", Location: "WH1/A1", Quantity: "20"},
			{Row: 3, SKU: "OIL-5", Location: "WH1/A2", Quantity: "1.5"},
		}, inventory.Options{}); err != nil {
			t.Fatal(err)
		}
		got = newEvents()
		if len(got) != 1 || got[0].entityType != "inventory_batch" || got[0].entityID != "req-import-1" ||
			got[0].newValues["movements"] != float64(2) {
			t.Fatalf("bulk update events %+v", got)
		}
		if page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{BatchID: "req-import-1"}); err != nil || len(page.Entries) < 2 {
			t.Fatalf("import's entries: %d, %v", len(page.Entries), err)
		}
	})
}
