package store

import (
	"context"
	"fmt"
)

// AppendOnlyTriggers returns the guards that keep the given tables
// append-only and are missing or not firing: on SQLite the
// <table>_no_update and <table>_no_delete triggers, on PostgreSQL
// <table>_append_only and <table>_no_truncate. The migrations create them
// for every log table; someone who can drop or disable them can rewrite
// the table, so verification checks they are still there.
func (db *DB) AppendOnlyTriggers(ctx context.Context, tables []string) (missing []string, err error) {
	for _, table := range tables {
		names := Pick(db, []string{table + "_no_update", table + "_no_delete"},
			[]string{table + "_append_only", table + "_no_truncate"})
		m, err := db.MissingTriggers(ctx, table, names...)
		if err != nil {
			return nil, err
		}
		missing = append(missing, m...)
	}
	return missing, nil
}

// MissingTriggers returns which of the named triggers on table do not
// exist or would not fire for the application's sessions. On PostgreSQL a
// trigger fires in an ordinary session when it is enabled for the origin
// role ('O') or always ('A'); disabled ('D') and replica-only ('R') ones
// do not. SQLite triggers cannot be disabled, only dropped.
func (db *DB) MissingTriggers(ctx context.Context, table string, names ...string) (missing []string, err error) {
	query := Pick(db,
		`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1`,
		`SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
			WHERE c.relname = $1 AND pg_table_is_visible(c.oid) AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')`)
	rows, err := db.Read().QueryContext(ctx, query, table)
	if err != nil {
		return nil, fmt.Errorf("triggers of %s: %w", table, err)
	}
	defer rows.Close()
	firing := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		firing[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if !firing[n] {
			missing = append(missing, n)
		}
	}
	return missing, nil
}
