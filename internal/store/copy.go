package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Bulk is one write transaction that loads many rows at once, for
// benchmark and demo data. Copy writes rows the fastest way the engine
// offers; the Querier methods run any other statement in the same
// transaction.
type Bulk struct {
	Querier
	engine Engine
	// conn is the PostgreSQL connection the transaction runs on, for COPY.
	conn *sql.Conn
}

// Engine reports which engine the load runs on.
func (b *Bulk) Engine() Engine { return b.engine }

// errBulkLoadAgain answers a load whose SQLite group would run it again.
var errBulkLoadAgain = errors.New("bulk load: a later transaction of its group failed, and a load is not run twice; nothing of it was written")

// BulkLoad runs fn in one write transaction and commits it if fn returns
// nil. Unlike InTx it never runs fn again (plain inserts do not conflict,
// and a load may have side effects such as progress reports): where
// SQLite's group commit would run it again, because a later transaction of
// its group failed, the load fails, with nothing written. The transaction
// has none of InTx's hooks (before-commit functions, queued or held
// writes).
func (db *DB) BulkLoad(ctx context.Context, fn func(b *Bulk) error) error {
	if db.engine != Postgres {
		// The group commit runs a group's transactions again when a later
		// one fails (groupcommit.go): the load fails then instead.
		ran := false
		return db.InTx(ctx, func(tx *Tx) error {
			if ran {
				return errBulkLoadAgain
			}
			ran = true
			return fn(&Bulk{Querier: tx, engine: db.engine})
		})
	}
	// COPY needs the pgx connection itself, so the transaction is run by
	// hand on one connection rather than through database/sql's Tx.
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Bulk{Querier: conn, engine: db.engine, conn: conn}); err != nil {
		// A connection left inside a transaction is dropped by the pool.
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// sqliteCopyParams bounds the parameters of one multi-row INSERT on
// SQLite: beyond a few thousand the statement's preparation outweighs
// what fewer statements save.
const sqliteCopyParams = 6000

// Copy writes n rows into table's columns, each filled by next: row has
// one value per column and is reused, so next must set every value. It is
// COPY on PostgreSQL, and INSERTs of many rows each on SQLite.
func (b *Bulk) Copy(ctx context.Context, table string, columns []string, n int, next func(row []any) error) error {
	if n <= 0 {
		return nil
	}
	if b.conn != nil {
		return b.conn.Raw(func(driverConn any) error {
			sc, ok := driverConn.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("postgres connection is a %T, not pgx", driverConn)
			}
			row, i := make([]any, len(columns)), 0
			var nextErr error
			src := pgx.CopyFromFunc(func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				i++
				nextErr = next(row)
				return row, nextErr
			})
			if _, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
				if nextErr != nil {
					// pgx keeps only the text of the source's error.
					return nextErr
				}
				return fmt.Errorf("copy into %s: %w", table, err)
			}
			return nil
		})
	}
	per := max(1, sqliteCopyParams/len(columns))
	// Plain ? marks: SQLite takes $n for a named parameter and looks each
	// name up in a list, which is quadratic in a statement with thousands.
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	insert := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	statement := func(rows int) string { return insert + strings.TrimSuffix(strings.Repeat(one+",", rows), ",") }
	full := statement(per)
	args := make([]any, per*len(columns))
	for done := 0; done < n; {
		k := min(per, n-done)
		for j := 0; j < k; j++ {
			if err := next(args[j*len(columns) : (j+1)*len(columns)]); err != nil {
				return err
			}
		}
		query := full
		if k < per {
			query = statement(k)
		}
		if _, err := b.ExecContext(ctx, query, args[:k*len(columns)]...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		done += k
	}
	return nil
}
