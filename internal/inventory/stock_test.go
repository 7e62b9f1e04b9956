package inventory_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func levelOf(ls []inventory.Level, itemID, locationID int64) string {
	for _, l := range ls {
		if l.ItemID == itemID && l.LocationID == locationID {
			return l.QuantityText()
		}
	}
	return "none"
}

// clockPast returns once the clock reads later than t at the resolution of
// recorded times (microseconds), so that whatever is recorded next is
// recorded after t. That takes at most a microsecond.
func clockPast(t time.Time) {
	for !time.Now().Truncate(time.Microsecond).After(t) {
		runtime.Gosched()
	}
}

// lastRecorded is when the latest of entries was recorded.
func lastRecorded(entries []inventory.Entry) time.Time {
	var last time.Time
	for _, e := range entries {
		if e.RecordedAt.After(last) {
			last = e.RecordedAt
		}
	}
	return last
}

func TestAsOfWithLateEntries(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		now := time.Now().UTC()
		lastYear := now.AddDate(-1, 0, 0)
		twoMonthsAgo := now.AddDate(0, -2, 0)
		r := w.receive(t, "BOLT-M8", w.a1, "", "10")
		firstPage, err := inventory.ListLog(ctx, db, inventory.LogFilter{RecordID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		// The moment the first receipt was recorded; the late entries below
		// are recorded after it.
		afterFirst := lastRecorded(firstPage.Entries)
		clockPast(afterFirst)
		// A receipt entered late: effective a year ago.
		if _, err := inventory.Receive(ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID},
			Quantity: "5", Options: inventory.Options{EffectiveAt: lastYear}}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.IssueStock(ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "2",
			Options: inventory.Options{EffectiveAt: twoMonthsAgo}}); err != nil {
			t.Fatal(err)
		}
		at := func(t0 time.Time) string {
			ls, err := inventory.StockAsOf(ctx, db, t0, inventory.StockFilter{ItemID: w.bolt.ID})
			if err != nil {
				t.Fatal(err)
			}
			return levelOf(ls, w.bolt.ID, w.a1.ID)
		}
		if got := at(lastYear.Add(-time.Second)); got != "none" {
			t.Errorf("before everything: %s", got)
		}
		if got := at(lastYear); got != "5" {
			t.Errorf("a year ago: %s", got)
		}
		if got := at(twoMonthsAgo.Add(time.Hour)); got != "3" {
			t.Errorf("two months ago: %s", got)
		}
		if got := at(time.Now()); got != "13" {
			t.Errorf("now: %s", got)
		}
		// Whole workspace and one location agree.
		all, err := inventory.StockAsOf(ctx, db, time.Now(), inventory.StockFilter{})
		if err != nil || levelOf(all, w.bolt.ID, w.a1.ID) != "13" {
			t.Fatalf("workspace as-of %v %v", all, err)
		}
		byLoc, err := inventory.StockAsOf(ctx, db, time.Now(), inventory.StockFilter{LocationID: w.a1.ID})
		if err != nil || levelOf(byLoc, w.bolt.ID, w.a1.ID) != "13" {
			t.Fatalf("location as-of %v %v", byLoc, err)
		}
		cur, err := inventory.CurrentStock(ctx, db, inventory.StockFilter{})
		if err != nil || levelOf(cur, w.bolt.ID, w.a1.ID) != "13" {
			t.Fatalf("current %v %v", cur, err)
		}
		// Late entries were appended: the earlier entries are as they were.
		for _, before := range firstPage.Entries {
			page, err := inventory.ListLog(ctx, db, inventory.LogFilter{RecordID: r.ID, Before: before.ID + 1, Limit: 1})
			if err != nil || len(page.Entries) != 1 || fmt.Sprint(page.Entries[0]) != fmt.Sprint(before) {
				t.Fatalf("entry %d changed: %+v", before.ID, page.Entries)
			}
		}
		late, err := inventory.ListLog(ctx, db, inventory.LogFilter{RecordID: r.ID, Limit: 100})
		if err != nil || len(late.Entries) != len(firstPage.Entries)+2 {
			t.Fatalf("log after the late entries: %+v %v", late.Entries, err)
		}
		for _, e := range late.Entries[:2] {
			if !e.RecordedAt.After(afterFirst) {
				t.Fatalf("late entry %d recorded at %v, not after the first receipt (%v)", e.ID, e.RecordedAt, afterFirst)
			}
		}
		// What the system showed right after the first receipt: 10, even
		// though later entries are effective earlier.
		shown, err := inventory.StockAsShown(ctx, db, afterFirst, inventory.StockFilter{})
		if err != nil || levelOf(shown, w.bolt.ID, w.a1.ID) != "10" {
			t.Fatalf("as shown %v %v", shown, err)
		}
		diff, err := inventory.StockDiff(ctx, db, lastYear.Add(time.Hour), time.Now(), inventory.StockFilter{})
		if err != nil || len(diff) != 1 || diff[0].FromText() != "5" || diff[0].ToText() != "13" || diff[0].ChangeText() != "8" {
			t.Fatalf("diff %+v %v", diff, err)
		}
		if _, err := inventory.StockDiff(ctx, db, time.Now(), lastYear, inventory.StockFilter{}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("reversed diff: %v", err)
		}
	})
}

