package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestAppendOnlyTriggers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		logs := []string{"inventory_log", "activity_events", "ledger_leaves", "ledger_hashes", "ledger_checkpoints"}
		missing, err := db.AppendOnlyTriggers(ctx, logs)
		if err != nil || len(missing) != 0 {
			t.Fatalf("freshly migrated: missing %v, %v", missing, err)
		}
		if m, err := db.MissingTriggers(ctx, "inventory_log", "ledger_pending_inventory_log", "no_such_trigger"); err != nil || !slices.Equal(m, []string{"no_such_trigger"}) {
			t.Fatalf("MissingTriggers: %v, %v", m, err)
		}
		// Dropped on SQLite; disabled on PostgreSQL, where the trigger is
		// still listed but no longer fires.
		guard := store.Pick(db, "inventory_log_no_update", "inventory_log_append_only")
		remove := store.Pick(db, `DROP TRIGGER inventory_log_no_update`,
			`ALTER TABLE inventory_log DISABLE TRIGGER inventory_log_append_only`)
		if _, err := db.Exec(ctx, remove); err != nil {
			t.Fatal(err)
		}
		missing, err = db.AppendOnlyTriggers(ctx, logs)
		if err != nil || !slices.Equal(missing, []string{guard}) {
			t.Fatalf("after removing %s: missing %v, %v", guard, missing, err)
		}
		if m, err := db.MissingTriggers(ctx, "no_such_table", "x"); err != nil || !slices.Equal(m, []string{"x"}) {
			t.Fatalf("unknown table: %v, %v", m, err)
		}
	})
}
