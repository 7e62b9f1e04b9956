package assets_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
)

// TestTwoNodes: two nodes (separate connection pools) on one PostgreSQL
// database. Finishing on both at once applies once, and a session finished
// on one node is finished on the other: scans there are refused.
func TestTwoNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, store.Config{URL: url, MaxConns: 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	nodeA, nodeB := open(), open()
	if err := nodeA.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, nodeA)
	w.setLostEnforcement(t, true)
	s := w.startedSession(t, assets.SessionInput{Name: "two nodes"})
	if _, err := assets.ScanAsset(w.Ctx, nodeB, s.ID, assets.ScanInput{Code: "LAP-1", ClientScanID: "x"}); err != nil {
		t.Fatal(err)
	}
	if r, err := assets.ScanAsset(w.Ctx, nodeA, s.ID, assets.ScanInput{Code: "LAP-1", ClientScanID: "x"}); err != nil || !r.Duplicate {
		t.Fatalf("retry on the other node: %+v %v", r, err)
	}
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i, db := range []*store.DB{nodeA, nodeB} {
		wg.Add(1)
		go func() { defer wg.Done(); _, results[i] = assets.FinishSession(w.Ctx, db, s.ID) }()
	}
	wg.Wait()
	if (results[0] == nil) == (results[1] == nil) {
		t.Fatalf("finishes on two nodes: %v / %v", results[0], results[1])
	}
	for _, err := range results {
		if err != nil && !fault.Is(err, fault.Conflict) {
			t.Fatal(err)
		}
	}
	for _, db := range []*store.DB{nodeA, nodeB} {
		_, err := assets.ScanAsset(w.Ctx, db, s.ID, assets.ScanInput{Code: "LAP-2"})
		wantKind(t, err, fault.Conflict, "scan after finish")
		got, _ := assets.GetSession(w.Ctx, db, s.ID)
		if got.Status != assets.Completed {
			t.Fatalf("status %s", got.Status)
		}
	}
	var lost, lostEvents int
	nodeB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM assets WHERE status = 'lost'`).Scan(&lost)
	nodeB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM activity_events WHERE entity_type = 'assets' AND description LIKE '%marked Lost%'`).Scan(&lostEvents)
	if lost != 4 || lostEvents != 4 {
		t.Fatalf("%d lost, %d lost events; want 4 and 4 (applied once)", lost, lostEvents)
	}
}
