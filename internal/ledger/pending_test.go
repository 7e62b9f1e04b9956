package ledger_test

import (
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestPendingBacklog(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		before := time.Now().Add(-time.Second)
		w.receive(t, "1")
		b, err := ledger.PendingBacklog(w.f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pending == 0 || b.OldestAt.IsZero() || b.Lag(time.Now()) <= 0 || b.Lag(time.Now()) > time.Since(before)+time.Minute {
			// The fixture's own events may be a little older than the receipt.
			t.Fatalf("backlog before sealing: %+v (lag %v)", b, b.Lag(time.Now()))
		}
		w.seal(t)
		b, err = ledger.PendingBacklog(w.f.Ctx, db)
		if err != nil || b.Pending != 0 || !b.OldestAt.IsZero() || b.Lag(time.Now()) != 0 {
			t.Fatalf("backlog after sealing: %+v %v", b, err)
		}
		// An entry dated ahead of now is not a negative lag.
		if lag := (ledger.Backlog{Pending: 1, OldestAt: time.Now().Add(time.Hour)}).Lag(time.Now()); lag != 0 {
			t.Errorf("lag of a future entry: %v", lag)
		}
		if _, err := ledger.PendingBacklog(t.Context(), db); err == nil {
			t.Error("backlog read without an actor")
		}
	})
}
