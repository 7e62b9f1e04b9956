package inventory_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestBatchLocksRecordsInIDOrderFirst: on PostgreSQL a batch takes every
// record lock it needs, in id order, before its first movement, so two
// batches naming the same records in other orders wait for each other
// instead of deadlocking. The batch below names the higher id first; while
// it waits for that record (held by another transaction), it must already
// hold the lower one.
func TestBatchLocksRecordsInIDOrderFirst(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	w := newWorld(t, db)
	low := w.receive(t, "BOLT-M8", w.a1, "", "10")
	high := w.receive(t, "BOLT-M8", w.a2, "", "10")
	if low.ID >= high.ID {
		t.Fatalf("record ids %d, %d", low.ID, high.ID)
	}

	holding, probe := make(chan struct{}), make(chan struct{})
	probed := make(chan error, 1)
	errDone := errors.New("done")
	go func() {
		err := db.InTx(w.ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(w.ctx, `SELECT id FROM inventory_records WHERE id = $1 FOR UPDATE`, high.ID); err != nil {
				return err
			}
			close(holding)
			<-probe
			_, err := tx.ExecContext(w.ctx, `SELECT id FROM inventory_records WHERE id = $1 FOR UPDATE NOWAIT`, low.ID)
			probed <- err
			return errDone
		})
		if !errors.Is(err, errDone) {
			t.Errorf("holder: %v", err)
		}
	}()
	<-holding
	applied := make(chan error, 1)
	go func() {
		_, err := inventory.Apply(w.ctx, db,
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: high.ID}, Quantity: "1"},
			&inventory.Issue{RecordRef: inventory.RecordRef{RecordID: low.ID}, Quantity: "2"})
		applied <- err
	}()
	// Wait until the batch waits on a row lock.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		if err := db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%inventory_records%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch never waited for the held record")
		}
	}
	close(probe)
	err := <-probed
	if !store.IsLockNotAvailable(err) {
		t.Fatalf("the lower record was free while the batch waited (probe: %v): locks were not taken up front in id order", err)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if w.level(t, low.ID) != "8" || w.level(t, high.ID) != "9" {
		t.Fatalf("levels %s %s", w.level(t, low.ID), w.level(t, high.ID))
	}
}

// TestConcurrentBatches: batches naming the same records in different
// orders, receipts and issues mixed, from many goroutines. Nothing is lost
// (each record's level is what the accepted batches moved), no level goes
// below zero, no batch fails but those refused for want of stock, and the
// invariant holds (checked at cleanup).
func TestConcurrentBatches(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		recs := []inventory.Record{
			w.receive(t, "BOLT-M8", w.a1, "", "40"),
			w.receive(t, "BOLT-M8", w.a2, "", "40"),
			w.receive(t, "BOLT-M8", w.a1, "L2", "40"),
			w.receive(t, "OIL-5", w.a1, "", "40"),
		}
		const workers, rounds = 6, 12
		var mu sync.Mutex
		moved := map[int64]int64{}
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				for i := 0; i < rounds; i++ {
					var ms []inventory.Movement
					change := map[int64]int64{}
					for _, k := range rng.Perm(len(recs)) {
						r := recs[k]
						if rng.IntN(2) == 0 {
							ms = append(ms, &inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: r.ItemID},
								LocationRef: inventory.LocationRef{LocationID: r.LocationID}, Lot: r.Lot, Quantity: "2"})
							change[r.ID] += 2
						} else {
							ms = append(ms, &inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "3"})
							change[r.ID] -= 3
						}
					}
					_, err := inventory.Apply(w.ctx, db, ms...)
					switch {
					case err == nil:
						mu.Lock()
						for id, d := range change {
							moved[id] += d
						}
						mu.Unlock()
					case fault.Is(err, fault.Invalid):
					default:
						errs <- fmt.Errorf("worker %d round %d: %w", g, i, err)
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, r := range recs {
			want := 40 + moved[r.ID]
			if got := w.level(t, r.ID); got != fmt.Sprint(want) && got != fmt.Sprintf("%d.00", want) {
				t.Errorf("record %d level %s, want %d", r.ID, got, want)
			}
		}
		w.noNegativeLevels(t, inventory.LogFilter{Limit: 1000})
	})
}
