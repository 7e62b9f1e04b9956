package ledger_test

import (
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Entries that change allocations seal as leaf v2, the others stay v1, and
// a ledger holding both verifies, online and as an offline bundle; one
// sealed before any allocation keeps verifying after.
func TestAllocationEntriesSealAsLeafV2(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "10")
		w.seal(t)
		before := w.verify(t, ledger.VerifyOptions{Checkpoints: w.outside(t)})
		if !before.OK() {
			t.Fatalf("before allocations: %s\n%s", before.Summary(), problems(before))
		}
		ctx := w.f.Ctx
		page, err := inventory.ListLog(ctx, db, inventory.LogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		rec := page.Entries[0].RecordID
		ref := inventory.RecordRef{RecordID: rec}
		if _, err := inventory.Apply(ctx, db, &inventory.Allocate{Record: ref, Quantity: "4", Holder: "SO-000001"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.Apply(ctx, db, &inventory.Release{Record: ref, Quantity: "1", Holder: "SO-000001"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.Apply(ctx, db, &inventory.Ship{Record: ref, Quantity: "2", Holder: "SO-000001"}); err != nil {
			t.Fatal(err)
		}
		w.receive(t, "1") // a receipt into a record with 1 allocated: its allocated_level is 1
		w.seal(t)
		page, err = inventory.ListLog(ctx, db, inventory.LogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		versions := map[string]string{}
		for _, e := range page.Entries {
			p, err := ledger.ProveEntry(ctx, db, ledger.InventoryLog, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			v := ledger.LeafVersion
			if e.AllocatedChange != 0 || e.AllocatedLevel != 0 {
				v = ledger.LeafVersion2
			}
			if !strings.HasPrefix(p.Entry, `{"v":"`+v+`"`) || (v == ledger.LeafVersion2) != strings.Contains(p.Entry, `"allocated_level"`) {
				t.Errorf("%s entry %d (allocated %s/%s): %s", e.Movement, e.ID, e.AllocatedChangeText(), e.AllocatedLevelText(), p.Entry)
			}
			versions[e.Movement] = v
		}
		if versions["allocate"] != ledger.LeafVersion2 || versions["ship"] != ledger.LeafVersion2 || versions["create"] != ledger.LeafVersion {
			t.Fatalf("versions by movement %v", versions)
		}
		r := w.verify(t, ledger.VerifyOptions{Checkpoints: w.outside(t)})
		if !r.OK() || r.Entries <= before.Entries {
			t.Fatalf("after allocations: %s\n%s", r.Summary(), problems(r))
		}
		data, _ := w.bundle(t, ledger.BundleSelection{})
		if br := verifyBundle(t, data, w.sealer.Key.Verifier); !br.OK() || br.Entries != r.Entries {
			t.Fatalf("bundle: %+v", br)
		}
		data, _ = w.bundle(t, ledger.BundleSelection{Log: ledger.InventoryLog})
		if br := verifyBundle(t, data, w.sealer.Key.Verifier); !br.OK() {
			t.Fatalf("inventory bundle: %+v", br)
		}
	})
}
