package ledger_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func (w *world) bundle(t testing.TB, sel ledger.BundleSelection) ([]byte, ledger.BundleStats) {
	t.Helper()
	var b bytes.Buffer
	stats, err := ledger.WriteBundle(w.f.Ctx, w.db, &b, sel)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), stats
}

func verifyBundle(t *testing.T, data []byte, keys ...string) ledger.BundleReport {
	t.Helper()
	r, err := ledger.VerifyBundle(bytes.NewReader(data), keys)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBundlesVerifyOffline(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		key := w.sealer.Key.Verifier
		leaves := w.leaves(t)
		count := map[ledger.Log]int64{}
		var invIDs []int64
		for _, l := range leaves {
			count[l.log]++
			if l.log == ledger.InventoryLog {
				invIDs = append(invIDs, l.id)
			}
		}

		all, stats := w.bundle(t, ledger.BundleSelection{})
		r := verifyBundle(t, all, key)
		if !r.OK() || !r.Complete || r.Entries != int64(len(leaves)) || stats.Entries != r.Entries || r.Workspace != w.f.Workspace.ID {
			t.Fatalf("whole ledger: %s %+v", r.Summary(), stats)
		}
		if !strings.Contains(r.Summary(), "complete") {
			t.Errorf("summary %q", r.Summary())
		}
		for _, log := range ledger.Logs {
			data, _ := w.bundle(t, ledger.BundleSelection{Log: log})
			r := verifyBundle(t, data, key)
			if !r.OK() || r.Complete || r.Entries != count[log] {
				t.Fatalf("%s: %s", log, r.Summary())
			}
		}
		// Some entries, as the change-log export's filter picks them: one
		// not sealed yet is left out and counted.
		w.receive(t, "9")
		page, err := ledgerTestNewest(w)
		if err != nil {
			t.Fatal(err)
		}
		some := append([]int64{page}, invIDs[:2]...)
		data, stats := w.bundle(t, ledger.BundleSelection{Log: ledger.InventoryLog, Entries: func(ctx context.Context, yield func([]int64) error) error {
			return yield(some)
		}})
		if r := verifyBundle(t, data, key); !r.OK() || r.Entries != 2 || stats.Unsealed != 1 {
			t.Fatalf("selection: %s %+v", r.Summary(), stats)
		}

		// One byte changed anywhere in an entry line fails (every byte of
		// the first and the last entry line, with and without proofs).
		for _, bundle := range [][]byte{all, data} {
			lines := bytes.SplitAfter(bundle, []byte("\n"))
			start := len(lines[0])
			for n, line := range lines[1 : len(lines)-2] {
				if n != 0 && n != len(lines)-4 {
					start += len(line)
					continue
				}
				for i := 0; i < len(line)-1; i++ {
					tampered := bytes.Clone(bundle)
					tampered[start+i] ^= 0x01
					r, err := ledger.VerifyBundle(bytes.NewReader(tampered), []string{key})
					if err == nil && r.OK() {
						t.Fatalf("byte %d of %q changed to %q: still verifies", i, line, tampered[start+i])
					}
				}
				start += len(line)
			}
		}
		// An entry named when its proof fails.
		lines := bytes.SplitAfter(data, []byte("\n"))
		bad := bytes.Replace(data, lines[1], bytes.Replace(lines[1], []byte(`"actor_kind":"`), []byte(`"actor_kind":"x`), 1), 1)
		if r := verifyBundle(t, bad, key); r.OK() || r.Problems[0].Log != ledger.InventoryLog || r.Problems[0].EntryID != some[1] {
			t.Fatalf("altered entry: %+v", r.Problems)
		}
		// A line cut off the end.
		if r := verifyBundle(t, all[:len(all)-len(lines[len(lines)-2])-1], key); r.OK() {
			t.Fatal("a cut bundle verifies")
		}

		// A wrong key fails; no key is an error.
		_, other, err := ledger.NewKey("test-key")
		if err != nil {
			t.Fatal(err)
		}
		if r := verifyBundle(t, all, other.Verifier); r.OK() || !strings.Contains(r.Summary(), "not signed by any of the pinned keys") {
			t.Fatalf("wrong key: %s", r.Summary())
		}
		if _, err := ledger.VerifyBundle(bytes.NewReader(all), nil); err == nil {
			t.Fatal("no key accepted")
		}
		if _, err := ledger.VerifyBundle(strings.NewReader("hello\n"), []string{key}); err == nil {
			t.Fatal("not a bundle accepted")
		}

		// The entries' read permission: an operator may not take the
		// activity log, so not the whole ledger either.
		op := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.User, ID: 999, Name: "op", Role: actor.Operator})
		for _, sel := range []ledger.BundleSelection{{}, {Log: ledger.ActivityEvents}} {
			if _, err := ledger.WriteBundle(op, db, &bytes.Buffer{}, sel); !fault.Is(err, fault.Forbidden) {
				t.Fatalf("operator, %q: %v", sel.Log, err)
			}
		}
		if _, err := ledger.WriteBundle(op, db, &bytes.Buffer{}, ledger.BundleSelection{Log: ledger.InventoryLog}); err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.WriteBundle(w.f.Ctx, db, &bytes.Buffer{}, ledger.BundleSelection{Log: "ledger_keys"}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("unknown log: %v", err)
		}
	})
}

// ledgerTestNewest is the newest change-log entry's id.
func ledgerTestNewest(w *world) (int64, error) {
	var id int64
	err := w.db.Read().QueryRowContext(context.Background(), `SELECT MAX(id) FROM inventory_log WHERE workspace_id = $1`, w.f.Workspace.ID).Scan(&id)
	return id, err
}
