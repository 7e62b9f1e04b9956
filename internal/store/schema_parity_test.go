package store_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// appendOnlyLogs are the tables both engines refuse to change, each with
// triggers of its engine's own making: SQLite raises in one trigger per
// statement kind; PostgreSQL shares one function for UPDATE and DELETE and
// adds a statement trigger, as TRUNCATE fires no row triggers.
var appendOnlyLogs = []string{"activity_events", "inventory_log", "ledger_leaves", "ledger_hashes", "ledger_checkpoints", "ledger_purges"}

// intendedDifferences lists every way the two engines' migrated schemas may
// differ, each line as TestSchemaParity reports it. Anything else is drift:
// a column, index or trigger added to one engine's migration only.
func intendedDifferences() map[string]string {
	why := map[string]string{
		// Full-text search: SQLite's FTS5 index is a virtual table with
		// shadow tables; PostgreSQL's is a GIN expression index over the
		// same text (00020), which SQLite cannot express.
		"only on sqlite: table activity_events_fts":                                      "FTS5 index",
		"only on sqlite: table activity_events_fts_config":                               "FTS5 shadow table",
		"only on sqlite: table activity_events_fts_data":                                 "FTS5 shadow table",
		"only on sqlite: table activity_events_fts_docsize":                              "FTS5 shadow table",
		"only on sqlite: table activity_events_fts_idx":                                  "FTS5 shadow table",
		"only on sqlite: column activity_events_fts.body: blob null":                     "FTS5 index column",
		"only on sqlite: column activity_events_fts_config.k: blob not null":             "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_config.v: blob null":                 "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_data.block: blob null":               "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_data.id: integer not null":           "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_docsize.id: integer not null":        "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_docsize.sz: blob null":               "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_idx.pgno: blob null":                 "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_idx.segid: blob not null":            "FTS5 shadow table",
		"only on sqlite: column activity_events_fts_idx.term: blob not null":             "FTS5 shadow table",
		"only on sqlite: primary key activity_events_fts_config: (k)":                    "FTS5 shadow table",
		"only on sqlite: primary key activity_events_fts_data: (id)":                     "FTS5 shadow table",
		"only on sqlite: primary key activity_events_fts_docsize: (id)":                  "FTS5 shadow table",
		"only on sqlite: primary key activity_events_fts_idx: (segid, term)":             "FTS5 shadow table",
		"only on postgres: index activity_events_search on activity_events (expression)": "tsvector GIN index",
		// SQLite fills its FTS5 index after the fact (00022) and keeps how
		// far it got; PostgreSQL's index is maintained by the insert.
		"only on sqlite: table activity_search_progress":                                    "deferred FTS5 indexing",
		"only on sqlite: column activity_search_progress.id: integer not null":              "deferred FTS5 indexing",
		"only on sqlite: column activity_search_progress.indexed_through: integer not null": "deferred FTS5 indexing",
		"only on sqlite: primary key activity_search_progress: (id)":                        "deferred FTS5 indexing",

		// The same partial-index predicate (00025), as PostgreSQL prints it
		// back: its own parentheses and = ANY (ARRAY[…]) for IN lists.
		`differs: index activity_events_config_changes: sqlite "on activity_events (workspace_id, occurred_at, id) where category = 'configuration' or action = 'role_change' or (entity_type in ('api_keys', 'stations') and action in ('create', 'update', 'delete', 'revoke'))", postgres "on activity_events (workspace_id, occurred_at, id) where category = 'configuration') or (action = 'role_change') or ((entity_type = any (array['api_keys', 'stations'])) and (action = any (array['create', 'update', 'delete', 'revoke']))"`: "predicate printed by each engine",

		// Index-only scans: SQLite has no INCLUDE, so its covering indexes
		// carry the columns as trailing keys (00020); the listed columns are
		// the same. The checkpoints table is WITHOUT ROWID on SQLite (its
		// key holds change_sum), so only PostgreSQL needs a covering index
		// beside the key (00013).
		"only on postgres: index inventory_checkpoints_covering on inventory_checkpoints (workspace_id, item_id, location_id, period_start, change_sum)": "covering index",

		// Rows are found by id alone (foreign keys, lookups by id): on
		// PostgreSQL, whose key leads with workspace_id, a unique index on
		// id does that; on SQLite the id is the rowid. Where SQLite reads a
		// workspace's rows in id order it has a (workspace_id, id) index,
		// which on PostgreSQL is the primary key.
		"only on postgres: index users_id on users (id) unique":                               "id lookups beside the Citus-ready key",
		"only on sqlite: index users_workspace on users (workspace_id, id)":                   "PostgreSQL's primary key",
		"only on sqlite: index api_keys_workspace on api_keys (workspace_id, id)":             "PostgreSQL's primary key",
		"only on sqlite: index inventory_log_ws on inventory_log (workspace_id, id)":          "PostgreSQL's primary key",
		"only on sqlite: index ledger_pending_workspace on ledger_pending (workspace_id, id)": "PostgreSQL's primary key",
		// A WITHOUT ROWID table's indexes hold its key (workspace_id, seq)
		// on SQLite; PostgreSQL needs INCLUDE (seq) for index-only lookups.
		`differs: index ledger_leaves_entry: sqlite "on ledger_leaves (workspace_id, log, entry_id) unique", postgres "on ledger_leaves (workspace_id, log, entry_id, seq) unique"`: "covering index",

		// River's job queue (store/queue.go): rivermigrate creates its tables in
		// each engine's own types and indexes; River maintains both schemas.
		`differs: column river_job.args: sqlite "blob not null", postgres "jsonb not null"`:                                        "River's own schema",
		`differs: column river_job.attempted_at: sqlite "timestamp null", postgres "timestamp with time zone null"`:                "River's own schema",
		`differs: column river_job.attempted_by: sqlite "blob null", postgres "array null"`:                                        "River's own schema",
		`differs: column river_job.created_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:          "River's own schema",
		`differs: column river_job.errors: sqlite "blob null", postgres "array null"`:                                              "River's own schema",
		`differs: column river_job.finalized_at: sqlite "timestamp null", postgres "timestamp with time zone null"`:                "River's own schema",
		`differs: column river_job.metadata: sqlite "blob not null", postgres "jsonb not null"`:                                    "River's own schema",
		`differs: column river_job.scheduled_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:        "River's own schema",
		`differs: column river_job.state: sqlite "text not null", postgres "user-defined not null"`:                                "River's own schema",
		`differs: column river_job.tags: sqlite "blob not null", postgres "array not null"`:                                        "River's own schema",
		`differs: column river_job.unique_states: sqlite "integer null", postgres "bit null"`:                                      "River's own schema",
		`differs: column river_leader.elected_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:       "River's own schema",
		`differs: column river_leader.expires_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:       "River's own schema",
		`differs: column river_migration.created_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:    "River's own schema",
		`differs: column river_notification.created_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`: "River's own schema",
		`differs: column river_queue.created_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:        "River's own schema",
		`differs: column river_queue.metadata: sqlite "blob not null", postgres "jsonb not null"`:                                  "River's own schema",
		`differs: column river_queue.paused_at: sqlite "timestamp null", postgres "timestamp with time zone null"`:                 "River's own schema",
		`differs: column river_queue.updated_at: sqlite "timestamp not null", postgres "timestamp with time zone not null"`:        "River's own schema",
		`differs: index river_job_unique_idx: sqlite "on river_job (unique_key) unique where unique_key is not null and unique_states is not null and case state when 'available' then unique_states & (1 << 0) when 'cancelled' then unique_states & (1 << 1) when 'completed' then unique_states & (1 << 2) when 'discarded' then unique_states & (1 << 3) when 'pending' then unique_states & (1 << 4) when 'retryable' then unique_states & (1 << 5) when 'running' then unique_states & (1 << 6) when 'scheduled' then unique_states & (1 << 7) else 0 end >= 1", postgres "on river_job (unique_key) unique where unique_key is not null) and (unique_states is not null) and river_job_state_in_bitmask(unique_states, state"`: "River's own schema",
		`only on postgres: index river_job_args_index on river_job (args)`:         "River's own schema",
		`only on postgres: index river_job_metadata_index on river_job (metadata)`: "River's own schema",

		// goose creates its version table in each dialect's own types.
		`differs: column goose_db_version.is_applied: sqlite "integer not null", postgres "boolean not null"`:               "goose's table",
		`differs: column goose_db_version.tstamp: sqlite "timestamp null", postgres "timestamp without time zone not null"`: "goose's table",
	}
	for _, table := range appendOnlyLogs {
		why["only on sqlite: trigger "+table+"_no_update on "+table] = "append-only log"
		why["only on sqlite: trigger "+table+"_no_delete on "+table] = "append-only log"
		why["only on postgres: trigger "+table+"_append_only on "+table] = "append-only log"
		why["only on postgres: trigger "+table+"_no_truncate on "+table] = "append-only log"
	}
	return why
}

