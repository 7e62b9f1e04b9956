package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestTwoRoles is the tamper-evident PostgreSQL setup of the README: an
// owner role migrates with --grant-to the app role, which then runs the
// product (serve, the areas, the command line) but cannot switch off or get
// around the append-only triggers.
func TestTwoRoles(t *testing.T) {
	ctx := context.Background()
	adminURL := pgtest.NewDatabase(t)
	ownerName, ownerURL := pgtest.NewRole(t, adminURL, "owner")
	appName, appURL := pgtest.NewRole(t, adminURL, "app")
	pgtest.Exec(t, adminURL, `GRANT CREATE ON SCHEMA public TO "`+ownerName+`"`)

	if _, err := runCLI(t, "serve", "--db", appURL, "--addr", "127.0.0.1:0"); err == nil ||
		!strings.Contains(err.Error(), "run `stocktrail migrate --db OWNER_URL --grant-to "+appName+"`") {
		t.Fatalf("serve as the app role before any migration: %v", err)
	}
	if _, err := runCLI(t, "migrate", "--db", ownerURL, "--grant-to", ""); err == nil || !strings.Contains(err.Error(), "empty role name") {
		t.Fatalf("empty --grant-to: %v", err)
	}
	if _, err := runCLI(t, "migrate", "--data", t.TempDir(), "--grant-to", appName); err == nil || !strings.Contains(err.Error(), "roles are a PostgreSQL feature") {
		t.Fatalf("--grant-to on SQLite: %v", err)
	}
	if _, err := runCLI(t, "migrate", "--db", appURL, "--grant-to", appName); err == nil || !strings.Contains(err.Error(), "run `stocktrail migrate --db OWNER_URL") {
		t.Fatalf("migrate as the app role: %v", err)
	}
	out, err := runCLI(t, "migrate", "--db", ownerURL, "--grant-to", appName)
	if err != nil || !strings.Contains(out, "granted to "+appName+": SELECT, INSERT on ") || !strings.Contains(out, "activity_events") || !strings.Contains(out, "inventory_log") {
		t.Fatalf("migrate --grant-to: %v\n%s", err, out)
	}
	// Again (after an upgrade), the flag repeated and comma-separated.
	if out, err := runCLI(t, "migrate", "--db", ownerURL, "--grant-to", appName+","+appName, "--grant-to", appName); err != nil || strings.Count(out, "granted to") != 3 {
		t.Fatalf("migrate --grant-to again: %v\n%s", err, out)
	}

	// The product, as the app role: the fixture's bootstrap (workspace and
	// admin), stock received, a manual audit entry, and reading them back.
	db, err := store.Open(ctx, store.Config{URL: appURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("start as the app role: %v", err)
	}
	f := storetest.NewFixture(t, db)
	if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "BOLT", Name: "Bolt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Receive(f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT"},
		LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: "5"}); err != nil {
		t.Fatal(err)
	}
	if _, err := activity.Report(f.Ctx, db, activity.ManualEntry{Action: activity.Update, TableName: "products", RecordID: "7"}); err != nil {
		t.Fatal(err)
	}
	page, err := inventory.ListLog(f.Ctx, db, inventory.LogFilter{})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Movement != "receipt" {
		t.Fatalf("log as the app role: %v %+v", err, page)
	}
	if evs, err := activity.ForEntity(f.Ctx, db, "products", "7", 0); err != nil || len(evs) != 1 {
		t.Fatalf("activity as the app role: %v %+v", err, evs)
	}
	if out, err := runCLI(t, "user", "create", "--email", "op@example.com", "--name", "Op", "--role", "operator", "--db", appURL); err != nil {
		t.Fatalf("command line as the app role: %v\n%s", err, out)
	}

	// What the owner could do to rewrite history, refused to the app role.
	super, err := store.Open(ctx, store.Config{URL: adminURL})
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close()
	logs := func() string {
		var s string
		if err := super.Read().QueryRowContext(ctx, `SELECT
			(SELECT count(*) || ' ' || sum(change) || ' ' || max(id) FROM inventory_log) || ' / ' ||
			(SELECT count(*) || ' ' || max(id) FROM activity_events) || ' / ' ||
			(SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := logs()
	for _, statement := range []string{
		`ALTER TABLE inventory_log DISABLE TRIGGER ALL`,
		`ALTER TABLE inventory_log DISABLE TRIGGER inventory_log_append_only`,
		`ALTER TABLE activity_events DISABLE TRIGGER USER`,
		`UPDATE inventory_log SET change = change * 2`,
		`DELETE FROM activity_events`,
		`TRUNCATE inventory_log`,
		`TRUNCATE activity_events CASCADE`,
		`DROP TABLE inventory_log`,
		`DROP TRIGGER activity_events_append_only ON activity_events`,
		`SET session_replication_role = replica`,
		`CREATE OR REPLACE FUNCTION stocktrail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
		`ALTER TABLE inventory_log OWNER TO "` + appName + `"`,
		`GRANT "` + ownerName + `" TO "` + appName + `"`,
	} {
		_, err := db.Exec(ctx, statement)
		if err == nil {
			t.Errorf("the app role may run %s", statement)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "permission denied") && !strings.Contains(msg, "must be owner") && !strings.Contains(msg, "must have admin option") {
			t.Errorf("%s: refused, but not for want of privilege: %v", statement, err)
		}
	}
	if after := logs(); after != before || !strings.Contains(after, "inventory_log_append_only=O") {
		t.Fatalf("logs or triggers changed:\n%s\n%s", before, after)
	}

	// serve starts as the app role and answers ready.
	addr := freeAddr(t)
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var serveOut syncBuffer
	go func() {
		done <- run(serveCtx, []string{"serve", "--db", appURL, "--addr", addr}, &serveOut, &bytes.Buffer{})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve as the app role: %v\n%s", err, serveOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve as the app role not ready: %v\n%s", err, serveOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
