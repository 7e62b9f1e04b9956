package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// world is a workspace with a warehouse WH (zones A and B), two items and
// parties of every role.
type world struct {
	db                         *store.DB
	f                          *storetest.Fixture
	ctx                        context.Context // the admin
	manager, operator, auditor context.Context
	station                    context.Context // bound to WH/B
	wh, a, b                   inventory.Location
	bolt, oil                  inventory.Item
	other                      context.Context // another workspace's system actor
	otherOrder, otherRecord    int64
	otherItem                  int64
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	f := storetest.NewFixture(t, db)
	w := &world{db: db, f: f, ctx: f.Ctx}
	w.manager = f.As(f.User(t, "manager@example.com", actor.Manager))
	w.operator = f.As(f.User(t, "operator@example.com", actor.Operator))
	w.auditor = f.As(f.User(t, "auditor@example.com", actor.Auditor))
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.wh, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH", Name: "Main"})
	must(err)
	w.a, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{ParentID: w.wh.ID, Kind: inventory.Zone, Code: "A", Name: "Zone A"})
	must(err)
	w.b, err = inventory.CreateLocation(w.ctx, db, inventory.LocationInput{ParentID: w.wh.ID, Kind: inventory.Zone, Code: "B", Name: "Zone B"})
	must(err)
	w.bolt, err = inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "Bolt M8", Kind: "part", Unit: "pcs", Scale: scale(0)})
	must(err)
	w.oil, err = inventory.CreateItem(w.ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Oil", Kind: "material", Unit: "l", Scale: scale(2)})
	must(err)
	st, err := f.Auth.CreateStation(w.ctx, "dock B", w.b.ID)
	must(err)
	w.station = actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.Station, ID: st.ID, Name: st.Name,
		Role: actor.StationRole, LocationID: w.b.ID})

	// Another workspace with an order and a record of its own.
	var ows workspace.Workspace
	must(db.InTx(context.Background(), func(tx *store.Tx) error {
		ows, err = workspace.Create(actor.With(context.Background(), actor.SystemActor(0, "test")), tx, "Other", workspace.Starter)
		return err
	}))
	w.other = actor.With(context.Background(), actor.SystemActor(ows.ID, "test"))
	oloc, err := inventory.CreateLocation(w.other, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH", Name: "Theirs"})
	must(err)
	oitem, err := inventory.CreateItem(w.other, db, inventory.ItemInput{SKU: "BOLT-M8", Name: "Their bolt", Kind: "part", Unit: "pcs", Scale: scale(0)})
	must(err)
	w.otherItem = oitem.ID
	res, err := inventory.Receive(w.other, db, inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: oitem.ID}, LocationRef: inventory.LocationRef{LocationID: oloc.ID}, Quantity: "50"})
	must(err)
	w.otherRecord = res.Records[0].ID
	oo, err := orders.Create(w.other, db, orders.OrderInput{Kind: orders.Outbound, Party: "Their customer",
		Lines: []orders.LineInput{{ItemID: oitem.ID, Quantity: "5"}}})
	must(err)
	w.otherOrder = oo.ID
	return w
}

