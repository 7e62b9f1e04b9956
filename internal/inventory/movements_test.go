package inventory_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// world is a workspace with two items and a warehouse with two bins.
type world struct {
	f          *storetest.Fixture
	db         *store.DB
	ctx        context.Context
	bolt, oil  inventory.Item
	wh, a1, a2 inventory.Location
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	f := storetest.NewFixture(t, db)
	w := &world{f: f, db: db, ctx: f.Ctx}
	var err error
	two := 2
	if w.bolt, err = inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "Bolt M8", Kind: inventory.Part, Unit: "pcs"}); err != nil {
		t.Fatal(err)
	}
	if w.oil, err = inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Oil", Kind: inventory.Material, Unit: "l", Scale: &two}); err != nil {
		t.Fatal(err)
	}
	if w.wh, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	if w.a1, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{ParentID: w.wh.ID, Kind: inventory.Bin, Code: "A1"}); err != nil {
		t.Fatal(err)
	}
	if w.a2, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{ParentID: w.wh.ID, Kind: inventory.Bin, Code: "A2"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.checkInvariant(t) })
	return w
}

func (w *world) checkInvariant(t testing.TB) {
	t.Helper()
	if err := inventory.CheckInvariant(w.f.Ctx, w.db); err != nil {
		t.Error(err)
	}
}

// entriesAreLogged checks entries returned by a movement against the log:
// each is there under its id with the same levels, the ids ascend, and
// every logged entry's levels after are the running sums of the changes up
// to it, for its record and its item-location. (On PostgreSQL a batch's
// entries are written together at its end and get their ids then.)
func (w *world) entriesAreLogged(t *testing.T, entries []inventory.Entry) {
	t.Helper()
	page, err := inventory.ListLog(w.ctx, w.db, inventory.LogFilter{Limit: inventory.MaxPage})
	if err != nil {
		t.Fatal(err)
	}
	logged := map[int64]inventory.Entry{}
	for _, e := range page.Entries {
		logged[e.ID] = e
	}
	for i, e := range entries {
		l, ok := logged[e.ID]
		if !ok || e.RecordID != l.RecordID || e.Change != l.Change || e.RecordLevel != l.RecordLevel ||
			e.LocationLevel != l.LocationLevel || e.Movement != l.Movement || e.AllocatedChange != l.AllocatedChange ||
			e.AllocatedLevel != l.AllocatedLevel {
			t.Fatalf("entry %d returned %+v\nlogged %+v", i, e, l)
		}
		if i > 0 && e.ID <= entries[i-1].ID {
			t.Fatalf("entry ids out of order: %d after %d", e.ID, entries[i-1].ID)
		}
	}
	recordSum, locationSum := map[int64]inventory.Quantity{}, map[[2]int64]inventory.Quantity{}
	allocatedSum := map[int64]inventory.Quantity{}
	for i := len(page.Entries) - 1; i >= 0; i-- { // the page is newest first
		e := page.Entries[i]
		k := [2]int64{e.ItemID, e.LocationID}
		recordSum[e.RecordID] += e.Change
		locationSum[k] += e.Change
		allocatedSum[e.RecordID] += e.AllocatedChange
		if e.AllocatedLevel != allocatedSum[e.RecordID] {
			t.Fatalf("entry %d (%s %s): allocated after %s, the allocated changes sum to %s", e.ID, e.Movement, e.AllocatedChangeText(),
				e.AllocatedLevel.Format(6), allocatedSum[e.RecordID].Format(6))
		}
		if e.RecordLevel != recordSum[e.RecordID] || e.LocationLevel != locationSum[k] {
			t.Fatalf("entry %d (%s %s): levels after %s and %s, the changes sum to %s and %s", e.ID, e.Movement, e.ChangeText(),
				e.RecordLevel.Format(6), e.LocationLevel.Format(6), recordSum[e.RecordID].Format(6), locationSum[k].Format(6))
		}
	}
}

// noNegativeLevels fails if a logged level after (record or item-location)
// is below zero among the entries f selects.
func (w *world) noNegativeLevels(t *testing.T, f inventory.LogFilter) {
	t.Helper()
	p, err := inventory.ListLog(w.ctx, w.db, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Entries {
		if e.RecordLevel < 0 || e.LocationLevel < 0 {
			t.Fatalf("negative level logged: %+v", e)
		}
	}
}

func (w *world) receive(t *testing.T, sku string, loc inventory.Location, lot, qty string) inventory.Record {
	t.Helper()
	res, err := inventory.Receive(w.ctx, w.db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: sku},
		LocationRef: inventory.LocationRef{LocationID: loc.ID}, Lot: lot, Quantity: inventory.DecimalText(qty)})
	if err != nil {
		t.Fatalf("receive %s %s: %v", qty, sku, err)
	}
	return res.Records[len(res.Records)-1]
}

