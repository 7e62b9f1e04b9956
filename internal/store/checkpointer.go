package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// SQLite copies the write-ahead log back into the database file in a
// checkpoint, which by default the writer runs itself after a commit that
// takes the log past 1,000 pages: the pages' writes and the database file's
// fsync then hold up the one writer and every request queued behind it. The
// writer's automatic checkpoints are off (wal_autocheckpoint=0), and this
// goroutine runs PASSIVE checkpoints on a connection of its own instead.
// PASSIVE never waits for, nor blocks, the writer or readers; the writer
// starts the log file from the top again after a checkpoint has copied all
// of it, so it stays about as small as before.
type checkpointer struct {
	conn    *sql.DB
	stop    chan struct{}
	stopped chan struct{}
	// runs counts checkpoints, for tests.
	runs atomic.Int64
}

// checkpointEvery is how often the log is copied back. Each checkpoint that
// copies anything ends with an fsync of the database file, so not at every
// commit: a busy writer adds a few hundred pages in this time, less than
// the 1,000 at which it used to checkpoint itself.
const checkpointEvery = 200 * time.Millisecond

func newCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A failed checkpoint (the file busy, say) only leaves the pages in
		// the log for the next one; nothing is lost.
		c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		c.runs.Add(1)
	}
}

// close stops the goroutine and runs a last checkpoint.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.stopped
	c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	return c.conn.Close()
}
