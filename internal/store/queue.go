package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Background deliveries (webhooks) run on River (github.com/riverqueue/river),
// a maintained job queue with drivers for both engines over database/sql:
// jobs are inserted in the caller's own transaction (store.Tx embeds the
// *sql.Tx River takes), so a job exists exactly when the change that asked
// for it committed, and River retries it with backoff until it succeeds.
//
// River gets this database's writer: on SQLite the single write connection
// (River's own driver documentation asks for one connection), so River's
// writes queue behind the group committer instead of failing with
// SQLITE_BUSY; a job inserted inside a group's savepoint is rolled back with
// it. River's writes outside our transactions are not fsynced by the group
// committer: after a power loss a finished job may run again, which
// at-least-once delivery allows. Its tables (river_*) are created by
// rivermigrate in each engine's own types (schema_parity_test.go lists
// them) and lead with no workspace: jobs only carry ids of rows that do.

// QueueDriver returns the River driver for this database; a River client
// built on it works with the *sql.Tx inside a store.Tx (tx.Tx).
func (db *DB) QueueDriver() riverdriver.Driver[*sql.Tx] {
	if db.engine == SQLite {
		return riversqlite.New(db.write)
	}
	return riverdatabasesql.New(db.write)
}

// queueMigrationLockKey serializes River's migrations between PostgreSQL
// nodes that start at once (goose's own lock is released by then).
const queueMigrationLockKey int64 = 0x5374_5269_7665 // "StRive"

// migrateQueue applies River's own migrations (idempotent).
func (db *DB) migrateQueue(ctx context.Context) error {
	if db.engine == Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("queue migrations: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, queueMigrationLockKey); err != nil {
			return fmt.Errorf("queue migrations lock: %w", err)
		}
		// A fresh context: the lock must be given back even when ctx ended.
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, queueMigrationLockKey)
	}
	m, err := rivermigrate.New(db.QueueDriver(), nil)
	if err != nil {
		return fmt.Errorf("queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply queue migrations: %w", err)
	}
	return nil
}

// queuePending says what River migrations are missing, or "" when none.
func (db *DB) queuePending(ctx context.Context) (string, error) {
	m, err := rivermigrate.New(db.QueueDriver(), nil)
	if err != nil {
		return "", fmt.Errorf("queue migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("check queue migrations: %w", err)
	}
	if res.OK {
		return "", nil
	}
	return strings.Join(res.Messages, "; "), nil
}