func TestChangeLogFiltersAndPages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		r := w.receive(t, "BOLT-M8", w.a1, "", "100")
		for i := 0; i < 25; i++ {
			if _, err := inventory.IssueStock(ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "1"}); err != nil {
				t.Fatal(err)
			}
		}
		// mid is when the OIL-5 entries were recorded, after every BOLT-M8
		// entry.
		bolts, err := inventory.ListLog(ctx, db, inventory.LogFilter{ItemID: w.bolt.ID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		clockPast(lastRecorded(bolts.Entries))
		w.receive(t, "OIL-5", w.a2, "", "1")
		oil, err := inventory.ListLog(ctx, db, inventory.LogFilter{SKU: "OIL-5", Limit: 500})
		if err != nil || len(oil.Entries) == 0 {
			t.Fatalf("OIL-5 entries: %+v %v", oil.Entries, err)
		}
		mid := oil.Entries[len(oil.Entries)-1].RecordedAt // newest first: the earliest
		if !mid.After(lastRecorded(bolts.Entries)) {
			t.Fatalf("OIL-5 recorded at %v, not after the last BOLT-M8 entry (%v)", mid, lastRecorded(bolts.Entries))
		}
		var seen []int64
		cursor := int64(0)
		for pages := 0; ; pages++ {
			p, err := inventory.ListLog(ctx, db, inventory.LogFilter{ItemID: w.bolt.ID, Before: cursor, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				if e.SKU != "BOLT-M8" {
					t.Fatalf("filter leaked %+v", e)
				}
				seen = append(seen, e.ID)
			}
			if p.NextCursor == "" {
				break
			}
			if cursor, err = inventory.ParseCursor(p.NextCursor); err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 27 { // create_record + receipt + 25 issues
			t.Fatalf("paged %d entries", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatal("not newest first")
			}
		}
		count := func(f inventory.LogFilter) int {
			f.Limit = 500
			p, err := inventory.ListLog(ctx, db, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Entries)
		}
		if n := count(inventory.LogFilter{SKU: "OIL-5"}); n != 2 {
			t.Errorf("by SKU: %d", n)
		}
		if n := count(inventory.LogFilter{LocationID: w.a2.ID}); n != 2 {
			t.Errorf("by location: %d", n)
		}
		if n := count(inventory.LogFilter{Action: inventory.CreateRecordAction}); n != 2 {
			t.Errorf("by action: %d", n)
		}
		if n := count(inventory.LogFilter{ActorKind: "user", ActorID: w.f.Admin.ID}); n != 29 {
			t.Errorf("by user: %d", n)
		}
		if n := count(inventory.LogFilter{ActorKind: "station"}); n != 0 {
			t.Errorf("by station: %d", n)
		}
		if n := count(inventory.LogFilter{From: mid}); n != 2 {
			t.Errorf("from: %d", n)
		}
		if n := count(inventory.LogFilter{To: mid}); n != 27 {
			t.Errorf("to: %d", n)
		}
		if n := count(inventory.LogFilter{From: time.Now().Add(time.Hour)}); n != 0 {
			t.Errorf("future: %d", n)
		}
		for _, bad := range []inventory.LogFilter{{SKU: "NOPE"}, {Action: "steal"}, {ActorKind: "robot"}, {From: mid, To: mid.Add(-time.Hour)}} {
			if _, err := inventory.ListLog(ctx, db, bad); !fault.Is(err, fault.Invalid) {
				t.Errorf("filter %+v: %v", bad, err)
			}
		}
		if _, err := inventory.ParseCursor("garbage"); err == nil {
			t.Error("bad cursor accepted")
		}
	})
}

func TestExportLog(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "OIL-5", w.a1, "", "2.5")
		sealer := ledgertest.NewSealer(t, db)
		if _, err := sealer.Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := inventory.ExportLog(w.ctx, db, inventory.LogFilter{SKU: "OIL-5"}, inventory.XLSX, &buf)
		if err != nil || n != 2 {
			t.Fatalf("export %d %v", n, err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows("Change log")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"SKU", "Quantity", "Unit", "Action type", "User", "Station", "Timestamp"}
		if strings.Join(rows[0][:7], ",") != strings.Join(want, ",") {
			t.Fatalf("header %v", rows[0])
		}
		typ, err := f.GetCellType("Change log", "B2")
		if err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("quantity cell type %v %v", typ, err)
		}
		if v, _ := f.GetCellValue("Change log", "B2", excelize.Options{RawCellValue: true}); v != "2.5" {
			t.Fatalf("quantity %q", v)
		}
		if rows[1][3] != "user_action" || rows[1][4] != "admin@example.com" && rows[1][4] == "" {
			t.Fatalf("row %v", rows[1])
		}
		// The last column: every entry sealed, each with the ledger's
		// sequence as a number; the allocated columns just before it.
		if len(rows[0]) != 22 || rows[0][21] != "Ledger sequence" || rows[0][19] != "Allocated change" {
			t.Fatalf("header %v", rows[0])
		}
		checkSequences(t, w, rows[1:], 2)
		if typ, err := f.GetCellType("Change log", "V2"); err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("sequence cell type %v %v", typ, err)
		}
		// A new record's two entries, not sealed yet: their sequences are
		// empty.
		w.receive(t, "BOLT-M8", w.a2, "", "4")
		buf.Reset()
		if _, err := inventory.ExportLog(w.ctx, db, inventory.LogFilter{}, inventory.CSV, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "SKU,Quantity,Unit,Action type,User,Station,Timestamp,") ||
			!strings.HasSuffix(strings.SplitN(buf.String(), "\r\n", 2)[0], ",Record,Entry,Allocated change,Allocated after,Ledger sequence") || strings.Count(buf.String(), "\r\n") != 5 {
			t.Fatalf("csv %q", buf.String())
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		checkSequences(t, w, records[1:], 2)
		if records[1][21] != "" || records[2][21] != "" || records[3][21] == "" {
			t.Fatalf("sequences of the unsealed and sealed entries: %q", records)
		}
	})
}

