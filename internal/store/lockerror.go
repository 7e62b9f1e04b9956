package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsLockNotAvailable reports whether err says that a lock asked for
// without waiting (FOR UPDATE NOWAIT) was held by another transaction.
// SQLite takes no row locks, so no SQLite error is one.
func IsLockNotAvailable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}
