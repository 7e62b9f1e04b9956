package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
)

func openURL(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// twoRoles returns a fresh database with an owner role that may create
// tables in it and an app role that owns nothing, and a connection as the
// server's superuser to look at the catalog with.
func twoRoles(t *testing.T, appPrefix string) (adminURL string, super, owner, app *store.DB, ownerName, appName string) {
	t.Helper()
	adminURL = pgtest.NewDatabase(t)
	ownerName, ownerURL := pgtest.NewRole(t, adminURL, "owner")
	appName, appURL := pgtest.NewRole(t, adminURL, appPrefix)
	// What `createdb -O owner` gives on PostgreSQL 15, where PUBLIC may no
	// longer create in schema public.
	pgtest.Exec(t, adminURL, `GRANT CREATE ON SCHEMA public TO "`+ownerName+`"`)
	return adminURL, openURL(t, adminURL), openURL(t, ownerURL), openURL(t, appURL), ownerName, appName
}

// granted lists, per relation of schema public, the privileges role holds
// itself (not through PUBLIC), sorted and comma-separated, with "+grant"
// for a grant option and "+owner" when role owns it.
func granted(t *testing.T, super *store.DB, role string) map[string]string {
	t.Helper()
	rows, err := super.Read().QueryContext(context.Background(), `
SELECT c.relname,
       coalesce(string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '+grant' ELSE '' END, ',' ORDER BY a.privilege_type), '')
       || CASE WHEN c.relowner = $1::regrole THEN '+owner' ELSE '' END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL aclexplode(c.relacl) a ON a.grantee = $1::regrole
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
 GROUP BY c.relname, c.relowner`, `"`+strings.ReplaceAll(role, `"`, `""`)+`"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, privs string
		if err := rows.Scan(&name, &privs); err != nil {
			t.Fatal(err)
		}
		out[name] = privs
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantRuntime is what the runtime role must hold on each relation: read
// from the catalog independently of GrantRuntime's own query.
func wantRuntime(t *testing.T, super *store.DB) map[string]string {
	t.Helper()
	rows, err := super.Read().QueryContext(context.Background(), `
SELECT c.relname, c.relkind::text,
       EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = c.oid AND p.proname IN ('stocktrail_refuse_change', 'stocktrail_refuse_ledger_change', 'stocktrail_refuse_later_change', 'stocktrail_refuse_activity_change'))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]string{}
	for rows.Next() {
		var name, kind string
		var appendOnly bool
		if err := rows.Scan(&name, &kind, &appendOnly); err != nil {
			t.Fatal(err)
		}
		switch {
		case kind == "S":
			want[name] = "USAGE"
		case name == "goose_db_version" || kind == "v" || kind == "m":
			want[name] = "SELECT"
		case appendOnly:
			want[name] = "INSERT,SELECT"
		default:
			want[name] = "DELETE,INSERT,SELECT,UPDATE"
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{"inventory_log", "activity_events"} {
		if want[log] != "INSERT,SELECT" {
			t.Fatalf("%s is not seen as append-only: %q", log, want[log])
		}
	}
	return want
}

func checkGrants(t *testing.T, super *store.DB, role string) {
	t.Helper()
	got, want := granted(t, super, role), wantRuntime(t, super)
	if !reflect.DeepEqual(got, want) {
		for name := range want {
			if got[name] != want[name] {
				t.Errorf("%s: role holds %q, want %q", name, got[name], want[name])
			}
		}
		t.FailNow()
	}
}

// TestGrantRuntime: the owner migrates and grants; the app role then starts
// (Migrate checks and applies nothing) with exactly the runtime privileges.
// Granting again changes nothing; tables a later migration adds, log tables
// included, are covered by the next grant, and until then the app role's
// start names them. A pending migration stops it with the command to run.
func TestGrantRuntime(t *testing.T) {
	ctx := context.Background()
	// A name that only works quoted.
	_, super, owner, app, _, appName := twoRoles(t, `App "x`)

	if err := app.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "not migrated") ||
		!strings.Contains(err.Error(), "stocktrail migrate --db OWNER_URL --grant-to "+appName) {
		t.Fatalf("app role on an empty database: %v", err)
	}
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "activity_events (SELECT, INSERT)") ||
		!strings.Contains(err.Error(), "--grant-to "+appName) {
		t.Fatalf("app role before the grant: %v", err)
	}
	g, err := owner.GrantRuntime(ctx, appName)
	if err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{"activity_events", "inventory_log"} {
		if !slices.Contains(g.AppendOnly, log) || slices.Contains(g.ReadWrite, log) {
			t.Fatalf("%s not granted as append-only: %+v", log, g)
		}
	}
	if !slices.Contains(g.ReadWrite, "items") || !slices.Contains(g.ReadOnly, "goose_db_version") {
		t.Fatalf("grants: %+v", g)
	}
	checkGrants(t, super, appName)
	if err := app.Migrate(ctx); err != nil {
		t.Fatalf("app role after the grant: %v", err)
	}
	if err := app.Ready(ctx); err != nil {
		t.Fatal(err)
	}

	again, err := owner.GrantRuntime(ctx, appName)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, again) {
		t.Fatalf("second grant differs:\n%+v\n%+v", g, again)
	}
	checkGrants(t, super, appName)

	// What a later release's migrations could add, run by the owner: a log
	// with the shared trigger function, one with an area's own.
	if _, err := owner.Exec(ctx, `
CREATE TABLE later_log (workspace_id BIGINT NOT NULL, id BIGINT GENERATED BY DEFAULT AS IDENTITY, hash BYTEA, PRIMARY KEY (workspace_id, id));
CREATE TRIGGER later_log_append_only BEFORE UPDATE OR DELETE ON later_log
    FOR EACH ROW EXECUTE FUNCTION stocktrail_refuse_change();
CREATE FUNCTION stocktrail_refuse_later_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TABLE later_area_log (workspace_id BIGINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (workspace_id, idx));
CREATE TRIGGER later_area_log_no_truncate BEFORE TRUNCATE ON later_area_log
    FOR EACH STATEMENT EXECUTE FUNCTION stocktrail_refuse_later_change();
CREATE TABLE later_notes (workspace_id BIGINT NOT NULL, id BIGINT NOT NULL, note TEXT, PRIMARY KEY (workspace_id, id));
CREATE SEQUENCE later_numbers;
CREATE VIEW later_view AS SELECT workspace_id, id FROM later_notes`); err != nil {
		t.Fatal(err)
	}
	err = app.Migrate(ctx)
	for _, name := range []string{"later_log (SELECT, INSERT)", "later_area_log (SELECT, INSERT)", "later_notes (SELECT, INSERT, UPDATE, DELETE)", "later_numbers (USAGE)", "later_view (SELECT)"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("app role with new tables not granted: want %q in %v", name, err)
		}
	}
	g, err = owner.GrantRuntime(ctx, appName)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.AppendOnly, "later_log") || !slices.Contains(g.AppendOnly, "later_area_log") || !slices.Contains(g.ReadWrite, "later_notes") {
		t.Fatalf("new tables: %+v", g)
	}
	checkGrants(t, super, appName)
	if err := app.Migrate(ctx); err != nil {
		t.Fatalf("app role after the second grant: %v", err)
	}

	// A migration pending (as after an upgrade): the app role cannot apply
	// it and says who must.
	if _, err := owner.Exec(ctx, `DROP TABLE station_sessions; DELETE FROM goose_db_version WHERE version_id = 2`); err != nil {
		t.Fatal(err)
	}
	if err := app.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "migrations pending: run `stocktrail migrate --db OWNER_URL") {
		t.Fatalf("app role with a migration pending: %v", err)
	}
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GrantRuntime(ctx, appName); err != nil {
		t.Fatal(err)
	}
	checkGrants(t, super, appName)
	if err := app.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// A superuser may grant too (an installation whose DBA migrates).
	if _, err := super.GrantRuntime(ctx, appName); err != nil {
		t.Fatal(err)
	}
	checkGrants(t, super, appName)
}

