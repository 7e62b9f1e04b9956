package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// world is a workspace with a sealer and a little of both logs.
type world struct {
	f      *storetest.Fixture
	db     *store.DB
	sealer *ledger.Sealer
	dir    string
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	f := storetest.NewFixture(t, db)
	dir := t.TempDir()
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(dir, "ledger.key"), "test-key")
	if err != nil {
		t.Fatal(err)
	}
	s := &ledger.Sealer{DB: db, Key: key, CheckpointLog: filepath.Join(dir, "checkpoints")}
	if err := s.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := &world{f: f, db: db, sealer: s, dir: dir}
	two := 2
	if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Kind: inventory.Material, Unit: "l", Scale: &two}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) receive(t testing.TB, qty string) {
	t.Helper()
	if _, err := inventory.Receive(w.f.Ctx, w.db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: inventory.DecimalText(qty)}); err != nil {
		t.Fatal(err)
	}
}

func (w *world) seal(t testing.TB) int {
	t.Helper()
	n, err := w.sealer.Seal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSealedEntriesProveIntoSignedCheckpoints(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "4.5")
		first := w.seal(t)
		if first == 0 {
			t.Fatal("nothing sealed")
		}
		if n := w.seal(t); n != 0 {
			t.Fatalf("sealed %d entries twice", n)
		}
		w.receive(t, "1")
		if n := w.seal(t); n == 0 {
			t.Fatal("the second receipt's entries were not sealed")
		}
		cp, err := ledger.LatestCheckpoint(w.f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := ledger.VerifierKeys(w.f.Ctx, db)
		if err != nil || len(keys) != 1 || !keys[0].Current {
			t.Fatalf("keys %v %v", keys, err)
		}
		v, err := note.NewVerifier(keys[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(cp.Note), note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint does not verify: %v\n%s", err, cp.Note)
		}
		body, err := ledger.ParseCheckpoint(n.Text)
		if err != nil || body.Size != cp.Size || body.Root != cp.RootHash || !strings.HasSuffix(body.Origin, "/workspace/"+itoa(w.f.Workspace.ID)) {
			t.Fatalf("checkpoint body %+v (%v), stored %d %v", body, err, cp.Size, cp.RootHash)
		}
		// Every entry of both logs proves into it.
		page, err := inventory.ListLog(w.f.Ctx, db, inventory.LogFilter{})
		if err != nil || len(page.Entries) == 0 {
			t.Fatalf("log %v %v", page, err)
		}
		events, err := activity.List(w.f.Ctx, db, activity.Filter{Limit: 100})
		if err != nil || len(events.Events) == 0 {
			t.Fatalf("events %v %v", events, err)
		}
		check := func(log ledger.Log, id int64) {
			p, err := ledger.ProveEntry(w.f.Ctx, db, log, id)
			if err != nil {
				t.Fatalf("prove %s %d: %v", log, id, err)
			}
			if ledger.LeafHash([]byte(p.Entry)) != p.LeafHash {
				t.Errorf("%s %d: leaf hash is not the entry's", log, id)
			}
			if err := tlog.CheckRecord(p.Proof, cp.Size, cp.RootHash, p.Sequence, p.LeafHash); err != nil {
				t.Errorf("%s %d: proof does not check: %v", log, id, err)
			}
			if !strings.Contains(p.Entry, `"log":"`+string(log)+`"`) || !strings.Contains(p.Entry, `"id":`+itoa(id)+`,`) {
				t.Errorf("%s %d: canonical entry %s", log, id, p.Entry)
			}
		}
		for _, e := range page.Entries {
			check(ledger.InventoryLog, e.ID)
		}
		for _, e := range events.Events {
			if e.OccurredAt.Before(page.Entries[len(page.Entries)-1].RecordedAt.Add(-3600e9)) {
				continue
			}
			check(ledger.ActivityEvents, e.ID)
		}
		// The consistency proof from the first checkpoint to the latest.
		c, err := ledger.ProveConsistency(w.f.Ctx, db, int64(first), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(c.Proof, c.New, c.NewRoot, c.Old, c.OldRoot); err != nil || c.NewRoot != cp.RootHash {
			t.Fatalf("consistency: %v", err)
		}
		// Every checkpoint went to the file outside the database.
		b, err := os.ReadFile(w.sealer.CheckpointLog)
		if err != nil || strings.Count(string(b), "\n\n") < 2 {
			t.Fatalf("checkpoint log: %v\n%s", err, b)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Where writers run concurrently, an entry may commit after entries with
// higher ids have been sealed. Writers here hold their transactions open
// while others commit and the sealer runs; every entry must still be
// sealed exactly once when they commit.
func TestLateCommitsAreSealed(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		if !db.ConcurrentWriters() {
			t.Skip("one writer at a time: no transaction can commit behind a sealed one")
		}
		w := newWorld(t, db)
		w.receive(t, "1")
		w.seal(t)
		const held = 3
		release := make(chan struct{})
		started := make(chan struct{}, held)
		errs := make(chan error, held)
		for i := 0; i < held; i++ {
			go func() {
				errs <- db.InTx(w.f.Ctx, func(tx *store.Tx) error {
					if _, err := tx.ExecContext(w.f.Ctx, `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_name, action, category)
						VALUES ($1, 1, 'system', 'held writer', 'CREATE', 'inventory')`, w.f.Workspace.ID); err != nil {
						return err
					}
					started <- struct{}{}
					<-release
					return nil
				})
			}()
		}
		for i := 0; i < held; i++ {
			<-started
		}
		// These commit with higher ids while the held ones stay open.
		w.receive(t, "2")
		w.receive(t, "3")
		before := w.seal(t)
		close(release)
		for i := 0; i < held; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		after := w.seal(t)
		if after != held {
			t.Errorf("sealed %d entries after the held writers committed, want %d (before: %d)", after, held, before)
		}
		var entries, leaves, pending int64
		q := db.Read()
		for query, dst := range map[string]*int64{
			`SELECT (SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1) + (SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1)`: &entries,
			`SELECT COUNT(*) FROM ledger_leaves WHERE workspace_id = $1`:                                                                           &leaves,
			`SELECT COUNT(*) FROM ledger_pending WHERE workspace_id = $1`:                                                                          &pending,
		} {
			if err := q.QueryRowContext(context.Background(), query, w.f.Workspace.ID).Scan(dst); err != nil {
				t.Fatal(err)
			}
		}
		if entries != leaves || pending != 0 {
			t.Errorf("%d entries, %d leaves, %d pending", entries, leaves, pending)
		}
	})
}

// Two sealers running at once (a node that lost its election while its
// round was under way) never fork or skip: a round prepared against a tree
// that grew meanwhile is refused, and every entry ends up sealed once, in
// one contiguous sequence.
func TestTwoSealersDoNotFork(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		other := &ledger.Sealer{DB: db, Key: w.sealer.Key}
		stop := make(chan struct{})
		refused := make(chan int, 2)
		for _, s := range []*ledger.Sealer{w.sealer, other} {
			go func() {
				n := 0
				for {
					select {
					case <-stop:
						refused <- n
						return
					default:
					}
					// A refused round is expected here; the next one catches up.
					if _, err := s.Seal(context.Background()); err != nil {
						n++
					}
				}
			}()
		}
		for i := 0; i < 20; i++ {
			w.receive(t, "1")
		}
		close(stop)
		t.Logf("%d rounds refused", <-refused+<-refused)
		w.seal(t)
		var entries, leaves, top, pending int64
		q := db.Read()
		for query, dst := range map[string]*int64{
			`SELECT (SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1) + (SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1)`: &entries,
			`SELECT COUNT(*) FROM ledger_leaves WHERE workspace_id = $1`:                                                                           &leaves,
			`SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_leaves WHERE workspace_id = $1`:                                                          &top,
			`SELECT COUNT(*) FROM ledger_pending WHERE workspace_id = $1`:                                                                          &pending,
		} {
			if err := q.QueryRowContext(context.Background(), query, w.f.Workspace.ID).Scan(dst); err != nil {
				t.Fatal(err)
			}
		}
		if entries != leaves || top != leaves || pending != 0 {
			t.Fatalf("%d entries, %d leaves up to seq %d, %d pending", entries, leaves, top-1, pending)
		}
		// Every checkpoint is consistent with the latest: no fork.
		cp, err := ledger.LatestCheckpoint(w.f.Ctx, db)
		if err != nil || cp.Size != leaves {
			t.Fatalf("latest checkpoint %+v, %v", cp, err)
		}
		rows, err := q.QueryContext(context.Background(), `SELECT size, root_hash FROM ledger_checkpoints WHERE workspace_id = $1`, w.f.Workspace.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var size int64
			var root []byte
			if err := rows.Scan(&size, &root); err != nil {
				t.Fatal(err)
			}
			c, err := ledger.ProveConsistency(w.f.Ctx, db, size, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if string(c.OldRoot[:]) != string(root) {
				t.Errorf("checkpoint of size %d has a root the tree does not have", size)
			}
		}
	})
}
