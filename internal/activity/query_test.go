package activity_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// seeded is a small log with known times, actors and texts.
type seeded struct {
	f   *storetest.Fixture
	ids map[string]int64
}

func seed(t *testing.T, db *store.DB) seeded {
	t.Helper()
	f := storetest.NewFixture(t, db)
	s := seeded{f: f, ids: map[string]int64{}}
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }
	events := []struct {
		name string
		ev   activity.Event
	}{
		{"alice-create-product", activity.Event{OccurredAt: day(1, 10), ActorKind: "user", ActorID: 101, ActorName: "Alice",
			Action: activity.Create, Category: activity.Products, EntityType: "products", EntityID: "7",
			New: map[string]any{"sku": "BOLT-1", "name": "Hex bolt"}, Description: "product BOLT-1 created"}},
		{"alice-update-product", activity.Event{OccurredAt: day(2, 3), ActorKind: "user", ActorID: 101, ActorName: "Alice",
			Action: activity.Update, Category: activity.Products, EntityType: "products", EntityID: "7",
			Old: map[string]any{"name": "Hex bolt"}, New: map[string]any{"name": "Hex bolt M8"}, Description: "product BOLT-1 renamed"}},
		{"bob-login", activity.Event{OccurredAt: day(2, 12), ActorKind: "user", ActorID: 102, ActorName: "Bob",
			Action: activity.Login, Category: activity.Authentication, EntityType: "users", EntityID: "102", Description: "logged in"}},
		{"key-delete-location", activity.Event{OccurredAt: day(3, 9), ActorKind: "api_key", ActorID: 101, ActorName: "erp-sync",
			Action: activity.Delete, Category: activity.Inventory, EntityType: "locations", EntityID: "9",
			Old: map[string]any{"code": "WH1/A"}, Description: "location WH1/A deleted by the ERP"}},
		{"bob-failed-login", activity.Event{OccurredAt: day(4, 23), ActorKind: "anonymous", ActorName: "anonymous",
			Action: activity.LoginFailed, Category: activity.Authentication, Description: "failed login as mallory@example.com"}},
	}
	for _, e := range events {
		e.ev.WorkspaceID = f.Workspace.ID
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			id, err := activity.Record(context.Background(), tx, e.ev)
			s.ids[e.name] = id
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s seeded) names(t *testing.T, evs []activity.Event) []string {
	t.Helper()
	byID := map[int64]string{}
	for n, id := range s.ids {
		byID[id] = n
	}
	var out []string
	for _, ev := range evs {
		if n, ok := byID[ev.ID]; ok {
			out = append(out, n)
		}
	}
	return out
}

