package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Each engine has its own folder of versioned SQL migrations. Version ranges
// are kept per area so that areas can add migrations independently:
// 1–9 foundation, 10–19 inventory, 20–29 activity, 30–39 assets and sessions,
// 40–49 ledger, 50–59 idempotency.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

func (db *DB) provider() (*goose.Provider, error) {
	dir := "migrations/sqlite"
	dialect := goose.DialectSQLite3
	// Each area numbers its migrations in its own range, so a database
	// migrated up to a later area's version must still take a new
	// migration of an earlier area (e.g. 00013 after 00050).
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if db.engine == Postgres {
		dir = "migrations/postgres"
		dialect = goose.DialectPostgres
		// Several nodes may start at once: one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.write, fsys, opts...)
}

// Migrate applies every pending migration. On PostgreSQL, connected as a
// role that does not own the tables (the runtime role of grants.go), it
// applies nothing: it checks that nothing is pending and that the role holds
// what the product needs, and otherwise says what the owner must run.
func (db *DB) Migrate(ctx context.Context) error {
	owner, err := db.canMigrate(ctx)
	if err != nil {
		return err
	}
	if !owner {
		return db.checkRuntimeAccess(ctx)
	}
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	if err := db.migrateQueue(ctx); err != nil {
		return err
	}
	// The writer's commits wait for no fsync (walsync.go).
	return db.durable()
}

// Ready reports an error unless the database answers and every migration has
// been applied.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return fmt.Errorf("migrations pending: run `stocktrail migrate`")
	}
	return nil
}