// TestGrantRuntimeRefuses: bad role names, and roles that could disable the
// triggers whatever they were granted, get clear errors, as does a grant
// asked by a role that does not own the tables; nothing is granted.
func TestGrantRuntimeRefuses(t *testing.T) {
	ctx := context.Background()
	sqlite, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	if _, err := sqlite.GrantRuntime(ctx, "app"); err == nil || !strings.Contains(err.Error(), "roles are a PostgreSQL feature") {
		t.Fatalf("sqlite: %v", err)
	}

	adminURL, super, owner, app, ownerName, appName := twoRoles(t, "app")
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	superName, _ := pgtest.NewRole(t, adminURL, "super", "SUPERUSER")
	creatorName, _ := pgtest.NewRole(t, adminURL, "creator", "CREATEROLE")
	memberName, _ := pgtest.NewRole(t, adminURL, "member")
	if _, err := super.Exec(ctx, `GRANT "`+ownerName+`" TO "`+memberName+`"`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ role, want string }{
		{"", "role name is empty"},
		{"  ", "role name is empty"},
		{strings.Repeat("a", 64), "longer than PostgreSQL's 63 bytes"},
		{"a\x00b", "NUL"},
		{"no_such_role", `role "no_such_role" does not exist`},
		{superName, "is a superuser"},
		{creatorName, "may create roles"},
		{ownerName, "owns the tables"},
		{memberName, "owns the tables (or is a member of their owner)"},
	} {
		if _, err := owner.GrantRuntime(ctx, c.role); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("grant to %q: %v, want %q", c.role, err, c.want)
		}
	}
	if _, err := app.GrantRuntime(ctx, appName); err == nil || !strings.Contains(err.Error(), "only the role that owns the tables may grant") {
		t.Errorf("grant by the app role: %v", err)
	}
	// A table someone else put in the schema: the owner still migrates,
	// but cannot grant on it, and says so rather than skip it.
	if _, err := super.Exec(ctx, `CREATE TABLE dba_notes (note TEXT)`); err != nil {
		t.Fatal(err)
	}
	if err := owner.Migrate(ctx); err != nil {
		t.Fatalf("owner with a foreign table in the schema: %v", err)
	}
	if _, err := owner.GrantRuntime(ctx, appName); err == nil || !strings.Contains(err.Error(), "does not own dba_notes") {
		t.Errorf("grant with a foreign table in the schema: %v", err)
	}
	for name, privs := range granted(t, super, appName) {
		if privs != "" {
			t.Errorf("refused grants left %s with %q", name, privs)
		}
	}
}