func TestListFilters(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		ny, _ := time.LoadLocation("America/New_York")
		cases := []struct {
			query string
			loc   *time.Location
			want  []string
		}{
			{"user_id=101", nil, []string{"alice-update-product", "alice-create-product"}},
			{"actor_kind=api_key&actor_id=101", nil, []string{"key-delete-location"}},
			{"table_name=products", nil, []string{"alice-update-product", "alice-create-product"}},
			{"table_name=products&entity_id=7&action=update", nil, []string{"alice-update-product"}},
			{"entity_type=locations", nil, []string{"key-delete-location"}},
			{"action=LOGIN_FAILED", nil, []string{"bob-failed-login"}},
			{"category=authentication", nil, []string{"bob-failed-login", "bob-login"}},
			{"start_date=2026-01-02&end_date=2026-01-03", nil, []string{"key-delete-location", "bob-login", "alice-update-product"}},
			{"end_date=2026-01-01", nil, []string{"alice-create-product"}},
			// 2026-01-02 03:00 UTC is still 1 January in New York.
			{"start_date=2026-01-01&end_date=2026-01-01", ny, []string{"alice-update-product", "alice-create-product"}},
			{"start_date=2026-01-02", ny, []string{"bob-failed-login", "key-delete-location", "bob-login"}},
			{"q=M8", nil, []string{"alice-update-product"}},
			{"q=hex+bolt", nil, []string{"alice-update-product", "alice-create-product"}},
			{"q=ERP", nil, []string{"key-delete-location"}},
			{"q=erp+bolt", nil, nil},
			{`q="NEAR AND*`, nil, nil}, // FTS syntax is searched as text, never an error
			{"q=mallory", nil, []string{"bob-failed-login"}},
			{"q=---+@", nil, nil}, // no word at all: nothing matches, no error
			{"user_id=101&q=renamed&start_date=2026-01-02", nil, []string{"alice-update-product"}},
			{"q=alice&search_in=actor", nil, []string{"alice-update-product", "alice-create-product"}},
			{"q=renamed&search_in=actor", nil, nil},
			{"q=M8&search_in=values", nil, []string{"alice-update-product"}},
			{"q=BOLT-1&search_in=description", nil, []string{"alice-update-product", "alice-create-product"}},
			{"q=WH1/A&search_in=values", nil, []string{"key-delete-location"}},
			{"q=products+7&search_in=entity", nil, []string{"alice-update-product", "alice-create-product"}},
			{"q=100%25&search_in=description", nil, nil}, // % is a character, not a wildcard
		}
		for _, c := range cases {
			v, _ := url.ParseQuery(c.query)
			filter, err := activity.ParseFilter(v, c.loc)
			if err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			res, err := activity.List(s.f.Ctx, db, filter)
			if err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			if got := s.names(t, res.Events); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.query, got, c.want)
			}
		}
	})
}

func TestPagingAndReadEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		v := url.Values{"start_date": {"2026-01-01"}, "end_date": {"2026-01-31"}, "limit": {"2"}}
		filter, err := activity.ParseFilter(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		pages := 0
		for {
			res, err := activity.List(s.f.Ctx, db, filter)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, s.names(t, res.Events)...)
			if res.Next == nil {
				break
			}
			c, err := activity.ParseCursor(res.Next.String())
			if err != nil || c != *res.Next {
				t.Fatalf("cursor round trip: %v %v", c, err)
			}
			filter.After = &c
		}
		want := []string{"bob-failed-login", "key-delete-location", "bob-login", "alice-update-product", "alice-create-product"}
		if !slices.Equal(all, want) || pages != 3 {
			t.Errorf("paged %d pages %v, want 3 pages %v", pages, all, want)
		}
		filter.After, filter.Skip, filter.Limit = nil, 3, 10
		res, _ := activity.List(s.f.Ctx, db, filter)
		if got := s.names(t, res.Events); !slices.Equal(got, want[3:]) {
			t.Errorf("skip 3: %v", got)
		}
		// Each List recorded one READ event (not one per row), naming the rows.
		reads, err := activity.List(s.f.Ctx, db, activity.Filter{Action: activity.Read, Category: activity.Audit, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(reads.Events) != pages+1 {
			t.Fatalf("%d READ events, want %d", len(reads.Events), pages+1)
		}
		var vals map[string]any
		json.Unmarshal(reads.Events[0].New.(json.RawMessage), &vals)
		if vals["rows"] != float64(2) || vals["skip"] != float64(3) || reads.Events[0].ActorID != s.f.Admin.ID {
			t.Errorf("READ event: %+v %v", reads.Events[0], vals)
		}
	})
}