func (w *world) level(t *testing.T, id int64) string {
	t.Helper()
	r, err := inventory.GetRecord(w.f.Ctx, w.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.QuantityText()
}

func TestMovements(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		r := w.receive(t, "OIL-5", w.a1, "L1", "10.5")
		if got := w.level(t, r.ID); got != "10.50" {
			t.Fatalf("after receipt %s", got)
		}
		w.receive(t, "OIL-5", w.a1, "L1", "0.25")
		if _, err := inventory.IssueStock(ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "3"}); err != nil {
			t.Fatal(err)
		}
		if got := w.level(t, r.ID); got != "7.75" {
			t.Fatalf("after issue %s", got)
		}
		res, err := inventory.MoveStock(ctx, db, inventory.Move{RecordRef: inventory.RecordRef{RecordID: r.ID}, ToLocation: "WH1/A2", Quantity: "2.75"})
		if err != nil {
			t.Fatal(err)
		}
		moved := recordIn(t, res, w.a2.ID, "L1")
		if len(res.Records) != 2 || moved.QuantityText() != "2.75" {
			t.Fatalf("move records %+v", res.Records)
		}
		res, err = inventory.SplitRecord(ctx, db, inventory.Split{RecordRef: inventory.RecordRef{RecordID: r.ID}, NewLot: "L1-B", Quantity: "1"})
		if err != nil {
			t.Fatal(err)
		}
		split := recordIn(t, res, w.a1.ID, "L1-B")
		if w.level(t, r.ID) != "4.00" || w.level(t, split.ID) != "1.00" {
			t.Fatalf("after split %s %s", w.level(t, r.ID), w.level(t, split.ID))
		}
		if _, err := inventory.MergeRecords(ctx, db, inventory.Merge{RecordIDs: []int64{split.ID}, IntoRecordID: r.ID}); err != nil {
			t.Fatal(err)
		}
		if w.level(t, r.ID) != "5.00" {
			t.Fatalf("after merge %s", w.level(t, r.ID))
		}
		if _, err := inventory.GetRecord(ctx, db, split.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("merged record still there: %v", err)
		}
		res, err = inventory.Correct(ctx, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: moved.ID}, Change: "-0.75", Options: inventory.Options{Reason: "spilled"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entries[0].Action != inventory.UserCorrection || res.Entries[0].Reason != "spilled" {
			t.Fatalf("correction entry %+v", res.Entries[0])
		}
		res, err = inventory.Reconcile(ctx, db, inventory.Reconciliation{RecordRef: inventory.RecordRef{RecordID: moved.ID}, Counted: "1.5"})
		if err != nil {
			t.Fatal(err)
		}
		if e := res.Entries[0]; e.Action != inventory.UserCorrection || e.ChangeText() != "-0.50" || e.RecordLevelText() != "1.50" {
			t.Fatalf("reconcile entry %+v", e)
		}
		res, err = inventory.InitializeBatch(ctx, db, inventory.Initialize{LocationRef: inventory.LocationRef{LocationID: w.a2.ID},
			Lines: []inventory.InitializeLine{{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, Quantity: "100"}, {ItemRef: inventory.ItemRef{SKU: "OIL-5"}, Lot: "L1", Quantity: "2"}}})
		if err != nil {
			t.Fatal(err)
		}
		if w.level(t, moved.ID) != "2.00" {
			t.Fatalf("after initialize %s", w.level(t, moved.ID))
		}
		// Record create / update / delete.
		res, err = inventory.CreateRecord(ctx, db, inventory.RecordInput{ItemRef: inventory.ItemRef{ItemID: w.bolt.ID},
			LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Lot: "X", Quantity: "4"})
		if err != nil {
			t.Fatal(err)
		}
		created := res.Records[0]
		if res.Entries[0].Action != inventory.CreateRecordAction || res.Entries[0].ChangeText() != "4" {
			t.Fatalf("create entry %+v", res.Entries[0])
		}
		res, err = inventory.UpdateRecord(ctx, db, created.ID, inventory.RecordChange{Lot: "Y"})
		if err != nil || res.Entries[0].Action != inventory.UpdateRecordAction {
			t.Fatalf("update: %v %+v", err, res)
		}
		res, err = inventory.DeleteRecord(ctx, db, created.ID, inventory.Options{Reason: "scrapped"})
		if err != nil || res.Entries[0].Action != inventory.DeleteRecordAction || res.Entries[0].ChangeText() != "-4" {
			t.Fatalf("delete: %v %+v", err, res)
		}
		// Every entry names exactly one responsible party, the admin user.
		page, err := inventory.ListLog(ctx, db, inventory.LogFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.ActorKind != "user" || e.ActorID != w.f.Admin.ID || e.ActorName == "" {
				t.Fatalf("entry party %+v", e)
			}
			if !e.Action.Valid() {
				t.Fatalf("action %q", e.Action)
			}
		}
	})
}

