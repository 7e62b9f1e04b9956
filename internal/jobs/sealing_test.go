package jobs_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestSealingFailsOver: two nodes on one PostgreSQL database each run the
// sealing runner while stock moves. The sealing node is killed mid-run (its
// context cancelled and its pool closed, which drops its lock); the other
// takes over, and in the end every entry is sealed exactly once, in one
// contiguous tree whose every checkpoint is a prefix of the last (no gap,
// no fork).
func TestSealingFailsOver(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	f := storetest.NewFixture(t, dbs[1])
	if _, err := inventory.CreateItem(f.Ctx, dbs[1], inventory.ItemInput{SKU: "BOLT", Name: "Bolt", Kind: inventory.Part, Unit: "pcs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(f.Ctx, dbs[1], inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH"}); err != nil {
		t.Fatal(err)
	}
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "ledger.key"), "test")
	if err != nil {
		t.Fatal(err)
	}
	var stops [2]context.CancelFunc
	var runners sync.WaitGroup
	start := func(i int) {
		s := &ledger.Sealer{DB: dbs[i], Key: key}
		if err := s.Register(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		stops[i] = stop
		r := jobs.Sealing(dbs[i], nil, s, 5*time.Millisecond)
		runners.Go(func() { r.Run(rctx) })
	}
	defer func() { stops[1](); runners.Wait() }()
	q := dbs[1].Read()
	allSealed := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var pending int64
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_pending`).Scan(&pending); err != nil {
				t.Fatal(err)
			}
			if pending == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d entries still pending 30 s %s", pending, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	receive := func(n int) {
		t.Helper()
		for range n {
			if _, err := inventory.Receive(f.Ctx, dbs[1], inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT"},
				LocationRef: inventory.LocationRef{Location: "WH"}, Quantity: "1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Node 0 starts alone, so it leads; node 1 follows.
	start(0)
	receive(30)
	allSealed("with node 0 sealing")
	start(1)
	receive(30)
	// Kill the leader while entries keep coming.
	stops[0]()
	dbs[0].Close()
	receive(40)
	allSealed("after the sealing node was killed: nobody took over")
	var entries, leaves, maxSeq int64
	if err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM inventory_log) + (SELECT COUNT(*) FROM activity_events)`).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(seq), -1) FROM ledger_leaves`).Scan(&leaves, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if leaves != entries || maxSeq != leaves-1 {
		t.Fatalf("%d entries, %d leaves, highest seq %d: a gap or a double", entries, leaves, maxSeq)
	}
	rows, err := q.QueryContext(ctx, `SELECT size, root_hash FROM ledger_checkpoints ORDER BY size`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var size int64
		var root []byte
		if err := rows.Scan(&size, &root); err != nil {
			t.Fatal(err)
		}
		p, err := ledger.ProveConsistency(f.Ctx, dbs[1], size, leaves)
		if err != nil {
			t.Fatal(err)
		}
		if string(p.OldRoot[:]) != string(root) {
			t.Fatalf("checkpoint at size %d is not a prefix of the final tree: a fork", size)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("only %d checkpoints", n)
	}
}
