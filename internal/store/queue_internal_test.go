package store

import (
	"context"
	"sync"
	"testing"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

// TestQueueMigrationsWhenNodesStartAtOnce: PostgreSQL nodes that apply
// River's migrations to a fresh database at the same moment all succeed
// (rivermigrate takes no lock of its own).
func TestQueueMigrationsWhenNodesStartAtOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 4
	dbs := make([]*DB, nodes)
	for i := range dbs {
		db, err := Open(context.Background(), Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	start := make(chan struct{})
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = db.migrateQueue(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
}