func TestActionTypeByParty(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: w.a1.ID})
		res, err := inventory.Receive(station, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, Quantity: "5"})
		if err != nil {
			t.Fatal(err)
		}
		last := res.Entries[len(res.Entries)-1]
		if last.Action != inventory.Scan || last.ActorKind != "station" || last.ActorName != "Dock 1" || last.LocationID != w.a1.ID {
			t.Fatalf("station entry %+v", last)
		}
		key := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.APIKey, ID: 3, Name: "erp", Role: actor.Manager})
		key = actor.WithRequest(key, actor.Request{IdempotencyKey: "idem-1"})
		res, err = inventory.Correct(key, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: last.RecordID}, Change: "1", Options: inventory.Options{Reason: "found"}})
		if err != nil {
			t.Fatal(err)
		}
		if e := res.Entries[0]; e.Action != inventory.UserCorrection || e.ActorKind != "api_key" || e.IdempotencyKey != "idem-1" {
			t.Fatalf("api key entry %+v", e)
		}
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "cli import"))
		res, err = inventory.IssueStock(sys, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: last.RecordID}, Quantity: "1"})
		if err != nil {
			t.Fatal(err)
		}
		if e := res.Entries[0]; e.Action != inventory.SystemAction || e.ActorKind != "system" || e.ActorID != 0 {
			t.Fatalf("system entry %+v", e)
		}
		auditor := w.f.As(w.f.User(t, "aud@example.com", actor.Auditor))
		if _, err := inventory.IssueStock(auditor, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: last.RecordID}, Quantity: "1"}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("auditor issue: %v", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		bolts := w.receive(t, "BOLT-M8", w.a1, "", "10")
		oil := w.receive(t, "OIL-5", w.a1, "", "1")
		ref := inventory.RecordRef{RecordID: bolts.ID}
		loc := inventory.LocationRef{LocationID: w.a1.ID}
		tests := []struct {
			name  string
			m     inventory.Movement
			field string
		}{
			{"unknown SKU", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "NOPE"}, LocationRef: loc, Quantity: "1"}, "sku"},
			{"unknown location", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{Location: "WH9"}, Quantity: "1"}, "location"},
			{"unknown location id", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: 9999}, Quantity: "1"}, "location"},
			{"zero quantity", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: loc, Quantity: "0"}, "quantity"},
			{"negative quantity", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: loc, Quantity: "-1"}, "quantity"},
			{"non-numeric quantity", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: loc, Quantity: "ten"}, "quantity"},
			{"too many decimals", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: loc, Quantity: "1.5"}, "quantity"},
			{"too many decimals oil", &inventory.Issue{RecordRef: inventory.RecordRef{RecordID: oil.ID}, Quantity: "0.001"}, "quantity"},
			{"issue more than there", &inventory.Issue{RecordRef: ref, Quantity: "11"}, "quantity"},
			{"move more than there", &inventory.Move{RecordRef: ref, ToLocationID: w.a2.ID, Quantity: "11"}, "quantity"},
			{"move to same place", &inventory.Move{RecordRef: ref, ToLocationID: w.a1.ID, Quantity: "1"}, "to_location"},
			{"split more than held", &inventory.Split{RecordRef: ref, NewLot: "B", Quantity: "11"}, "quantity"},
			{"merge different items", &inventory.Merge{RecordIDs: []int64{oil.ID}, IntoRecordID: bolts.ID}, "record_ids"},
			{"merge unknown record", &inventory.Merge{RecordIDs: []int64{9999}, IntoRecordID: bolts.ID}, "record_ids"},
			{"correction without reason", &inventory.Correction{RecordRef: ref, Change: "1"}, "reason"},
			{"correction below zero", &inventory.Correction{RecordRef: ref, Change: "-11", Options: inventory.Options{Reason: "x"}}, "change"},
			{"reconcile negative", &inventory.Reconciliation{RecordRef: ref, Counted: "-1"}, "counted"},
			{"unknown record", &inventory.Issue{RecordRef: inventory.RecordRef{RecordID: 9999}, Quantity: "1"}, "record_id"},
			{"future effective time", &inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: loc, Quantity: "1",
				Options: inventory.Options{EffectiveAt: time.Now().Add(time.Hour)}}, "effective_at"},
			{"duplicate initialize line", &inventory.Initialize{LocationRef: loc, Lines: []inventory.InitializeLine{
				{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, Quantity: "1"}, {ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, Quantity: "2"}}}, "lines[1]"},
		}
		before, _ := inventory.ListLog(ctx, db, inventory.LogFilter{Limit: 500})
		for _, tt := range tests {
			t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
				_, err := inventory.Apply(ctx, db, tt.m)
				e, ok := fault.As(err)
				if !ok || e.Kind != fault.Invalid {
					t.Fatalf("want Invalid, got %v", err)
				}
				if _, named := e.Fields[tt.field]; !named {
					t.Fatalf("error %v does not name %q", err, tt.field)
				}
			})
		}
		after, _ := inventory.ListLog(ctx, db, inventory.LogFilter{Limit: 500})
		if len(after.Entries) != len(before.Entries) {
			t.Fatalf("bad input wrote %d entries", len(after.Entries)-len(before.Entries))
		}
		if w.level(t, bolts.ID) != "10" {
			t.Fatalf("level changed to %s", w.level(t, bolts.ID))
		}
		// A batch with one bad movement changes nothing and names it.
		_, err := inventory.Apply(ctx, db, &inventory.Issue{RecordRef: ref, Quantity: "1"}, &inventory.Issue{RecordRef: ref, Quantity: "100"})
		if e, ok := fault.As(err); !ok || e.Fields["movements[1].quantity"] == "" {
			t.Fatalf("batch error %v", err)
		}
		if w.level(t, bolts.ID) != "10" {
			t.Fatalf("batch partly applied: %s", w.level(t, bolts.ID))
		}
	})
}

func TestLogIsAppendOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		w.receive(t, "BOLT-M8", w.a1, "", "1")
		for _, q := range []string{`UPDATE inventory_log SET change = 0`, `DELETE FROM inventory_log`} {
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				_, err := tx.ExecContext(context.Background(), q)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})
}

func TestNegativeStockAllowed(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		r := w.receive(t, "BOLT-M8", w.a1, "", "1")
		allow := true
		if _, err := workspaceUpdate(w, allow); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.IssueStock(w.ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: r.ID}, Quantity: "3"}); err != nil {
			t.Fatal(err)
		}
		if w.level(t, r.ID) != "-2" {
			t.Fatalf("level %s", w.level(t, r.ID))
		}
	})
}

func recordIn(t *testing.T, res inventory.Result, locationID int64, lot string) inventory.Record {
	t.Helper()
	for _, r := range res.Records {
		if r.LocationID == locationID && r.Lot == lot {
			return r
		}
	}
	t.Fatalf("no record at %d lot %q in %+v", locationID, lot, res.Records)
	return inventory.Record{}
}

func TestItemsCatalogue(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		seven := 7
		for _, in := range []inventory.ItemInput{
			{SKU: "", Name: "x"},
			{SKU: "has space", Name: "x"},
			{SKU: "OK", Name: ""},
			{SKU: "OK", Name: "x", Kind: "gadget"},
			{SKU: "OK", Name: "x", Scale: &seven},
		} {
			if _, err := inventory.CreateItem(w.ctx, db, in); !fault.Is(err, fault.Invalid) {
				t.Errorf("%+v: %v", in, err)
			}
		}
		if _, err := inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "again"}); !fault.Is(err, fault.Conflict) {
			t.Errorf("duplicate SKU: %v", err)
		}
		w.receive(t, "BOLT-M8", w.a1, "", "1")
		if err := inventory.DeleteItem(w.ctx, db, w.bolt.ID); !fault.Is(err, fault.Conflict) {
			t.Errorf("delete item with stock: %v", err)
		}
		before, err := inventory.GetItem(w.ctx, db, w.bolt.ID)
		if err != nil {
			t.Fatal(err)
		}
		sku := "BOLT-M8X"
		renamed, err := inventory.UpdateItem(w.ctx, db, w.bolt.ID, inventory.ItemChange{SKU: &sku})
		if err != nil || renamed.SKU != "BOLT-M8X" {
			t.Fatalf("rename: %v", err)
		}
		// A partial edit changes only what it names.
		if renamed.Name != before.Name || renamed.Kind != before.Kind || renamed.Unit != before.Unit || renamed.Scale != before.Scale {
			t.Errorf("renaming changed other fields: %+v → %+v", before, renamed)
		}
		// An item with stock and history keeps its unit and scale.
		kg, three := "kg", 3
		for _, c := range []inventory.ItemChange{{Unit: &kg}, {Scale: &three}} {
			if _, err := inventory.UpdateItem(w.ctx, db, w.bolt.ID, c); !fault.Is(err, fault.Conflict) {
				t.Errorf("unit/scale change of an item with history: %v", err)
			}
		}
		bad := ""
		if _, err := inventory.UpdateItem(w.ctx, db, w.bolt.ID, inventory.ItemChange{Name: &bad}); !fault.Is(err, fault.Invalid) {
			t.Errorf("empty name: %v", err)
		}
		// The log keeps the SKU as it was.
		page, err := inventory.ListLog(w.ctx, db, inventory.LogFilter{ItemID: w.bolt.ID})
		if err != nil || page.Entries[0].SKU != "BOLT-M8" {
			t.Fatalf("log SKU after rename: %+v %v", page.Entries, err)
		}
		if err := inventory.DeleteItem(w.ctx, db, w.oil.ID); err != nil {
			t.Fatalf("delete empty item: %v", err)
		}
		operator := w.f.As(w.f.User(t, "op@example.com", actor.Operator))
		if _, err := inventory.CreateItem(operator, db, inventory.ItemInput{SKU: "X", Name: "x"}); !fault.Is(err, fault.Forbidden) {
			t.Errorf("operator created an item: %v", err)
		}
	})
}