// TestSchemaParity migrates a SQLite and a PostgreSQL database and compares
// their tables, columns (name, type class, nullability), primary keys,
// indexes (name, table, columns, uniqueness, partial predicate) and
// triggers (name, table). Every difference must be in intendedDifferences.
func TestSchemaParity(t *testing.T) {
	ctx := context.Background()
	lite := sqliteSchema(t, ctx, storetest.Open(t, store.SQLite))
	pg := postgresSchema(t, ctx, storetest.Open(t, store.Postgres))
	if len(lite) < 100 || len(pg) < 100 {
		t.Fatalf("read %d SQLite and %d PostgreSQL schema facts: is the introspection broken?", len(lite), len(pg))
	}
	intended := intendedDifferences()
	seen := map[string]bool{}
	var drift []string
	for _, d := range schemaDiff(lite, pg) {
		if _, ok := intended[d]; ok {
			seen[d] = true
			continue
		}
		drift = append(drift, d)
	}
	if len(drift) > 0 {
		t.Errorf("the engines' schemas differ (make both migrations agree, or list an intended difference in intendedDifferences):\n%s", strings.Join(drift, "\n"))
	}
	// A listed difference that no longer exists would let it come back
	// unnoticed.
	var stale []string
	for d := range intended {
		if !seen[d] {
			stale = append(stale, d)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("intended differences that no longer exist (remove them):\n%s", strings.Join(stale, "\n"))
	}
}

// schema maps each fact's key ("column users.email", "index users_email")
// to its description ("text not null", "on users (email) unique where …").
type schema map[string]string

// schemaDiff lists the differences between two schemas in the form of
// intendedDifferences.
func schemaDiff(lite, pg schema) []string {
	var out []string
	for k, v := range lite {
		w, ok := pg[k]
		switch {
		case !ok:
			out = append(out, "only on sqlite: "+fact(k, v))
		case v != w:
			out = append(out, fmt.Sprintf("differs: %s: sqlite %q, postgres %q", k, v, w))
		}
	}
	for k, v := range pg {
		if _, ok := lite[k]; !ok {
			out = append(out, "only on postgres: "+fact(k, v))
		}
	}
	sort.Strings(out)
	return out
}

func fact(key, desc string) string {
	switch {
	case desc == "":
		return key
	case strings.HasPrefix(key, "column "), strings.HasPrefix(key, "primary key "):
		return key + ": " + desc
	}
	return key + " " + desc
}

// typeClass folds a declared column type into what both engines store:
// SQLite's affinity rules, applied to PostgreSQL's type names too.
func typeClass(declared string) string {
	t := strings.ToLower(declared)
	switch {
	case strings.Contains(t, "int"):
		return "integer"
	case strings.Contains(t, "char"), strings.Contains(t, "clob"), strings.Contains(t, "text"):
		return "text"
	case t == "", strings.Contains(t, "blob"), t == "bytea":
		return "blob"
	case strings.Contains(t, "real"), strings.Contains(t, "floa"), strings.Contains(t, "doub"):
		return "real"
	}
	return t
}

func nullability(notNull bool) string {
	if notNull {
		return "not null"
	}
	return "null"
}

var (
	spaces   = regexp.MustCompile(`\s+`)
	textCast = regexp.MustCompile(`::[a-z ]+`)
)

// predicate normalises a partial index's WHERE clause: PostgreSQL prints it
// in parentheses and with casts that SQLite's text has not.
func predicate(where string) string {
	p := strings.TrimSpace(spaces.ReplaceAllString(textCast.ReplaceAllString(where, ""), " "))
	for strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")") {
		p = strings.TrimSpace(p[1 : len(p)-1])
	}
	return strings.ToLower(p)
}

