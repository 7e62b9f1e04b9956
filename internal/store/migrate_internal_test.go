package store

import (
	"context"
	"testing"
)

// An install made before an area added a migration has newer versions of
// other areas applied already; Migrate must still apply the new one.
func TestMigrateAppliesOutOfOrder(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.provider()
	if err != nil {
		t.Fatal(err)
	}
	sources := p.ListSources()
	if len(sources) < 3 {
		t.Fatalf("only %d migrations", len(sources))
	}
	missing := sources[len(sources)/2].Version
	for _, s := range sources {
		if s.Version == missing {
			continue
		}
		if _, err := p.ApplyVersion(ctx, s.Version, true); err != nil {
			t.Fatalf("apply %d: %v", s.Version, err)
		}
	}
	if err := db.Ready(ctx); err == nil {
		t.Fatalf("version %d is missing but the database reports ready", missing)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate with version %d missing: %v", missing, err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}