// TestStationScope: a station token once read and exported the whole
// change log, received at locations it was not bound to, and posted
// corrections logged as scans. A station makes its own kinds of movement at
// its bound location and below, and reads only its own recent entries.
func TestStationScope(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		other := w.receive(t, "BOLT-M8", w.a2, "", "10") // someone else's entry, elsewhere
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: w.a1.ID})
		res, err := inventory.Receive(station, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a1.ID}, Quantity: "5"})
		if err != nil {
			t.Fatal(err)
		}
		mine := res.Entries[len(res.Entries)-1]
		before := countEntries(t, w)
		for name, try := range map[string]func() error{
			"receive elsewhere": func() error {
				_, err := inventory.Receive(station, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, LocationRef: inventory.LocationRef{LocationID: w.a2.ID}, Quantity: "1"})
				return err
			},
			"issue elsewhere": func() error {
				_, err := inventory.IssueStock(station, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: other.ID}, Quantity: "1"})
				return err
			},
			"move out of its reach": func() error {
				_, err := inventory.MoveStock(station, db, inventory.Move{RecordRef: inventory.RecordRef{RecordID: mine.RecordID}, ToLocationID: w.a2.ID, Quantity: "1"})
				return err
			},
			"correct": func() error {
				_, err := inventory.Correct(station, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: mine.RecordID}, Change: "1", Options: inventory.Options{Reason: "found"}})
				return err
			},
			"read stock": func() error {
				_, err := inventory.ListRecords(station, db, inventory.RecordFilter{})
				return err
			},
			"export the log": func() error {
				_, err := inventory.ExportLog(station, db, inventory.LogFilter{}, inventory.CSV, io.Discard)
				return err
			},
		} {
			if err := try(); !fault.Is(err, fault.Forbidden) {
				t.Errorf("station may %s: %v", name, err)
			}
		}
		if after := countEntries(t, w); after != before {
			t.Fatalf("refused station operations wrote %d entries", after-before)
		}
		page, err := inventory.ListLog(station, db, inventory.LogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.ActorKind != "station" || e.ActorID != 7 {
				t.Fatalf("the station read another party's entry: %+v", e)
			}
		}
		if len(page.Entries) == 0 {
			t.Fatal("the station does not see its own entries")
		}
	})
}

func countEntries(t *testing.T, w *world) int {
	t.Helper()
	var n int
	if err := w.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM inventory_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