func indexDesc(table string, columns []string, unique bool, where string) string {
	d := "on " + table + " (" + strings.Join(columns, ", ") + ")"
	if unique {
		d += " unique"
	}
	if where != "" {
		d += " where " + predicate(where)
	}
	return d
}

// constraintIndex names an index that a PRIMARY KEY or UNIQUE constraint
// made, whose name each engine picks itself.
func constraintIndex(table string, columns []string) string {
	return "index " + table + " unique (" + strings.Join(columns, ", ") + ")"
}

// primaryKey is the description of a table's key. SQLite's rowid tables
// are keyed by id alone, PostgreSQL's lead with workspace_id so that Citus
// can distribute them (docs/CONVENTIONS.md): that difference is the rule,
// so both are written as PostgreSQL's.
func primaryKey(columns []string, hasWorkspace bool) string {
	if hasWorkspace && slices.Equal(columns, []string{"id"}) {
		columns = []string{"workspace_id", "id"}
	}
	return "(" + strings.Join(columns, ", ") + ")"
}

func rows(t *testing.T, ctx context.Context, db *store.DB, query string, args []any, dest ...any) func() bool {
	t.Helper()
	rs, err := db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	t.Cleanup(func() { rs.Close() })
	return func() bool {
		if !rs.Next() {
			if err := rs.Err(); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			rs.Close()
			return false
		}
		if err := rs.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return true
	}
}