func TestSummary(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		filter, _ := activity.ParseFilter(url.Values{"start_date": {"2026-01-01"}, "end_date": {"2026-01-03"}}, nil)
		sum, err := activity.Summarize(s.f.Ctx, db, filter)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Total != 4 || sum.ByTable["products"] != 2 || sum.ByTable["users"] != 1 || sum.ByTable["locations"] != 1 ||
			sum.ByAction["CREATE"] != 1 || sum.ByAction["UPDATE"] != 1 || sum.ByAction["LOGIN"] != 1 || sum.ByAction["DELETE"] != 1 {
			t.Errorf("summary %+v", sum)
		}
		want := []activity.ActorCount{{Kind: "user", ID: 101, Name: "Alice", Count: 2}, {Kind: "api_key", ID: 101, Name: "erp-sync", Count: 1},
			{Kind: "user", ID: 102, Name: "Bob", Count: 1}}
		if !slices.Equal(sum.ByUser, want) {
			t.Errorf("by user %+v, want %+v", sum.ByUser, want)
		}
		// The whole workspace (SQLite counts it another way): every event,
		// each counted once per key.
		all, err := activity.Summarize(s.f.Ctx, db, activity.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1`, s.f.Workspace.ID).Scan(&rows)
		sumOf := func(m map[string]int64) (n int64) {
			for _, v := range m {
				n += v
			}
			return n
		}
		var byUser int64
		for _, c := range all.ByUser {
			byUser += c.Count
		}
		if all.Total != rows-1 || sumOf(all.ByTable) != all.Total || sumOf(all.ByAction) != all.Total || byUser != all.Total ||
			all.ByTable["products"] != 2 || all.ByAction["LOGIN_FAILED"] != 1 {
			t.Errorf("whole-workspace summary %+v of %d events (one READ recorded since)", all, rows)
		}
		filter.ActorKind, filter.ActorID = "user", 102
		if sum, _ := activity.Summarize(s.f.Ctx, db, filter); sum.Total != 1 || len(sum.ByUser) != 1 {
			t.Errorf("filtered summary %+v", sum)
		}
	})
}

func TestParseFilterRefusesBadInput(t *testing.T) {
	cases := map[string]string{
		"start_date=2026-13-01":                     "start_date",
		"end_date=yesterday":                        "end_date",
		"start_date=2026-02-01&end_date=2026-01-01": "end_date",
		"skip=-1":                      "skip",
		"skip=x":                       "skip",
		"limit=0":                      "limit",
		"limit=1001":                   "limit",
		"action=DESTROY":               "action",
		"user_id=abc":                  "user_id",
		"user_id=-4":                   "user_id",
		"actor_kind=robot":             "actor_kind",
		"cursor=zz":                    "cursor",
		"category=weather":             "category",
		"search_in=colour":             "search_in",
		"user_id=1&actor_kind=api_key": "actor_kind",
	}
	for q, field := range cases {
		v, _ := url.ParseQuery(q)
		_, err := activity.ParseFilter(v, nil)
		e, ok := fault.As(err)
		if !ok || e.Kind != fault.Invalid || e.Fields[field] == "" {
			t.Errorf("%s: got %v, want an error on %s", q, err, field)
		}
	}
	if f, err := activity.ParseFilter(url.Values{"limit": {"1000"}, "action": {"read"}}, nil); err != nil || f.Limit != 1000 || f.Action != activity.Read {
		t.Errorf("limit 1000, action read: %+v %v", f, err)
	}
	if f, _ := activity.ParseFilter(url.Values{}, nil); f.Limit != activity.DefaultLimit {
		t.Errorf("default limit %d", f.Limit)
	}
}

func TestPermissions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		for role, allowed := range map[actor.Role]bool{actor.Admin: true, actor.Auditor: true, actor.Manager: false, actor.Operator: false} {
			u := s.f.User(t, string(role)+"-user@example.com", role)
			_, err := activity.List(s.f.As(u), db, activity.Filter{})
			if allowed != (err == nil) || (!allowed && !fault.Is(err, fault.Forbidden)) {
				t.Errorf("%s listing: %v", role, err)
			}
			_, err = activity.Report(s.f.As(u), db, activity.ManualEntry{Action: activity.Read, TableName: "products"})
			if (role == actor.Admin) != (err == nil) {
				t.Errorf("%s reporting: %v", role, err)
			}
		}
		if _, err := activity.Get(context.Background(), db, 1); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("anonymous get: %v", err)
		}
	})
}

func TestGetIsScopedToWorkspace(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		ev, err := activity.Get(s.f.Ctx, db, s.ids["key-delete-location"])
		if err != nil || ev.ActorName != "erp-sync" || ev.EntityID != "9" {
			t.Fatalf("get: %+v %v", ev, err)
		}
		other := actor.With(context.Background(), actor.Actor{WorkspaceID: s.f.Workspace.ID + 1, Kind: actor.User, ID: 1, Name: "x", Role: actor.Admin})
		if _, err := activity.Get(other, db, ev.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("another workspace read the event: %v", err)
		}
	})
}

func TestReportManualEntry(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		op := s.f.User(t, "op@example.com", actor.Operator)
		id, err := activity.Report(s.f.Ctx, db, activity.ManualEntry{UserID: op.ID, Action: "update", TableName: "products", RecordID: "7",
			Old: json.RawMessage(`{"price": 1}`), New: json.RawMessage(` {"price": 2} `), Description: "price fixed by hand", IP: "192.0.2.7"})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := activity.Get(s.f.Ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ActorKind != "user" || ev.ActorID != op.ID || ev.ActorName != op.Name || ev.Action != activity.Update ||
			ev.Category != activity.Products || ev.IP != "192.0.2.7" || string(ev.New.(json.RawMessage)) != `{"price":2}` ||
			ev.ReportedByKind != "user" || ev.ReportedByID != s.f.Admin.ID || ev.ReportedByName != s.f.Admin.Name {
			t.Errorf("manual entry %+v", ev)
		}
		bad := []struct {
			in    activity.ManualEntry
			field string
		}{
			{activity.ManualEntry{Action: "LOGIN", TableName: "users"}, "action"},
			{activity.ManualEntry{Action: "READ"}, "table_name"},
			{activity.ManualEntry{Action: "READ", TableName: "drop table x;"}, "table_name"},
			{activity.ManualEntry{Action: "READ", TableName: "users", UserID: 999999}, "user_id"},
			{activity.ManualEntry{Action: "READ", TableName: "users", IP: "somewhere"}, "ip_address"},
			{activity.ManualEntry{Action: "READ", TableName: "users", Old: json.RawMessage(`"text"`)}, "old_values"},
			{activity.ManualEntry{Action: "READ", TableName: "users", New: json.RawMessage(`[1,2]`)}, "new_values"},
		}
		before, _ := activity.Summarize(s.f.Ctx, db, activity.Filter{EntityType: "users"})
		for _, c := range bad {
			_, err := activity.Report(s.f.Ctx, db, c.in)
			if e, ok := fault.As(err); !ok || e.Fields[c.field] == "" {
				t.Errorf("%+v: got %v, want an error on %s", c.in, err, c.field)
			}
		}
		if after, _ := activity.Summarize(s.f.Ctx, db, activity.Filter{EntityType: "users"}); after.Total != before.Total {
			t.Errorf("bad entries were written: %d -> %d", before.Total, after.Total)
		}
	})
}

func TestExportStreamsAndRecords(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		// More events than one export batch, to cross batch boundaries;
		// the first 900 sealed, the newer ones not yet.
		record := func(from, to int) error {
			return db.InTx(context.Background(), func(tx *store.Tx) error {
				for i := from; i < to; i++ {
					if _, err := activity.Record(s.f.Ctx, tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
						EntityType: "inventory", EntityID: "1", OccurredAt: time.Date(2026, 2, 1, 0, 0, i, 0, time.UTC)}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := record(0, 900); err != nil {
			t.Fatal(err)
		}
		if n, err := ledgertest.NewSealer(t, db).Seal(context.Background()); err != nil || n < 900 {
			t.Fatalf("sealed %d: %v", n, err)
		}
		if err := record(900, 1203); err != nil {
			t.Fatal(err)
		}
		var seen []int64
		seqOf := map[int64]int64{}
		n, err := activity.ExportEvents(s.f.Ctx, db, activity.Filter{EntityType: "inventory", Limit: 5, Skip: 9}, "csv", 0, func(ev activity.Event, seq int64) error {
			seen = append(seen, ev.ID)
			seqOf[ev.ID] = seq
			return nil
		})
		if err != nil || n != 1203 || len(seen) != 1203 {
			t.Fatalf("exported %d (%d seen): %v", n, len(seen), err)
		}
		// Each event's sequence is the ledger's, -1 for the 303 not sealed.
		sealed, err := ledger.Sequences(s.f.Ctx, db, ledger.ActivityEvents, seen)
		if err != nil || len(sealed) != 900 {
			t.Fatalf("%d of the exported events sealed: %v", len(sealed), err)
		}
		for _, id := range seen {
			if want, ok := sealed[id]; ok && seqOf[id] != want || !ok && seqOf[id] != -1 {
				t.Fatalf("event %d: sequence %d, ledger says %d (sealed: %v)", id, seqOf[id], want, ok)
			}
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("not newest first at %d", i)
			}
		}
		n, _ = activity.ExportEvents(s.f.Ctx, db, activity.Filter{EntityType: "inventory"}, "pdf", 600, func(activity.Event, int64) error { return nil })
		if n != 600 {
			t.Errorf("capped export wrote %d", n)
		}
		ex, _ := activity.List(s.f.Ctx, db, activity.Filter{Action: activity.Export})
		if len(ex.Events) != 2 {
			t.Fatalf("%d EXPORT events", len(ex.Events))
		}
		var vals map[string]any
		json.Unmarshal(ex.Events[0].New.(json.RawMessage), &vals)
		if vals["rows"] != float64(600) || vals["format"] != "pdf" || vals["entity_type"] != "inventory" {
			t.Errorf("EXPORT event values %v", vals)
		}
	})
}

func TestLogIsAppendOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		ctx := context.Background()
		for _, q := range []string{`UPDATE activity_events SET description = 'x'`, `DELETE FROM activity_events`} {
			if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q); return err }); err == nil {
				t.Errorf("%s succeeded", q)
			}
		}
		res, _ := activity.List(s.f.Ctx, db, activity.Filter{Text: "renamed"})
		if len(res.Events) != 1 {
			t.Errorf("search after refused edits: %d", len(res.Events))
		}
	})
}

func TestFieldChanges(t *testing.T) {
	ev := activity.Event{Old: json.RawMessage(`{"role":"operator","disabled":false}`), New: map[string]any{"role": "manager", "name": "Ann"}}
	got := ev.FieldChanges()
	want := []activity.FieldChange{
		{Field: "disabled", Before: "false", HadBefore: true},
		{Field: "name", After: "Ann", HasAfter: true},
		{Field: "role", Before: "operator", After: "manager", HadBefore: true, HasAfter: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// A word in thousands of events takes SQLite's other search plan (walking
// the filter's index); the answer must be the same.
func TestSearchCommonWord(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		s := seed(t, db)
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			for i := 0; i < 5100; i++ {
				if _, err := activity.Record(s.f.Ctx, tx, activity.Event{Action: activity.Update, Category: activity.Inventory,
					EntityType: "inventory", EntityID: "1", Description: "routine recount",
					OccurredAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			filter activity.Filter
			want   int
		}{
			{activity.Filter{Text: "recount", Limit: 1000}, 1000},
			{activity.Filter{Text: "routine recount", From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)}, 60},
			{activity.Filter{Text: "recount hex"}, 0},
		} {
			res, err := activity.List(s.f.Ctx, db, c.filter)
			if err != nil || len(res.Events) != c.want {
				t.Errorf("%+v: %d events, %v", c.filter, len(res.Events), err)
			}
		}
		// The READ events of the three listings hold "recount" too (in the
		// filter they record), so the summary counts them.
		sum, err := activity.Summarize(s.f.Ctx, db, activity.Filter{Text: "recount"})
		if err != nil || sum.Total != 5103 || sum.ByAction["READ"] != 3 {
			t.Errorf("summary of a common word: %d, %v", sum.Total, err)
		}
	})
}
