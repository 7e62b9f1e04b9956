package inventory_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// step is one movement of BOLT-M8 (unit pcs) in a backdated scenario. A
// record is named by its location ("A1", "A2") and lot; eff zero means now.
type step struct {
	kind string // receive, issue, move (to A2), correct, split (into lot "S"), delete
	loc  string
	lot  string
	qty  string // quantity, or the change of a correction
	eff  time.Time
}

func (w *world) loc(code string) inventory.Location {
	if code == "A2" {
		return w.a2
	}
	return w.a1
}

func (w *world) recordAt(t *testing.T, code, lot string) int64 {
	t.Helper()
	rs, err := inventory.ListRecords(w.f.Ctx, w.db, inventory.RecordFilter{ItemID: w.bolt.ID, LocationID: w.loc(code).ID, WithEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Lot == lot {
			return r.ID
		}
	}
	t.Fatalf("no record of BOLT-M8 at %s lot %q", code, lot)
	return 0
}

func (w *world) movement(t *testing.T, s step) inventory.Movement {
	t.Helper()
	o := inventory.Options{EffectiveAt: s.eff, Reason: "test"}
	q := inventory.DecimalText(s.qty)
	switch s.kind {
	case "receive":
		return &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.loc(s.loc).ID},
			Lot: s.lot, Quantity: q, Options: o}
	case "issue":
		return &inventory.Issue{RecordRef: inventory.RecordRef{RecordID: w.recordAt(t, s.loc, s.lot)}, Quantity: q, Options: o}
	case "move":
		return &inventory.Move{RecordRef: inventory.RecordRef{RecordID: w.recordAt(t, s.loc, s.lot)}, ToLocationID: w.a2.ID, Quantity: q, Options: o}
	case "correct":
		return &inventory.Correction{RecordRef: inventory.RecordRef{RecordID: w.recordAt(t, s.loc, s.lot)}, Change: q, Options: o}
	case "split":
		return &inventory.Split{RecordRef: inventory.RecordRef{RecordID: w.recordAt(t, s.loc, s.lot)}, NewLot: "S", Quantity: q, Options: o}
	}
	t.Fatalf("unknown step %q", s.kind)
	return nil
}

func (w *world) run(t *testing.T, s step) error {
	t.Helper()
	if s.kind == "delete" {
		_, err := inventory.DeleteRecord(w.ctx, w.db, w.recordAt(t, s.loc, s.lot), inventory.Options{EffectiveAt: s.eff, Reason: "test"})
		return err
	}
	_, err := inventory.Apply(w.ctx, w.db, w.movement(t, s))
	return err
}

