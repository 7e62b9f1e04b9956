package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// On PostgreSQL the role that owns the tables can disable the append-only
// triggers (ALTER TABLE … DISABLE TRIGGER) and then rewrite the logs, so a
// tamper-evident installation runs `serve` as a second role that owns
// nothing and holds only the privileges below. They are computed from the
// catalog rather than listed, so that a table a later migration adds is
// covered by the next `stocktrail migrate --grant-to`: default privileges
// (ALTER DEFAULT PRIVILEGES) would give a new log table UPDATE and DELETE
// before its trigger exists, and the exact grant needs the trigger to be
// known, so the grant is made again after every upgrade instead.

// refuseFunctions matches (LIKE) the names of the trigger functions that
// make a table append-only by raising on UPDATE, DELETE and TRUNCATE:
// stocktrail_refuse_change (migrations/postgres/00001_foundation.sql) and
// any other stocktrail_refuse_… an area declares for its own logs.
const refuseFunctions = `stocktrail\_refuse\_%`

// purgeFunctions matches (LIKE) the SECURITY DEFINER functions through
// which the runtime role may delete from an append-only table it holds no
// DELETE on: stocktrail_purge_activity, the retention purge
// (migrations/postgres/00041_ledger_purges.sql). They run as the owner and
// delete only what the table's trigger lets through; the runtime role gets
// EXECUTE on them and nothing else does (the migration revokes PUBLIC's).
const purgeFunctions = `stocktrail\_purge\_%`

// maxIdentifierBytes is PostgreSQL's NAMEDATALEN-1: a longer name is cut
// silently, which would grant to another role than the one named.
const maxIdentifierBytes = 63

// RuntimeGrants says what GrantRuntime granted, relation names sorted.
type RuntimeGrants struct {
	Role string
	// AppendOnly are the tables with an append-only trigger: SELECT, INSERT.
	AppendOnly []string
	// ReadWrite are the other tables: SELECT, INSERT, UPDATE, DELETE.
	ReadWrite []string
	// ReadOnly are goose's version table, views and materialized views: SELECT.
	ReadOnly []string
	// Sequences get USAGE.
	Sequences []string
	// Functions get EXECUTE: the purge paths (purgeFunctions), by signature.
	Functions []string
}

// purgeFunction is one of purgeFunctions, by signature, and whether the
// connected role may execute it.
type purgeFunction struct {
	signature string
	can       bool
}

