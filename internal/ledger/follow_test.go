package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// followed collects what a consumer was handed, by writing it with the
// transaction it was given: a crash between handing and committing must
// lose both or neither.
type followed struct {
	seqs []int64
}

func (f *followed) consume(fail error) func(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
	return func(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
		if a, _ := actor.From(ctx); a.Kind != actor.System || a.WorkspaceID != ws {
			return errors.New("fn not given the workspace's system actor")
		}
		if fail != nil {
			return fail
		}
		for _, e := range entries {
			f.seqs = append(f.seqs, e.Seq)
		}
		return nil
	}
}

func TestFollowHandsEachSealedEntryOnceInOrder(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		w.receive(t, "1")
		w.seal(t)
		var got followed
		// A new consumer starts at the end: history is not replayed.
		if n, err := ledger.Follow(ctx, db, "test", 3, got.consume(nil)); err != nil || n != 0 {
			t.Fatalf("first follow handed %d (%v), want 0", n, err)
		}
		head, err := ledger.Head(w.f.Ctx, db)
		if err != nil || head < 0 {
			t.Fatalf("head %d, %v", head, err)
		}
		for i := 0; i < 4; i++ {
			w.receive(t, "2")
		}
		w.seal(t)
		// A failing consumer writes nothing and sees the same entries again.
		if _, err := ledger.Follow(ctx, db, "test", 3, got.consume(errors.New("receiver down"))); err == nil {
			t.Fatal("failure not reported")
		}
		n, err := ledger.Follow(ctx, db, "test", 3, got.consume(nil))
		if err != nil {
			t.Fatal(err)
		}
		since, err := ledger.Since(w.f.Ctx, db, head, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(since) || len(got.seqs) != len(since) {
			t.Fatalf("handed %d (%v), sealed since head %d", n, got.seqs, len(since))
		}
		for i, s := range since {
			if got.seqs[i] != s.Seq || s.Seq != head+1+int64(i) {
				t.Fatalf("handed %v, sealed %+v", got.seqs, since)
			}
		}
		// Nothing new: nothing handed; a second consumer is independent.
		if n, _ := ledger.Follow(ctx, db, "test", 3, got.consume(nil)); n != 0 {
			t.Fatalf("handed %d again", n)
		}
		// Every entry is one of the workspace's and loads with its log.
		var events, entries []int64
		for _, s := range since {
			if s.Log == ledger.ActivityEvents {
				events = append(events, s.EntryID)
			} else {
				entries = append(entries, s.EntryID)
			}
		}
		evs, err := activity.EventsByID(w.f.Ctx, db, events)
		if err != nil || len(evs) != len(events) {
			t.Fatalf("events %d of %d: %v", len(evs), len(events), err)
		}
		ents, err := inventory.EntriesByID(w.f.Ctx, db, entries)
		if err != nil || len(ents) != len(entries) || len(ents) != 4 {
			t.Fatalf("entries %d of %d: %v", len(ents), len(entries), err)
		}
		for i, e := range ents {
			if e.ID != entries[i] {
				t.Fatalf("entries out of order: %v vs %v", e.ID, entries)
			}
		}
	})
}

func TestSinceNeedsAMemberAndReadsOwnWorkspace(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "1")
		w.seal(t)
		if _, err := ledger.Since(context.Background(), db, -1, 10); err == nil {
			t.Fatal("read without an actor")
		}
		other := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID+1000, "other"))
		got, err := ledger.Since(other, db, -1, 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("another workspace sees %d entries (%v)", len(got), err)
		}
		if _, err := activity.EventsByID(actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.User, Role: actor.Operator}), db, []int64{1}); err == nil {
			t.Fatal("an operator read activity events")
		}
	})
}