// receive books q of item into loc (lot optional) and returns the record.
func (w *world) receive(t testing.TB, item inventory.Item, loc inventory.Location, lot, q string) inventory.Record {
	t.Helper()
	res, err := inventory.Receive(w.ctx, w.db, inventory.Receipt{ItemRef: inventory.ItemRef{ItemID: item.ID}, LocationRef: inventory.LocationRef{LocationID: loc.ID},
		Lot: lot, Quantity: inventory.DecimalText(q)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Records[0]
}

// record reads a record as it is now.
func (w *world) record(t testing.TB, id int64) inventory.Record {
	t.Helper()
	r, err := inventory.GetRecord(w.ctx, w.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// event is an activity event of an order, as stored.
type event struct {
	Action, Category, EntityType, EntityID, Description string
	Old, New                                            map[string]any
}

// events returns the order's activity events, oldest first.
func (w *world) events(t testing.TB, orderID int64) []event {
	t.Helper()
	rows, err := w.db.Read().QueryContext(context.Background(), `SELECT action, category, entity_type, entity_id, description,
		COALESCE(old_values, ''), COALESCE(new_values, '') FROM activity_events WHERE workspace_id = $1 AND entity_type = 'orders' AND entity_id = $2 ORDER BY id`,
		w.f.Workspace.ID, fmt.Sprint(orderID))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var e event
		var old, new string
		if err := rows.Scan(&e.Action, &e.Category, &e.EntityType, &e.EntityID, &e.Description, &old, &new); err != nil {
			t.Fatal(err)
		}
		if old != "" {
			json.Unmarshal([]byte(old), &e.Old)
		}
		if new != "" {
			json.Unmarshal([]byte(new), &e.New)
		}
		out = append(out, e)
	}
	return out
}

// lastEvent returns the order's newest event, checking it is an orders
// event about the order.
func (w *world) lastEvent(t testing.TB, o orders.Order) event {
	t.Helper()
	evs := w.events(t, o.ID)
	if len(evs) == 0 {
		t.Fatalf("%s has no activity event", o.Number)
	}
	e := evs[len(evs)-1]
	if e.Category != "orders" || e.EntityType != "orders" || e.EntityID != fmt.Sprint(o.ID) || !strings.HasPrefix(e.Description, o.Number+" ") {
		t.Fatalf("event %+v is not about %s", e, o.Number)
	}
	return e
}

// expectChange checks the newest event records key going from before to
// after (nil for absent).
func (w *world) expectChange(t testing.TB, o orders.Order, key string, before, after any) event {
	t.Helper()
	e := w.lastEvent(t, o)
	if fmt.Sprint(e.Old[key]) != fmt.Sprint(before) || fmt.Sprint(e.New[key]) != fmt.Sprint(after) {
		t.Fatalf("%s event %q: %s %v → %v, want %v → %v (old %v new %v)", o.Number, e.Description, key, e.Old[key], e.New[key], before, after, e.Old, e.New)
	}
	return e
}

// entry is a change-log entry an order caused.
type entry struct {
	RecordID                       int64
	Movement, Reference            string
	Change, AllocatedChange, Level inventory.Quantity
	AllocatedLevel                 inventory.Quantity
}

// entries returns the change-log entries whose reference is the order's
// number, oldest first.
func (w *world) entries(t testing.TB, number string) []entry {
	t.Helper()
	rows, err := w.db.Read().QueryContext(context.Background(), `SELECT record_id, movement, reference, change, allocated_change, record_level, allocated_level
		FROM inventory_log WHERE workspace_id = $1 AND reference = $2 ORDER BY id`, w.f.Workspace.ID, number)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.RecordID, &e.Movement, &e.Reference, &e.Change, &e.AllocatedChange, &e.Level, &e.AllocatedLevel); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// movements summarises entries as "movement record change/allocated_change".
func movements(es []entry) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%s %d %s/%s", e.Movement, e.RecordID, e.Change, e.AllocatedChange))
	}
	return strings.Join(parts, "; ")
}

// receipts keeps the receipt entries (a receipt into a new record writes
// the record's create entry first).
func receipts(es []entry) []entry {
	var out []entry
	for _, e := range es {
		if e.Movement == "receipt" {
			out = append(out, e)
		}
	}
	return out
}

// snapshot sums up everything an order operation could change, so a
// refused one can be shown to have changed nothing.
func (w *world) snapshot(t testing.TB) string {
	t.Helper()
	var s strings.Builder
	for _, q := range []string{
		`SELECT COUNT(*) FROM activity_events`,
		`SELECT COUNT(*) FROM inventory_log`,
		`SELECT COALESCE(SUM(version), 0) FROM orders`,
		`SELECT COUNT(*) FROM orders`,
		`SELECT COUNT(*) FROM order_lines`,
		`SELECT COALESCE(SUM(quantity + shipped + received + picked), 0) FROM order_lines`,
		`SELECT COALESCE(SUM(quantity), 0) FROM order_allocations`,
		`SELECT COALESCE(SUM(quantity), 0) FROM inventory_allocations`,
		`SELECT COALESCE(SUM(quantity * 3 + allocated), 0) FROM inventory_records`,
	} {
		var n int64
		if err := w.db.Read().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintf(&s, "%d ", n)
	}
	return s.String()
}

// refused runs op, which must fail with the kind given and name field in
// its problem (when field is not empty), and change nothing.
func (w *world) refused(t testing.TB, what string, kind fault.Kind, field string, op func() error) *fault.Error {
	t.Helper()
	before := w.snapshot(t)
	err := op()
	e, ok := fault.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("%s: %v, want a %v fault", what, err, kind)
	}
	if field != "" && e.Fields[field] == "" {
		t.Fatalf("%s: %v names no %q", what, err, field)
	}
	if after := w.snapshot(t); after != before {
		t.Fatalf("%s changed something: %s → %s", what, before, after)
	}
	return e
}

// invariant runs inventory's invariant check over the workspace.
func (w *world) invariant(t testing.TB) {
	t.Helper()
	if err := inventory.CheckInvariant(w.ctx, w.db); err != nil {
		t.Fatalf("invariant: %v", err)
	}
}

// lineOf returns the order's line with the given number.
func lineOf(t testing.TB, o orders.Order, n int) orders.Line {
	t.Helper()
	for _, l := range o.Lines {
		if l.Number == n {
			return l
		}
	}
	t.Fatalf("%s has no line %d", o.Number, n)
	return orders.Line{}
}

func scale(n int) *int { return &n }
