package store_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMigrationInAnEarlierRange: areas number their migrations in their own
// ranges, so a release can bring a migration numbered below what a database
// already has (00002 for a database at 00050). It is applied, not refused.
func TestMigrationInAnEarlierRange(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// A database from before 00002_station_sessions.
		if _, err := db.Exec(ctx, `DROP TABLE station_sessions`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = 2`); err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err == nil {
			t.Fatal("ready with a migration missing")
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `SELECT COUNT(*) FROM station_sessions`); err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