func (w *world) logCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1`,
		w.f.Workspace.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lowestAsOf asks StockAsOf at every effective time in the log (and just
// before each) and returns the lowest level of any item-location it shows.
func (w *world) lowestAsOf(t *testing.T) (string, time.Time) {
	t.Helper()
	rows, err := w.db.Read().QueryContext(context.Background(), `SELECT DISTINCT effective_at FROM inventory_log WHERE workspace_id = $1`,
		w.f.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	var moments []time.Time
	for rows.Next() {
		var us int64
		if err := rows.Scan(&us); err != nil {
			t.Fatal(err)
		}
		moments = append(moments, store.Time(us), store.Time(us).Add(-time.Microsecond))
	}
	rows.Close()
	var low inventory.Quantity
	var at time.Time
	for _, m := range moments {
		ls, err := inventory.StockAsOf(w.ctx, w.db, m, inventory.StockFilter{WithEmpty: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Quantity < low {
				low, at = l.Quantity, m
			}
		}
	}
	return low.Format(0), at
}

func TestBackdatedOutflows(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2025, 9, d, h, 0, 0, 0, time.UTC) }
	mon, tue, wed, thu, fri := day(15, 9), day(16, 9), day(17, 9), day(18, 9), day(19, 9)
	aug10 := time.Date(2025, 8, 10, 9, 0, 0, 0, time.UTC)
	sep5 := time.Date(2025, 9, 5, 9, 0, 0, 0, time.UTC)
	oct20 := time.Date(2025, 10, 20, 9, 0, 0, 0, time.UTC)
	nov3 := time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		allowNeg bool
		before   []step
		try      step
		field    string // empty: accepted
		message  string // part of the refusal
	}{
		{name: "issue before the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"issue", "A1", "", "5", mon},
			field:  "quantity", message: "as of 2025-09-15 09:00 UTC only 0 pcs of BOLT-M8 at WH1/A1 were in stock"},
		{name: "issue after the receipt",
			before: []step{{"receive", "A1", "", "10", mon}},
			try:    step{"issue", "A1", "", "10", tue}},
		{name: "fits at its moment and after",
			before: []step{{"receive", "A1", "", "10", mon}, {"issue", "A1", "", "4", thu}},
			try:    step{"issue", "A1", "", "6", tue}},
		{name: "dip after the effective time",
			before: []step{{"receive", "A1", "", "10", mon}, {"issue", "A1", "", "4", thu}, {"receive", "A1", "", "10", fri}},
			try:    step{"issue", "A1", "", "7", tue},
			field:  "quantity", message: "as of 2025-09-18 09:00 UTC only 6 pcs"},
		{name: "another lot's stock counts at the item-location",
			before: []step{{"receive", "A1", "L1", "10", mon}, {"receive", "A1", "L2", "10", wed}},
			try:    step{"issue", "A1", "L2", "8", tue}},
		{name: "the other lot's stock is not enough",
			before: []step{{"receive", "A1", "L1", "5", mon}, {"receive", "A1", "L2", "10", wed}},
			try:    step{"issue", "A1", "L2", "8", tue},
			field:  "quantity", message: "as of 2025-09-16 09:00 UTC only 5 pcs"},
		{name: "move before the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"move", "A1", "", "5", mon},
			field:  "quantity", message: "as of 2025-09-15 09:00 UTC only 0 pcs of BOLT-M8 at WH1/A1"},
		{name: "move after the receipt, destination empty before",
			before: []step{{"receive", "A1", "", "10", mon}},
			try:    step{"move", "A1", "", "5", tue}},
		{name: "issue at a move's destination, short later",
			before: []step{{"receive", "A1", "", "10", mon}, {"move", "A1", "", "10", tue}, {"issue", "A2", "", "10", thu}, {"receive", "A2", "", "5", fri}},
			try:    step{"issue", "A2", "", "1", wed},
			field:  "quantity", message: "as of 2025-09-18 09:00 UTC only 0 pcs of BOLT-M8 at WH1/A2"},
		{name: "negative correction before the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"correct", "A1", "", "-3", mon},
			field:  "change", message: "as of 2025-09-15 09:00 UTC only 0 pcs"},
		{name: "positive correction before the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"correct", "A1", "", "3", mon}},
		{name: "delete before the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"delete", "A1", "", "", mon},
			field:  "effective_at", message: "taking out 10 effective 2025-09-15 09:00 UTC"},
		{name: "split keeps the item-location level",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"split", "A1", "", "5", mon}},
		{name: "workspace allows negative stock",
			allowNeg: true,
			before:   []step{{"receive", "A1", "", "10", wed}},
			try:      step{"issue", "A1", "", "5", mon}},
		{name: "same effective time: the new entry comes after",
			before: []step{{"receive", "A1", "", "10", mon}},
			try:    step{"issue", "A1", "", "10", mon}},
		{name: "same effective time: a later dip at one moment",
			before: []step{{"receive", "A1", "", "10", mon}, {"issue", "A1", "", "10", wed}, {"receive", "A1", "", "5", fri}},
			try:    step{"issue", "A1", "", "1", mon},
			field:  "quantity", message: "as of 2025-09-17 09:00 UTC only 0 pcs"},
		{name: "same effective time: entries of one moment count together",
			before: []step{{"receive", "A1", "", "5", mon}, {"issue", "A1", "", "5", wed}, {"receive", "A1", "", "5", wed}},
			try:    step{"issue", "A1", "", "1", tue}},
		{name: "a second earlier than the receipt",
			before: []step{{"receive", "A1", "", "10", wed}},
			try:    step{"issue", "A1", "", "1", wed.Add(-time.Second)},
			field:  "quantity", message: "as of 2025-09-17 08:59:59 UTC only 0 pcs"},
		{name: "months: fits with checkpoints before",
			before: []step{{"receive", "A1", "", "10", aug10}, {"issue", "A1", "", "8", oct20}},
			try:    step{"issue", "A1", "", "2", sep5}},
		{name: "months: dip in a later month",
			before: []step{{"receive", "A1", "", "10", aug10}, {"issue", "A1", "", "8", oct20}, {"receive", "A1", "", "10", nov3}},
			try:    step{"issue", "A1", "", "3", sep5},
			field:  "quantity", message: "as of 2025-10-20 09:00 UTC only 2 pcs"},
		{name: "months: receipt in a later month",
			before: []step{{"receive", "A1", "", "4", aug10}, {"receive", "A1", "", "10", oct20}},
			try:    step{"issue", "A1", "", "5", sep5},
			field:  "quantity", message: "as of 2025-09-05 09:00 UTC only 4 pcs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Engines(t, func(t *testing.T, db *store.DB) {
				w := newWorld(t, db)
				if tt.allowNeg {
					if _, err := workspaceUpdate(w, true); err != nil {
						t.Fatal(err)
					}
				}
				for _, s := range tt.before {
					if err := w.run(t, s); err != nil {
						t.Fatalf("setup %+v: %v", s, err)
					}
				}
				n := w.logCount(t)
				err := w.run(t, tt.try)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					low, at := w.lowestAsOf(t)
					if tt.allowNeg {
						if low != "-5" {
							t.Fatalf("lowest as-of %s at %s, want -5", low, at)
						}
					} else if strings.HasPrefix(low, "-") {
						t.Fatalf("as of %s the level is %s", at, low)
					}
					return
				}
				e, ok := fault.As(err)
				if !ok || e.Kind != fault.Invalid || !strings.Contains(e.Fields[tt.field], tt.message) {
					t.Fatalf("want %s refused with %q, got %v (%+v)", tt.field, tt.message, err, e)
				}
				if got := w.logCount(t); got != n {
					t.Fatalf("log grew from %d to %d entries", n, got)
				}
				if low, at := w.lowestAsOf(t); strings.HasPrefix(low, "-") {
					t.Fatalf("as of %s the level is %s", at, low)
				}
			})
		})
	}
}

// Near now: an effective time within the tolerance is checked against the
// current level only, as before; beyond it the history counts.
func TestBackdatedTolerance(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		issue := func(qty string, eff time.Time) error {
			_, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: inventory.DecimalText(qty),
				Options: inventory.Options{EffectiveAt: eff}})
			return err
		}
		err := issue("2", time.Now().Add(-2*inventory.BackdateTolerance))
		if e, ok := fault.As(err); !ok || !strings.Contains(e.Fields["quantity"], "only 0 pcs of BOLT-M8") {
			t.Fatalf("before the receipt: %v", err)
		}
		if err := issue("2", time.Time{}); err != nil {
			t.Fatalf("now: %v", err)
		}
		// Also before the receipt, but within the tolerance: accepted as
		// before (as of the half minute before the receipt the level is -2).
		if err := issue("2", time.Now().Add(-inventory.BackdateTolerance/2)); err != nil {
			t.Fatalf("within the tolerance: %v", err)
		}
		// The current level still bounds a movement near now.
		if err := issue("7", time.Time{}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("more than the record holds: %v", err)
		}
		if got := w.level(t, r.ID); got != "6" {
			t.Fatalf("level %s", got)
		}
	})
}

// In one batch, a backdated receipt written first covers a backdated issue
// after it: the check reads the transaction's own entries.
func TestBackdatedBatch(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		mon := time.Date(2025, 9, 15, 9, 0, 0, 0, time.UTC)
		w.receive(t, "BOLT-M8", w.a1, "", "10")
		r := w.recordAt(t, "A1", "")
		in := &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID},
			Quantity: "3", Options: inventory.Options{EffectiveAt: mon}}
		out := func(q string) *inventory.Issue {
			return &inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r}, Quantity: inventory.DecimalText(q),
				Options: inventory.Options{EffectiveAt: mon.Add(time.Hour)}}
		}
		if _, err := inventory.Apply(w.ctx, db, in, out("4")); !fault.Is(err, fault.Invalid) {
			t.Fatalf("issue of 4 after a receipt of 3: %v", err)
		}
		if _, err := inventory.Apply(w.ctx, db, in, out("3")); err != nil {
			t.Fatal(err)
		}
		if got := w.level(t, r); got != "10" {
			t.Fatalf("level %s", got)
		}
	})
}

// Concurrent backdated issues from two lots of one item-location: each
// fits alone, together only as many as the level back then allows. On
// PostgreSQL the item-location's level row serializes them.
func TestConcurrentBackdatedIssues(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		mon, tue, wed := time.Date(2025, 9, 15, 9, 0, 0, 0, time.UTC), time.Date(2025, 9, 16, 9, 0, 0, 0, time.UTC), time.Date(2025, 9, 17, 9, 0, 0, 0, time.UTC)
		for _, s := range []step{{"receive", "A1", "L1", "5", mon}, {"receive", "A1", "L2", "10", wed}} {
			if err := w.run(t, s); err != nil {
				t.Fatal(err)
			}
		}
		lots := []int64{w.recordAt(t, "A1", "L1"), w.recordAt(t, "A1", "L2")}
		const workers, rounds = 8, 3
		var wg sync.WaitGroup
		var accepted atomic.Int64
		errs := make(chan error, workers*rounds)
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					_, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: lots[(g+i)%2]}, Quantity: "1",
						Options: inventory.Options{EffectiveAt: tue}})
					switch {
					case err == nil:
						accepted.Add(1)
					case !fault.Is(err, fault.Invalid):
						errs <- err
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := accepted.Load(); got != 5 {
			t.Errorf("accepted %d issues of 1 against a level of 5", got)
		}
		if low, at := w.lowestAsOf(t); strings.HasPrefix(low, "-") {
			t.Fatalf("as of %s the level is %s", at, low)
		}
	})
}