// TestConcurrentMovements runs many goroutines receiving and issuing on the
// same record: no update is lost and the level never goes below zero.
func TestConcurrentMovements(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "50")
		const workers, rounds = 8, 25
		var wg sync.WaitGroup
		var issued, received, refused atomic.Int64
		errs := make(chan error, workers*rounds)
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					var err error
					if (g+i)%3 == 0 {
						_, err = inventory.Receive(w.ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"},
							LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "2"})
						if err == nil {
							received.Add(2)
						}
					} else {
						_, err = inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "3"})
						if err == nil {
							issued.Add(3)
						} else if fault.Is(err, fault.Invalid) {
							refused.Add(1)
							err = nil
						}
					}
					if err != nil {
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
		want := 50 + received.Load() - issued.Load()
		if got := w.level(t, r.ID); got != fmt.Sprint(want) {
			t.Fatalf("level %s, want %d (received %d issued %d refused %d)", got, want, received.Load(), issued.Load(), refused.Load())
		}
		w.noNegativeLevels(t, inventory.LogFilter{RecordID: r.ID, Limit: 500})
		t.Logf("received %d, issued %d, refused %d issues, final %d", received.Load(), issued.Load(), refused.Load(), want)
	})
}

// TestTwoNodesOnePostgres runs movements through two separate connection
// pools on one PostgreSQL database, as two `serve` processes would: the row
// locks, not anything in Go, keep the level exact.
func TestTwoNodesOnePostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	nodeA, nodeB := open(), open()
	if err := nodeA.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, nodeA)
	r := w.receive(t, "BOLT-M8", w.a1, "", "100")
	var wg sync.WaitGroup
	var issued atomic.Int64
	for g := 0; g < 8; g++ {
		node := nodeA
		if g%2 == 1 {
			node = nodeB
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, err := inventory.IssueStock(w.ctx, node, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "1"})
				if err == nil {
					issued.Add(1)
				} else if !fault.Is(err, fault.Invalid) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if issued.Load() != 100 {
		t.Fatalf("issued %d of 160 attempts, want exactly 100", issued.Load())
	}
	if got := w.level(t, r.ID); got != "0" {
		t.Fatalf("level %s", got)
	}
}

