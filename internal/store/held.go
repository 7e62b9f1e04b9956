package store

import (
	"context"
	"database/sql"
)

// A writer that can merge its row changes (a batch's movements on
// PostgreSQL: a hundred record, level, checkpoint and log rows in one
// statement instead of a hundred statements) holds them back in memory and
// registers, with HoldWrites, the function that sends them. It runs before
// the transaction's next statement of any kind and before COMMIT, so every
// statement still sees everything written before it. A failure to send
// fails the transaction, whichever statement it surfaced in.

// HoldWrites registers flush to run before the transaction's next
// statement (or its commit), once. A later call replaces an earlier one that
// has not run: the writer keeps one flush for all it holds.
func (tx *Tx) HoldWrites(flush func(ctx context.Context) error) {
	tx.held = flush
}

// FlushHeld sends the held writes now.
func (tx *Tx) FlushHeld(ctx context.Context) error {
	if tx.heldErr != nil {
		return tx.heldErr
	}
	flush := tx.held
	if flush == nil {
		return nil
	}
	tx.held = nil
	if err := flush(ctx); err != nil {
		tx.heldErr = err
		return err
	}
	return nil
}

// heldRow is QueryRowContext's answer when the held writes could not be
// sent: a row whose Scan fails, from a context cancelled for the purpose.
// The real error is kept in tx.heldErr and InTx returns it.
func (tx *Tx) heldRow(ctx context.Context, query string, args ...any) *sql.Row {
	failed, cancel := context.WithCancel(ctx)
	cancel()
	return tx.Tx.QueryRowContext(failed, query, args...)
}

// settle is how a transaction's work ended, err being what its function
// returned: the held writes' failure if sending them failed (whatever the
// statement that surfaced it said), else err, else the outcome of sending
// what is still held.
func (tx *Tx) settle(ctx context.Context, err error) error {
	if tx.heldErr != nil {
		return tx.heldErr
	}
	if err != nil {
		return err
	}
	return tx.FlushHeld(ctx)
}
