package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// On SQLite, "the other nodes" are none: TryLead always grants, and
// Presence takes every token but this process's own for a stopped process.
// A second server on the same file would therefore run a second sealer and
// jobs runner beside the first and take over its idempotency claims while
// their requests still run. ClaimServing makes the assumption true.

// ErrServedElsewhere is the kind of ClaimServing's refusal.
var ErrServedElsewhere = errors.New("served by another process")

// ClaimServing marks this process as the server of the database. On SQLite
// it takes an exclusive lock on a file beside the database (its name and
// ".serving"), held until Close or the process ends, however it ends; a
// second process is refused, naming the first's process id. Commands that
// are not servers (migrate, apikey, verify) do not claim and run beside the
// server. On PostgreSQL any number of nodes serve one database, and it does
// nothing.
func (db *DB) ClaimServing() error {
	if db.engine == Postgres {
		return nil
	}
	name := db.Location + ".serving"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("claim %s for this server: %w", db.Location, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s is already served by another stocktrail process (pid %s); SQLite allows one server per data folder: stop that one first, or use PostgreSQL (--db) to run several nodes",
				ErrServedElsewhere, db.Location, strings.TrimSpace(string(pid)))
		}
		return fmt.Errorf("claim %s for this server: %w", db.Location, err)
	}
	// The pid is for the message above only; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	db.serving = f
	return nil
}