func TestSyntheticHistoryIsConsistent(t *testing.T) {
	for _, allocations := range []bool{false, true} {
		t.Run(fmt.Sprintf("allocations=%v", allocations), func(t *testing.T) { syntheticHistoryIsConsistent(t, allocations) })
	}
}

// syntheticHistoryIsConsistent loads a synthetic history (with allocations
// or without) and checks the invariant (newWorld's cleanup) and that the
// different reads of stock agree: as of now with current stock, as of a
// moment with as shown at it (recorded time is effective time here), on
// hand and allocated alike.
func syntheticHistoryIsConsistent(t *testing.T, allocations bool) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		if err := benchdata.LoadSynthetic(w.ctx, db, benchdata.Synthetic{Items: 3, Locations: 2, Entries: 10}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("a user loaded synthetic data: %v", err)
		}
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "loader"))
		if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 7, Locations: 3, Entries: 1234, Span: 400 * 24 * time.Hour, Seed: 9,
			Allocations: allocations}); err != nil {
			t.Fatal(err)
		}
		if allocations {
			var n int
			if err := db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1 AND allocated_change <> 0`,
				w.f.Workspace.ID).Scan(&n); err != nil || n < 100 {
				t.Fatalf("%d allocation entries (%v)", n, err)
			}
			cur, err := inventory.CurrentStock(w.ctx, db, inventory.StockFilter{})
			if err != nil {
				t.Fatal(err)
			}
			some := false
			for _, l := range cur {
				some = some || l.Allocated > 0
			}
			if !some {
				t.Fatal("nothing allocated at the end of the history")
			}
		}
		now, err := inventory.StockAsOf(w.ctx, db, time.Now(), inventory.StockFilter{})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := inventory.CurrentStock(w.ctx, db, inventory.StockFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(now) != fmt.Sprint(cur) {
			t.Fatalf("as-of now differs from current stock:\n%v\n%v", now, cur)
		}
		// Recorded time equals effective time in this history, so what the
		// system showed at any moment is the stock as of that moment; and
		// date-filtered log pages hold exactly the entries in the range.
		for _, daysAgo := range []int{390, 200, 31, 1} {
			k := time.Now().AddDate(0, 0, -daysAgo)
			asOf, err := inventory.StockAsOf(w.ctx, db, k, inventory.StockFilter{})
			if err != nil {
				t.Fatal(err)
			}
			shown, err := inventory.StockAsShown(w.ctx, db, k, inventory.StockFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(asOf) != fmt.Sprint(shown) {
				t.Fatalf("%d days ago: as-of and as-shown differ:\n%v\n%v", daysAgo, asOf, shown)
			}
			// Allocated as of k straight from the log, without checkpoints.
			logged := map[[2]int64]inventory.Quantity{}
			rows, err := db.Read().QueryContext(w.ctx, `SELECT item_id, location_id, SUM(allocated_change), SUM(change) FROM inventory_log
				WHERE workspace_id = $1 AND effective_at <= $2 GROUP BY item_id, location_id`, w.f.Workspace.ID, store.Micros(k))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var item, loc int64
				var alloc, onHand inventory.Quantity
				if err := rows.Scan(&item, &loc, &alloc, &onHand); err != nil {
					t.Fatal(err)
				}
				if alloc != 0 || onHand != 0 {
					logged[[2]int64{item, loc}] = alloc
				}
			}
			rows.Close()
			if len(asOf) != len(logged) {
				t.Fatalf("%d days ago: %d levels as of, the log has %d", daysAgo, len(asOf), len(logged))
			}
			for _, l := range asOf {
				if a := logged[[2]int64{l.ItemID, l.LocationID}]; l.Allocated != a || l.Available != l.Quantity-l.Allocated {
					t.Fatalf("%d days ago: %s at %s allocated %s, the log says %s", daysAgo, l.SKU, l.LocationPath, l.AllocatedText(), a.Format(0))
				}
			}
			from, to := k.AddDate(0, 0, -20), k
			var want int
			if err := db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM inventory_log WHERE workspace_id = $1 AND recorded_at >= $2 AND recorded_at < $3`,
				w.f.Workspace.ID, store.Micros(from), store.Micros(to)).Scan(&want); err != nil {
				t.Fatal(err)
			}
			got := 0
			for cursor := int64(0); ; {
				p, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{From: from, To: to, Before: cursor, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				got += len(p.Entries)
				if p.NextCursor == "" {
					break
				}
				cursor, _ = inventory.ParseCursor(p.NextCursor)
			}
			if got != want {
				t.Fatalf("%d days ago: date range gave %d entries, want %d", daysAgo, got, want)
			}
		}
	})
}