func sqliteSchema(t *testing.T, ctx context.Context, db *store.DB) schema {
	s := schema{}
	var tables []string
	var name, table string
	next := rows(t, ctx, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`, nil, &name)
	for next() {
		tables = append(tables, name)
	}
	for _, tbl := range tables {
		s["table "+tbl] = ""
		var col, typ string
		var notNull, pk int
		var pkCols []string
		pkOrder := map[string]int{}
		hasWorkspace := false
		next := rows(t, ctx, db, `SELECT name, type, "notnull", pk FROM pragma_table_xinfo($1) WHERE hidden <> 1`, []any{tbl}, &col, &typ, &notNull, &pk)
		for next() {
			// SQLite lets a key column hold NULL unless it is the rowid;
			// PostgreSQL never does, and no key column here holds one.
			s["column "+tbl+"."+col] = typeClass(typ) + " " + nullability(notNull == 1 || pk > 0)
			if pk > 0 {
				pkCols = append(pkCols, col)
				pkOrder[col] = pk
			}
			hasWorkspace = hasWorkspace || col == "workspace_id"
		}
		sort.Slice(pkCols, func(i, j int) bool { return pkOrder[pkCols[i]] < pkOrder[pkCols[j]] })
		if len(pkCols) > 0 {
			s["primary key "+tbl] = primaryKey(pkCols, hasWorkspace)
		}

		type index struct {
			name, origin string
			unique       bool
		}
		var indexes []index
		var idx, origin string
		var unique bool
		next = rows(t, ctx, db, `SELECT name, "unique", origin FROM pragma_index_list($1)`, []any{tbl}, &idx, &unique, &origin)
		for next() {
			indexes = append(indexes, index{idx, origin, unique})
		}
		for _, ix := range indexes {
			var cols []string
			var colName *string
			var key int
			next := rows(t, ctx, db, `SELECT name, key FROM pragma_index_xinfo($1) ORDER BY seqno`, []any{ix.name}, &colName, &key)
			for next() {
				if key == 0 {
					continue // the rowid every index entry ends with
				}
				if colName == nil {
					cols = append(cols, "expression")
					continue
				}
				cols = append(cols, *colName)
			}
			switch ix.origin {
			case "pk":
				// The table's key, compared as the primary key above.
			case "u":
				s[constraintIndex(tbl, cols)] = ""
			default:
				var where string
				var def *string
				if err := db.Read().QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = $1`, ix.name).Scan(&def); err != nil {
					t.Fatal(err)
				}
				if def != nil {
					if i := strings.Index(strings.ToUpper(*def), " WHERE "); i >= 0 {
						where = (*def)[i+len(" WHERE "):]
					}
				}
				s["index "+ix.name] = indexDesc(tbl, cols, ix.unique, where)
			}
		}
	}
	next = rows(t, ctx, db, `SELECT name, tbl_name FROM sqlite_schema WHERE type = 'trigger'`, nil, &name, &table)
	for next() {
		s["trigger "+name] = "on " + table
	}
	return s
}

func postgresSchema(t *testing.T, ctx context.Context, db *store.DB) schema {
	s := schema{}
	var name, table, typ string
	var nullable bool
	hasWorkspace := map[string]bool{}
	next := rows(t, ctx, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`, nil, &name)
	for next() {
		s["table "+name] = ""
	}
	next = rows(t, ctx, db, `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES'
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`, nil, &table, &name, &typ, &nullable)
	for next() {
		s["column "+table+"."+name] = typeClass(typ) + " " + nullability(!nullable)
		if name == "workspace_id" {
			hasWorkspace[table] = true
		}
	}
	var primary, unique, constraint bool
	var columns, where string
	// Each index's columns, INCLUDE columns too: SQLite lists those as
	// trailing key columns. pg_get_indexdef gives an expression's text, and
	// a plain column's name.
	next = rows(t, ctx, db, `SELECT i.relname, tc.relname, x.indisprimary, x.indisunique,
			EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid),
			(SELECT string_agg(CASE WHEN x.indkey[k] = 0 THEN 'expression' ELSE pg_get_indexdef(x.indexrelid, k + 1, true) END, ', ' ORDER BY k)
			   FROM generate_series(0, x.indnatts - 1) k),
			COALESCE(pg_get_expr(x.indpred, x.indrelid), '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class tc ON tc.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = tc.relnamespace
		WHERE n.nspname = current_schema()`, nil, &name, &table, &primary, &unique, &constraint, &columns, &where)
	for next() {
		cols := strings.Split(columns, ", ")
		switch {
		case primary:
			s["primary key "+table] = primaryKey(cols, hasWorkspace[table])
		case constraint:
			s[constraintIndex(table, cols)] = ""
		default:
			s["index "+name] = indexDesc(table, cols, unique, where)
		}
	}
	next = rows(t, ctx, db, `SELECT tg.tgname, c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND NOT tg.tgisinternal`, nil, &name, &table)
	for next() {
		s["trigger "+name] = "on " + table
	}
	return s
}