// schemaPurgeFunctions lists the purge functions of the current schema.
func schemaPurgeFunctions(ctx context.Context, q Querier, role string) ([]purgeFunction, error) {
	rows, err := q.QueryContext(ctx, `
SELECT p.oid::regprocedure::text, has_function_privilege($2, p.oid, 'EXECUTE')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = current_schema() AND p.proname LIKE $1
 ORDER BY 1`, purgeFunctions, role)
	if err != nil {
		return nil, fmt.Errorf("list purge functions: %w", err)
	}
	defer rows.Close()
	var out []purgeFunction
	for rows.Next() {
		var f purgeFunction
		if err := rows.Scan(&f.signature, &f.can); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// relation is a table, view or sequence of the schema and the privileges
// the running product needs on it.
type relation struct {
	name       string
	kind       string // pg_class.relkind
	appendOnly bool
	// has are the privileges the connected role holds now, by name.
	has map[string]bool
}

// runtimePrivileges are the privileges `serve` needs on r.
func (r relation) runtimePrivileges() []string {
	switch {
	case r.kind == "S":
		return []string{"USAGE"}
	case r.kind == "v" || r.kind == "m" || r.name == goose.DefaultTablename:
		// Goose's table is read at start to see that nothing is pending;
		// only the owner's migrate writes it.
		return []string{"SELECT"}
	case r.appendOnly:
		return []string{"SELECT", "INSERT"}
	default:
		return []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	}
}

// schemaRelations lists the relations of the current schema (where the
// migrations create theirs), with whether each is append-only and which
// privileges the connected role holds on it.
func schemaRelations(ctx context.Context, q Querier) (schema string, rels []relation, err error) {
	rows, err := q.QueryContext(ctx, `
SELECT n.nspname, c.relname, c.relkind::text,
       EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = c.oid AND p.proname LIKE $1) AS append_only,
       CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE') ELSE false END,
       CASE WHEN c.relkind <> 'S' THEN has_table_privilege(c.oid, 'SELECT') ELSE false END,
       CASE WHEN c.relkind <> 'S' THEN has_table_privilege(c.oid, 'INSERT') ELSE false END,
       CASE WHEN c.relkind <> 'S' THEN has_table_privilege(c.oid, 'UPDATE') ELSE false END,
       CASE WHEN c.relkind <> 'S' THEN has_table_privilege(c.oid, 'DELETE') ELSE false END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
 ORDER BY c.relname`, refuseFunctions)
	if err != nil {
		return "", nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r relation
		var usage, sel, ins, upd, del bool
		if err := rows.Scan(&schema, &r.name, &r.kind, &r.appendOnly, &usage, &sel, &ins, &upd, &del); err != nil {
			return "", nil, err
		}
		r.has = map[string]bool{"USAGE": usage, "SELECT": sel, "INSERT": ins, "UPDATE": upd, "DELETE": del}
		rels = append(rels, r)
	}
	return schema, rels, rows.Err()
}

// canMigrate reports whether the connected role may apply migrations: it is
// a superuser, or it may create in the schema and owns (or inherits the
// owner of) goose's version table, if there is one yet. Other relations'
// owners do not matter here: a table someone else put in the schema must
// not make the owner of stocktrail's tables look like a mere runtime role.
func (db *DB) canMigrate(ctx context.Context) (bool, error) {
	if db.engine != Postgres {
		return true, nil
	}
	var ok sql.NullBool
	err := db.write.QueryRowContext(ctx, `
SELECT r.rolsuper OR (
       has_schema_privilege(n.oid, 'CREATE')
       AND NOT EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.relnamespace = n.oid AND c.relname = $1 AND c.relkind IN ('r', 'p')
                          AND NOT pg_has_role(c.relowner, 'USAGE')))
  FROM pg_roles r, pg_namespace n
 WHERE r.rolname = current_user AND n.nspname = current_schema()`, goose.DefaultTablename).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errors.New("the database has no schema to migrate into (check search_path)")
	}
	if err != nil {
		return false, fmt.Errorf("check the role's ownership of the tables: %w", err)
	}
	return ok.Valid && ok.Bool, nil
}

// notOwned lists the relations of the schema that the connected role
// neither owns nor may act for as a superuser: GRANT on them would only
// warn and grant nothing.
func (db *DB) notOwned(ctx context.Context) ([]string, error) {
	rows, err := db.write.QueryContext(ctx, `
SELECT c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
   AND NOT pg_has_role(c.relowner, 'USAGE')
   AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
 ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("check the role's ownership of the tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// checkRuntimeAccess is Migrate for a role that may not migrate (the
// runtime role of a two-role installation): it succeeds when the schema is
// migrated and the role holds what the product needs, and otherwise says
// which command the owner must run.
func (db *DB) checkRuntimeAccess(ctx context.Context) error {
	var role string
	if err := db.write.QueryRowContext(ctx, `SELECT current_user`).Scan(&role); err != nil {
		return err
	}
	_, rels, err := schemaRelations(ctx, db.write)
	if err != nil {
		return err
	}
	fix := fmt.Sprintf("run `stocktrail migrate --db OWNER_URL --grant-to %s` as the role that owns the tables", role)
	if !slices.ContainsFunc(rels, func(r relation) bool { return r.name == goose.DefaultTablename }) {
		return fmt.Errorf("the database is not migrated and role %q does not own it, so it cannot migrate: %s", role, fix)
	}
	var missing []string
	for _, r := range rels {
		var lacks []string
		for _, p := range r.runtimePrivileges() {
			if !r.has[p] {
				lacks = append(lacks, p)
			}
		}
		if len(lacks) > 0 {
			missing = append(missing, r.name+" ("+strings.Join(lacks, ", ")+")")
		}
	}
	funcs, err := schemaPurgeFunctions(ctx, db.write, role)
	if err != nil {
		return err
	}
	for _, f := range funcs {
		if !f.can {
			missing = append(missing, "function "+f.signature+" (EXECUTE)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("role %q lacks privileges on %s: %s", role, strings.Join(abbreviate(missing), ", "), fix)
	}
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !pending {
		queue, err := db.queuePending(ctx)
		if err != nil {
			return err
		}
		pending = queue != ""
	}
	if pending {
		return fmt.Errorf("migrations pending: run `stocktrail migrate --db OWNER_URL --grant-to %s` (role %q does not own the tables, so it cannot apply them)", role, role)
	}
	return nil
}

// GrantRuntime grants role exactly what `serve` needs on the tables the
// migrations made, computed from the catalog: SELECT and INSERT on every
// table with an append-only trigger, SELECT, INSERT, UPDATE and DELETE on
// the other tables, SELECT on goose's version table and on views, USAGE on
// sequences and on the schema; whatever else role held on them (TRUNCATE,
// REFERENCES, TRIGGER, grant options) is revoked. It must run as the owner
// of the tables, after Migrate, and again after every upgrade; running it
// twice changes nothing. role must exist and must be neither a superuser,
// nor able to create roles, nor a member of the tables' owner: any of those
// could disable the triggers whatever it is granted.
func (db *DB) GrantRuntime(ctx context.Context, role string) (RuntimeGrants, error) {
	if db.engine != Postgres {
		return RuntimeGrants{}, fault.New(fault.Invalid, "roles are a PostgreSQL feature: the embedded SQLite database has no roles to grant to")
	}
	switch {
	case strings.TrimSpace(role) == "":
		return RuntimeGrants{}, fault.New(fault.Invalid, "grant to which role? The role name is empty")
	case len(role) > maxIdentifierBytes:
		return RuntimeGrants{}, fault.New(fault.Invalid, "role name %q is longer than PostgreSQL's %d bytes", role, maxIdentifierBytes)
	case strings.ContainsRune(role, 0):
		return RuntimeGrants{}, fault.New(fault.Invalid, "role name %q contains a NUL byte", role)
	}
	foreign, err := db.notOwned(ctx)
	if err != nil {
		return RuntimeGrants{}, err
	}
	if len(foreign) > 0 {
		return RuntimeGrants{}, fault.New(fault.Invalid, "only the role that owns the tables may grant on them, and the connected role does not own %s: connect with the owner's URL",
			strings.Join(abbreviate(foreign), ", "))
	}
	var super, createRole, ownsTables bool
	err = db.write.QueryRowContext(ctx, `
SELECT r.rolsuper, r.rolcreaterole,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
                  AND pg_has_role(r.oid, c.relowner, 'MEMBER'))
  FROM pg_roles r WHERE r.rolname = $1`, role).Scan(&super, &createRole, &ownsTables)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return RuntimeGrants{}, fault.New(fault.Invalid, "role %q does not exist: create it first (createuser %s, or CREATE ROLE … LOGIN PASSWORD …)", role, role)
	case err != nil:
		return RuntimeGrants{}, fmt.Errorf("look up role %q: %w", role, err)
	case super:
		return RuntimeGrants{}, fault.New(fault.Invalid, "role %q is a superuser, which can disable the append-only triggers whatever it is granted: run serve as a role without SUPERUSER", role)
	case createRole:
		return RuntimeGrants{}, fault.New(fault.Invalid, "role %q may create roles, and so make itself a member of the tables' owner: run serve as a role without CREATEROLE", role)
	case ownsTables:
		return RuntimeGrants{}, fault.New(fault.Invalid, "role %q owns the tables (or is a member of their owner), so it can disable the append-only triggers: run serve as a role that owns nothing", role)
	}

	grants := RuntimeGrants{Role: role}
	err = db.inRawTx(ctx, func(tx *sql.Tx) error {
		schema, rels, err := schemaRelations(ctx, tx)
		if err != nil {
			return err
		}
		to := pgx.Identifier{role}.Sanitize()
		var stmts []string
		var usesSchema bool
		if err := tx.QueryRowContext(ctx, `SELECT has_schema_privilege($1, $2, 'USAGE')`, role, schema).Scan(&usesSchema); err != nil {
			return err
		}
		if !usesSchema {
			// Granted by PUBLIC by default; a schema that was locked down
			// needs it, and only its owner can give it (else a warning,
			// caught below).
			stmts = append(stmts, "GRANT USAGE ON SCHEMA "+pgx.Identifier{schema}.Sanitize()+" TO "+to)
		}
		for _, r := range rels {
			object := "TABLE "
			switch {
			case r.kind == "S":
				object = "SEQUENCE "
				grants.Sequences = append(grants.Sequences, r.name)
			case len(r.runtimePrivileges()) == 1:
				grants.ReadOnly = append(grants.ReadOnly, r.name)
			case r.appendOnly:
				grants.AppendOnly = append(grants.AppendOnly, r.name)
			default:
				grants.ReadWrite = append(grants.ReadWrite, r.name)
			}
			object += pgx.Identifier{schema, r.name}.Sanitize()
			stmts = append(stmts,
				"REVOKE ALL ON "+object+" FROM "+to,
				"GRANT "+strings.Join(r.runtimePrivileges(), ", ")+" ON "+object+" TO "+to)
		}
		funcs, err := schemaPurgeFunctions(ctx, tx, role)
		if err != nil {
			return err
		}
		for _, f := range funcs {
			// The signature comes from the catalog (regprocedure), quoted
			// as the catalog quotes it.
			grants.Functions = append(grants.Functions, f.signature)
			stmts = append(stmts, "GRANT EXECUTE ON FUNCTION "+f.signature+" TO "+to)
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT has_schema_privilege($1, $2, 'USAGE')`, role, schema).Scan(&usesSchema); err != nil {
			return err
		}
		if !usesSchema {
			return fmt.Errorf("role %q may not use schema %q, and the connected role may not grant it: the schema's owner must run GRANT USAGE ON SCHEMA %s TO %s",
				role, schema, pgx.Identifier{schema}.Sanitize(), to)
		}
		return nil
	})
	if err != nil {
		return RuntimeGrants{}, fmt.Errorf("grant to %q: %w", role, err)
	}
	return grants, nil
}

// inRawTx runs fn in a plain transaction on the write pool, for statements
// that are no area's audited change (grants).
func (db *DB) inRawTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// abbreviate keeps the first few names of a list for an error message.
func abbreviate(names []string) []string {
	const shown = 8
	if n := len(names); n > shown {
		return append(names[:shown:shown], fmt.Sprintf("%d more", n-shown))
	}
	return names
}