// StockAsOf reads forward from the checkpoints before t or backward from
// today's levels, whichever side of t holds less history; WithEmpty always
// reads forward. Both give the same non-zero levels at every moment.
func TestStockAsOfForwardAndBackwardAgree(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "loader"))
		span := 300 * 24 * time.Hour
		if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 6, Locations: 3, Entries: 4000, Span: span, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		items, err := inventory.ListItems(w.ctx, db, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for days := -5; days <= 310; days += 3 {
			at := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
			for _, f := range []inventory.StockFilter{{}, {ItemID: items[len(items)-1].ID}} {
				got, err := inventory.StockAsOf(w.ctx, db, at, f)
				if err != nil {
					t.Fatal(err)
				}
				f.WithEmpty = true
				all, err := inventory.StockAsOf(w.ctx, db, at, f)
				if err != nil {
					t.Fatal(err)
				}
				var want []inventory.Level
				for _, l := range all {
					if l.Quantity != 0 {
						want = append(want, l)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%d days ago, filter %+v:\n got %v\nwant %v", days, f, got, want)
				}
				// And the sums of the log's changes up to then, per item and
				// location, read the slow way.
				args := []any{w.f.Workspace.ID, store.Micros(at)}
				cond := ""
				if f.ItemID != 0 {
					cond, args = " AND item_id = $3", append(args, f.ItemID)
				}
				rows, err := db.Read().QueryContext(w.ctx, `SELECT item_id, location_id, SUM(change) FROM inventory_log
					WHERE workspace_id = $1 AND effective_at <= $2`+cond+` GROUP BY item_id, location_id HAVING SUM(change) <> 0`, args...)
				if err != nil {
					t.Fatal(err)
				}
				sums := map[[2]int64]inventory.Quantity{}
				for rows.Next() {
					var k [2]int64
					var q inventory.Quantity
					if err := rows.Scan(&k[0], &k[1], &q); err != nil {
						t.Fatal(err)
					}
					sums[k] = q
				}
				rows.Close()
				if len(sums) != len(got) {
					t.Fatalf("%d days ago, filter %+v: %d levels, the log sums to %d", days, f, len(got), len(sums))
				}
				for _, l := range got {
					if sums[[2]int64{l.ItemID, l.LocationID}] != l.Quantity {
						t.Fatalf("%d days ago: %s at %s is %v, the log sums to %v", days, l.SKU, l.LocationPath, l.Quantity, sums[[2]int64{l.ItemID, l.LocationID}])
					}
				}
			}
		}
	})
}
